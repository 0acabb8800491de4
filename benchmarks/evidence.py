"""Evidence that latent prediction learns: Point-JEPA vs Point-MAE vs the calibrated random init, on ModelNet10.

    MODELNET10_ROOT=data/ModelNet10 python benchmarks/evidence.py [--budget-min 30] [--seeds 0 1] \
        [--methods Point-JEPA Point-MAE] [--out-dir work_dirs/evidence]

For each seed and method, the method's ModelNet10 config (same ViT-T encoder, data = the unlabelled ModelNet10
train part, optimiser, schedule shape and validation probe) is trained with mmengine's Runner for
``--budget-min`` minutes of training (the iteration count comes from a few timed steps of each method, so both
methods get the same wall-clock budget; ``--iters`` fixes it instead). With the same seed both start from the
same encoder weights. The validation probe (linear SVM on the 10 % validation carve, iteration 0 = the
BatchNorm-calibrated random init) gives the learning curves. At the end, each pretrained encoder (online and,
for Point-JEPA, the EMA target) and the run's starting weights with BatchNorm calibrated on 512 train clouds
get the ModelNet10 linear SVM on the official split: features standardised, C by 5-fold CV on the 3,991 train
shapes only, overall accuracy on the 908 test shapes. Nothing here is tuned on the test split.

Writes, as each run finishes, ``<out-dir>/evidence.json`` (all rows so far) and at the end ``evidence.png``
(all learning curves in one picture) and prints one table, then each method minus the random init of the same
seed (mean +- std over the seeds). While a run trains it prints a progress line about every minute and the probe
at every validation. Run it on an otherwise idle machine. A run stopped
part-way keeps its finished rows: ``--report-only --out-dir DIR`` prints their table and draws the picture (with
the curve so far of a run cut off part-way or still training, and a line saying where it is) and reprints the
tables of ``DIR/val_check.json`` / ``DIR/test_recheck.json`` when they exist (the JSON files and the PNG are all it
needs: ``docs/results/`` keeps them for the runs the README quotes, whose checkpoints are not kept), and
``--resume --out-dir DIR`` continues it (with the seeds, methods and probe interval it had unless given again;
each method keeps the iteration count it had; only the missing (seed, method) pairs train, and a run cut off
part-way continues from its last checkpoint, written at every probe, with the curve it had).
``--val-check --out-dir DIR`` trains nothing: it repeats the end-of-run comparison on the validation carve (each
finished run's last checkpoint against its BN-calibrated starting weights, the SVM fitted on the whole train part)
and writes ``DIR/val_check.json``: does a test-split gain show on validation data too? ``--test-recheck --out-dir
DIR`` recomputes the test numbers from the checkpoints (they must equal the saved ones) for runs saved before the
per-shape results were recorded, and writes ``DIR/test_recheck.json``. Both, and the end-of-run table, give the
paired test of each encoder against its starting weights on the same shapes: how many shapes only one of them gets
right, and the exact McNemar p-value (1 point of ModelNet10 test OA is 9 shapes); where both methods ran a seed, also
Point-JEPA against Point-MAE (the gap, and on the test split the same paired test between the two). ``--pool DIR
[DIR ...] --out-dir OUT`` trains nothing: it prints one table of the runs of several out-dirs (seeds trained one per
session) with the mean +- std over all their seeds, and the same for their validation checks.
"""
import argparse
import copy
import json
import os
import os.path as osp
import sys
import time
from collections import deque

import numpy as np
import torch

PROJECT_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, PROJECT_ROOT)

from mmengine.config import Config  # noqa: E402
from mmengine.hooks import Hook  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

import pjepa3d  # noqa: E402,F401
from pjepa3d.engine.atomic_backend import AtomicLocalBackend  # noqa: E402
from pjepa3d.evaluation import correct_string, extract_features, format_p, mcnemar_test, select_svm_c  # noqa: E402
from pjepa3d.evaluation.svm import linear_svm_scores  # noqa: E402
from pjepa3d.models.utils import calibrate_batchnorm  # noqa: E402
from pjepa3d.registry import DATASETS, MODELS  # noqa: E402
from pjepa3d.utils import keep_heap, kept_heap_env, wants_kept_heap  # noqa: E402

