#!/usr/bin/env python
"""Is a pretraining run over-fitting its unlabelled shapes? The JEPA loss on pretraining clouds vs held-out clouds.

    MODELNET10_ROOT=data/ModelNet10 python benchmarks/ablations/loss_gap.py init CKPT [CKPT ...] \
        [--config configs/point_jepa/pointjepa_vit-t_1xb32-amp-13757i_modelnet10.py] [--num-clouds 399] [--seed 0]

For each row (``init``: the config's model at random init, torch seed ``--seed``; otherwise a checkpoint of that
config's model) it computes ``PointJEPA.loss`` without gradient, in training mode (random FPS start, batch-statistics
BatchNorm: as in pretraining), on ``--num-clouds`` clouds of the config's pretraining set (ModelNet10: the train
part, which the run trained on) and as many of the validation carve (never pretrained on; the test split is not
read), with the same seeds for every set, so the masks and FPS starts are drawn alike; a second, disjoint sample of
the train part gives the spread between two samples of the same set. A validation loss above the train-part loss by
clearly more than that spread says the encoder learned those shapes rather than shapes in general (a regulariser or
more data may help); a gap within it says it did not. Prints one table row per checkpoint.
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
from mmengine.runner import load_checkpoint  # noqa: E402

from pjepa3d.registry import DATASETS, MODELS  # noqa: E402

DEFAULT_CONFIG = 'configs/point_jepa/pointjepa_vit-t_1xb32-amp-13757i_modelnet10.py'


def sample_clouds(dataset_cfg, split, num, seed, parts=1):
    """``parts`` disjoint samples of ``num`` clouds (num, N, 3) of ``split``: consecutive slices of one permutation
    (numpy seed ``seed``), so the split's dataset is built once; the last ones are shorter if the split runs out."""
    cfg = copy.deepcopy(dataset_cfg)
    cfg.update(split=split, pipeline=[dict(type='PackPointInputs')])
    ds = DATASETS.build(cfg)
    idx = np.random.RandomState(seed).permutation(len(ds))[:num * parts]
    clouds = torch.stack([ds[int(i)]['inputs']['points'] for i in idx])
    return [clouds[k * num:(k + 1) * num] for k in range(parts)]


@torch.no_grad()
def mean_loss(model, clouds, batch, seed):
    """Mean of ``model.loss`` over batches of ``clouds``; the global torch seed is set once, so two calls on
    sets of the same size draw the same masks and FPS starts."""
    model.train()
    torch.manual_seed(seed)
    losses = [model.loss(clouds[i:i + batch])['loss'].item() for i in range(0, len(clouds), batch)]
    return float(np.mean(losses))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('checkpoints', nargs='+', help="'init' or checkpoint paths of the config's model")
    p.add_argument('--config', default=osp.join(ROOT, DEFAULT_CONFIG))
    p.add_argument('--num-clouds', type=int, default=399, help='clouds per set (the carve holds 399)')
    p.add_argument('--batch', type=int, default=57)
    p.add_argument('--seed', type=int, default=0)
    args = p.parse_args(argv)
    MMLogger.get_instance('mmengine').setLevel(logging.WARNING)
    init_default_scope('pjepa3d')
    cfg = Config.fromfile(args.config)
    ds_cfg = cfg.train_dataloader.dataset
    n = args.num_clouds
    print(f'[loss_gap] loading 2 x {n} train-part and {n} validation clouds of {ds_cfg.get("data_root")} ...',
          flush=True)
    sets = sample_clouds(ds_cfg, 'train', n, args.seed, parts=2) + sample_clouds(ds_cfg, 'val', n, args.seed)
    if len(sets[1]) < len(sets[0]) or len(sets[2]) < len(sets[0]):
        raise SystemExit(f'loss_gap: --num-clouds {n} is more than the validation carve ({len(sets[2])}) or half '
                         f'the train part holds; use fewer')
    print(f'\nJEPA loss without gradient, training mode, {n} clouds per set, seed {args.seed}, config '
          f'{osp.relpath(args.config, ROOT)} (train A, train B: two disjoint samples of the train part):\n')
    print('| model | train A | train B | validation | train B - train A | validation - train A |')
    print('|---|---|---|---|---|---|')
    for ckpt in args.checkpoints:
        torch.manual_seed(args.seed)
        model = MODELS.build(copy.deepcopy(cfg.model))
        model.init_weights()
        if ckpt != 'init':
            load_checkpoint(model, ckpt, map_location='cpu', logger='silent')
        a, b, va = (mean_loss(model, x, args.batch, args.seed) for x in sets)
        print(f'| {ckpt} | {a:.4f} | {b:.4f} | {va:.4f} | {b - a:+.4f} | {va - a:+.4f} |', flush=True)


if __name__ == '__main__':
    main()
