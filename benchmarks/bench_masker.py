#!/usr/bin/env python
"""Masker benchmark: ms per call of every masking strategy, the maskers of pjepa3d.models vs. the old loop.

``old`` is ``pjepa3d.testing.LegacyRegionMasker``, a verbatim copy of the single-class ``RegionMasker`` from before the masker
split (commit 42802b2): one Python step per target token (region) or per centre (the walk of
sequence), each step several tensor ops plus advanced indexing, and ``.item()`` reads of device
tensors. ``new`` is what the configs build today:

* ``region``: ``RegionMasker()`` (growth ``interleaved``): the old masks bit for bit; on CPU from
  ``RegionMasker.fixed_point_min_turns`` turns on (M = 1,024 here) by fixed-point iteration, below it
  (M = 64) and on CUDA by n - K loop steps of two out= ops;
* ``region/loop``: the same masker with the loop at every size (the reference for the fixed point);
* ``region/blockwise``: ``RegionMasker(growth='blockwise')``: a K-step loop, different masks (opt-in);
* ``sequence``: ``SequenceMasker()`` (order ``nn_walk``): the old masks bit for bit on CPU, one
  ``torch.cdist`` and M - 1 walk steps, the rest batched; on CPU the walk runs in numpy (four numpy
  calls a step, up to ``NUMPY_WALK_MAX_NUMEL`` B x M), on CUDA as five out= torch ops a step;
* ``sequence/torch-walk``: the same masker with the walk's torch loop on CPU too (the reference for
  the numpy walk);
* ``sequence/morton``: ``SequenceMasker(order='morton')``: no loop, a different order (opt-in);
* ``random``: ``RandomMasker()``: the old code unchanged (it had no loop).

Memory: like ``tools/train.py`` on a CPU, the script by default restarts itself with glibc malloc told to keep
freed memory (``--keep-heap``, ``pjepa3d/utils/cpu_heap.py``), so the (B, M, M) distances of ``sequence`` reuse
pages instead of page-faulting 64 MB afresh every call: the maskers are timed as training calls them.
``--no-keep-heap`` (or ``PJEPA3D_KEEP_HEAP=0``) times them without it.

Sizes: M = 1024 centres, B = 16 (a large-scene token count) and the demo size M = 64, B = 32; on
CPU, and on CUDA when available. Centres are uniform in [-1, 1]^3. Times are medians over
interleaved repeats (old and new take turns, so host noise hits both alike). The ``same`` column
checks, from the same seed, that new and old return identical masks (``-``: different by design;
``n/a``: sequence on CUDA draws its block starts from the CPU generator, see SequenceMasker).
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from pjepa3d.models import RandomMasker, RegionMasker, SequenceMasker  # noqa: E402
from pjepa3d.testing import LegacyRegionMasker  # noqa: E402
from pjepa3d.utils import add_keep_heap_argument, heap_note, keep_heap_as_training  # noqa: E402

GOAL_MS = 5.0
SIZES = ((16, 1024), (32, 64))  # (B, M)


# name -> (old mode, new masker, exact: the new masks must equal the old ones)
VARIANTS = {
    'region': ('region', lambda: RegionMasker(), True),
    'region/loop': ('region', lambda: _loop_only(RegionMasker()), True),
    'region/blockwise': ('region', lambda: RegionMasker(growth='blockwise'), False),
    'sequence': ('sequence', lambda: SequenceMasker(), True),
    'sequence/torch-walk': ('sequence', lambda: _torch_walk(SequenceMasker()), True),
    'sequence/morton': ('sequence', lambda: SequenceMasker(order='morton'), False),
    'random': ('random', lambda: RandomMasker(), True),
}


def _loop_only(masker):
    masker.fixed_point_min_turns = float('inf')  # never the fixed point
    return masker


def _torch_walk(masker):
    masker.walk_impl = 'torch'  # the torch loop on every device
    return masker


def same_masks(old, new, centres):
    torch.manual_seed(0)
    a = old(centres)
    torch.manual_seed(0)
    b = new(centres)
    b = (b.context_idx, b.target_idx, b.target_valid)
    return all((x is None and y is None) or (x is not None and y is not None and torch.equal(x, y))
               for x, y in zip(a, b))


def timed(fn, device):
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
    t0 = time.perf_counter()
    fn()
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
    return time.perf_counter() - t0


def bench_row(name, device, B, M, repeats):
    old_mode, make_new, exact = VARIANTS[name]
    old, new = LegacyRegionMasker(mode=old_mode), make_new()
    g = torch.Generator().manual_seed(0)
    centres = (torch.rand(B, M, 3, generator=g) * 2 - 1).to(device)
    methods = {'old': lambda: old(centres), 'new': lambda: new(centres)}
    for fn in methods.values():  # warm-up
        fn()
    times = {k: [] for k in methods}
    for r in range(repeats):
        for k in (('old', 'new') if r % 2 == 0 else ('new', 'old')):
            times[k].append(timed(methods[k], device))
    old_ms, new_ms = (statistics.median(times[k]) * 1e3 for k in ('old', 'new'))
    if not exact:
        same = '-'
    elif device.type == 'cuda' and old_mode == 'sequence':
        same = 'n/a'
    else:
        same = 'yes' if same_masks(old, new, centres) else 'NO'
    return dict(device=device.type, B=B, M=M, masker=name, old_ms=old_ms, new_ms=new_ms, ratio=new_ms / old_ms,
                goal_met=new_ms <= GOAL_MS, same=same)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--quick', action='store_true', help='3 repeats instead of 11')
    ap.add_argument('--repeats', type=int, default=None, help='timed repeats per method (default 11; 3 with --quick)')
    ap.add_argument('--threads', type=int, default=None, help='torch intra-op threads (default: torch default)')
    ap.add_argument('--device', choices=('all', 'cpu', 'cuda'), default='all',
                    help='cpu, cuda, or all (cpu, plus cuda when available); default all')
    ap.add_argument('--out', default=None, help='write the table as JSON to this path')
    add_keep_heap_argument(ap)
    args = ap.parse_args(argv)
    malloc = keep_heap_as_training(args.keep_heap, 'bench_masker.py', argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    repeats = args.repeats or (3 if args.quick else 11)
    devices = []
    if args.device in ('all', 'cpu'):
        devices.append(torch.device('cpu'))
    if args.device in ('all', 'cuda') and torch.cuda.is_available():
        devices.append(torch.device('cuda'))
    if args.device == 'cuda' and not devices:
        ap.error('no CUDA device')
    print(f'torch {torch.__version__}, {torch.get_num_threads()} threads; devices: '
          f'{", ".join(d.type for d in devices)}; median of {repeats} interleaved repeats; {heap_note(malloc)}')
    rows = []
    for device in devices:
        for B, M in SIZES:
            for name in VARIANTS:
                rows.append(bench_row(name, device, B, M, repeats))
                print(f'  done {device.type} B={B} M={M} {name}', file=sys.stderr, flush=True)
    header = (f"{'device':>6} {'B':>3} {'M':>5} {'masker':>19} | {'old ms':>8} {'new ms':>8} {'new/old':>7} | "
              f"{'<= 5 ms':>7} {'same':>4}")
    print(header)
    print('-' * len(header))
    for r in rows:
        print(f"{r['device']:>6} {r['B']:>3} {r['M']:>5} {r['masker']:>19} | {r['old_ms']:>8.2f} {r['new_ms']:>8.2f} "
              f"{r['ratio']:>7.3f} | {('yes' if r['goal_met'] else 'no'):>7} {r['same']:>4}")
    print('new/old < 1: faster than the old loop. goal: <= 5 ms per call (new). same: identical masks from the '
          'same seed (-: different masks by design, opt-in variants)')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(dict(torch=torch.__version__, threads=torch.get_num_threads(), repeats=repeats, goal_ms=GOAL_MS,
                           malloc_env=malloc, rows=rows), f, indent=2)
        print(f'wrote {os.path.abspath(args.out)}')
    else:
        print('(nothing written; pass --out PATH for JSON)')


if __name__ == '__main__':
    main()
