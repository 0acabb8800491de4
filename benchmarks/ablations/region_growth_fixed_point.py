#!/usr/bin/env python
"""Can the region masker's interleaved growth be batched exactly? Two fixed-point forms, measured.

``RegionMasker(growth='interleaved')`` (the default) lets K blocks take turns claiming the unclaimed token
nearest their seed: n - K dependent steps (issue 10 asks for no loop whose trip count grows with M). This script
tries the obvious batched formulation and prints how far it gets, so the answer is a command, not a claim.

The formulation. Let T(j) be the turn at which token j is claimed (seeds: -1; unclaimed: +inf). Given T,
block k's pick at its turn t is the first token of its distance-sorted list (ties by index, as ``argmin``)
with T >= t, i.e. not claimed before t. With the list's claim times tau and their running maximum m, that is
``searchsorted(m, t)``, for every turn at once; then T'(j) = the smallest turn that picked j. Iterate T <- T'
from "nothing claimed". Every fixed point is the loop's result (by induction over turns: turn t sees exactly
the tokens the loop had left), and after s iterations at least the first s turns are final, so it converges;
each iteration is a handful of batched ops on (B, K, M), and stopping needs one comparison (a host read).
It needs about one iteration per round of the K blocks (M / 6 at M = 1,024): slower than the loop.

The second form is the one ``RegionMasker`` ships (``_grow_interleaved_fixed_point``, used on CPU from
``fixed_point_min_turns`` turns on): it iterates on each block's picks along its own list instead, a position
being picked when the block's own turn there (its picks before it, times K, plus k) comes before the earliest
claim of another block on that token. A contest lost early shifts all of the block's later turns in one
iteration, so it settles in far fewer iterations.

What it prints, per size: the loop's turns, the iterations each fixed point needed (over ``--trials`` random
clouds; uniform in [-1, 1]^3, every other trial rounded to a 0.5 grid for exact distance ties), whether every
mask equalled the loop's, and the median ms per call (interleaved repeats, the same centres): the whole masker
with the loop, and each fixed point's growth alone.

    python benchmarks/ablations/region_growth_fixed_point.py [--trials 5] [--repeats 7] [--threads N] [--uniform]

(``--uniform``: no grid trials. On the 0.5 grid, M = 1,024 centres fall on 125 points: many duplicates, where the
shipped form does not converge within its cap and ``RegionMasker`` runs the loop.)
"""
import argparse
import os
import statistics
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))

from pjepa3d.models import RegionMasker  # noqa: E402
from pjepa3d.models.maskers.base import num_targets_total  # noqa: E402

SIZES = ((32, 64), (16, 256), (16, 1024))  # (B, M)


def grow_fixed_point(seed_dist, seeds, q, extra):
    """The interleaved growth by fixed-point iteration -> (picks (B, K, Nt - 1), iterations).

    ``seed_dist`` (B, K, M) and ``seeds`` (B, K) as in ``RegionMasker._mask``; block k's r-th pick (r >= 1)
    happens at turn (r - 1) * K + k, and only blocks k < ``extra`` have a pick in round q. Slots a block does
    not fill hold an arbitrary token (``target_valid`` is False there).
    """
    B, K, M = seed_dist.shape
    device = seed_dist.device
    R = q - 1 + (extra > 0)  # picks per block besides the seed
    order = seed_dist.argsort(dim=2, stable=True)  # (B, K, M): each block's preference list
    turn = torch.arange(R, device=device).view(1, R) * K + torch.arange(K, device=device).view(K, 1)  # (K, R)
    never = torch.iinfo(torch.long).max
    if extra:
        turn[extra:, R - 1] = never  # no such turn: its pick never claims anything
    turns = turn.unsqueeze(0).expand(B, K, R).contiguous()
    unclaimed = torch.full((B, M), never, dtype=torch.long, device=device)
    unclaimed.scatter_(1, seeds, -1)
    claim = unclaimed.clone()
    iterations = 0
    while True:
        iterations += 1
        tau = torch.gather(claim.unsqueeze(1).expand(B, K, M), 2, order)  # claim times along each list
        first_free = torch.searchsorted(tau.cummax(dim=2).values, turns).clamp_max_(M - 1)
        picks = torch.gather(order, 2, first_free)  # (B, K, R)
        new = unclaimed.scatter_reduce(1, picks.view(B, -1), turns.view(B, -1), reduce='amin')
        if torch.equal(new, claim):
            return picks, iterations
        claim = new


