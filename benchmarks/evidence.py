"""Evidence that latent prediction learns: Point-JEPA vs Point-MAE vs random init, on real shapes.

    python benchmarks/evidence.py [--budget-min 20] [--seeds 0 1 2] [--out-dir work_dirs/evidence]

Within a wall-clock budget (default 20 min in total, calibration and evaluation included) this
pretrains, for each seed, Point-JEPA and Point-MAE with the same encoder, optimiser, schedule and
the same samples seen, on the procedural SyntheticShapes set, then evaluates each encoder, and the
same encoder at its random initialisation, on the real ModelNet40 subset (156 shapes, 39 classes).

The recipe is fixed here, before any number is seen, and nothing is tuned on the test shapes:

* pretraining: ``configs/point_jepa/pointjepa_vit-t_1xb32-demo_synthetic.py`` and
  ``configs/point_mae/pointmae_vit-t_1xb32-demo_synthetic.py`` unchanged (ViT-T encoder 192 x 6,
  AdamW 1e-3, 1 warm-up epoch + cosine, 7 epochs, batch 32, 1024 points), with the real mmengine
  Runner; only the samples per epoch are set from the budget (equal for both methods, at least
  2 iterations per epoch so the warm-up completes), data loading in the main process.
  The budget is split by measured step times: a few timed steps of each method first.
* seeds: the Runner's seed; with the same seed both methods start from the same encoder weights,
  which are also the 'random init' row.
* features: ``backbone.extract_feat`` in eval mode = concat(max, mean) of the final-LN tokens
  (SPEC sec. 2); ModelNet40 clouds resampled to 1024 points by FPS and scaled to the unit sphere.
* linear SVM: sklearn ``SVC(kernel='linear')`` fit on the official train list (127 shapes), scored
  on the official test list (29 shapes: one shape = 3.4 points). C is chosen per encoder by 5-fold
  cross-validation on the TRAIN list only, from 1e-3 ... 1e2 (ties: the smaller C). The SPEC's fixed
  C=0.012 is sized for the full 9,843 training shapes; on 127 shapes of 39 classes it regularises
  so hard that SVC predicts two or three classes for everything (seen in a tiny-budget smoke run,
  0 % for trained encoders), so it is kept in the JSON only (``svm_acc_c0.012``).
* 1-NN: leave-one-out over all 156 shapes, cosine similarity of the features.

Run it on an otherwise idle machine: with 2 intra-op threads and another process holding a core,
a step can be 5-20x slower than calibrated (every parallel region is a barrier), and the budget
is overrun; ``--threads 1`` avoids that on a busy host.

Writes ``evidence.json`` and ``evidence.png`` (bar chart, mean and per-seed values) to --out-dir,
and prints one table. The 156 shapes are few: differences of a few points are noise.
"""
import argparse
import copy
import json
import os
import os.path as osp
import sys
import time

import numpy as np
import torch

PROJECT_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, PROJECT_ROOT)

from mmengine.config import Config  # noqa: E402
from mmengine.hooks import Hook  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

import pjepa3d  # noqa: E402,F401
from pjepa3d.evaluation import (SVM_C_GRID, extract_features, linear_svm_accuracy, loo_1nn_accuracy,  # noqa: E402
                                select_svm_c)
from pjepa3d.registry import DATASETS, MODELS  # noqa: E402

METHODS = {
    'Point-JEPA': 'configs/point_jepa/pointjepa_vit-t_1xb32-demo_synthetic.py',
    'Point-MAE': 'configs/point_mae/pointmae_vit-t_1xb32-demo_synthetic.py',
}
RANK_KEY = {'Point-JEPA': 'target_rank', 'Point-MAE': 'feat_rank'}
SPEC_SVM_C = 0.012
MIN_ITERS_PER_EPOCH = 2


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--budget-min', type=float, default=20.0, help='total wall-clock budget in minutes')
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--modelnet40-root', default=osp.join(PROJECT_ROOT, '..', 'shared', 'data', 'modelnet40_subset'))
    p.add_argument('--out-dir', default=osp.join(PROJECT_ROOT, 'work_dirs', 'evidence'))
    p.add_argument('--threads', type=int, default=None,
                   help="torch intra-op threads (default: torch's choice; 1 can be faster on a busy host)")
    p.add_argument('--batch-size', type=int, default=None,
                   help="pretraining batch (default: the configs' 32; the learning rate is not rescaled)")
    return p.parse_args()


