"""Compare pretraining recipes on the ModelNet10 VALIDATION probe, with mmengine's Runner.

    MODELNET10_ROOT=data/ModelNet10 python benchmarks/recipe_study.py [--recipes shipped ln-last ...] \
        [--iters 400] [--seed 0] [--out-dir work_dirs/recipe_study] [--cfg-options ...]

Each recipe is the demo config (configs/point_jepa/pointjepa_vit-t_1xb32-400i_modelnet10.py) with a few
overrides (RECIPES below). The config's validation loop is the probe: a linear SVM fitted on labelled
ModelNet10 train shapes and scored on the 10 % validation carve (never the test split), for the online
(``svm_acc``) and the EMA target encoder (``svm_acc_target``), at iteration 0 (BatchNorm-calibrated random
init, ProbeAtStartHook) and every ``val_interval`` iterations. Recipes are chosen on this table only; the
test numbers come from tools/analysis_tools/svm_eval.py afterwards. Writes ``<out-dir>/<recipe>.json`` after
each recipe and ``<out-dir>/recipe_study.json`` / ``.md`` with the table.
"""
import argparse
import json
import os
import os.path as osp
import sys
import time

PROJECT_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, PROJECT_ROOT)

from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.hooks import Hook  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

import pjepa3d  # noqa: E402,F401

CONFIG = osp.join(PROJECT_ROOT, 'configs/point_jepa/pointjepa_vit-t_1xb32-400i_modelnet10.py')
RECIPES = {
    'shipped': {},  # instance-normalised targets, mean of the last 3 blocks, lr 5e-5
    'ln-last': {'model.target_norm': 'layer', 'model.target_layers': 1},  # the previous demo's targets
    'instance-last': {'model.target_layers': 1},
    'ln-last3': {'model.target_norm': 'layer'},
    'instance-lr2e-4': {'model.target_layers': 1, 'optim_wrapper.optimizer.lr': 2e-4},
}
KEYS = ('svm_acc', 'svm_acc_target', 'feat_rank', 'feat_rank_target')


class _ProbeRecorder(Hook):
    """Keeps every validation result with the iteration it was measured at."""
    priority = 'LOWEST'

    def __init__(self):
        self.curve = []

    def after_val_epoch(self, runner, metrics=None):
        self.curve.append(dict(iter=runner.iter, **{k: float(metrics[k]) for k in KEYS if k in (metrics or {})}))


def run_recipe(name, args):
    cfg = Config.fromfile(args.config)
    options = dict(RECIPES[name], **(args.cfg_options or {}))
    if args.iters:
        options.update({'train_cfg.max_iters': args.iters})
    cfg.merge_from_dict(options)
    cfg.work_dir = osp.join(args.out_dir, name)
    cfg.randomness = dict(seed=args.seed, deterministic=False)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=10 ** 9, save_last=True,
                                        backend_args=dict(backend='atomic_local'))
    cfg.log_level = 'WARNING'
    runner = Runner.from_cfg(cfg)
    recorder = _ProbeRecorder()
    runner.register_hook(recorder)
    t0 = time.time()
    runner.train()
    result = dict(recipe=name, overrides=options, seed=args.seed, seconds=round(time.time() - t0, 1),
                  curve=recorder.curve, final_loss=float(runner.message_hub.get_scalar('train/loss').current()))
    with open(osp.join(args.out_dir, f'{name}.json'), 'w') as f:
        json.dump(result, f, indent=2)
    return result


def table(results):
    lines = ['| recipe | online: iter 0 -> best (iter) -> last | EMA target: last | centred rank: 0 -> last | '
             'final loss |', '|---|---|---|---|---|']
    for r in results:
        c = r['curve']
        best = max(c, key=lambda p: p['svm_acc'])
        lines.append(f"| {r['recipe']} | {c[0]['svm_acc']:.1f} -> {best['svm_acc']:.1f} ({best['iter']}) -> "
                     f"{c[-1]['svm_acc']:.1f} | {c[-1]['svm_acc_target']:.1f} | {c[0]['feat_rank']:.0f} -> "
                     f"{c[-1]['feat_rank']:.0f} | {r['final_loss']:.3f} |")
    return '\n'.join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--config', default=CONFIG)
    p.add_argument('--recipes', nargs='+', default=list(RECIPES), choices=list(RECIPES))
    p.add_argument('--iters', type=int, default=None, help="iterations per recipe (default: the config's)")
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--out-dir', default=osp.join(PROJECT_ROOT, 'work_dirs', 'recipe_study'))
    p.add_argument('--cfg-options', nargs='+', action=DictAction, help='applied to every recipe')
    args = p.parse_args(argv)
    os.makedirs(args.out_dir, exist_ok=True)
    results = []
    for i, name in enumerate(args.recipes, 1):
        print(f'[{i}/{len(args.recipes)}] recipe {name}: {RECIPES[name] or "the config as shipped"}', flush=True)
        results.append(run_recipe(name, args))
        print(table(results[-1:]).splitlines()[-1], flush=True)
    text = table(results)
    print('\n' + text)
    with open(osp.join(args.out_dir, 'recipe_study.md'), 'w') as f:
        f.write(text + '\n')
    with open(osp.join(args.out_dir, 'recipe_study.json'), 'w') as f:
        json.dump(results, f, indent=2)
    print(f'\nwritten: {osp.join(args.out_dir, "recipe_study.json")}, {osp.join(args.out_dir, "recipe_study.md")}')
    return results


if __name__ == '__main__':
    main()