METHODS = {
    'Point-JEPA': 'configs/point_jepa/pointjepa_vit-t_1xb32-400i_modelnet10.py',
    'Point-MAE': 'configs/point_mae/pointmae_vit-t_1xb32-400i_modelnet10.py',
}
CALIB_CLOUDS = 512
# what --val-check / --test-recheck save, by split: (option, file in --out-dir)
CHECKS = {'val': ('--val-check', 'val_check.json'), 'test': ('--test-recheck', 'test_recheck.json')}
RANDOM = 'random init (BN calibrated)'
PACE_WINDOW = 30  # progress lines whose pace sets the 'min to go' (a pause drops out of it after 30 lines)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--budget-min', type=float, default=None, help='training minutes per run (default 30)')
    p.add_argument('--iters', type=int, default=None, help='fixed iterations per run (overrides the budget)')
    p.add_argument('--seeds', type=int, nargs='+', default=None, help='default 0 1')
    p.add_argument('--methods', nargs='+', default=None, choices=list(METHODS), help='default: all')
    p.add_argument('--config', nargs='+', default=[], metavar='METHOD=CONFIG',
                   help="train METHOD from another config than its default (e.g. a recipe under study: "
                        "Point-JEPA=configs/point_jepa/ablations/modelnet10/varcov_400i.py); its schedule length, "
                        "probe interval and seed are still set here")
    p.add_argument('--val-every', type=int, default=None,
                   help='probe and checkpoint interval (default: max_iters / 8; --resume: the one saved)')
    p.add_argument('--out-dir', default=osp.join(PROJECT_ROOT, 'work_dirs', 'evidence'))
    p.add_argument('--keep-heap', action=argparse.BooleanOptionalAction, default=None,
                   help="glibc malloc told to keep freed memory, by restarting with its variables "
                        "(pjepa3d/utils/cpu_heap.py; Linux): the same training, faster on a CPU (ViT-T under bf16 "
                        "autocast 1.04x here; 1.28-1.48x before the blocked mini-PointNet); default: on when "
                        "training on a CPU, as tools/train.py, unless PJEPA3D_KEEP_HEAP=0; evidence.json records "
                        "the malloc variables the run had")
    p.add_argument('--report-only', action='store_true',
                   help="train nothing: print the table and draw the PNG from <out-dir>/evidence.json as it stands "
                        "(e.g. after a run that was stopped part-way)")
    p.add_argument('--pool', nargs='+', default=None, metavar='DIR',
                   help="train nothing: one table (mean +- std over seeds) of the finished runs of several out-dirs "
                        "(e.g. seeds trained one per session), and of their val_check.json when they all have one; "
                        "the runs of a method must share its config and iteration count, and a (method, seed) may "
                        "appear in one dir only; draws <out-dir>/evidence_pooled.png")
    p.add_argument('--resume', action='store_true',
                   help="continue the run in --out-dir (its seeds, methods, budget and probe interval unless given "
                        "here): keep the rows of <out-dir>/evidence.json, give each method "
                        "the iteration count it had there (the budget is not re-timed for it) and train only the "
                        "(seed, method) pairs that have no row yet; a run cut off part-way continues from its last "
                        "checkpoint (one is written at every probe)")
    p.add_argument('--val-check', action='store_true',
                   help="train nothing: score every finished run's last checkpoint (online, EMA target) and its "
                        "seed's BN-calibrated starting weights with the same linear SVM on the validation carve "
                        "instead of the test split, fitted on the whole train part (not the probe's subset); "
                        "writes <out-dir>/val_check.json")
    p.add_argument('--test-recheck', action='store_true',
                   help="train nothing: recompute the end-of-run test numbers from the saved checkpoints (they must "
                        "equal the saved ones) with the paired test of each encoder against its starting weights "
                        "(which shapes each gets right; exact McNemar); writes <out-dir>/test_recheck.json")
    args = p.parse_args(argv)
    if sum((args.resume, args.report_only, args.val_check, args.test_recheck, args.pool is not None)) > 1:
        p.error('--resume, --report-only, --val-check, --test-recheck and --pool exclude each other')
    args.configs = dict(METHODS)
    for item in args.config:
        method, sep, path = item.partition('=')
        if not sep or method not in METHODS:
            p.error(f'--config {item!r}: expected METHOD=CONFIG with METHOD one of {list(METHODS)}')
        if not osp.isfile(osp.join(PROJECT_ROOT, path)):
            p.error(f'--config {item!r}: {path} does not exist (paths are relative to the repository root)')
        args.configs[method] = path
    return args


def progress_line(done, total, elapsed, loss=None, start=(0, 0.0)):
    """``  iteration done/total: loss L; M min, about R min to go``: R at the pace since ``start`` (the iteration
    and elapsed seconds where the pace is measured from: the caller passes this process's start, or its progress
    line PACE_WINDOW lines back; a resumed run's earlier sessions may have run at another speed), probes included."""
    rest = (elapsed - start[1]) / (done - start[0]) * (total - done) if done > start[0] else float('nan')
    loss = f'loss {float(torch.as_tensor(loss).detach()):.4f}; ' if loss is not None else ''  # the step's graph
    return f'  iteration {done}/{total}: {loss}{elapsed / 60:.1f} min, about {rest / 60:.0f} min to go'


class _Curve(Hook):
    """Records the validation probe at each validation, and prints a progress line at most every
    ``progress_seconds`` of training (the runner's own log is at WARNING level here).

    With ``path``, the points and the training seconds so far are rewritten there (atomically) at every
    validation; a run resumed from a checkpoint reads them back in ``before_train`` (the points up to the
    resumed iteration), so its curve and its ``train_seconds`` cover the whole run."""
    priority = 'LOWEST'

    def __init__(self, progress_seconds=60.0, path=None):
        self.points, self.t0, self.seconds = [], None, 0.0
        self.progress_seconds, self._last = progress_seconds, None
        self.path, self.seconds_before, self.iter_before = path, 0.0, 0
        # (iteration, elapsed s) of this process's start and its last progress lines: the "min to go" is at the
        # pace since the oldest of them, so a pause (SIGSTOP, a suspended laptop) stops counting after
        # PACE_WINDOW lines instead of slowing the estimate for the rest of the run
        self._pace = deque(maxlen=PACE_WINDOW + 1)

    def elapsed(self):
        """Training seconds of the whole run so far (earlier sessions of a resumed run included)."""
        return self.seconds_before + (time.perf_counter() - self.t0 if self.t0 is not None else 0.0)

    def before_train(self, runner):
        if runner.iter > 0 and self.path and osp.isfile(self.path):  # resumed: the curve so far
            with open(self.path) as f:
                saved = json.load(f)
            self.points = [p for p in saved['points'] if p['iter'] <= runner.iter]
            self.seconds_before = float(saved['seconds'])
            print(f'  resumed at iteration {runner.iter}/{runner.max_iters} ({self.seconds_before / 60:.1f} min '
                  f'trained before; {len(self.points)} probe points kept from {self.path})', flush=True)
        self.iter_before = runner.iter
        self.t0 = self._last = time.perf_counter()
        self._pace.clear()
        self._pace.append((self.iter_before, self.seconds_before))

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        now = time.perf_counter()
        if now - self._last < self.progress_seconds:
            return
        self._last = now
        done, elapsed = runner.iter + 1, self.elapsed()
        print(progress_line(done, runner.max_iters, elapsed, (outputs or {}).get('loss'), start=self._pace[0]),
              flush=True)
        self._pace.append((done, elapsed))

    def after_train(self, runner):
        self.seconds = self.elapsed()
        self._save()

    def after_val_epoch(self, runner, metrics=None):
        point = dict(iter=runner.iter, **{k: float(v) for k, v in (metrics or {}).items()
                                          if k.startswith(('svm_acc', 'feat_rank'))})
        self.points.append(point)
        target = f" (EMA target {point['svm_acc_target']:.2f})" if 'svm_acc_target' in point else ''
        print(f"  iteration {runner.iter}/{runner.max_iters}: validation probe {point.get('svm_acc', float('nan')):.2f}"
              f"{target}, centred rank {point.get('feat_rank', float('nan')):.0f}; {self.elapsed() / 60:.1f} min",
              flush=True)
        self._save()

    def _save(self):
        if self.path:
            write_json_atomic(self.path, dict(points=self.points, seconds=self.elapsed()))


