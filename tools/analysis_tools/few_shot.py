"""ModelNet40 few-shot benchmark: every (way, shot, fold) episode trained and tested with the real Runner;
mean +- std of the test accuracy over the folds, per setting.

    python tools/analysis_tools/few_shot.py CONFIG [--data-root data/ModelNetFewshot] \
        [--ways 5 10] [--shots 10 20] [--folds 0 1 ... 9] [--work-dir DIR] \
        [--cfg-options model.backbone.init_cfg.checkpoint=PRETRAIN.pth ...]

CONFIG is a few-shot config (configs/point_jepa/benchmarks/pointjepa_vit-s_1xb32-150e_ft_modelnet40-fewshot.py):
for each episode the tool sets the train / test datasets' way, shot and fold, the head's num_classes = way,
and a work dir ``<work-dir>/<way>way_<shot>shot/fold<k>``. The few-shot protocol has no validation split:
the number reported is the test accuracy after the last epoch (no selection on test). All fold files
are checked before the first run. Results: a table on stdout and ``<work-dir>/few_shot_results.json``.
"""
import argparse
import copy
import json
import os
import os.path as osp
import time

import numpy as np
from mmengine.config import Config, DictAction
from mmengine.runner import Runner
from tqdm import tqdm

import pjepa3d  # noqa: F401
from pjepa3d.engine.distributed import adapt_cfg_for_device


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config')
    p.add_argument('--data-root', default=None, help="folder holding '5way_10shot/' etc. (default: the config's)")
    p.add_argument('--ways', type=int, nargs='+', default=[5, 10])
    p.add_argument('--shots', type=int, nargs='+', default=[10, 20])
    p.add_argument('--folds', type=int, nargs='+', default=list(range(10)))
    p.add_argument('--work-dir', default=None, help='default: work_dirs/<config name>')
    p.add_argument('--metric', default='accuracy/overall', help='test metric to aggregate')
    p.add_argument('--verbose', action='store_true', help="keep the runners' INFO logs on the console")
    p.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config settings for every run')
    return p.parse_args(argv)


def episode_cfg(base, data_root, way, shot, fold, work_dir, verbose):
    cfg = copy.deepcopy(base)
    for loader in ('train_dataloader', 'test_dataloader'):
        ds = cfg[loader]['dataset']
        ds.update(way=way, shot=shot, fold=fold, **({'data_root': data_root} if data_root else {}))
    cfg.model.head.num_classes = way
    cfg.work_dir = work_dir
    cfg.experiment_name = f'fewshot_{way}way_{shot}shot_fold{fold}_{time.strftime("%Y%m%d_%H%M%S")}'
    if not verbose:
        cfg.log_level = 'WARNING'
    return cfg


def main(argv=None):
    args = parse_args(argv)
    base = Config.fromfile(args.config)
    if args.cfg_options:
        base.merge_from_dict(args.cfg_options)
    base.setdefault('default_scope', 'pjepa3d')
    base.launcher = 'none'
    work_root = args.work_dir or osp.join('work_dirs', osp.splitext(osp.basename(args.config))[0])
    data_root = args.data_root or base.train_dataloader.dataset.data_root
    runs = [(w, s, f) for w in args.ways for s in args.shots for f in args.folds]
    missing = [osp.join(data_root, f'{w}way_{s}shot', f'{f}.pkl') for w, s, f in runs
               if not osp.isfile(osp.join(data_root, f'{w}way_{s}shot', f'{f}.pkl'))]
    if missing:
        raise FileNotFoundError(f'few_shot: {len(missing)} fold file(s) missing, e.g. {missing[0]}'
                                + (f' and {missing[1:4]}' if len(missing) > 1 else ''))
    os.makedirs(work_root, exist_ok=True)

    results = {}
    bar = tqdm(runs, desc='few-shot episodes', unit='run')
    for way, shot, fold in bar:
        bar.set_postfix_str(f'{way}-way {shot}-shot fold {fold}')
        cfg = episode_cfg(base, args.data_root, way, shot, fold,
                          osp.join(work_root, f'{way}way_{shot}shot', f'fold{fold}'), args.verbose)
        adapt_cfg_for_device(cfg, 'none')
        runner = Runner.from_cfg(cfg)
        runner.train()
        metrics = runner.test()
        if args.metric not in metrics:
            raise KeyError(f'few_shot: the test metrics {sorted(metrics)} have no {args.metric!r} (--metric)')
        results.setdefault(f'{way}way_{shot}shot', {})[fold] = float(metrics[args.metric])
        bar.write(f'{way}-way {shot}-shot fold {fold}: {args.metric} {metrics[args.metric]:.2f}')

    summary = {}
    print(f'\n| setting | folds | {args.metric} (%), mean +- std |\n|---|---|---|')
    for setting, per_fold in results.items():
        accs = np.asarray(list(per_fold.values()))
        summary[setting] = dict(mean=float(accs.mean()), std=float(accs.std()), folds=per_fold)
        print(f'| {setting} | {len(accs)} | {accs.mean():.2f} +- {accs.std():.2f} |')
    out = osp.join(work_root, 'few_shot_results.json')
    with open(out, 'w') as f:
        json.dump(dict(config=args.config, metric=args.metric, note='test accuracy after the last epoch',
                       results=summary), f, indent=2)
    print(f'\nresults written to {osp.abspath(out)} (per-run work dirs under {osp.abspath(work_root)})')
    return summary


if __name__ == '__main__':
    main()
