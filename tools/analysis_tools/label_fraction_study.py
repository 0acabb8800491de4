"""Few-label fine-tuning study: pretrained init vs. calibrated random init, per label fraction, over seeds.

    python tools/analysis_tools/label_fraction_study.py CONFIG_1PCT [CONFIG_5PCT ...] \
        --checkpoint PRETRAIN.pth [--prefix backbone.] [--seeds 0 1 2] \
        [--work-dir work_dirs/label_fraction_study] [--data-root DIR] [--cfg-options ...]

Each CONFIG is a label-fraction fine-tune config with a validation split and ``TestBestAndLastHook`` (e.g.
configs/point_jepa/benchmarks/pointjepa_vit-t-demo_1xb32_ft_modelnet10-label1pct.py). For every config and
every seed, two runs go through mmengine's Runner in this process (train, then the test of the last and the
best-on-val weights written by ``TestBestAndLastHook``):

* ``pretrained``: ``model.backbone.init_cfg = dict(type='Pretrained', checkpoint=--checkpoint, prefix=--prefix)``;
* ``scratch``: ``model.backbone.init_cfg = None`` with ``BNCalibrationHook`` (added when the config lacks it),
  so the random encoder's BatchNorm statistics are measured on training clouds before iteration 0.

The seed is both the Runner's ``randomness.seed`` (head / random encoder init, data order, augmentation) and
the label subset's ``fraction_seed`` (which shapes carry labels); the two arms of one seed see the same
labelled shapes. Selection uses the validation split only; the test split is only evaluated. Per-run work
dirs: ``<work-dir>/<fraction>/<init>/seed<k>``. Results: a markdown table on stdout and
``<work-dir>/label_fraction_study.json`` (one row per fraction, init and seed, plus the summary).
"""
import argparse
import copy
import json
import os
import os.path as osp
import sys
import time

import numpy as np
from mmengine.config import Config, DictAction
from mmengine.runner import Runner

import pjepa3d  # noqa: F401
from pjepa3d.engine.distributed import adapt_cfg_for_device

INITS = ('pretrained', 'scratch')
METRIC = 'accuracy/overall'
MEAN_CLASS = 'accuracy/mean_class'


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('configs', nargs='+', help='label-fraction fine-tune configs (e.g. the 1 %% and 5 %% ones)')
    p.add_argument('--checkpoint', required=True, help='the pretraining checkpoint (the pretrained arm)')
    p.add_argument('--prefix', default='backbone.', help="state-dict prefix of the encoder in the checkpoint "
                   "('backbone.' = the context encoder, 'target.' = the EMA target encoder)")
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2],
                   help='each is the Runner seed and the label subset seed (fraction_seed)')
    p.add_argument('--inits', nargs='+', choices=INITS, default=list(INITS), help='which arms to run')
    p.add_argument('--work-dir', default='work_dirs/label_fraction_study')
    p.add_argument('--data-root', default=None, help="the datasets' data_root (default: the config's, e.g. "
                   '$MODELNET10_ROOT)')
    p.add_argument('--verbose', action='store_true', help="keep the runners' INFO logs on the console")
    p.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config settings for every run')
    return p.parse_args(argv)


def fraction_tag(fraction):
    """0.01 -> '1pct', 0.005 -> '0.5pct', None -> 'all'."""
    if fraction is None:
        return 'all'
    pct = float(fraction) * 100
    return f'{pct:g}pct'


def hook_types(cfg):
    return [h.get('type') for h in cfg.get('custom_hooks', None) or []]


def load_base(path, args):
    cfg = Config.fromfile(path)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.setdefault('default_scope', 'pjepa3d')
    cfg.launcher = 'none'
    if 'TestBestAndLastHook' not in hook_types(cfg):
        raise ValueError(f'label_fraction_study: {path} has no TestBestAndLastHook in custom_hooks; the study '
                         'reads the last / best-on-val test results it writes')
    if cfg.get('val_dataloader') is None or not cfg.default_hooks.checkpoint.get('save_best'):
        raise ValueError(f'label_fraction_study: {path} needs a val split and default_hooks.checkpoint.save_best '
                         '(best-on-val selection)')
    if 'label_fraction' not in cfg.train_dataloader.dataset:
        raise ValueError(f'label_fraction_study: {path} sets no train_dataloader.dataset.label_fraction')
    return cfg


