"""Region masking (notes Alg. 2): K compact, disjoint target blocks grown around random seed centres."""
import warnings

import torch

from pjepa3d.registry import MODELS
from .base import (MASK_MODES, BaseMasker, MaskResult, check_choice, check_num_targets, check_ratio_range,
                   check_target_ratio, complement, num_targets_total, smallest)
from .random_masker import RandomMasker
from .sequence_masker import SequenceMasker, nn_walk_order

REGION_GROWTHS = ('interleaved', 'blockwise')

__all__ = ['MASK_MODES', 'MaskResult', 'RegionMasker']  # MASK_MODES, MaskResult: their old import path


def _legacy_mode(mode, num_targets=4, target_ratio=0.65, target_block_ratio=(0.15, 0.2), context_ratio=(0.4, 0.75)):
    """``RegionMasker(mode='sequence' | 'random', ...)``: the old single-class interface -> the new class.

    Checks every argument as the old class did (even those the chosen mode ignores),
    then builds the class with the arguments it uses: the result is the object the
    old ``RegionMasker`` behaved as (same draws, same masks).
    """
    check_choice('RegionMasker', 'mode', mode, MASK_MODES)
    check_target_ratio('RegionMasker', target_ratio)
    check_ratio_range('RegionMasker', 'target_block_ratio', target_block_ratio)
    check_ratio_range('RegionMasker', 'context_ratio', context_ratio)
    check_num_targets('RegionMasker', num_targets)
    new = 'RandomMasker' if mode == 'random' else 'SequenceMasker'
    warnings.warn(f"RegionMasker(mode={mode!r}) is deprecated and builds a {new}; write "
                  f"dict(type={new!r}, ...) instead (same masks)", DeprecationWarning, stacklevel=3)
    if mode == 'random':
        return RandomMasker(target_ratio=target_ratio)
    return SequenceMasker(num_targets=num_targets, target_block_ratio=target_block_ratio,
                          context_ratio=context_ratio)


def first_of_argsort(draw, K, min_numel=8192):
    """``draw.argsort(dim=1)[:, :K]`` for ``draw`` (B, M) float32 >= 0, bit for bit (ties included).

    On CPU from ``min_numel`` entries on (where the full sort costs more than the check: 1.26 against 0.30 ms at
    (16, 1,024) on the 2-core AVX2 EPYC, a scratch timing), the K smallest by :func:`~.base.smallest` (a top-k),
    kept when they are K distinct values that no other entry equals: then every sort, stable or not, puts these
    K indices first in this order. Otherwise (ties among them: how the unstable sort orders those is its own
    business) the argsort. The check is a host read, hence CPU only.
    """
    if draw.device.type == 'cpu' and draw.numel() >= min_numel:
        seeds = smallest(draw, K)
        vals = draw.gather(1, seeds)
        if bool(((draw <= vals[:, -1:]).sum(1) == K).all()) and bool((vals[:, 1:] > vals[:, :-1]).all()):
            return seeds
    return draw.argsort(dim=1)[:, :K]


