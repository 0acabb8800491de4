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
      between two seeds are shared fairly. Each turn depends on all earlier turns,
      so this is n - K dependent loop steps (two out= tensor ops each, no
      allocation, no host read). No batched algorithm
      is known that reproduces these turns exactly.
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

    def _mask(self, centres):
        B, M, _ = centres.shape
        device = centres.device
        n = num_targets_total(self.target_ratio, M)
        K = min(self.num_targets, n)
        q, extra = divmod(n, K)  # block k holds q + (k < extra) tokens
        Nt = q + (extra > 0)
        draw = torch.rand(B, M, device=device)
        # (B, K); interleaved keeps the old argsort (bit for bit, ties included), blockwise a top-k (no full sort)
        seeds = draw.argsort(dim=1)[:, :K] if self.growth == 'interleaved' else smallest(draw, K)
        seed_dist = torch.cdist(torch.gather(centres, 1, seeds.unsqueeze(-1).expand(-1, -1, 3)), centres)  # (B,K,M)
        penalty = torch.zeros(B, M, dtype=seed_dist.dtype, device=device)  # +inf on claimed tokens
        penalty.scatter_(1, seeds, float('inf'))
        target = seeds.unsqueeze(-1).repeat(1, 1, Nt)  # padding slots repeat the seed
        if self.growth == 'interleaved':
            self._grow_interleaved(seed_dist, penalty, target, q, extra)
        else:
            self._grow_blockwise(seed_dist, penalty, target, q, extra)
        context = complement(penalty != 0, M - n)
        valid = None
        if extra:
            valid = torch.ones(B, K, Nt, dtype=torch.bool, device=device)
            valid[:, extra:, Nt - 1] = False
        return MaskResult(context, target, valid)

    @staticmethod
    def _grow_interleaved(seed_dist, penalty, target, q, extra):
        """Turns (round r = 1 .. Nt-1, block k = 0 .. K-1, while block k has room) -> fills ``target`` in place.

        Two out= ops a turn on a working copy of ``seed_dist`` whose claimed tokens are +inf in
        every block's row: argmin over block k's row, then set the pick's column to +inf. The
        values compared are those of the old ``row + penalty`` form (the distance or +inf), so the
        turns pick the same tokens bit for bit. ``penalty`` gets the claims at the end.
        """
        B, K, M = seed_dist.shape
        turns = [k for _ in range(1, q) for k in range(K)] + list(range(extra))  # q >= 1: K <= n
        T = len(turns)
        picks = torch.empty(T, B, 1, dtype=torch.long, device=seed_dist.device)
        work = seed_dist + penalty.unsqueeze(1)  # (B, K, M): the seeds are claimed already
        rows = work.unbind(1)  # K views (B, M)
        # per-turn views made once (indexing a view inside the loop costs as much as an op)
        claim_idx = picks.view(T, B, 1, 1).expand(T, B, K, 1).unbind(0)
        pick_out = picks.unbind(0)
        for i, k in enumerate(turns):
            torch.argmin(rows[k], dim=1, keepdim=True, out=pick_out[i])
            work.scatter_(2, claim_idx[i], float('inf'))
        if T:
            penalty.scatter_(1, picks.view(T, B).t(), float('inf'))
        picks = picks.view(-1, B)
        full = (q - 1) * K  # turns of the rounds where every block has room
        if full > 0:
            target[:, :, 1:q] = picks[:full].view(q - 1, K, B).permute(2, 1, 0)
        if len(turns) > full:
            target[:, :extra, q] = picks[full:].t()

    @staticmethod
    def _grow_blockwise(seed_dist, penalty, target, q, extra):
        """Block k claims its q + (k < extra) - 1 nearest unclaimed tokens, k = 0 .. K-1 -> fills ``target``."""
        for k, row in enumerate(seed_dist.unbind(1)):
            size = q + (k < extra) - 1  # besides the seed
            if size <= 0:
                continue
            idx = smallest(row + penalty, size)  # stable: ties to the lowest index
            target[:, k, 1:1 + size] = idx
            penalty.scatter_(1, idx, float('inf'))