def write_json_atomic(path, obj):
    """``obj`` as JSON at ``path``, written atomically (the checkpoints' backend): a cut-off leaves the old file."""
    AtomicLocalBackend().put_text(json.dumps(obj, indent=2), path)


VAL_ONLY_HOOKS = ('ProbeAtStartHook', 'CollapseMonitorHook')


def stretch_schedule(cfg, iters, val_every):
    """The config's recipe over ``iters`` iterations: linear warm-up over the config's own fraction of its schedule
    (10 % in the demo's: 40 of 400; floor(iters * fraction)), cosine to 1 % of the lr, a probe every ``val_every``
    (configs/point_jepa/pointjepa_vit-t_1xb32-10748i_modelnet10.py is this at 10,748). Iteration-based schedulers of
    another hyper-parameter (``param_name``, e.g. a weight-decay ramp) are kept, their iterations scaled by the same
    factor."""
    warmup = max(1, iters // 10)
    sched = cfg.get('param_scheduler')
    sched = list(sched) if isinstance(sched, (list, tuple)) else [sched] if sched else []  # a list or one dict
    first = sched[0] if sched else None
    old_iters = cfg.train_cfg['max_iters']
    if isinstance(first, dict) and first.get('type') == 'LinearLR' and 'end' in first:
        warmup = max(1, iters * first['end'] // old_iters)

    def scale(n):  # an end at or past the old schedule's (mmengine's default end is 1e9) ends the new one
        return iters if n >= old_iters else n * iters // old_iters

    others = []
    for s in sched:
        if isinstance(s, dict) and s.get('param_name', 'lr') != 'lr':
            if s.get('by_epoch', True):
                raise ValueError(f'stretch_schedule: the {s["param_name"]} scheduler {s["type"]} must be '
                                 f'iteration-based (by_epoch=False) to be stretched to {iters} iterations')
            others.append({**s, **{k: scale(s[k]) for k in ('begin', 'end', 'T_max') if k in s}})
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters, val_interval=val_every)
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=warmup),
        dict(type='CosineAnnealingLR', T_max=iters - warmup, eta_min=cfg.optim_wrapper.optimizer.lr * 0.01,
             by_epoch=False, begin=warmup, end=iters)] + others
    return cfg


def build_runner(method, seed, iters, val_every, work_dir, config=None, timing=False, resume=False):
    """The method's Runner for one run. A checkpoint is written (atomically, the last one kept) at every probe and
    at the end; ``resume=True`` continues from ``<work_dir>/last_checkpoint`` (mmengine's resume: weights, EMA
    target, optimiser, schedulers, iteration, random streams) and the curve from ``<work_dir>/curve.json``."""
    cfg = Config.fromfile(osp.join(PROJECT_ROOT, config or METHODS[method]))
    if timing:  # keep the hooks a training step runs (EMA); the validation-only ones would warn about no val
        cfg.custom_hooks = [h for h in cfg.get('custom_hooks', []) if h['type'].split('.')[-1] not in VAL_ONLY_HOOKS]
    cfg.work_dir = work_dir
    cfg.randomness = dict(seed=seed, diff_rank_seed=False, deterministic=False)
    cfg.train_dataloader.update(num_workers=0, persistent_workers=False)
    cfg.val_dataloader.update(num_workers=0, persistent_workers=False)
    stretch_schedule(cfg, iters, val_every)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', by_epoch=False, interval=min(val_every, iters),
                                        save_last=True, max_keep_ckpts=1, backend_args=dict(backend='atomic_local'))
    cfg.resume = resume
    cfg.log_level = 'WARNING'
    runner = Runner.from_cfg(cfg)
    curve = _Curve(path=None if timing else osp.join(work_dir, 'curve.json'))
    runner.register_hook(curve)
    return runner, curve


