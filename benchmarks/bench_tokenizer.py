#!/usr/bin/env python
"""Tokenizer geometry benchmark: FPS + kNN + grouping (centre-relative groups).

Compares, at equal settings (k neighbours per centre, the same clouds):

* ``ours``: ``pjepa3d.ops.sample_and_group`` (batched, pure PyTorch; what ``PointPatchTokenizer`` runs):
  ``furthest_point_sample`` (``impl='auto'``: on CPU the pruned path for M >= 512 and N >= 2048 x B, else the
  dense loop) + ``gather_points`` + ``group_points``, sharing one Morton sort from 8,192 points on;
* ``loop``: a per-sample Python loop of plain PyTorch (the textbook FPS loop,
  ``torch.cdist`` + ``topk``, gather), the usual "pure PyTorch" baseline;
* ``lib``: ``fpsample`` (exact FPS; the faster of ``fps_sampling`` and
  ``bucket_fps_kdline_sampling`` for each row) + ``scipy.spatial.cKDTree``, per
  sample; skipped if either package is missing.

Clouds: N = 1k (B=32, uniform in a unit ball), 8k (B=4, synthetic), 35k (B=1:
the real nuScenes LIDAR_TOP scan from shared/data when present, else a synthetic
LiDAR-like scan). Times are medians over interleaved repeats (the methods take
turns, so host noise hits all of them alike).

Memory: like ``tools/train.py`` on a CPU, the script by default restarts itself with glibc malloc told to keep
freed memory (``--keep-heap``; ``--no-keep-heap`` or ``PJEPA3D_KEEP_HEAP=0`` not), so every method is timed as
training would call it; the header says which.

``--split`` also times each stage alone, for ours and the libraries: FPS (the M
centres) and kNN + grouping around the same centres, in a second table: where
the gap to the libraries is. Alone, each of our two stages sorts a scene-scale cloud
itself, so there the two stages add up to one Morton sort more than ``ours``.
"""
import argparse
import glob
import json
import os
import statistics
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from pjepa3d.ops import furthest_point_sample, gather_points, group_points, sample_and_group  # noqa: E402
from pjepa3d.utils import add_keep_heap_argument, heap_note, keep_heap_as_training  # noqa: E402

SCAN_GLOB = os.path.join(os.path.dirname(os.path.dirname(HERE)), 'shared', 'data', 'nuscenes_sample', 'samples',
                         'LIDAR_TOP', '*.pcd.bin')
K = 32


def load_scan(n_fallback=34688, seed=0):
    """(1, N, 3) float32: the first real nuScenes scan found, else a synthetic LiDAR-like one."""
    paths = sorted(glob.glob(os.environ.get('PJEPA3D_SCAN_GLOB', SCAN_GLOB)))
    if paths:
        pts = np.fromfile(paths[0], dtype=np.float32).reshape(-1, 5)[:, :3]
        return torch.from_numpy(pts.copy()).unsqueeze(0), os.path.basename(paths[0])
    g = torch.Generator().manual_seed(seed)
    az = torch.rand(n_fallback, generator=g) * 2 * np.pi
    ring = torch.randint(0, 32, (n_fallback,), generator=g).float()
    r = 2.0 + ring ** 1.6 * 0.5 + torch.rand(n_fallback, generator=g)
    pts = torch.stack([r * az.cos(), r * az.sin(), -1.8 + 0.02 * torch.randn(n_fallback, generator=g)], -1)
    return pts.unsqueeze(0), 'synthetic LiDAR-like scan'