def run_cfg(base, init, seed, args, work_dir, name):
    cfg = copy.deepcopy(base)
    cfg.randomness = dict(cfg.get('randomness', None) or {}, seed=seed)
    cfg.train_dataloader.dataset.fraction_seed = seed
    if args.data_root:
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            if cfg.get(loader) is not None:
                cfg[loader].dataset.data_root = args.data_root
    if init == 'pretrained':
        cfg.model.backbone.init_cfg = dict(type='Pretrained', checkpoint=args.checkpoint, prefix=args.prefix)
    else:
        cfg.model.backbone.init_cfg = None
        if 'BNCalibrationHook' not in hook_types(cfg):
            cfg.custom_hooks = list(cfg.get('custom_hooks', None) or []) + [
                dict(type='BNCalibrationHook', num_samples=512, batch_size=32)]
    cfg.load_from = None
    cfg.resume = False
    cfg.work_dir = work_dir
    cfg.experiment_name = name  # mmengine appends the timestamp
    if not args.verbose:
        cfg.log_level = 'WARNING'
    return cfg


def mean_std(values):
    a = np.asarray(values, dtype=float)
    return float(a.mean()), float(a.std())


def fmt(values):
    values = [v for v in values if v is not None]
    if not values:
        return '-'
    m, s = mean_std(values)
    return f'{m:.2f} +- {s:.2f}'


def f2(value):
    return '-' if value is None else f'{value:.2f}'


def summarise(rows):
    """Per (fraction, init): mean / std of test OA last, test OA best-on-val, val OA of the selected
    checkpoint; per fraction: the paired (same seed) pretrained - scratch differences."""
    groups = {}
    for r in rows:
        groups.setdefault((r['fraction'], r['init']), []).append(r)
    summary = []
    for (fraction, init), rs in groups.items():
        item = dict(fraction=fraction, init=init, seeds=[r['seed'] for r in rs], num_labelled=rs[0]['num_labelled'])
        for key in ('test_oa_last', 'test_oa_best', 'val_oa_best', 'test_macc_last', 'test_macc_best'):
            vals = [r[key] for r in rs if r[key] is not None]
            item[key] = dict(zip(('mean', 'std'), mean_std(vals))) if vals else None
        summary.append(item)
    paired = []
    for fraction in dict.fromkeys(r['fraction'] for r in rows):
        pre = {r['seed']: r for r in groups.get((fraction, 'pretrained'), [])}
        scr = {r['seed']: r for r in groups.get((fraction, 'scratch'), [])}
        seeds = sorted(set(pre) & set(scr))
        if not seeds:
            continue
        item = dict(fraction=fraction, seeds=seeds)
        for key in ('test_oa_last', 'test_oa_best'):
            d = [pre[s][key] - scr[s][key] for s in seeds]
            item[key] = dict(zip(('mean', 'std'), mean_std(d)), per_seed=d)
        paired.append(item)
    return summary, paired


def table(rows, summary, paired):
    lines = ['| fraction | init | labelled shapes | test OA last (%) | test OA best-on-val (%) | '
             'val OA of the selected checkpoint (%) | per seed: last / best-on-val (val) |',
             '|---|---|---|---|---|---|---|']
    for item in summary:
        rs = [r for r in rows if r['fraction'] == item['fraction'] and r['init'] == item['init']]
        per_seed = ', '.join(f"s{r['seed']}: {f2(r['test_oa_last'])} / {f2(r['test_oa_best'])} "
                             f"({f2(r['val_oa_best'])})" for r in rs)
        lines.append(f"| {item['fraction']} | {item['init']} | {item['num_labelled']} | "
                     f"{fmt([r['test_oa_last'] for r in rs])} | {fmt([r['test_oa_best'] for r in rs])} | "
                     f"{fmt([r['val_oa_best'] for r in rs])} | {per_seed} |")
    if paired:
        lines += ['', '| fraction | pretrained - scratch, paired by seed: test OA last | test OA best-on-val |',
                  '|---|---|---|']
        for item in paired:
            lines.append(f"| {item['fraction']} | {item['test_oa_last']['mean']:+.2f} +- "
                         f"{item['test_oa_last']['std']:.2f} | {item['test_oa_best']['mean']:+.2f} +- "
                         f"{item['test_oa_best']['std']:.2f} |")
    return '\n'.join(lines)


