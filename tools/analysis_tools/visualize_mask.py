"""Save a PNG of one cloud with the context and target patches its config's masker draws.

    python tools/analysis_tools/visualize_mask.py CONFIG [--index 0] [--seed 0] --out mask.png
"""
import argparse
import os
import os.path as osp

import torch
from mmengine.config import Config
from mmengine.dataset import default_collate
from mmengine.registry import init_default_scope

import pjepa3d  # noqa: F401
from pjepa3d.registry import DATASETS, MODELS
from pjepa3d.visualization import plot_context_targets


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config')
    p.add_argument('--index', type=int, default=8, help='sample of the SyntheticShapes test split (8: a chair)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--out', default='mask.png')
    args = p.parse_args()
    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'pjepa3d'))
    torch.manual_seed(args.seed)
    model = MODELS.build(cfg.model).eval()
    dataset = DATASETS.build(dict(type='SyntheticShapes', split='test', num_samples=args.index + 1,
                                  num_points=1024, pipeline=[dict(type='PackPointInputs')]))
    points = default_collate([dataset[args.index]])['inputs']['points']
    with torch.no_grad():
        _, centres = model.backbone.tokenizer.group(points)
        mask = model.masker(centres)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    title = f'{model.masker.mode} masking: context (blue), {mask.target_idx.shape[1]} target blocks'
    print(f'mask picture written to {plot_context_targets(points, centres, mask, args.out, title=title)}')


if __name__ == '__main__':
    main()
