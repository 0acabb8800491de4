"""Pack ModelNet40's resampled txt files (modelnet40_normal_resampled) into one npz cache.

    python tools/dataset_converters/modelnet40_to_npz.py data/ModelNet40 [--out FILE] [--num-points 8192]
        [--sample first|fps] [--no-normals]

Reading ~12k text files takes minutes; the cache is one file, read by
``ModelNet40(data_root, layout='npz', cache_file=FILE)`` (default FILE: <data_root>/modelnet40_cache.npz).
Keys: ``{train,test}_xyz`` (n, N, 3) float32, ``{train,test}_normals`` (n, N, 3) (unless --no-normals),
``{train,test}_labels`` (n,) int64, ``{train,test}_ids`` (n,) shape ids, ``class_names`` (40,).
N is ``--num-points`` (first N rows or FPS to N); by default all rows, which must then be equal in number.
"""
import argparse
import os.path as osp

import numpy as np
import torch
from tqdm import tqdm

from pjepa3d.datasets import ModelNet40
from pjepa3d.datasets.modelnet40 import NPZ_CACHE, _read_csv_points


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('data_root', help='folder holding modelnet40_normal_resampled (or that folder)')
    p.add_argument('--out', default=None, help=f'output file (default: <data_root>/{NPZ_CACHE})')
    p.add_argument('--num-points', type=int, default=None, help='points kept per shape (default: all)')
    p.add_argument('--sample', choices=('first', 'fps'), default='first', help='how to keep --num-points')
    p.add_argument('--no-normals', action='store_true', help='store xyz only (half the size)')
    return p.parse_args(argv)


def convert_split(root, split, num_points, sample, normals):
    ds = ModelNet40(root, split=split, layout='resampled', lazy_init=False)
    xyz, nrm, labels, ids = [], [], [], []
    for i in tqdm(range(len(ds)), desc=f'ModelNet40 {split}', unit='shape'):
        info = ds.get_data_info(i)
        points = _read_csv_points(info['file'], ds.describe(info))
        if points.ndim != 2 or points.shape[1] < 6:
            raise ValueError(f"{info['file']}: expected rows x,y,z,nx,ny,nz, got shape {points.shape}")
        if num_points is not None:
            if len(points) < num_points:
                raise ValueError(f"{info['file']}: {len(points)} points, fewer than --num-points {num_points}")
            if sample == 'fps':
                from pjepa3d.ops import furthest_point_sample
                order = furthest_point_sample(torch.from_numpy(points[None, :, :3].copy()), num_points)[0].numpy()
                points = points[order]
            else:
                points = points[:num_points]
        if xyz and len(points) != len(xyz[0]):
            raise ValueError(f"{info['file']}: {len(points)} points where earlier shapes have {len(xyz[0])}; "
                             'pass --num-points to store a fixed number')
        xyz.append(points[:, :3])
        nrm.append(points[:, 3:6])
        labels.append(info['label'])
        ids.append(osp.splitext(osp.basename(info['file']))[0])
    out = {f'{split}_xyz': np.stack(xyz).astype(np.float32), f'{split}_labels': np.asarray(labels, dtype=np.int64),
           f'{split}_ids': np.asarray(ids)}
    if normals:
        out[f'{split}_normals'] = np.stack(nrm).astype(np.float32)
    return out, ds.metainfo['classes']


def main(argv=None):
    args = parse_args(argv)
    arrays = {}
    for split in ('train', 'test'):
        part, classes = convert_split(args.data_root, split, args.num_points, args.sample, not args.no_normals)
        arrays.update(part)
    arrays['class_names'] = np.asarray(classes)
    out = args.out or osp.join(args.data_root, NPZ_CACHE)
    np.savez(out, **arrays)
    print(f"wrote {osp.abspath(out)}: train {arrays['train_xyz'].shape}, test {arrays['test_xyz'].shape}"
          f"{'' if args.no_normals else ' (+ normals)'}")
    return out


if __name__ == '__main__':
    main()