def load_cfg(method, batch_size):
    cfg = Config.fromfile(osp.join(PROJECT_ROOT, METHODS[method]))
    if batch_size:
        cfg.train_dataloader.batch_size = batch_size
    cfg.train_dataloader.update(num_workers=0, persistent_workers=False)
    return cfg


def load_modelnet40(root, num_points=1024):
    """Packed samples of the official train / test lists, loaded once."""
    pipeline = [dict(type='PointSample', num_points=num_points, method='fps'), dict(type='NormalizeUnitSphere'),
                dict(type='PackPointInputs')]
    out = {}
    for split in ('train', 'test'):
        ds = DATASETS.build(dict(type='ModelNet40', data_root=root, split=split, pipeline=pipeline))
        out[split] = [ds[i] for i in range(len(ds))]
    return out


def evaluate(backbone, data):
    """dict: svm_acc (C by CV on the train list), svm_c, svm_acc_c0.012, nn_acc (LOO over all shapes), in %."""
    xtr, ytr = extract_features(backbone, data['train'], desc='ModelNet40 train')
    xte, yte = extract_features(backbone, data['test'], desc='ModelNet40 test')
    c = select_svm_c(xtr, ytr)
    return {'svm_acc': linear_svm_accuracy(xtr, ytr, xte, yte, C=c), 'svm_c': c,
            'svm_acc_c0.012': linear_svm_accuracy(xtr, ytr, xte, yte, C=SPEC_SVM_C),
            'nn_acc': loo_1nn_accuracy(np.concatenate([xtr, xte]), np.concatenate([ytr, yte]))}


def _quiet(record):
    """Drop mmengine's per-parameter notes about the frozen EMA target and deprecation notes."""
    msg = record.getMessage()
    return not ('requires_grad=False' in msg or 'will be deprecated' in msg or 'is the alias of' in msg)


class _TrainTimer(Hook):
    """Wall time of the whole training loop and of each iteration (s)."""
    priority = 'LOWEST'

    def before_train(self, runner):
        self.t0 = time.perf_counter()
        self.iter_times = []

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self._t = time.perf_counter()

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.iter_times.append(time.perf_counter() - self._t)

    def after_train(self, runner):
        self.seconds = time.perf_counter() - self.t0