def read_result(work_dir):
    path = osp.join(work_dir, 'test_last_and_best.json')
    if not osp.isfile(path):
        raise FileNotFoundError(f'label_fraction_study: {path} was not written (is TestBestAndLastHook in '
                                'custom_hooks and test_dataloader / test_cfg in the config?)')
    with open(path) as f:
        result = json.load(f)
    if 'best' not in result:
        raise KeyError(f'label_fraction_study: {path} has no best-on-val result (no validation ran?); keys: '
                       f'{sorted(result)}')
    return result


def main(argv=None):
    args = parse_args(argv)
    if 'pretrained' in args.inits and not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'label_fraction_study: --checkpoint {args.checkpoint} not found')
    bases = [(path, load_base(path, args)) for path in args.configs]  # every config checked before any run
    fractions = [fraction_tag(b.train_dataloader.dataset.label_fraction) for _, b in bases]
    if len(set(fractions)) != len(fractions):
        raise ValueError(f'label_fraction_study: two configs have the same label fraction ({fractions})')
    os.makedirs(args.work_dir, exist_ok=True)
    runs = [(path, base, tag, init, seed) for (path, base), tag in zip(bases, fractions)
            for seed in args.seeds for init in args.inits]
    rows = []
    out = osp.join(args.work_dir, 'label_fraction_study.json')
    for i, (path, base, tag, init, seed) in enumerate(runs, 1):
        work_dir = osp.join(args.work_dir, tag, init, f'seed{seed}')
        print(f'[{i}/{len(runs)}] {tag} labels, {init} init, seed {seed}: training in {work_dir} ...', flush=True)
        start = time.time()
        cfg = run_cfg(base, init, seed, args, work_dir, f'{tag}_{init}_seed{seed}')
        adapt_cfg_for_device(cfg, 'none')
        runner = Runner.from_cfg(cfg)
        runner.train()
        result = read_result(work_dir)
        last, best = result['last'], result['best']
        row = dict(
            config=path, fraction=tag, label_fraction=base.train_dataloader.dataset.label_fraction, init=init,
            seed=seed, num_labelled=len(runner.train_dataloader.dataset), work_dir=work_dir,
            test_oa_last=float(last['metrics'][METRIC]), test_oa_best=float(best['metrics'][METRIC]),
            test_macc_last=last['metrics'].get(MEAN_CLASS), test_macc_best=best['metrics'].get(MEAN_CLASS),
            val_oa_best=None if best.get('val_score') is None else float(best['val_score']),
            best_iter=best.get('iter'), best_epoch=best.get('epoch'), best_checkpoint=best.get('checkpoint'),
            last_iter=last.get('iter'), seconds=round(time.time() - start, 1))
        rows.append(row)
        print(f'[{i}/{len(runs)}] {tag} {init} seed {seed}: test OA last {row["test_oa_last"]:.2f}, best-on-val '
              f'{row["test_oa_best"]:.2f} (val {f2(row["val_oa_best"])} at iteration {row["best_iter"]}); '
              f'{row["num_labelled"]} labelled shapes; {row["seconds"]:.0f} s', flush=True)
        summary, paired = summarise(rows)
        with open(out, 'w') as f:  # rewritten after every run: an interrupted study keeps its finished runs
            json.dump(dict(configs=args.configs, checkpoint=args.checkpoint, prefix=args.prefix, seeds=args.seeds,
                           inits=args.inits, metric=METRIC, complete=i == len(runs),
                           note='test OA = overall accuracy (%) on the test split; best-on-val = the checkpoint '
                                'with the highest val accuracy; the seed is randomness.seed and fraction_seed',
                           rows=rows, summary=summary, paired_pretrained_minus_scratch=paired), f, indent=2)
    summary, paired = summarise(rows)
    print('\n' + table(rows, summary, paired))
    print(f'\nresults written to {osp.abspath(out)} (per-run work dirs under {osp.abspath(args.work_dir)})')
    return dict(rows=rows, summary=summary, paired=paired, json=osp.abspath(out))


if __name__ == '__main__':
    sys.exit(0 if main() else 1)
