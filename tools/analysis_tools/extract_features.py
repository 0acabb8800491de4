"""Features of point-cloud files from a pretrained (or fine-tuned) encoder, written to .npy.

    python tools/analysis_tools/extract_features.py CONFIG CHECKPOINT INPUT [INPUT ...] [--out-dir DIR]
        [--prefix backbone.|target.] [--num-points 1024] [--no-normalize] [--patches] [--bin-dims 4|5]
        [--device cpu] [--batch-size 32] [--no-strict] [--cfg-options k=v ...]

INPUT: point files (.pcd, .ply, .off / .obj / .stl meshes, .npy / .npz, .txt / .xyz / .csv, KITTI / nuScenes
.bin) or folders (searched recursively). Writes, in --out-dir (default: work_dirs/features/<config name>):
  global.npy     (K, 2D) float32: concat(max, mean) of the final-LN patch tokens, one row per file;
  files.txt      the K files, in row order;
  patches.npz    with --patches: per file, tokens (M, D) and centres (M, 3) (keys tokens_<k>, centres_<k>).
"""
import argparse
import os
import os.path as osp

import numpy as np
from mmengine.config import DictAction

from pjepa3d.apis import FeatureExtractor
from pjepa3d.apis.inference import list_point_files


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config')
    p.add_argument('checkpoint', help="the weights ('none' for the random-init encoder)")
    p.add_argument('inputs', nargs='+', help='point files or folders')
    p.add_argument('--out-dir', default=None)
    p.add_argument('--prefix', default='backbone.', help="'backbone.' (online encoder) or 'target.' (EMA encoder)")
    p.add_argument('--num-points', type=int, default=1024)
    p.add_argument('--no-normalize', action='store_true', help='do not centre / scale into the unit sphere')
    p.add_argument('--patches', action='store_true', help='also write the per-patch tokens and centres')
    p.add_argument('--bin-dims', type=int, default=None, help='float32 values per point of .bin scans (4 or 5)')
    p.add_argument('--device', default='cpu')
    p.add_argument('--batch-size', type=int, default=32)
    p.add_argument('--no-strict', action='store_true', help='accept a checkpoint that loads only partly')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    files = list_point_files(args.inputs)
    out_dir = args.out_dir or osp.join('work_dirs', 'features', osp.splitext(osp.basename(args.config))[0])
    checkpoint = None if args.checkpoint.lower() == 'none' else args.checkpoint
    extractor = FeatureExtractor(args.config, checkpoint, prefix=args.prefix, device=args.device,
                                 strict=not args.no_strict, num_points=args.num_points,
                                 normalize=not args.no_normalize, batch_size=args.batch_size, bin_dims=args.bin_dims,
                                 cfg_options=args.cfg_options)
    print(f'{len(files)} file(s); encoder {args.prefix!r} of {checkpoint or "random init"}')
    results = extractor(files, progress=True)
    os.makedirs(out_dir, exist_ok=True)
    np.save(osp.join(out_dir, 'global.npy'), np.stack([r['global'] for r in results]))
    with open(osp.join(out_dir, 'files.txt'), 'w') as f:
        f.write('\n'.join(files) + '\n')
    written = ['global.npy', 'files.txt']
    if args.patches:
        arrays = {}
        for k, r in enumerate(results):
            arrays[f'tokens_{k}'], arrays[f'centres_{k}'] = r['patches'], r['centres']
        np.savez(osp.join(out_dir, 'patches.npz'), **arrays)
        written.append('patches.npz')
    print(f'global features {len(results)} x {results[0]["global"].shape[0]}; wrote {", ".join(written)} '
          f'to {osp.abspath(out_dir)}')
    return out_dir


if __name__ == '__main__':
    main()