def build_runner(method, seed, samples_per_epoch, args, work_dir, max_epochs=None):
    """The method's demo config with the real Runner: ``samples_per_epoch`` SyntheticShapes clouds,
    data loaded in the main process, a checkpoint at the end only (none when ``max_epochs`` is given:
    a calibration run)."""
    cfg = load_cfg(method, args.batch_size)
    cfg.work_dir = work_dir
    cfg.randomness = dict(seed=seed, diff_rank_seed=False, deterministic=False)
    cfg.train_dataloader.dataset.num_samples = samples_per_epoch
    if max_epochs:
        cfg.train_cfg.max_epochs = max_epochs
        cfg.default_hooks.checkpoint = None
    else:
        cfg.default_hooks.checkpoint.update(interval=cfg.train_cfg.max_epochs, max_keep_ckpts=1)
    cfg.default_hooks.logger.interval = max(1, samples_per_epoch // cfg.train_dataloader.batch_size)
    cfg.log_level = 'WARNING'
    if not any(h['type'] == 'CollapseMonitorHook' for h in cfg.custom_hooks):
        cfg.custom_hooks = list(cfg.custom_hooks) + [dict(type='CollapseMonitorHook', key=RANK_KEY[method])]
    runner = Runner.from_cfg(cfg)
    runner.logger.addFilter(_quiet)
    timer = _TrainTimer()
    runner.register_hook(timer)
    return runner, timer


def calibrate(method, args, data, work_dir, iters=4):
    """Measured with a short real run (seed 0, 1 epoch of ``iters`` iterations): seconds per
    training iteration (mean after the first), to build a Runner, and to extract one encoder's
    ModelNet40 features."""
    t0 = time.perf_counter()
    batch = load_cfg(method, args.batch_size).train_dataloader.batch_size
    runner, timer = build_runner(method, 0, iters * batch, args, work_dir, max_epochs=1)
    build = time.perf_counter() - t0
    runner.train()
    t0 = time.perf_counter()
    extract_features(runner.model.backbone, data['train'][:32], desc='calibration')
    fwd = (time.perf_counter() - t0) * (len(data['train']) + len(data['test'])) / 32
    return float(np.mean(timer.iter_times[1:])), build, fwd


def pretrain(method, seed, samples_per_epoch, args, work_dir):
    """Train one method; returns (trained backbone, initial backbone state, info)."""
    runner, timer = build_runner(method, seed, samples_per_epoch, args, work_dir)
    init_state = copy.deepcopy(runner.model.backbone.state_dict())
    runner.train()
    samples = runner.iter * runner.cfg.train_dataloader.batch_size
    hub = runner.message_hub
    monitor = [h for h in runner.hooks if type(h).__name__ == 'CollapseMonitorHook'][0]
    info = dict(iterations=runner.iter, samples_seen=samples, train_seconds=round(timer.seconds, 1),
                samples_per_s=samples / timer.seconds, final_loss=float(hub.get_scalar('train/loss').current()),
                final_rank=float(hub.get_scalar(f'train/{RANK_KEY[method]}').current()),
                start_rank=monitor.start, collapse_warned=monitor.fired)
    return runner.model.backbone, init_state, info


def bar_chart(rows, path, title):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    methods = list(dict.fromkeys(r['method'] for r in rows))
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.8))
    for ax, key, name in zip(axes, ('svm_acc', 'nn_acc'), ('linear SVM (official split)', 'LOO 1-NN (156 shapes)')):
        for i, m in enumerate(methods):
            vals = [r[key] for r in rows if r['method'] == m]
            ax.bar(i, np.mean(vals), yerr=np.std(vals) if len(vals) > 1 else None, color=f'C{i}', alpha=0.75,
                   capsize=4)
            ax.scatter([i] * len(vals), vals, color='k', s=12, zorder=3)
            ax.text(i, 1.5, f'{np.mean(vals):.1f}', ha='center', va='bottom', fontsize=9, color='white',
                    fontweight='bold')
        ax.set_xticks(range(len(methods)), methods)
        ax.set_ylabel('accuracy (%)')
        ax.set_title(name, fontsize=10)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main():
    args = parse_args()
    t_start = time.perf_counter()
    budget = args.budget_min * 60.0
    if args.threads:
        torch.set_num_threads(args.threads)
    os.makedirs(args.out_dir, exist_ok=True)
    init_default_scope('pjepa3d')
    data = load_modelnet40(args.modelnet40_root)
    n_eval = len(data['train']) + len(data['test'])

    cfgs = {m: load_cfg(m, args.batch_size) for m in METHODS}
    batch = cfgs['Point-JEPA'].train_dataloader.batch_size
    epochs = cfgs['Point-JEPA'].train_cfg.max_epochs
    num_points = cfgs['Point-JEPA'].train_dataloader.dataset.num_points
    for m, c in cfgs.items():  # the comparison is only fair if these agree
        assert (c.train_dataloader.batch_size, c.train_cfg.max_epochs, c.train_dataloader.dataset.num_points) == (
            batch, epochs, num_points), m
    step, build, fwd = {}, {}, {}
    for m in METHODS:
        step[m], build[m], fwd[m] = calibrate(m, args, data, osp.join(args.out_dir, 'runs', 'calibration'))
    n_seeds = len(args.seeds)
    # per seed: 3 encoders evaluated (features + SVM cross-validation ~ 2 s), 2 Runners built
    eval_est = n_seeds * 3 * (max(fwd.values()) + 2.0)
    overhead = n_seeds * (sum(build.values()) + 2.0)
    left = budget - (time.perf_counter() - t_start) - eval_est - overhead
    iters = int(0.9 * left / (n_seeds * sum(step.values()))) if left > 0 else 0
    iters_per_epoch = max(MIN_ITERS_PER_EPOCH, iters // epochs)
    samples_per_epoch = iters_per_epoch * batch
    total_iters = iters_per_epoch * epochs
    print('calibration: s/iteration ' + ', '.join(f'{m} {step[m]:.2f}' for m in METHODS) +
          f'; evaluation ~{eval_est:.0f} s, Runner set-up ~{overhead:.0f} s; budget {budget:.0f} s -> '
          f'{total_iters} iterations x {batch} = {total_iters * batch} samples per run '
          f'({samples_per_epoch} per epoch x {epochs} epochs)', flush=True)
    if iters < total_iters:
        print(f'NOTE: the budget allows {max(iters, 0)} iterations per run; running the minimum {total_iters} '
              f'({MIN_ITERS_PER_EPOCH} per epoch): the total will exceed the budget', flush=True)

    rows, runs = [], []
    for seed in args.seeds:
        inits = {}
        for m in METHODS:
            backbone, init_state, info = pretrain(m, seed, samples_per_epoch, args,
                                                  osp.join(args.out_dir, 'runs', f'{m.lower()}_seed{seed}'))
            acc = evaluate(backbone, data)
            rows.append(dict(method=m, seed=seed, **acc, samples_per_s=info['samples_per_s']))
            runs.append(dict(method=m, seed=seed, **info))
            inits[m] = init_state
            print(f'{m:10s} seed {seed}: SVM {acc["svm_acc"]:5.1f} % (C={acc["svm_c"]:g})  '
                  f'1-NN {acc["nn_acc"]:5.1f} %  '
                  f'{info["samples_per_s"]:.1f} samples/s  '
                  f'loss {info["final_loss"]:.4f}  '
                  f'rank {info["start_rank"] or float("nan"):.2f} -> {info["final_rank"]:.2f}'
                  f'{"  COLLAPSE WARNED" if info["collapse_warned"] else ""}  '
                  f'[{time.perf_counter() - t_start:.0f} s]', flush=True)
        same_init = all(torch.equal(inits['Point-JEPA'][k], inits['Point-MAE'][k]) for k in inits['Point-JEPA'])
        random_bb = MODELS.build(cfgs['Point-JEPA'].model.backbone)
        random_bb.load_state_dict(inits['Point-JEPA'])
        acc = evaluate(random_bb, data)
        rows.append(dict(method='random init', seed=seed, **acc, samples_per_s=None))
        runs.append(dict(method='random init', seed=seed, same_init_for_both_methods=same_init))
        print(f'{"random init":10s} seed {seed}: SVM {acc["svm_acc"]:5.1f} % (C={acc["svm_c"]:g})  1-NN '
              f'{acc["nn_acc"]:5.1f} %  (the starting weights of both methods: {same_init})', flush=True)

    elapsed = time.perf_counter() - t_start
    summary = {}
    for m in ['Point-JEPA', 'Point-MAE', 'random init']:
        sel = [r for r in rows if r['method'] == m]
        summary[m] = {k: dict(mean=float(np.mean([r[k] for r in sel])), std=float(np.std([r[k] for r in sel])))
                      for k in ('svm_acc', 'nn_acc', 'svm_acc_c0.012')}
    header = (f'ModelNet40 subset ({len(data["train"])} train / {len(data["test"])} test official lists, '
              f'{n_eval} shapes for LOO 1-NN); pretraining on SyntheticShapes, {total_iters * batch} samples seen '
              f'per run; budget {args.budget_min:g} min, used {elapsed / 60:.1f} min')
    lines = [header, '', '| method | seed | SVM acc (%) | 1-NN acc (%) | pretraining samples/s |',
             '|---|---|---|---|---|']
    for r in rows:
        sps = '-' if r['samples_per_s'] is None else f"{r['samples_per_s']:.1f}"
        lines.append(f"| {r['method']} | {r['seed']} | {r['svm_acc']:.1f} | {r['nn_acc']:.1f} | {sps} |")
    for m, s in summary.items():
        lines.append(f"| {m} | mean +- std | {s['svm_acc']['mean']:.1f} +- {s['svm_acc']['std']:.1f} | "
                     f"{s['nn_acc']['mean']:.1f} +- {s['nn_acc']['std']:.1f} | |")
    print('\n' + '\n'.join(lines))

    recipe = dict(configs=METHODS, batch_size=batch, epochs=epochs, num_points=num_points,
                  samples_per_epoch=samples_per_epoch, iterations=total_iters, samples_seen=total_iters * batch,
                  features='concat(max, mean) of final-LN tokens, eval mode',
                  svm=f"SVC(kernel='linear'), C from {SVM_C_GRID} by 5-fold CV on the train list; "
                      f"svm_acc_c0.012: fixed C={SPEC_SVM_C} (SPEC)",
                  knn='leave-one-out 1-NN, cosine similarity', modelnet40_root=osp.abspath(args.modelnet40_root))
    result = dict(recipe=recipe, seeds=args.seeds, budget_s=budget, elapsed_s=round(elapsed, 1),
                  calibration=dict(iteration_s=step, runner_build_s=build, eval_features_s=fwd), rows=rows,
                  runs=runs, summary=summary,
                  table='\n'.join(lines), torch=torch.__version__, threads=torch.get_num_threads())
    with open(osp.join(args.out_dir, 'evidence.json'), 'w') as f:
        json.dump(result, f, indent=2)
    bar_chart(rows, osp.join(args.out_dir, 'evidence.png'),
              f'ModelNet40 subset, frozen ViT-T features, {len(args.seeds)} seeds; '
              f'{total_iters * batch} pretraining samples per run')
    print(f'\nwritten: {osp.join(args.out_dir, "evidence.json")}, {osp.join(args.out_dir, "evidence.png")}')


if __name__ == '__main__':
    main()
