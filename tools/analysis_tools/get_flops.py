"""FLOPs and parameters of a config's backbone (the encoder users transfer) on one cloud, with mmengine's
complexity analysis (mmdet3d's / mmpretrain's tool).

    python tools/analysis_tools/get_flops.py CONFIG [--num-points 1024] [--batch 1] [--cfg-options k=v ...]

Counts the tokenizer (FPS + kNN grouping + mini-PointNet), positional encoding and Transformer blocks of
``model.backbone`` on a random (batch, num-points, C) cloud. FLOPs are counted as mmengine / fvcore do: one
multiply-add = 1 FLOP; FPS, kNN and other ops without a FLOP handle are listed as skipped.
"""
import argparse

import torch
from mmengine.analysis import get_model_complexity_info
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope

import pjepa3d  # noqa: F401
from pjepa3d.registry import MODELS


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config')
    p.add_argument('--num-points', type=int, default=1024)
    p.add_argument('--batch', type=int, default=1)
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    model_cfg = cfg.model
    if 'pts_voxel_encoder' in model_cfg and 'backbone' in model_cfg.pts_voxel_encoder:  # the nuScenes detector
        backbone_cfg = model_cfg.pts_voxel_encoder.backbone
    elif 'backbone' in model_cfg:
        backbone_cfg = model_cfg.backbone
    else:
        raise SystemExit(f'{args.config}: model has no backbone (nor pts_voxel_encoder.backbone) to count')
    init_default_scope('pjepa3d')  # the backbone is a pjepa3d component, also inside an mmdet3d config
    backbone_cfg = dict(backbone_cfg, init_cfg=None)
    backbone = MODELS.build(backbone_cfg).eval()
    channels = getattr(backbone.tokenizer, 'in_channels', 3)
    points = torch.rand(args.batch, args.num_points, channels) * 2 - 1
    with torch.no_grad():
        info = get_model_complexity_info(backbone, inputs=(points,), show_table=True, show_arch=False)
    print(info['out_table'])
    print(f"backbone of {args.config}\ninput: {args.batch} x {args.num_points} points x {channels} channels\n"
          f"FLOPs: {info['flops_str']}  (one multiply-add = 1 FLOP)\nParameters: {info['params_str']}")
    return info


if __name__ == '__main__':
    main()
