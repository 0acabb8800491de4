#!/usr/bin/env python
"""Validation-probe accuracy of every block's pooled output: random init (BN calibrated) against checkpoints.

    MODELNET10_ROOT=data/ModelNet10 python benchmarks/ablations/block_probe.py CKPT [CKPT ...] \
        [--config configs/point_jepa/pointjepa_vit-t_1xb32-400i_modelnet10.py] [--seed 0]

The probe of the config's validation loop (linear SVM, features standardised on the fit set, the config's C: a
grid is chosen from by 5-fold cross-validation on the fit set, per row and block; ``--C`` overrides it; fitted on
the config's fit set: 15 % of the ModelNet10 train part, scored on the 399-shape validation carve; the test split
is never read), applied to concat(max, mean) of each block's output (blocks 1..depth) and of the final-LN
tokens. Rows: the config's model at random init (torch seed ``--seed``) with BatchNorm statistics calibrated on
the first 512 fit clouds, then each checkpoint's online (``backbone.``) and EMA target (``target.``) encoders.
Prints one line per row (issue 9's lever "probe intermediate blocks"). ``--tokens context`` feeds each encoder only
the context tokens of the config's masker (seeded per batch, the same for every encoder), the inputs the context
encoder sees during pretraining, instead of all tokens.
"""
import argparse
import copy
import logging
import os.path as osp
import sys

import numpy as np
import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)

import pjepa3d  # noqa: E402,F401
from mmengine.config import Config  # noqa: E402
from mmengine.logging import MMLogger  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402

from pjepa3d.evaluation.probe_metric import c_grid, svm_probe  # noqa: E402
from pjepa3d.models.utils import calibrate_batchnorm, load_prefixed_weights, max_mean_pool  # noqa: E402
from pjepa3d.registry import DATASETS, MODELS  # noqa: E402


def stack(ds):
    xs, ys = [], []
    for i in range(len(ds)):
        s = ds[i]
        xs.append(s['inputs']['points'])
        ys.append(int(s['data_samples']['label']))
    return torch.stack(xs), np.array(ys)


@torch.no_grad()
def block_features(backbone, x, batch=64, masker=None):
    """concat(max, mean) of every block's output and of the final-LN tokens, per cloud. With ``masker``, the
    Transformer sees only each cloud's context tokens (as in pretraining); the masks of the batch starting at
    cloud i are drawn after ``torch.manual_seed(1000 + i)``, so every encoder sees the same subsets."""
    backbone.eval()
    depth = backbone.encoder.depth
    chunks = []
    for i in range(0, len(x), batch):
        patches = backbone.tokenize(x[i:i + batch])
        idx = None
        if masker is not None:
            torch.manual_seed(1000 + i)
            idx = masker(patches.centres).context_idx
        out = backbone.encode(patches.tokens, patches.pos, idx, out_indices=tuple(range(1, depth + 1)))
        chunks.append([max_mean_pool(h) for h in (*out.hidden, out.features)])
    return [torch.cat([c[j] for c in chunks]).numpy() for j in range(depth + 1)]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('checkpoints', nargs='*')
    p.add_argument('--config',
                   default=osp.join(ROOT, 'configs', 'point_jepa', 'pointjepa_vit-t_1xb32-400i_modelnet10.py'))
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--C', type=float, nargs='+', default=None,
                   help="SVM C, or several to choose from by 5-fold CV on the fit set (default: the config's "
                        "val_evaluator.C)")
    p.add_argument('--tokens', choices=('all', 'context'), default='all',
                   help="'all' (the benchmark's features) or 'context': each cloud's context tokens under the "
                        "config's masker only, the inputs the context encoder sees in pretraining")
    args = p.parse_args(argv)
    init_default_scope('pjepa3d')
    MMLogger.get_instance('mmengine').setLevel(logging.WARNING)
    cfg = Config.fromfile(args.config)
    grid = c_grid(args.C or cfg.val_evaluator.C)
    print('[block_probe] loading the fit and score sets ...', flush=True)
    fit_x, fit_y = stack(DATASETS.build(cfg.val_dataloader.dataset.fit))
    score_x, score_y = stack(DATASETS.build(cfg.val_dataloader.dataset.score))
    torch.manual_seed(args.seed)
    model = MODELS.build(cfg.model)
    model.init_weights()
    random_bb = model.backbone
    calibrate_batchnorm(random_bb, [fit_x[i:i + 32] for i in range(0, min(512, len(fit_x)), 32)])
    rows = [(f'random init (seed {args.seed}), BN calibrated', random_bb)]
    for ckpt in args.checkpoints:
        for prefix in ('backbone.', 'target.'):
            bb = copy.deepcopy(model.backbone)
            report = load_prefixed_weights(bb, ckpt, prefix=prefix)
            if report['missing'] or report['unexpected']:
                sys.exit(f'block_probe.py: {ckpt} ({prefix}) does not fit the config\'s backbone: {report["report"]}')
            rows.append((f'{ckpt} {prefix}', bb))
    depth = random_bb.encoder.depth
    print(f'\nvalidation probe accuracy (%) [C], fit {len(fit_y)} / score {len(score_y)} shapes, C from {grid}; '
          f'tokens: {args.tokens}; columns: blocks 1..{depth}, final LN')
    masker = model.masker if args.tokens == 'context' else None
    for name, bb in rows:
        fit_f, score_f = block_features(bb, fit_x, masker=masker), block_features(bb, score_x, masker=masker)
        cells = [svm_probe(fit_f[j], fit_y, score_f[j], score_y, grid) for j in range(depth + 1)]
        print(f'{name}: ' + ' '.join(f'{acc:.2f} [{c:g}]' for acc, c in cells), flush=True)


if __name__ == '__main__':
    main()