def make_clouds(B, N, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(B, N, 3, generator=g)
    return x / x.norm(dim=-1, keepdim=True) * torch.rand(B, N, 1, generator=g) ** (1 / 3)


def ours(xyz, M):
    return sample_and_group(xyz, M, K)[0]


def loop_reference(xyz, M):
    out = []
    for pts in xyz:  # per sample
        N = pts.shape[0]
        dist = torch.full((N,), float('inf'))
        far = 0
        idx = torch.empty(M, dtype=torch.long)
        for i in range(M):
            idx[i] = far
            dist = torch.minimum(dist, ((pts - pts[far]) ** 2).sum(-1))
            far = int(dist.argmax())
        centres = pts[idx]
        nn_idx = torch.cdist(centres, pts).topk(K, dim=-1, largest=False).indices
        out.append(pts[nn_idx] - centres.unsqueeze(1))
    return torch.stack(out)


def make_lib(variant):
    try:
        import fpsample
        from scipy.spatial import cKDTree  # noqa: F401 (lib_group's; checked here so a missing scipy skips lib)
    except ImportError:
        return None
    fps = {'fps_sampling': lambda p, m: fpsample.fps_sampling(p, m, start_idx=0),
           'bucket_fps_kdline': lambda p, m: fpsample.bucket_fps_kdline_sampling(p, m, 7, start_idx=0)}[variant]

    def lib_fps(xyz_np, M):  # the FPS stage (alone with --split): (B, M, 3) centres
        return np.stack([pts[fps(pts, M).astype(np.int64)] for pts in xyz_np])

    def lib(xyz_np, M):
        return lib_group(xyz_np, lib_fps(xyz_np, M))
    lib.fps = lib_fps
    return lib


def lib_group(xyz_np, centres_np):
    """The kNN + grouping stage of the libraries alone (--split): cKDTree build + query per sample, gather."""
    from scipy.spatial import cKDTree
    out = []
    for pts, centres in zip(xyz_np, centres_np):
        _, nn_idx = cKDTree(pts).query(centres, K)
        out.append(pts[nn_idx] - centres[:, None])
    return np.stack(out)


def bench_row(B, N, M, xyz, repeats, with_loop, split=False):
    xyz_np = xyz.numpy()
    methods = {'ours': lambda: ours(xyz, M)}
    if with_loop:
        methods['loop'] = lambda: loop_reference(xyz, M)
    libs_fps = {}
    for variant in ('fps_sampling', 'bucket_fps_kdline'):
        lib = make_lib(variant)
        if lib is not None:
            methods['lib:' + variant] = (lambda f: (lambda: f(xyz_np, M)))(lib)
            libs_fps[variant] = lib.fps
    if split:  # each stage alone; both kNN stages search around the same centres (ours)
        centres = gather_points(xyz, furthest_point_sample(xyz, M))
        centres_np = centres.numpy()
        methods['stage:ours fps'] = lambda: gather_points(xyz, furthest_point_sample(xyz, M))
        methods['stage:ours fps dense'] = lambda: gather_points(xyz, furthest_point_sample(xyz, M, impl='dense'))
        methods['stage:ours knn'] = lambda: group_points(xyz, centres, K)
        for variant, f in libs_fps.items():
            methods['stage:lib fps ' + variant] = (lambda f: (lambda: f(xyz_np, M)))(f)
        if libs_fps:
            methods['stage:lib knn'] = lambda: lib_group(xyz_np, centres_np)
    times = {name: [] for name in methods}
    for name, fn in methods.items():  # warm-up
        fn()
    for r in range(repeats):
        names = list(methods)
        names = names[r % len(names):] + names[:r % len(names)]  # rotate the order
        for name in names:
            t0 = time.perf_counter()
            methods[name]()
            times[name].append(time.perf_counter() - t0)
    med = {name: statistics.median(v) * 1e3 for name, v in times.items()}
    row = dict(B=B, N=N, M=M, k=K, ours_ms=med['ours'], loop_ms=med.get('loop'))
    libs = {n[4:]: v for n, v in med.items() if n.startswith('lib:')}
    if libs:
        best = min(libs, key=libs.get)
        row.update(lib_ms=libs[best], lib_fps=best, lib_all_ms=libs)
        row['ours_over_lib'] = med['ours'] / libs[best]
    else:
        row.update(lib_ms=None, lib_fps=None, ours_over_lib=None)
    row['ours_over_loop'] = med['ours'] / med['loop'] if med.get('loop') else None
    if split:
        lib_fps = {n[len('stage:lib fps '):]: v for n, v in med.items() if n.startswith('stage:lib fps ')}
        row['stages'] = dict(ours_fps_ms=med['stage:ours fps'], ours_knn_ms=med['stage:ours knn'],
                             ours_fps_dense_ms=med['stage:ours fps dense'],
                             lib_fps_ms=min(lib_fps.values()) if lib_fps else None,
                             lib_fps=min(lib_fps, key=lib_fps.get) if lib_fps else None,
                             lib_knn_ms=med.get('stage:lib knn'))
    return row


def fmt(v, spec='.1f'):
    return '-' if v is None else format(v, spec)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--quick', action='store_true', help='3 repeats, no 35k x 1024 loop reference (about 30 s)')
    ap.add_argument('--repeats', type=int, default=None, help='timed repeats per method (default 15; 3 with --quick)')
    ap.add_argument('--threads', type=int, default=None, help='torch threads (default: torch default)')
    ap.add_argument('--split', action='store_true',
                    help='also time each stage alone (FPS; kNN + grouping around the same centres) for ours and '
                         'the libraries, and print a second table')
    ap.add_argument('--out', default=None, help='write the table as JSON to this path')
    add_keep_heap_argument(ap)
    args = ap.parse_args(argv)
    malloc = keep_heap_as_training(args.keep_heap, 'bench_tokenizer.py', argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    repeats = args.repeats or (3 if args.quick else 15)
    scan, scan_name = load_scan()
    print(f'torch {torch.__version__}, {torch.get_num_threads()} threads; k={K}; 35k cloud: {scan_name} '
          f'({scan.shape[1]} points); median of {repeats} interleaved repeats; {heap_note(malloc)}')
    rows = []
    for B, N, xyz in ((32, 1024, make_clouds(32, 1024)), (4, 8192, make_clouds(4, 8192, 1)),
                      (1, scan.shape[1], scan)):
        for M in (64, 1024):
            with_loop = not (args.quick and N * M * B > 8192 * 1024)
            row = bench_row(B, N, M, xyz, repeats, with_loop, split=args.split)
            rows.append(row)
            print(f'  done B={B} N={N} M={M}', file=sys.stderr, flush=True)
    header = f"{'B':>3} {'N':>6} {'M':>5} {'k':>3} | {'ours ms':>8} {'loop ms':>8} {'lib ms':>8} {'lib FPS':>18} | " \
             f"{'ours/lib':>8} {'ours/loop':>9}"
    print(header)
    print('-' * len(header))
    for r in rows:
        print(f"{r['B']:>3} {r['N']:>6} {r['M']:>5} {r['k']:>3} | {fmt(r['ours_ms']):>8} {fmt(r['loop_ms']):>8} "
              f"{fmt(r['lib_ms']):>8} {str(r['lib_fps'] or '-'):>18} | {fmt(r['ours_over_lib'], '.2f'):>8} "
              f"{fmt(r['ours_over_loop'], '.3f'):>9}")
    print('ours/lib < 1: faster than fpsample + cKDTree; goals (SPEC sec. 7): <= 1.2 at N=1k M=64, <= 2 at 35k M=1024')
    if args.split:
        print()
        header = f"{'B':>3} {'N':>6} {'M':>5} | {'dense':>6} {'ours FPS':>8} {'lib FPS':>8} {'ratio':>6} | " \
                 f"{'ours kNN':>8} {'lib kNN':>8} {'ratio':>6} | {'lib FPS variant':>18}"
        print(header)
        print('-' * len(header))
        for r in rows:
            st = r['stages']
            fps_ratio = st['ours_fps_ms'] / st['lib_fps_ms'] if st['lib_fps_ms'] else None
            knn_ratio = st['ours_knn_ms'] / st['lib_knn_ms'] if st['lib_knn_ms'] else None
            print(f"{r['B']:>3} {r['N']:>6} {r['M']:>5} | {fmt(st['ours_fps_dense_ms']):>6} "
                  f"{fmt(st['ours_fps_ms']):>8} {fmt(st['lib_fps_ms']):>8} "
                  f"{fmt(fps_ratio, '.2f'):>6} | {fmt(st['ours_knn_ms']):>8} {fmt(st['lib_knn_ms']):>8} "
                  f"{fmt(knn_ratio, '.2f'):>6} | {str(st['lib_fps'] or '-'):>18}")
        print('stages (ms): FPS = the M centres (ours: furthest_point_sample + gather_points, impl="auto"; dense: '
              'impl="dense", the batched loop over all points); kNN = the k neighbours '
              'of the same centres + centre-relative grouping (ours: group_points; lib: cKDTree build + query)')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(dict(torch=torch.__version__, threads=torch.get_num_threads(), k=K, scan=scan_name,
                           repeats=repeats, malloc_env=malloc, rows=rows), f, indent=2)
        print(f'wrote {os.path.abspath(args.out)}')
    else:
        print('(nothing written; pass --out PATH for JSON)')


if __name__ == '__main__':
    main()