@MODELS.register_module()
class RegionMasker(BaseMasker):
    """Region masking (notes Alg. 2): K disjoint, compact target blocks around random seeds; context = the rest.

    n = round(``target_ratio`` * M) tokens (at least 1, at most M - 1) are targets,
    in K = min(``num_targets``, n) blocks whose sizes differ by at most one (the
    first n mod K blocks get one more; padding slots repeat the seed and are False
    in ``target_valid``, which is None when K divides n). Block k starts from seed k:
    K distinct random tokens per sample (the first K of ``torch.rand(B, M).argsort()``
    on the centres' device, the only random draw), and grows by the unclaimed tokens
    nearest (``torch.cdist``) to its seed; ties go to the lowest index. Context = the
    M - n unclaimed tokens, ascending. The batch stays rectangular.

    ``growth`` says in which order the blocks claim tokens:

    * ``interleaved`` (default; the old behaviour, bit for bit): the blocks take
      turns, one token per turn (round r: block 0, 1, ..., K-1), so contested tokens
      between two seeds are shared fairly. Each turn depends on all earlier turns.
      Two computations of the same turns, bit for bit: a loop of n - K steps (two
      out= tensor ops each, no allocation, no host read), and, on CPU from
      ``fixed_point_min_turns`` turns on, a fixed-point iteration over all turns at
      once (:meth:`_grow_interleaved_fixed_point`: a median of 18 iterations at
      M = 1,024, B = 16; the masker about 3x faster there, slower at small M) that hands over to
      the loop if it has not converged after ``fixed_point_max_iters``. Other devices
      run the loop: the iteration's stop test is a host read.
    * ``blockwise``: block 0 claims all its tokens at once, then block 1, ...: a
      loop of K steps (one top-k of (B, M) each, :func:`~.base.smallest`), independent
      of M. Same sizes and draw; the seeds are the K smallest draws with ties to the
      lowest index (also a top-k; the same seeds as ``interleaved``'s argsort unless
      two of the draws tie); contested tokens go to the earlier block, so the
      masks differ from ``interleaved`` wherever two blocks meet: opt-in, not used
      by any shipped config.

    Backwards compatibility: ``RegionMasker(mode='sequence', ...)`` and
    ``RegionMasker(mode='random', ...)`` (configs written for the old single-class
    masker) emit a DeprecationWarning and return a :class:`SequenceMasker` or
    :class:`RandomMasker` that draws and masks exactly as the old modes did (on CPU;
    see :class:`SequenceMasker` for CUDA). ``target_block_ratio`` and
    ``context_ratio`` are accepted (checked, unused) for the same configs.

    Args:
        mode (str): ``'region'``; the other two values are the deprecated path above.
        num_targets (int): K, target blocks (fewer when n < K).
        target_ratio (float): share of the tokens that are targets, in (0, 1).
        growth (str): ``'interleaved'`` or ``'blockwise'``.
    """

    mode = 'region'
    # interleaved growth on CPU: the fixed-point form from this many turns on (below it the loop is faster:
    # benchmarks/README.md), the loop after this many iterations without convergence
    fixed_point_min_turns = 300
    fixed_point_max_iters = 64

    def __new__(cls, mode='region', *args, **kwargs):
        if cls is RegionMasker and mode != 'region':
            return _legacy_mode(mode, *args, **kwargs)  # not a RegionMasker: __init__ is not called
        return super().__new__(cls)

    def __init__(self, mode='region', num_targets=4, target_ratio=0.65, target_block_ratio=(0.15, 0.2),
                 context_ratio=(0.4, 0.75), growth='interleaved'):
        super().__init__()
        who = type(self).__name__
        check_choice(who, 'mode', mode, ('region', ))
        check_target_ratio(who, target_ratio)
        check_ratio_range(who, 'target_block_ratio', target_block_ratio)
        check_ratio_range(who, 'context_ratio', context_ratio)
        check_num_targets(who, num_targets)
        check_choice(who, 'growth', growth, REGION_GROWTHS)
        self.num_targets = num_targets
        self.target_ratio = target_ratio
        self.growth = growth

    # the walk order used to be a RegionMasker static method; kept under its old name
    sequence_order = staticmethod(nn_walk_order)

    def extra_repr(self):
        return f'num_targets={self.num_targets}, target_ratio={self.target_ratio}, growth={self.growth}'

    def _seeds(self, centres):
        """The masker's only random draw -> (seed_dist (B, K, M), seeds (B, K), q, extra): block k holds
        q + (k < extra) tokens. The growths' inputs (tests and the fixed-point ablation take them from here)."""
        B, M, _ = centres.shape
        n = num_targets_total(self.target_ratio, M)
        K = min(self.num_targets, n)
        draw = torch.rand(B, M, device=centres.device)
        # (B, K); interleaved keeps the old argsort (bit for bit, ties included), blockwise a top-k (no full sort)
        seeds = first_of_argsort(draw, K) if self.growth == 'interleaved' else smallest(draw, K)
        seed_dist = torch.cdist(torch.gather(centres, 1, seeds.unsqueeze(-1).expand(-1, -1, 3)), centres)  # (B,K,M)
        return (seed_dist, seeds, *divmod(n, K))

    def _mask(self, centres):
        B, M, _ = centres.shape
        device = centres.device
        seed_dist, seeds, q, extra = self._seeds(centres)
        K = seeds.shape[1]
        n = q * K + extra
        if self.growth == 'blockwise':
            target = self._grow_blockwise(seed_dist, seeds, q, extra)
        else:
            target = None
            if device.type == 'cpu' and n - K >= self.fixed_point_min_turns:
                target, _ = self._grow_interleaved_fixed_point(seed_dist, seeds, q, extra, self.fixed_point_max_iters)
            if target is None:
                target = self._grow_interleaved(seed_dist, seeds, q, extra)
        taken = torch.zeros(B, M, dtype=torch.bool, device=device).scatter_(1, target.flatten(1), True)
        context = complement(taken, M - n)
        valid = None
        if extra:
            valid = torch.ones(B, K, q + 1, dtype=torch.bool, device=device)
            valid[:, extra:, q] = False
        return MaskResult(context, target, valid)

    @staticmethod
    def _blocks(seeds, slots):
        """(B, K, slots) ``target`` holding each block's seed in every slot (the padding slots keep it)."""
        return seeds.unsqueeze(-1).repeat(1, 1, slots)

    @staticmethod
    def _grow_interleaved(seed_dist, seeds, q, extra):
        """Turns (round r = 1 .. Nt-1, block k = 0 .. K-1, while block k has room) -> ``target`` (B, K, Nt).

        Two out= ops a turn on a working copy of ``seed_dist`` whose claimed tokens are +inf in
        every block's row: argmin over block k's row, then set the pick's column to +inf. The
        values compared are those of the old ``row + penalty`` form (the distance or +inf), so the
        turns pick the same tokens bit for bit.
        """
        B, K, M = seed_dist.shape
        target = RegionMasker._blocks(seeds, q + (extra > 0))
        turns = [k for _ in range(1, q) for k in range(K)] + list(range(extra))  # q >= 1: K <= n
        T = len(turns)
        picks = torch.empty(T, B, 1, dtype=torch.long, device=seed_dist.device)
        work = seed_dist.scatter(2, seeds.unsqueeze(1).expand(B, K, K), float('inf'))  # the seeds are claimed
        rows = work.unbind(1)  # K views (B, M)
        # per-turn views made once (indexing a view inside the loop costs as much as an op)
        claim_idx = picks.view(T, B, 1, 1).expand(T, B, K, 1).unbind(0)
        pick_out = picks.unbind(0)
        for i, k in enumerate(turns):
            torch.argmin(rows[k], dim=1, keepdim=True, out=pick_out[i])
            work.scatter_(2, claim_idx[i], float('inf'))
        picks = picks.view(-1, B)
        full = (q - 1) * K  # turns of the rounds where every block has room
        if full > 0:
            target[:, :, 1:q] = picks[:full].view(q - 1, K, B).permute(2, 1, 0)
        if len(turns) > full:
            target[:, :extra, q] = picks[full:].t()
        return target

    @staticmethod
    def _grow_interleaved_fixed_point(seed_dist, seeds, q, extra, max_iters):
        """The interleaved turns without a loop over turns -> (``target`` (B, K, Nt) or None, iterations).

        Block k's j-th pick (j = 0, 1, ...; turn j * K + k) is the next token of its distance-sorted
        list (stable: ties to the lowest index, as ``argmin``) that no other block claimed on an
        earlier turn. Given every block's claims, each block's picks follow from a few ops on all
        lists at once: j at each list position is the number of picks before it, and a position is
        picked when its turn j * K + k comes before the earliest other claim on its token. Iterate
        from "no block sees another" until the picks stop changing. The loop's turns are the only
        fixed point (then no token is claimed twice, and every turn took the nearest token no earlier
        turn took), so a converged answer is the loop's, bit for bit.

        Iterations at M = 1,024 (662 turns) over 40 batches of 16 uniform clouds: 12 / 18 / 55 (min /
        median / max; ``benchmarks/ablations/region_growth_fixed_point.py --trials 40 --uniform``), other
        seeds in the 70s now and then; 8-36 on the two nuScenes sample scans (FPS centres; a scratch
        check). Hundreds, or no convergence, where the blocks meet along long 1-D fronts or on many
        duplicate centres (all centres equal, a line, a ring, 1,024 centres on 125 grid points), hence
        ``max_iters``, after which it returns None and the caller runs the loop. Each iteration reads
        one bool on the host (the stop test): the masker calls this on CPU only, where that is free.
        Lists are cut after n - K non-seed positions: no block's last pick lies further (its list holds
        at most its own picks and the others'). Non-finite distances (non-finite centres) also return None.
        """
        B, K, M = seed_dist.shape
        n = q * K + extra
        L = n - K
        if L < 1 or n >= 2 ** 21:  # turn numbers as exact float32 integers below never = 2 ** 22
            return None, 0
        if not bool(torch.isfinite(seed_dist).all()):  # the lists below mark seeds +inf: distances must be finite
            return None, 0
        device = seed_dist.device
        never = float(2 ** 22)
        # each block's list: its L nearest tokens that are not seeds (the seeds +inf), ties to the lowest index
        # (``smallest``: a top-k of exact keys, as a stable sort would order them)
        order = smallest(seed_dist.scatter(2, seeds.unsqueeze(1).expand(B, K, K), float('inf')).view(B * K, M),
                         L).view(B, K, L)
        position = torch.arange(L, device=device)
        rank = torch.full((B, K, M), L, dtype=torch.long, device=device)  # token -> list position (L: not listed)
        rank.scatter_(2, order, position.expand(B, K, L))
        k_ = torch.arange(K, device=device, dtype=torch.float32).view(1, K, 1)
        size = (torch.arange(K, device=device) < extra).float().add_(q - 1).view(1, K, 1)  # picks per block
        # turns are kept minus ``never`` (exact: integers below 2 ** 23): an unpicked position's claim is then 0
        k_never = k_ - never
        last_pick = size * K + (k_never - 1)  # block k's last turn (its size-th pick) minus never
        claim = torch.zeros(B, K, L + 1, device=device)  # turn of each list position's pick minus never; 0: never
        claimed = claim[:, :, :L]
        picked = (size - position.float()).clamp_(0, 1).expand(B, K, L).contiguous()  # 1.0 / 0.0
        new = torch.empty_like(picked)
        for iteration in range(1, max_iters + 1):
            before = torch.cumsum(picked, 2).sub_(picked)  # picks before each position
            turn = torch.add(k_never, before, alpha=K)  # each position's turn (picks before * K + k) minus never
            torch.mul(turn, picked, out=claimed)  # the turn where picked, else 0 (never)
            # earliest claim on each list position's token, over all blocks (the block's own claim included)
            first = torch.gather(claim, 2, rank).amin(1, keepdim=True)
            bound = torch.gather(first.expand(B, K, M), 2, order).clamp_(max=last_pick)
            # picked where no other block claims the token first: the earliest claim is this turn (the block's
            # own; turns of different blocks differ) or later; and the block has room
            torch.le(turn, bound, out=new)
            if torch.equal(new, picked):
                Nt = q + (extra > 0)
                slot = torch.cumsum(new, 2).long().masked_fill_(new == 0, Nt)  # pick j -> slot j + 1; else spare
                target = RegionMasker._blocks(seeds, Nt + 1)  # plus a spare slot for the unpicked positions
                target.scatter_(2, slot, order)
                return target[:, :, :Nt].contiguous(), iteration
            picked, new = new, picked
        return None, max_iters

    @staticmethod
    def _grow_blockwise(seed_dist, seeds, q, extra):
        """Block k claims its q + (k < extra) - 1 nearest unclaimed tokens, k = 0 .. K-1 -> ``target``."""
        target = RegionMasker._blocks(seeds, q + (extra > 0))
        penalty = torch.zeros_like(seed_dist[:, 0]).scatter_(1, seeds, float('inf'))  # +inf on claimed tokens
        for k, row in enumerate(seed_dist.unbind(1)):
            size = q + (k < extra) - 1  # besides the seed
            if size <= 0:
                continue
            idx = smallest(row + penalty, size)  # stable: ties to the lowest index
            target[:, k, 1:1 + size] = idx
            penalty.scatter_(1, idx, float('inf'))
        return target
