"""What every masker returns, and the checks and index helpers the maskers share.

A masker splits the M patch tokens of each sample into a context set and K target
blocks, from the token centres alone (no parameters). One strategy per file:
``RegionMasker`` (region_masker.py), ``SequenceMasker`` (sequence_masker.py),
``RandomMasker`` (random_masker.py). All return a :class:`MaskResult` and keep the
batch rectangular (equal counts per sample, as I-JEPA's collator does).

No masker reads a device tensor on the host: every size that becomes a tensor
shape is computed from Python numbers or from draws of the CPU generator, so a
GPU forward never waits for the GPU (the tests run the maskers on the ``meta``
device, where any such read raises). The host reads of ``RegionMasker`` (its
fixed-point growth's stop test and finiteness check, the tie check of its seed
draw) and ``SequenceMasker``'s numpy walk run on CPU tensors only.
"""
from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn as nn

MASK_MODES = ('region', 'sequence', 'random')


@dataclass
class MaskResult:
    """Indices into the M tokens of each sample.

    context_idx: (B, Nc) long.
    target_idx: (B, K, Nt) long, K target blocks of up to Nt tokens.
    target_valid: (B, K, Nt) bool, False on padding slots of shorter blocks;
        None when every slot is valid.
    """
    context_idx: torch.Tensor
    target_idx: torch.Tensor
    target_valid: Optional[torch.Tensor] = None


def num_targets_total(target_ratio, M):
    """round(target_ratio * M) clipped to [1, M - 1]: at least one target and one context token."""
    return min(max(round(target_ratio * M), 1), M - 1)


def complement(taken, count):
    """The first ``count`` of each row's indices with its False entries first, then its True ones, each ascending:
    ``torch.argsort(taken, stable=True)[:, :count]`` for ``taken`` (B, M) bool, as a stable partition (two
    cumulative sums and a scatter, O(M)) instead of a sort: 0.25 against 0.46 ms at B = 16, M = 1,024 on the
    2-core AVX2 EPYC (``benchmarks/bench_masker.py`` times the maskers)."""
    free = ~taken
    pos = free.cumsum(1)  # 1-based rank of each False entry among the False ones
    pos = torch.where(free, pos, pos[:, -1:] + taken.cumsum(1)).sub_(1)  # True entries after all False ones
    order = torch.empty_like(pos)
    order.scatter_(1, pos, torch.arange(taken.shape[1], device=taken.device).expand_as(pos))
    return order[:, :count]


def smallest(values, count):
    """Indices of the ``count`` smallest entries of each row of ``values`` (B, M) float32 (>= 0, +inf allowed),
    ascending by value, ties to the lowest index: ``values.argsort(dim=1, stable=True)[:, :count]``.

    A top-k instead of a full sort, made exact for ties by sorting unique int64 keys: a non-negative float32's
    bit pattern orders as its value does, so (bits << 32) | index orders by value, then index. 0.37 against
    1.38 ms for 170 of 1,024 at B = 16 on the 2-core AVX2 EPYC."""
    if values.dtype != torch.float32:
        raise TypeError(f'smallest: expects float32 values, got {values.dtype}')
    bits = (values + 0.0).view(torch.int32).to(torch.int64)  # + 0.0: -0.0 -> +0.0 (its bits are negative)
    key = bits.bitwise_left_shift_(32).bitwise_or_(torch.arange(values.shape[1], device=values.device))
    return key.topk(count, dim=1, largest=False, sorted=True).values.bitwise_and_(0xFFFFFFFF)


def check_target_ratio(who, target_ratio):
    if not 0.0 < target_ratio < 1.0:
        raise ValueError(f'{who}: target_ratio must be in (0, 1), got {target_ratio}')


def check_ratio_range(who, name, value):
    lo, hi = value
    if not 0.0 < lo <= hi <= 1.0:
        raise ValueError(f'{who}: {name} must satisfy 0 < min <= max <= 1, got {(lo, hi)}')


def check_num_targets(who, num_targets):
    if num_targets < 1:
        raise ValueError(f'{who}: num_targets must be >= 1, got {num_targets}')


def check_choice(who, name, value, choices):
    if value not in choices:
        raise ValueError(f'{who}: unknown {name} {value!r}; choose one of {choices}')


class BaseMasker(nn.Module):
    """``forward(centres (B, M, 3)) -> MaskResult``; subclasses implement ``_mask`` on fp32 centres.

    ``mode`` names the strategy (one of :data:`MASK_MODES`), as the old single-class
    ``RegionMasker(mode=...)`` did; tools print it.
    """

    mode = None

    @torch.no_grad()
    def forward(self, centres):
        """centres (B, M, 3) -> :class:`MaskResult`."""
        M = centres.shape[1]
        if M < 2:
            raise ValueError(f'{type(self).__name__}: need at least 2 patch tokens to split into context and '
                             f'targets, got {M}')
        return self._mask(centres.float())

    def _mask(self, centres):
        raise NotImplementedError