def seconds_per_iter(method, work_dir, steps=6, config=None):
    """Mean seconds of a training step (after the first two), measured with the real Runner."""
    runner, _ = build_runner(method, 0, steps, 10 ** 9, work_dir, config, timing=True)
    times = []

    class _T(Hook):
        def before_train_iter(self, r, batch_idx, data_batch=None):
            self.t = time.perf_counter()

        def after_train_iter(self, r, batch_idx, data_batch=None, outputs=None):
            times.append(time.perf_counter() - self.t)
    runner.register_hook(_T())
    runner._val_loop = None
    runner.train()
    return float(np.mean(times[2:]))


def svm_test(backbone, data):
    """The benchmark SVM: OA and mean-class accuracy on ``data['test']``, the C chosen, and ``correct``, which of
    those shapes it gets right (a '0' / '1' string in dataset order: what the paired test compares)."""
    xtr, ytr = extract_features(backbone, data['train'], desc='ModelNet10 train')
    xte, yte = extract_features(backbone, data['test'], desc='ModelNet10 test')
    c = select_svm_c(xtr, ytr, standardize=True, n_jobs=-1)
    scores = linear_svm_scores(xtr, ytr, xte, yte, C=c, standardize=True, return_correct=True)
    return dict(test_oa=scores['overall'], test_macc=scores['mean_class'], C=c,
                correct=correct_string(scores['correct']))


def paired(a, b):
    """Exact McNemar test of two ``svm_test`` results on the same shapes (``None`` if either has no ``correct``,
    as rows written before it was recorded)."""
    if not a.get('correct') or not b.get('correct'):
        return None
    return mcnemar_test(a['correct'], b['correct'])


def paired_text(test):
    return f"{test['only_a']} / {test['only_b']} shapes, {format_p(test['p_value'])}" if test else 'not recorded'


