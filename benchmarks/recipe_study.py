"""Study a pretraining recipe: frozen-feature probes on VALIDATION data during a real Runner run.

    python benchmarks/recipe_study.py --name base [--iters 448] [--probe-every 64] \
        [--cfg-options model.masker.target_ratio=0.4 ...] [--out-dir work_dirs/recipe_study]

Trains ``--config`` (default: the demo config) with mmengine's Runner and, every ``--probe-every``
iterations (and at 0), extracts concat(max, mean) features of the online backbone and of the EMA
target and scores them on data that is never a test split:

* ``mn_cv``: ModelNet40 subset, official TRAIN list only (127 shapes): 5-fold cross-validated
  linear-SVM accuracy, best C of the grid (same optimism for every encoder);
* ``mn_nn``: leave-one-out cosine 1-NN over the same 127 train shapes;
* ``syn_cv``: SyntheticShapes 'val' split (``--syn-val`` clouds): 5-fold CV linear-SVM accuracy.

The 29 ModelNet40 test shapes are not touched here: recipes are chosen on these validation
probes, and the test numbers come from ``tools/analysis_tools/svm_eval.py`` afterwards.
Writes ``<out-dir>/<name>.json`` (curve + config overrides + seed) and prints a table.
"""
import argparse
import json
import logging
import os
import os.path as osp
import sys
import time

import numpy as np
import torch

PROJECT_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, PROJECT_ROOT)

from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.hooks import Hook  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

import pjepa3d  # noqa: E402,F401
from pjepa3d.evaluation import SVM_C_GRID, extract_features, loo_1nn_accuracy  # noqa: E402
from pjepa3d.registry import DATASETS  # noqa: E402

DEMO = 'configs/point_jepa/pointjepa_vit-t_1xb32-demo_synthetic.py'


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--name', required=True)
    p.add_argument('--config', default=DEMO)
    p.add_argument('--iters', type=int, default=448, help='training iterations (epochs of 64 iterations)')
    p.add_argument('--probe-every', type=int, default=64)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--syn-val', type=int, default=330)
    p.add_argument('--modelnet40-root', default=osp.join(PROJECT_ROOT, '..', 'shared', 'data', 'modelnet40_subset'))
    p.add_argument('--out-dir', default=osp.join(PROJECT_ROOT, 'work_dirs', 'recipe_study'))
    p.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    return p.parse_args()


def cv_svm(x, y, folds=5, seed=0):
    """Best-over-C 5-fold CV accuracy (%) of a linear SVC."""
    from sklearn.model_selection import StratifiedKFold, KFold, cross_val_score
    from sklearn.svm import SVC
    counts = np.bincount(y)
    cv = (StratifiedKFold(folds, shuffle=True, random_state=seed) if counts[counts > 0].min() >= folds
          else KFold(folds, shuffle=True, random_state=seed))
    return max(cross_val_score(SVC(kernel='linear', C=c), x, y, cv=cv).mean() for c in SVM_C_GRID) * 100


class ProbeHook(Hook):
    priority = 'LOWEST'

    def __init__(self, data, every):
        self.data, self.every, self.curve = data, every, []

    def probe(self, runner):
        model = runner.model
        row = dict(iter=runner.iter + int(self.started), time=round(time.perf_counter() - self.t0, 1))
        for tag, backbone in (('online', model.backbone), ('target', model.target)):
            was_training = backbone.training
            x, y = extract_features(backbone, self.data['mn'], desc='probe')
            row[f'{tag}_mn_cv'] = cv_svm(x, y)
            row[f'{tag}_mn_nn'] = loo_1nn_accuracy(x, y)
            xs, ys = extract_features(backbone, self.data['syn'], desc='probe')
            row[f'{tag}_syn_cv'] = cv_svm(xs, ys)
            backbone.train(was_training)
        hub = runner.message_hub
        for key in ('loss', 'target_rank'):
            if f'train/{key}' in hub.log_scalars:
                row[key] = float(hub.get_scalar(f'train/{key}').current())
        self.curve.append(row)
        print('[probe] ' + ' '.join(f'{k}={v:.2f}' if isinstance(v, float) else f'{k}={v}' for k, v in row.items()),
              flush=True)

    def before_train(self, runner):
        self.t0, self.started = time.perf_counter(), False
        self.probe(runner)
        self.started = True  # after_train_iter runs before runner.iter is incremented

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if (runner.iter + 1) % self.every == 0:
            self.probe(runner)


def main():
    args = parse_args()
    torch.manual_seed(args.seed)
    cfg = Config.fromfile(osp.join(PROJECT_ROOT, args.config) if not osp.isabs(args.config) else args.config)
    cfg.merge_from_dict(args.cfg_options)
    bs = cfg.train_dataloader.batch_size
    epochs = cfg.train_cfg.max_epochs
    cfg.train_dataloader.dataset.num_samples = args.iters * bs // epochs
    cfg.train_dataloader.update(num_workers=0, persistent_workers=False)
    cfg.work_dir = osp.join(args.out_dir, args.name)
    cfg.randomness = dict(seed=args.seed)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=epochs, max_keep_ckpts=1,
                                        backend_args=dict(backend='atomic_local'))
    cfg.log_level = 'WARNING'
    init_default_scope('pjepa3d')
    pipe = [dict(type='PointSample', num_points=1024, method='fps'), dict(type='NormalizeUnitSphere'),
            dict(type='PackPointInputs')]
    mn = DATASETS.build(dict(type='ModelNet40', data_root=args.modelnet40_root, split='train', pipeline=pipe))
    syn = DATASETS.build(dict(type='SyntheticShapes', split='val', num_samples=args.syn_val, num_points=1024,
                              pipeline=[dict(type='PackPointInputs')]))
    data = dict(mn=[mn[i] for i in range(len(mn))], syn=[syn[i] for i in range(len(syn))])
    runner = Runner.from_cfg(cfg)
    logging.getLogger('mmengine').setLevel(logging.WARNING)
    hook = ProbeHook(data, args.probe_every)
    runner.register_hook(hook)
    runner.train()
    if runner.iter % args.probe_every:
        hook.started = False
        hook.probe(runner)
    os.makedirs(args.out_dir, exist_ok=True)
    out = osp.join(args.out_dir, f'{args.name}.json')
    with open(out, 'w') as f:
        json.dump(dict(name=args.name, config=args.config, cfg_options=args.cfg_options, seed=args.seed,
                       iters=runner.iter, batch_size=bs, curve=hook.curve), f, indent=1, default=str)
    print(f'[recipe_study] wrote {out}')


if __name__ == '__main__':
    main()