def loop_and_fixed_point(masker, centres, seed):
    """Both growths from the same draw -> (loop MaskResult, fixed-point picks, iterations, same?)."""
    torch.manual_seed(seed)
    ref = masker(centres)
    torch.manual_seed(seed)
    seed_dist, seeds, q, extra = masker._seeds(centres)  # RegionMasker's only draw, in the same order
    picks, iterations = grow_fixed_point(seed_dist, seeds, q, extra)
    got = torch.cat([seeds.unsqueeze(-1), picks], dim=2)
    valid = ref.target_valid
    same = torch.equal(got, ref.target_idx) if valid is None else torch.equal(got[valid], ref.target_idx[valid])
    return ref, picks, iterations, same, (seed_dist, seeds, q, extra)


def _spread(values):
    """'min / median / max' of iteration counts; runs that hit the cap (strings '>cap') count as the largest
    and are counted: '20 / 28 / >64 (2 of 5)'."""
    done = sorted(v for v in values if isinstance(v, int))
    capped = [v for v in values if not isinstance(v, int)]
    if not done:
        return f'{capped[0]} ({len(capped)} of {len(values)})'
    med = statistics.median(done + [float('inf')] * len(capped))
    med = f'{med:g}' if med != float('inf') else capped[0]
    return f'{done[0]} / {med} / ' + (f'{capped[0]} ({len(capped)} of {len(values)})' if capped else f'{done[-1]}')


def median_ms(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--trials', type=int, default=5, help='random clouds per size')
    parser.add_argument('--repeats', type=int, default=7, help='timed calls per method (interleaved)')
    parser.add_argument('--threads', type=int, default=None, help='torch intra-op threads')
    parser.add_argument('--uniform', action='store_true', help='every trial uniform (no 0.5-grid trials)')
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    masker = RegionMasker()  # the shipped default: K = 4, target_ratio 0.65, interleaved
    masker.fixed_point_min_turns = float('inf')  # the loop at every size: the reference
    shipped = RegionMasker._grow_interleaved_fixed_point
    cap = RegionMasker.fixed_point_max_iters
    rows = []
    for B, M in SIZES:
        gen = torch.Generator().manual_seed(M)
        iters, iters2, all_same = [], [], True
        for trial in range(args.trials):
            centres = torch.rand(B, M, 3, generator=gen) * 2 - 1
            if trial % 2 and not args.uniform:
                centres = torch.round(centres * 2) / 2  # exact distance ties
            ref, _, it, same, inputs = loop_and_fixed_point(masker, centres, seed=trial)
            target, it2 = shipped(*inputs, max_iters=cap)
            iters.append(it)
            iters2.append(it2 if target is not None else f'>{cap}')
            all_same &= same and (target is None or torch.equal(target, ref.target_idx))
        centres = torch.rand(B, M, 3, generator=gen) * 2 - 1
        _, _, _, _, inputs = loop_and_fixed_point(masker, centres, seed=0)
        loop_ms, fp_ms, fp2_ms = [], [], []
        for _ in range(args.repeats):  # interleaved: host noise hits all alike
            loop_ms.append(median_ms(lambda: masker(centres), 1))
            fp_ms.append(median_ms(lambda: grow_fixed_point(*inputs), 1))
            fp2_ms.append(median_ms(lambda: shipped(*inputs, max_iters=cap), 1))
        n = num_targets_total(masker.target_ratio, M)
        rows.append((B, M, n - min(masker.num_targets, n), _spread(iters), _spread(iters2),
                     'yes' if all_same else 'NO', *(statistics.median(t) for t in (loop_ms, fp_ms, fp2_ms))))
        print(f'  done B={B} M={M}', flush=True)
    print('| B | M | loop turns | iterations min / median / max: first form | shipped form | same masks | '
          'loop ms (whole masker) | first form ms (growth only) | shipped form ms (growth only) |')
    print('|---|---|---|---|---|---|---|---|---|')
    for B, M, turns, spread, spread2, same, lms, fms, fms2 in rows:
        print(f'| {B} | {M} | {turns} | {spread} | {spread2} | {same} | {lms:.2f} | {fms:.2f} | {fms2:.2f} |')
    print(f'({args.trials} clouds per size; torch {torch.__version__}, {torch.get_num_threads()} threads; '
          'nothing written)')


if __name__ == '__main__':
    main()