def plot(rows, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
    colours = {'Point-JEPA': 'C0', 'Point-MAE': 'C1'}
    seeds = list(dict.fromkeys(r['seed'] for r in rows))
    for r in rows:
        it = [p['iter'] for p in r['curve']]
        k = seeds.index(r['seed'])  # the first seed solid, the others lighter and with their own marker
        alpha, marker = 1.0 - 0.5 * min(k, 1) - 0.15 * max(k - 1, 0), 'o^vD<>'[k % 6]
        for ax, key in zip(axes, ('svm_acc', 'feat_rank')):
            ax.plot(it, [p[key] for p in r['curve']], marker + '-', ms=3, color=colours[r['method']], alpha=alpha,
                    label=f"{r['method']} seed {r['seed']}" + (' (in progress)' if r.get('in_progress') else ''))
            if key == 'svm_acc' and 'svm_acc_target' in r['curve'][0]:
                ax.plot(it, [p['svm_acc_target'] for p in r['curve']], marker + '--', ms=3, color='C2', alpha=alpha,
                        label=f"{r['method']} EMA target seed {r['seed']}")
    axes[0].axhline(np.mean([r['curve'][0]['svm_acc'] for r in rows]), color='k', ls=':', lw=1,
                    label='iteration 0 (BN-calibrated random init)' + (', mean of the seeds' if len(seeds) > 1 else ''))
    axes[0].set_title('ModelNet10 validation probe: linear-SVM accuracy (%)', fontsize=9)
    axes[1].set_title('centred effective rank of validation features', fontsize=9)
    for ax in axes:
        ax.set_xlabel('iteration')
        ax.grid(alpha=0.3)
    # the legend beside the plots, not over the curves (a pool of six runs has ten lines)
    axes[1].legend(*axes[0].get_legend_handles_labels(), fontsize=7, loc='center left', bbox_to_anchor=(1.02, 0.5))
    fig.tight_layout()
    fig.savefig(path, dpi=120, bbox_inches='tight')
    plt.close(fig)


def in_progress_rows(out_dir, saved):
    """Curves of the runs of a saved ``evidence.json`` that have no row yet but a ``curve.json`` (a run cut off
    part-way, or one still training): ``dict(method, seed, curve, in_progress=True)`` each."""
    args = saved.get('args', {})
    done = {(r['seed'], r['method']) for r in saved['rows']}
    out = []
    for seed in args.get('seeds') or []:
        for m in args.get('methods') or []:
            path = osp.join(out_dir, 'runs', f'{m}_seed{seed}', 'curve.json')
            if (seed, m) in done or not osp.isfile(path):
                continue
            with open(path) as f:
                points = json.load(f)['points']
            if points:
                out.append(dict(method=m, seed=seed, curve=points, in_progress=True))
    return out


def same_seed_pairs(items):
    """(a, b, [(item of a, item of b), ...]) for each pair of methods (``METHODS`` order) with seeds in common: the
    ``items`` (evidence rows or check results, dicts with ``method`` and ``seed``) of the seeds both ran."""
    methods = [m for m in METHODS if any(it['method'] == m for it in items)]
    for i, a in enumerate(methods):
        for b in methods[i + 1:]:
            other = {it['seed']: it for it in items if it['method'] == b}
            pairs = [(it, other[it['seed']]) for it in items if it['method'] == a and it['seed'] in other]
            if pairs:
                yield a, b, pairs


def versus_lines(rows):
    """The methods against each other on the seeds both ran (issue 9's "Point-JEPA >= Point-MAE" as a paired
    comparison): the mean +- std test-OA gap of the online encoders and, per seed, the exact McNemar test on the same
    shapes. Both start from the same weights for a seed (one encoder config, one init seed)."""
    lines = []
    for a, b, pairs in same_seed_pairs(rows):
        d = [ra['online']['test_oa'] - rb['online']['test_oa'] for ra, rb in pairs]
        lines.append(f"\n{a} minus {b}, same seed (points of test OA, online, seeds "
                     f"{', '.join(str(ra['seed']) for ra, _ in pairs)}): {np.mean(d):+.2f} +- {np.std(d):.2f}")
        lines += [f"  seed {ra['seed']}, shapes only {a} / only {b} gets right, exact McNemar: online "
                  f"{paired_text(paired(ra['online'], rb['online']))}" for ra, rb in pairs]
    return lines


def report(rows, methods, out_dir, in_progress=(), png_name='evidence.png'):
    """Print the table of ``rows`` (mean +- std over the seeds each method has) and draw ``out_dir/png_name``
    (with the curves of the ``in_progress`` runs too)."""
    lines = ['| method | seeds | iterations | ModelNet10 test OA (%) online | EMA target | mean-class (online) |',
             '|---|---|---|---|---|---|']
    for m in [RANDOM] + list(methods):
        sel = [r for r in rows if r['method'] == m]
        if not sel:
            lines.append(f'| {m} | none finished | - | - | - | - |')
            continue
        oa = [r['online']['test_oa'] for r in sel]
        ema = [r['ema_target']['test_oa'] for r in sel if 'ema_target' in r]
        lines.append(f"| {m} | {', '.join(str(r['seed']) for r in sel)} | {sel[0].get('iterations', '-')} | "
                     f"{np.mean(oa):.2f} +- {np.std(oa):.2f} | "
                     f"{f'{np.mean(ema):.2f} +- {np.std(ema):.2f}' if ema else '-'} | "
                     f"{np.mean([r['online']['test_macc'] for r in sel]):.2f} |")
    start = {r['seed']: r['online'] for r in rows if r['method'] == RANDOM}  # each seed's starting weights
    for m in methods:  # each run against its own starting weights (same seed): the seed's spread cancels
        sel = [r for r in rows if r['method'] == m and r['seed'] in start]
        if not sel:
            continue
        gains = [f"{name} {np.mean(d):+.2f} +- {np.std(d):.2f}" for name, d in (
            ('online', [r['online']['test_oa'] - start[r['seed']]['test_oa'] for r in sel]),
            ('EMA target', [r['ema_target']['test_oa'] - start[r['seed']]['test_oa'] for r in sel
                            if 'ema_target' in r])) if d]
        lines.append(f"\n{m} minus the random init of the same seed (points of test OA, seeds "
                     f"{', '.join(str(r['seed']) for r in sel)}): {'; '.join(gains)}")
        for r in sel:  # the same 908 shapes: which ones each gets right, and is the difference signal?
            tests = [(name, paired(r[key], start[r['seed']])) for name, key in (
                ('online', 'online'), ('EMA target', 'ema_target')) if key in r]
            if any(t for _, t in tests):
                lines.append(f"  seed {r['seed']}, shapes only the pretrained / only the random init gets right, "
                             'exact McNemar: ' + '; '.join(f'{name} {paired_text(t)}' for name, t in tests))
    lines += versus_lines(rows)
    configs = sorted({(r['method'], r['config']) for r in rows
                      if r.get('config') not in (None, METHODS.get(r['method']))})
    lines += [f'\n{m} trained from `{c}` (not its default config)' for m, c in configs]
    table = '\n'.join(lines)
    print('\n' + table)
    curves = [r for r in rows if 'curve' in r] + list(in_progress)
    if not curves:  # e.g. an archive of rows saved without their curves
        print('\n(no learning curve in these rows: no PNG drawn)')
        return table, None
    png = osp.join(out_dir, png_name)
    plot(curves, png)
    return table, png


def pool(dirs, out_dir):
    """``--pool``: the rows of several out-dirs' ``evidence.json`` (and ``val_check.json``) in one table each, with
    the mean +- std over all their seeds. Refuses runs of one method with different configs or iteration counts, and
    a (method, seed) found in two dirs (a random-init row may repeat if it is the same)."""
    rows, where, setting, checks = [], {}, {}, []
    for d in dirs:
        path = osp.join(d, 'evidence.json')
        for r in load_saved(path, '--pool')['rows']:
            key = (r['method'], r['seed'])
            if key in where:
                if r['method'] == RANDOM and r['online']['test_oa'] == rows[where[key][1]]['online']['test_oa']:
                    continue
                sys.exit(f"evidence.py: --pool: {r['method']} seed {r['seed']} is in both {where[key][0]} and "
                         f"{path}; pool runs of different seeds")
            if r['method'] != RANDOM:
                mine = (r.get('config', METHODS[r['method']]), r['iterations'])
                theirs = setting.setdefault(r['method'], (mine, path))
                if theirs[0] != mine:
                    sys.exit(f"evidence.py: --pool: {r['method']} is {theirs[0][0]} for {theirs[0][1]} iterations "
                             f"in {theirs[1]} but {mine[0]} for {mine[1]} in {path}; pool runs of one recipe")
            where[key] = (path, len(rows))
            rows.append(r)
        check = osp.join(d, CHECKS['val'][1])
        checks.append(load_saved(check, '--pool')['rows'] if osp.isfile(check) else None)
    methods = [m for m in METHODS if m in setting]
    print(f"pooled {len(dirs)} out-dirs: {', '.join(dirs)}")
    _, png = report(rows, methods, out_dir, png_name='evidence_pooled.png')
    if all(c is not None for c in checks):
        start = {r['seed']: r['online']['test_oa'] for r in rows if r['method'] == RANDOM}
        print('\nvalidation carve, as each dir\'s --val-check printed it, pooled:\n'
              + check_table([res for c in checks for res in c], 'val', start, {}))
    else:
        print(f"\nno pooled validation table: {', '.join(d for d, c in zip(dirs, checks) if c is None)} "
              f"{'has' if sum(c is None for c in checks) == 1 else 'have'} no {CHECKS['val'][1]}")
    if png:
        print(f'\nwritten: {png}')


def load_saved(path, option, hint=''):
    """The saved ``evidence.json`` at ``path``, or exit saying that ``option`` needs it."""
    if not osp.isfile(path):
        sys.exit(f'evidence.py: {option} needs {path}, which does not exist{hint}')
    with open(path) as f:
        return json.load(f)


def calibrated_copy(backbone_cfg, state, train_set, seed):
    """A backbone with ``state`` loaded and its BatchNorm statistics measured on ``CALIB_CLOUDS`` clouds of
    ``train_set`` (drawn by a generator seeded with ``seed``, batches of 32): the random-init baseline."""
    bb = MODELS.build(backbone_cfg)
    bb.load_state_dict(state)
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(train_set), min(CALIB_CLOUDS, len(train_set)), replace=False)
    clouds = torch.stack([train_set[int(i)]['inputs']['points'] for i in idx])
    calibrate_batchnorm(bb, (clouds[i:i + 32] for i in range(0, len(clouds), 32)))
    return bb


