#!/usr/bin/env python
"""Masker benchmark: ms per call of every masking strategy, the maskers of pjepa3d.models vs. the old loop.

``old`` is a verbatim copy (below) of the single-class ``RegionMasker`` from before the masker
split (commit 42802b2): one Python step per target token (region) or per centre (the walk of
sequence), each step several tensor ops plus advanced indexing, and ``.item()`` reads of device
tensors. ``new`` is what the configs build today:

* ``region``: ``RegionMasker()`` (growth ``interleaved``): the old masks bit for bit, n - K loop
  steps of three out= ops;
* ``region/blockwise``: ``RegionMasker(growth='blockwise')``: a K-step loop, different masks (opt-in);
* ``sequence``: ``SequenceMasker()`` (order ``nn_walk``): the old masks bit for bit on CPU, M - 1
  loop steps of five out= ops for the walk, the rest batched;
* ``sequence/morton``: ``SequenceMasker(order='morton')``: no loop, a different order (opt-in);
* ``random``: ``RandomMasker()``: the old code unchanged (it had no loop).

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

GOAL_MS = 5.0
SIZES = ((16, 1024), (32, 64))  # (B, M)


class OldRegionMasker(torch.nn.Module):
    """``RegionMasker`` of commit 42802b2 (before the masker split), verbatim minus argument checks."""

    def __init__(self, mode='region', num_targets=4, target_ratio=0.65, target_block_ratio=(0.15, 0.2),
                 context_ratio=(0.4, 0.75)):
        super().__init__()
        self.mode = mode
        self.num_targets = num_targets
        self.target_ratio = target_ratio
        self.target_block_ratio = tuple(target_block_ratio)
        self.context_ratio = tuple(context_ratio)

    @torch.no_grad()
    def forward(self, centres):
        return getattr(self, f'_mask_{self.mode}')(centres.float())

    def _num_targets_total(self, M):
        return min(max(round(self.target_ratio * M), 1), M - 1)

    @staticmethod
    def _complement(taken, count):
        return torch.argsort(taken.to(torch.int8), dim=1, stable=True)[:, :count]

    def _mask_random(self, centres):
        B, M, _ = centres.shape
        n = self._num_targets_total(M)
        perm = torch.rand(B, M, device=centres.device).argsort(dim=1)
        target = perm[:, :n].sort(dim=1).values
        context = perm[:, n:].sort(dim=1).values
        return context, target.unsqueeze(1), None

    def _mask_region(self, centres):
        B, M, _ = centres.shape
        n = self._num_targets_total(M)
        K = min(self.num_targets, n)
        Nt = -(-n // K)
        sizes = [n // K + (1 if k < n % K else 0) for k in range(K)]
        rows = torch.arange(B, device=centres.device)
        seeds = torch.rand(B, M, device=centres.device).argsort(dim=1)[:, :K]  # (B, K)
        seed_dist = torch.cdist(torch.gather(centres, 1, seeds.unsqueeze(-1).expand(-1, -1, 3)), centres)  # (B,K,M)
        taken = torch.zeros(B, M, dtype=torch.bool, device=centres.device)
        taken[rows.unsqueeze(1), seeds] = True
        target = seeds.unsqueeze(-1).repeat(1, 1, Nt)  # padding slots repeat the seed
        valid = torch.zeros(B, K, Nt, dtype=torch.bool, device=centres.device)
        valid[:, :, 0] = True
        for r in range(1, Nt):
            for k in range(K):
                if sizes[k] <= r:
                    continue
                pick = seed_dist[:, k].masked_fill(taken, float('inf')).argmin(dim=1)
                target[:, k, r] = pick
                valid[:, k, r] = True
                taken[rows, pick] = True
        context = self._complement(taken, M - n)
        return context, target, None if bool(valid.all()) else valid

    @staticmethod
    def sequence_order(centres):
        B, M, _ = centres.shape
        rows = torch.arange(B, device=centres.device)
        dist = torch.cdist(centres, centres)
        visited = torch.zeros(B, M, dtype=torch.bool, device=centres.device)
        order = torch.empty(B, M, dtype=torch.long, device=centres.device)
        cur = centres.sum(dim=-1).argmin(dim=1)
        for i in range(M):
            order[:, i] = cur
            visited[rows, cur] = True
            if i + 1 < M:
                cur = dist[rows, cur].masked_fill(visited, float('inf')).argmin(dim=1)
        return order

    def _mask_sequence(self, centres):
        B, M, _ = centres.shape
        device = centres.device
        order = self.sequence_order(centres)
        lo, hi = self.target_block_ratio
        Nt = min(max(int(M * (lo + (hi - lo) * torch.rand(()).item())), 1), M - 1)
        K = max(1, min(self.num_targets, (M - 1) // Nt))  # leave room for context
        starts = torch.randint(0, M - Nt + 1, (B, K, 1), device=device)
        pos = starts + torch.arange(Nt, device=device)  # (B, K, Nt) positions in walk order
        target = torch.gather(order, 1, pos.flatten(1)).view(B, K, Nt)
        covered = torch.zeros(B, M, dtype=torch.bool, device=device)
        covered.scatter_(1, pos.flatten(1), True)  # in walk-order positions
        avail = M - covered.sum(dim=1)  # (B,), >= 1
        lo, hi = self.context_ratio
        ratio = lo + (hi - lo) * torch.rand(()).item()
        Nc = max(1, int((ratio * avail.float()).floor().min().item()))
        free_pos = self._complement(covered, M)  # free walk positions first, in walk order
        start = (torch.rand(B, device=device) * (avail - Nc + 1).float()).long().unsqueeze(1)
        ctx_pos = torch.gather(free_pos, 1, start + torch.arange(Nc, device=device))
        context = torch.gather(order, 1, ctx_pos)
        return context, target, None


# name -> (old mode, new masker, exact: the new masks must equal the old ones)
VARIANTS = {
    'region': ('region', lambda: RegionMasker(), True),
    'region/blockwise': ('region', lambda: RegionMasker(growth='blockwise'), False),
    'sequence': ('sequence', lambda: SequenceMasker(), True),
    'sequence/morton': ('sequence', lambda: SequenceMasker(order='morton'), False),
    'random': ('random', lambda: RandomMasker(), True),
}


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
    old, new = OldRegionMasker(mode=old_mode), make_new()
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
    args = ap.parse_args(argv)
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
          f'{", ".join(d.type for d in devices)}; median of {repeats} interleaved repeats')
    rows = []
    for device in devices:
        for B, M in SIZES:
            for name in VARIANTS:
                rows.append(bench_row(name, device, B, M, repeats))
                print(f'  done {device.type} B={B} M={M} {name}', file=sys.stderr, flush=True)
    header = (f"{'device':>6} {'B':>3} {'M':>5} {'masker':>16} | {'old ms':>8} {'new ms':>8} {'new/old':>7} | "
              f"{'<= 5 ms':>7} {'same':>4}")
    print(header)
    print('-' * len(header))
    for r in rows:
        print(f"{r['device']:>6} {r['B']:>3} {r['M']:>5} {r['masker']:>16} | {r['old_ms']:>8.2f} {r['new_ms']:>8.2f} "
              f"{r['ratio']:>7.3f} | {('yes' if r['goal_met'] else 'no'):>7} {r['same']:>4}")
    print('new/old < 1: faster than the old loop. goal: <= 5 ms per call (new). same: identical masks from the '
          'same seed (-: different masks by design, opt-in variants)')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(dict(torch=torch.__version__, threads=torch.get_num_threads(), repeats=repeats, goal_ms=GOAL_MS,
                           rows=rows), f, indent=2)
        print(f'wrote {os.path.abspath(args.out)}')
    else:
        print('(nothing written; pass --out PATH for JSON)')


if __name__ == '__main__':
    main()
