"""Few-label fine-tuning study: pretrained init vs. calibrated random init, per label fraction, over seeds.

    python tools/analysis_tools/label_fraction_study.py CONFIG_1PCT [CONFIG_5PCT ...] \
        --checkpoint PRETRAIN.pth [PRETRAIN_2.pth ...] [--prefix backbone.] [--seeds 0 1 2] \
        [--work-dir work_dirs/label_fraction_study] [--data-root DIR] [--resume] [--cfg-options ...]

Each CONFIG is a label-fraction fine-tune config with a validation split and ``TestBestAndLastHook`` (e.g.
configs/point_jepa/benchmarks/pointjepa_vit-t-demo_1xb32_ft_modelnet10-label1pct.py). For every config and
every seed, two runs go through mmengine's Runner in this process (train, then the test of the last and the
best-on-val weights written by ``TestBestAndLastHook``):

* ``pretrained``: ``model.backbone.init_cfg = dict(type='Pretrained', checkpoint=--checkpoint, prefix=--prefix)``
  (with several checkpoints, one arm each: ``pretrained 1``, ``pretrained 2``, ... in the order given);
* ``scratch``: ``model.backbone.init_cfg = None`` with ``BNCalibrationHook`` (added when the config lacks it),
  so the random encoder's BatchNorm statistics are measured on training clouds before iteration 0.

The seed is both the Runner's ``randomness.seed`` (head / random encoder init, data order, augmentation) and
the label subset's ``fraction_seed`` (which shapes carry labels); the two arms of one seed see the same
labelled shapes. Selection uses the validation split only; the test split is only evaluated. Per-run work
dirs: ``<work-dir>/<fraction>/<init>/seed<k>``. Results: a markdown table on stdout and
``<work-dir>/label_fraction_study.json`` (one row per fraction, init and seed, plus the summary), rewritten
after every run. Under the table: per pretrained arm and seed, the paired test against scratch on the same test
shapes (last and best-on-val checkpoints; shapes only one arm gets right, exact McNemar p). ``--resume`` keeps
the finished runs of that file that this call would run again (same config, fraction, seed, and checkpoint +
prefix or scratch) and runs only the others: an interrupted study continues, and a second checkpoint can be
added to a finished study without re-running its other arms.
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
from pjepa3d.engine.atomic_backend import AtomicLocalBackend
from pjepa3d.engine.distributed import adapt_cfg_for_device
from pjepa3d.evaluation import format_p, mcnemar_test

INITS = ('pretrained', 'scratch')
METRIC = 'accuracy/overall'
MEAN_CLASS = 'accuracy/mean_class'


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('configs', nargs='+', help='label-fraction fine-tune configs (e.g. the 1 %% and 5 %% ones)')
    p.add_argument('--checkpoint', required=True, nargs='+',
                   help='the pretraining checkpoint(s): one pretrained arm each')
    p.add_argument('--prefix', default='backbone.', help="state-dict prefix of the encoder in the checkpoint "
                   "('backbone.' = the context encoder, 'target.' = the EMA target encoder)")
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2],
                   help='each is the Runner seed and the label subset seed (fraction_seed)')
    p.add_argument('--inits', nargs='+', choices=INITS, default=list(INITS), help='which arms to run')
    p.add_argument('--work-dir', default='work_dirs/label_fraction_study')
    p.add_argument('--data-root', default=None, help="the datasets' data_root (default: the config's, e.g. "
                   '$MODELNET10_ROOT)')
    p.add_argument('--resume', action='store_true',
                   help='keep the finished runs of <work-dir>/label_fraction_study.json and run only the missing ones')
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


def arms(args):
    """(init name, checkpoint or None) per arm: ``pretrained`` (``pretrained 1``, ``2``, ... with several
    checkpoints) and ``scratch``, in the order of ``--inits``."""
    out = []
    for init in args.inits:
        if init == 'scratch':
            out.append(('scratch', None))
        elif len(args.checkpoint) == 1:
            out.append(('pretrained', args.checkpoint[0]))
        else:
            out += [(f'pretrained {j}', c) for j, c in enumerate(args.checkpoint, 1)]
    return out


def run_key(config, fraction, seed, checkpoint, prefix):
    """What makes two runs the same run (the init name may differ between calls)."""
    return (osp.abspath(config), fraction, seed, None if checkpoint is None else (osp.abspath(checkpoint), prefix))


def resumed_rows(path):
    """The finished runs of an earlier call, keyed by :func:`run_key` (rows of files written before rows
    recorded their checkpoint take the file's)."""
    if not osp.isfile(path):
        return {}
    with open(path) as f:
        saved = json.load(f)
    default = saved.get('checkpoint')
    default = default[0] if isinstance(default, list) and len(default) == 1 else default
    kept = {}
    for r in saved.get('rows', []):
        ckpt = r.get('checkpoint', default if r['init'] != 'scratch' else None)
        if r['init'] != 'scratch' and not isinstance(ckpt, str):
            continue  # a pretrained row whose checkpoint cannot be told
        kept[run_key(r['config'], r['fraction'], r['seed'], ckpt, r.get('prefix', saved.get('prefix')))] = r
    return kept


def run_cfg(base, init, seed, args, work_dir, name, checkpoint=None):
    cfg = copy.deepcopy(base)
    cfg.randomness = dict(cfg.get('randomness', None) or {}, seed=seed)
    cfg.train_dataloader.dataset.fraction_seed = seed
    if args.data_root:
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            if cfg.get(loader) is not None:
                cfg[loader].dataset.data_root = args.data_root
    if init != 'scratch':
        cfg.model.backbone.init_cfg = dict(type='Pretrained', checkpoint=checkpoint, prefix=args.prefix)
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
    checkpoint; per fraction and pretrained arm: the paired (same seed) pretrained - scratch differences."""
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
    for fraction, init in groups:
        if init == 'scratch':
            continue
        pre = {r['seed']: r for r in groups[fraction, init]}
        scr = {r['seed']: r for r in groups.get((fraction, 'scratch'), [])}
        seeds = sorted(set(pre) & set(scr))
        if not seeds:
            continue
        item = dict(fraction=fraction, init=init, seeds=seeds)
        for key in ('test_oa_last', 'test_oa_best'):
            d = [pre[s][key] - scr[s][key] for s in seeds]
            item[key] = dict(zip(('mean', 'std'), mean_std(d)), per_seed=d)
            # the same test shapes: which ones each arm gets right (runs saved before this was recorded: none)
            correct = key.replace('test_oa', 'test_correct')
            item[f'mcnemar_{key[len("test_oa_"):]}'] = [
                dict(seed=s, **mcnemar_test(pre[s][correct], scr[s][correct])) for s in seeds
                if pre[s].get(correct) and scr[s].get(correct)]
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
        lines += ['', '| fraction | init | minus scratch, paired by seed: test OA last | test OA best-on-val |',
                  '|---|---|---|---|']
        for item in paired:
            lines.append(f"| {item['fraction']} | {item['init']} | {item['test_oa_last']['mean']:+.2f} +- "
                         f"{item['test_oa_last']['std']:.2f} | {item['test_oa_best']['mean']:+.2f} +- "
                         f"{item['test_oa_best']['std']:.2f} |")
        for which, name in (('last', 'last checkpoints'), ('best', 'best-on-val checkpoints')):
            tests = [(item, t) for item in paired for t in item.get(f'mcnemar_{which}', [])]
            if tests:
                lines += ['', f'Paired on the same test shapes ({name}): shapes only the pretrained / only scratch '
                          'gets right, exact McNemar p:']
                lines += [f"  {item['fraction']} {item['init']} seed {t['seed']}: {t['only_a']} / {t['only_b']} "
                          f"shapes, {format_p(t['p_value'])}" for item, t in tests]
    arms_seen = dict.fromkeys((r['init'], r['checkpoint'], r['prefix']) for r in rows if r.get('checkpoint'))
    lines += [''] + [f'{init}: {ckpt} (prefix {prefix})' for init, ckpt, prefix in arms_seen]
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


def save(path, args, rows, complete):
    """Write the study's JSON (atomically: a cut-off leaves the previous file); returns (summary, paired)."""
    summary, paired = summarise(rows)
    AtomicLocalBackend().put_text(json.dumps(dict(
        configs=args.configs, checkpoint=args.checkpoint, prefix=args.prefix, seeds=args.seeds, inits=args.inits,
        metric=METRIC, complete=complete,
        note='test OA = overall accuracy (%) on the test split; best-on-val = the checkpoint with the highest val '
             'accuracy; the seed is randomness.seed and fraction_seed',
        rows=rows, summary=summary, paired_pretrained_minus_scratch=paired), indent=2), path)
    return summary, paired


def main(argv=None):
    args = parse_args(argv)
    for ckpt in args.checkpoint if 'pretrained' in args.inits else []:
        if not osp.isfile(ckpt):
            raise FileNotFoundError(f'label_fraction_study: --checkpoint {ckpt} not found')
    bases = [(path, load_base(path, args)) for path in args.configs]  # every config checked before any run
    fractions = [fraction_tag(b.train_dataloader.dataset.label_fraction) for _, b in bases]
    if len(set(fractions)) != len(fractions):
        raise ValueError(f'label_fraction_study: two configs have the same label fraction ({fractions})')
    os.makedirs(args.work_dir, exist_ok=True)
    runs = [(path, base, tag, init, ckpt, seed) for (path, base), tag in zip(bases, fractions)
            for seed in args.seeds for init, ckpt in arms(args)]
    rows = []
    out = osp.join(args.work_dir, 'label_fraction_study.json')
    kept = resumed_rows(out) if args.resume else {}
    if args.resume:
        print(f'--resume: {len(kept)} finished runs in {out}', flush=True)
    for i, (path, base, tag, init, ckpt, seed) in enumerate(runs, 1):
        old = kept.get(run_key(path, tag, seed, ckpt, args.prefix))
        if old is not None:
            rows.append(dict(old, init=init, checkpoint=ckpt, prefix=args.prefix if ckpt else None))
            print(f'[{i}/{len(runs)}] {tag} {init} seed {seed}: kept from {out} (test OA last '
                  f'{old["test_oa_last"]:.2f}, best-on-val {old["test_oa_best"]:.2f})', flush=True)
            continue
        work_dir = osp.join(args.work_dir, tag, init.replace(' ', '-'), f'seed{seed}')
        print(f'[{i}/{len(runs)}] {tag} labels, {init} init, seed {seed}: training in {work_dir} ...', flush=True)
        start = time.time()
        cfg = run_cfg(base, init, seed, args, work_dir, f"{tag}_{init.replace(' ', '-')}_seed{seed}", ckpt)
        adapt_cfg_for_device(cfg, 'none')
        runner = Runner.from_cfg(cfg)
        runner.train()
        result = read_result(work_dir)
        last, best = result['last'], result['best']
        row = dict(
            config=path, fraction=tag, label_fraction=base.train_dataloader.dataset.label_fraction, init=init,
            checkpoint=ckpt, prefix=args.prefix if ckpt else None, seed=seed,
            num_labelled=len(runner.train_dataloader.dataset), work_dir=work_dir,
            test_oa_last=float(last['metrics'][METRIC]), test_oa_best=float(best['metrics'][METRIC]),
            test_correct_last=last.get('correct'), test_correct_best=best.get('correct'),
            test_macc_last=last['metrics'].get(MEAN_CLASS), test_macc_best=best['metrics'].get(MEAN_CLASS),
            val_oa_best=None if best.get('val_score') is None else float(best['val_score']),
            best_iter=best.get('iter'), best_epoch=best.get('epoch'), best_checkpoint=best.get('checkpoint'),
            last_iter=last.get('iter'), seconds=round(time.time() - start, 1))
        rows.append(row)
        print(f'[{i}/{len(runs)}] {tag} {init} seed {seed}: test OA last {row["test_oa_last"]:.2f}, best-on-val '
              f'{row["test_oa_best"]:.2f} (val {f2(row["val_oa_best"])} at iteration {row["best_iter"]}); '
              f'{row["num_labelled"]} labelled shapes; {row["seconds"]:.0f} s', flush=True)
        save(out, args, rows, complete=False)  # after every run: an interrupted study keeps its runs
    summary, paired = save(out, args, rows, complete=True)
    print('\n' + table(rows, summary, paired))
    print(f'\nresults written to {osp.abspath(out)} (per-run work dirs under {osp.abspath(args.work_dir)})')
    return dict(rows=rows, summary=summary, paired=paired, json=osp.abspath(out))


if __name__ == '__main__':
    sys.exit(0 if main() else 1)