def recheck(out_dir, split='val'):
    """``--val-check`` (``split='val'``) / ``--test-recheck`` (``'test'``): the end-of-run comparison again, from
    the saved checkpoints, with the paired test.

    For every finished pretraining row of ``<out_dir>/evidence.json``: its last checkpoint
    (``runs/<method>_seed<s>/iter_<iterations>.pth``: online encoder and, for Point-JEPA, the EMA target) and the
    run's starting weights (rebuilt from the run's config and seed, BatchNorm calibrated on 512 clouds of the
    train part) get the linear SVM of ``svm_test``, and each encoder is compared with the starting weights on the
    same shapes (exact McNemar test).

    * ``'val'``: fitted on the whole train part (the official train split minus the carve) and scored on the carve
      the run's probe scores on (never the test split). The probe itself fits on a subset; this asks whether the
      test-split gain shows on validation data with the same fit-set size as the benchmark.
    * ``'test'``: the benchmark itself (official split), recomputed: the numbers must equal the saved ones (they
      are printed side by side), and the paired test says whether a gain is more than the shapes' noise. For
      rows saved before the per-shape results were recorded; nothing is chosen with it.
    """
    import tempfile
    option, name = CHECKS[split]
    out_json = osp.join(out_dir, 'evidence.json')
    saved = load_saved(out_json, option)
    runs = [r for r in saved['rows'] if r['method'] != RANDOM]
    if not runs:
        sys.exit(f'evidence.py: {option}: {out_json} has no finished pretraining run yet')
    init_default_scope('pjepa3d')
    saved_start = {r['seed']: r['online']['test_oa'] for r in saved['rows'] if r['method'] == RANDOM}
    results, start_scores, data = [], {}, None
    for r in runs:
        ckpt = osp.join(out_dir, 'runs', f"{r['method']}_seed{r['seed']}", f"iter_{r['iterations']}.pth")
        if not osp.isfile(ckpt):
            sys.exit(f"evidence.py: {option}: {ckpt} (the last checkpoint of {r['method']} seed {r['seed']}) "
                     'does not exist')
        with tempfile.TemporaryDirectory() as tmp:  # the Runner builds the run's model from its seed (the
            # schedule it is given changes no weight)
            runner, _ = build_runner(r['method'], r['seed'], r['iterations'], r['iterations'], tmp, r.get('config'),
                                     timing=True)
        model = runner.model
        if data is None:
            if split == 'val':  # the carve of the run's probe; fitted on the whole train part
                score_cfg = copy.deepcopy(runner.cfg.val_dataloader.dataset.score)
                data = {'train': DATASETS.build(dict(score_cfg, split='train')), 'test': DATASETS.build(score_cfg)}
            else:
                data = benchmark_data()
            print(f"{option}: fit on {len(data['train'])} {'train-part' if split == 'val' else 'train'} shapes, "
                  f"scored on {len(data['test'])} {'validation' if split == 'val' else 'test'} shapes", flush=True)
        if r['seed'] not in start_scores:
            bb = calibrated_copy(runner.cfg.model.backbone, model.backbone.state_dict(), data['train'], r['seed'])
            start_scores[r['seed']] = svm_test(bb, data)
        start = start_scores[r['seed']]
        state = torch.load(ckpt, map_location='cpu', weights_only=False)['state_dict']
        model.load_state_dict(state)
        online = svm_test(model.backbone, data)
        res = dict(method=r['method'], seed=r['seed'], iterations=r['iterations'], checkpoint=ckpt,
                   random_init=start['test_oa'], online=online['test_oa'], paired_online=paired(online, start),
                   test_online=r['online']['test_oa'])
        if hasattr(model, 'target'):
            target = svm_test(model.target, data)
            res.update(ema_target=target['test_oa'], paired_target=paired(target, start))
        results.append(res)
        print(f"  {r['method']} seed {r['seed']}: {split} OA online {res['online']:.2f}"
              + (f", EMA target {res['ema_target']:.2f}" if 'ema_target' in res else '')
              + f"; its starting weights (BN calibrated) {res['random_init']:.2f}", flush=True)
    table = check_table(results, split, saved_start,
                        {(r['method'], r['seed']): r['ema_target']['test_oa'] for r in runs if 'ema_target' in r})
    print('\n' + table)
    path = osp.join(out_dir, name)
    write_json_atomic(path, dict(fit_shapes=len(data['train']), scored_shapes=len(data['test']), split=split,
                                 rows=results, table=table, torch=torch.__version__))
    print(f'\nwritten: {path}')
    return results


def check_table(results, split, saved_start, saved_target):
    """The table of a ``--val-check`` / ``--test-recheck`` (``results``: its rows; ``saved_start`` / ``saved_target``:
    the saved test OA of each seed's random init / of each (method, seed)'s EMA target), ending with each method's
    mean +- std gain over its starting weights."""
    if split == 'val':
        lines = ['| method | seed | iterations | val OA online (%) | EMA target | random init (BN calibrated) | '
                 'online minus random init | test: online minus random init | only online / only random init '
                 'right, McNemar |', '|---|---|---|---|---|---|---|---|---|']
    else:
        lines = ['| method | seed | iterations | test OA online (%), recomputed / saved | EMA target | random init '
                 '(BN calibrated) | online minus random init | only online / only random init right, McNemar | '
                 'only EMA target / only random init right |', '|---|---|---|---|---|---|---|---|---|']
    for res in results:
        key = (res['method'], res['seed'])
        ema = f"{res['ema_target']:.2f}" if 'ema_target' in res else '-'
        gain = f"{res['online'] - res['random_init']:+.2f}"
        if split == 'val':
            test_gain = (f"{res['test_online'] - saved_start[res['seed']]:+.2f}" if res['seed'] in saved_start
                         else '-')
            lines.append(f"| {res['method']} | {res['seed']} | {res['iterations']} | {res['online']:.2f} | {ema} | "
                         f"{res['random_init']:.2f} | {gain} | {test_gain} | {paired_text(res['paired_online'])} |")
        else:
            if key in saved_target:
                ema += f" / {saved_target[key]:.2f}"
            start_text = f"{res['random_init']:.2f} / {saved_start.get(res['seed'], float('nan')):.2f}"
            lines.append(f"| {res['method']} | {res['seed']} | {res['iterations']} | {res['online']:.2f} / "
                         f"{res['test_online']:.2f} | {ema} | {start_text} | {gain} | "
                         f"{paired_text(res['paired_online'])} | "
                         f"{paired_text(res['paired_target']) if 'ema_target' in res else '-'} |")
    for m in sorted({res['method'] for res in results}):
        d = [res['online'] - res['random_init'] for res in results if res['method'] == m]
        lines.append(f"\n{m} minus its starting weights on the {'validation carve' if split == 'val' else 'test split'}"
                     f' (online, {len(d)} seed(s)): {np.mean(d):+.2f} +- {np.std(d):.2f}')
    for a, b, pairs in same_seed_pairs(results):  # the methods against each other on the seeds both have
        d = [ra['online'] - rb['online'] for ra, rb in pairs]
        lines.append(f"\n{a} minus {b} on the {'validation carve' if split == 'val' else 'test split'}, same seed "
                     f"(online, seeds {', '.join(str(ra['seed']) for ra, _ in pairs)}): {np.mean(d):+.2f} +- "
                     f"{np.std(d):.2f}")
    if split == 'test':
        same = all(res['online'] == res['test_online'] and res['random_init'] == saved_start.get(res['seed'])
                   and ('ema_target' not in res or res['ema_target'] == saved_target.get(
                       (res['method'], res['seed']))) for res in results)
        lines.append('\nrecomputed test OA ' + ('equals every saved one' if same else
                                                'DIFFERS from a saved one (see the table): same checkpoints, '
                                                'another environment or code'))
    return '\n'.join(lines)


def benchmark_data():
    """The ModelNet10 SVM benchmark's train (3,991) and test (908) sets, as
    ``configs/_base_/datasets/modelnet10_svm.py`` builds them."""
    svm_cfg = Config.fromfile(osp.join(PROJECT_ROOT, 'configs/_base_/datasets/modelnet10_svm.py'))
    return {s: DATASETS.build(svm_cfg[f'{s}_dataloader'].dataset) for s in ('train', 'test')}


def resumed_rows(path):
    """Rows of a stopped run's ``evidence.json``, the iteration count each method trained there, and the
    command-line arguments it was last run with."""
    saved = load_saved(path, '--resume', ' (start without --resume)')
    rows = saved['rows']
    iters = dict(saved.get('iterations', {}))  # written before the first run trains (absent in older files)
    for r in rows:
        if 'iterations' in r and iters.setdefault(r['method'], r['iterations']) != r['iterations']:
            sys.exit(f"evidence.py: {path} holds {r['method']} runs of {iters[r['method']]} and {r['iterations']} "
                     'iterations; --resume cannot tell which budget to continue')
    return rows, iters, saved.get('args', {})


def save(path, args, rows, iters, **extra):
    malloc = kept_heap_env()  # --keep-heap's, or set by hand: speed only
    write_json_atomic(path, dict(args=vars(args), iterations=iters, rows=rows, torch=torch.__version__,
                                 malloc_env=malloc, **extra))


def main(argv=None):
    args = parse_args(argv)
    trains = not (args.val_check or args.test_recheck or args.pool or args.report_only)
    if (trains or args.keep_heap) and wants_kept_heap(args.keep_heap, restart=argv is None):
        keep_heap('evidence.py', restart=argv is None)  # by default only where it trains: a restart costs ~3 s
    os.makedirs(args.out_dir, exist_ok=True)
    out_json = osp.join(args.out_dir, 'evidence.json')
    if args.val_check or args.test_recheck:
        recheck(args.out_dir, 'val' if args.val_check else 'test')
        return
    if args.pool:
        pool(args.pool, args.out_dir)
        return
    if args.report_only:
        saved = load_saved(out_json, '--report-only')
        running = in_progress_rows(args.out_dir, saved)
        _, png = report(saved['rows'], saved.get('args', {}).get('methods', list(METHODS)), args.out_dir, running)
        for r in running:
            last = r['curve'][-1]
            print(f"{r['method']} seed {r['seed']}: in progress, probed up to iteration {last['iter']}"
                  f"/{saved.get('iterations', {}).get(r['method'], '?')}: online {last['svm_acc']:.2f}"
                  + (f", EMA target {last['svm_acc_target']:.2f}" if 'svm_acc_target' in last else '')
                  + f" (iteration {r['curve'][0]['iter']}: {r['curve'][0]['svm_acc']:.2f}); curve in the PNG")
        read = [out_json]
        for option, name in CHECKS.values():
            path = osp.join(args.out_dir, name)  # what a check of these runs printed, if one was made
            if osp.isfile(path):
                check = load_saved(path, option)
                print(f"\nas {option} printed it (fit on {check['fit_shapes']} shapes, scored on "
                      f"{check['scored_shapes']} {check['split']} shapes):\n{check['table']}")
                read.append(path)
        print(f'\nread: {", ".join(read)} ({len(saved["rows"])} rows)' + (f'; written: {png}' if png else ''))
        return
    rows, iters = [], {}
    defaults = dict(seeds=[0, 1], methods=list(METHODS), budget_min=30.0)
    if args.resume:
        rows, iters, saved_args = resumed_rows(out_json)
        # what the command line leaves out is what the resumed run had
        for key in ('seeds', 'methods', 'budget_min', 'val_every'):
            if getattr(args, key) is None:
                setattr(args, key, saved_args.get(key))
        if not args.config and saved_args.get('configs'):
            args.configs = dict(args.configs, **saved_args['configs'])
        for r in rows:  # rows written before the config was recorded used the default one
            if r['method'] in args.configs and r.get('config', METHODS[r['method']]) != args.configs[r['method']]:
                sys.exit(f"evidence.py: {out_json} trained {r['method']} from {r.get('config', METHODS[r['method']])}, "
                         f"not {args.configs[r['method']]}; --resume continues a run with the same configs")
        print(f'--resume: {len(rows)} rows kept from {out_json}; iterations {iters or "(none yet)"}', flush=True)
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    done = {(r['seed'], r['method']) for r in rows}
    runs = [(s, m) for s in args.seeds for m in args.methods if (s, m) not in done]
    if runs:
        init_default_scope('pjepa3d')
        data = benchmark_data()
    for m in sorted({m for _, m in runs}, key=args.methods.index):
        if m in iters:
            continue
        if args.iters:
            iters[m] = args.iters
        else:
            step = seconds_per_iter(m, osp.join(args.out_dir, 'runs', 'timing'), config=args.configs[m])
            iters[m] = max(10, int(args.budget_min * 60 / step))
            print(f'{m}: {step:.2f} s / iteration -> {iters[m]} iterations in {args.budget_min:g} min', flush=True)
    if runs:  # the iteration counts first: a run cut off part-way is resumed with the same schedule
        save(out_json, args, rows, iters)
    t_start = time.perf_counter()
    for k, (seed, m) in enumerate(runs, 1):
        work_dir = osp.join(args.out_dir, 'runs', f'{m}_seed{seed}')
        resume = args.resume and osp.isfile(osp.join(work_dir, 'last_checkpoint'))
        print(f'[{k}/{len(runs)}] {m} seed {seed}: {iters[m]} iterations'
              + (f', resumed from the last checkpoint in {work_dir}' if resume else ''), flush=True)
        val_every = args.val_every or max(1, iters[m] // 8)
        runner, curve = build_runner(m, seed, iters[m], val_every, work_dir, args.configs[m], resume=resume)
        # the seed's initial weights (built before train() loads a checkpoint, so also when resuming)
        init_state = copy.deepcopy(runner.model.backbone.state_dict())
        runner.train()
        row = dict(method=m, seed=seed, config=args.configs[m], iterations=iters[m],
                   train_seconds=round(curve.seconds, 1), curve=curve.points,
                   online=svm_test(runner.model.backbone, data))
        if hasattr(runner.model, 'target'):
            row['ema_target'] = svm_test(runner.model.target, data)
        if (seed, RANDOM) not in done:  # the common starting weights, BatchNorm calibrated on train clouds
            random_bb = calibrated_copy(runner.cfg.model.backbone, init_state, data['train'], seed)
            rows.append(dict(method=RANDOM, seed=seed, online=svm_test(random_bb, data)))
            done.add((seed, RANDOM))
        rows.append(row)
        print(f"  {m} seed {seed}: test OA online {row['online']['test_oa']:.2f}"
              + (f", EMA target {row['ema_target']['test_oa']:.2f}" if 'ema_target' in row else '')
              + f"; probe {curve.points[0]['svm_acc']:.1f} -> {curve.points[-1]['svm_acc']:.1f} "
              f"[{time.perf_counter() - t_start:.0f} s]", flush=True)
        save(out_json, args, rows, iters)
    table, png = report(rows, args.methods, args.out_dir)
    save(out_json, args, rows, iters, table=table)
    print(f"\nwritten: {', '.join(p for p in (out_json, png) if p)}")


if __name__ == '__main__':
    main()
