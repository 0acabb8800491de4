"""Split M patch tokens into a context set and target blocks, per sample, as a rectangular batch."""
from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn as nn

from pjepa3d.registry import MODELS

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


@MODELS.register_module()
class RegionMasker(nn.Module):
    """Context / target masking of patch tokens from their centres (no parameters).

    Modes:
        ``region`` (notes, Alg. 2): ``num_targets`` random seed centres grow, in
            turn, by their nearest unclaimed centres until round(``target_ratio``*M)
            tokens are targets; blocks are disjoint and compact, their sizes differ
            by at most one (padding marked in ``target_valid``). Context = the rest.
        ``sequence`` (authors' code): centres ordered by a greedy nearest-neighbour
            walk from the min(x+y+z) centre; ``num_targets`` blocks, each a
            contiguous run of U(``target_block_ratio``)*M tokens of that order
            (blocks may overlap); context = a contiguous run of
            U(``context_ratio``) of the tokens no block covers.
        ``random`` (ablation): round(``target_ratio``*M) random tokens form one
            target block; context = the rest.
    Ratios drawn at random are drawn once per batch, positions per sample, so the
    batch stays rectangular (as I-JEPA's collator). Every sample keeps at least
    one context token; M < 2 raises.
    """

    def __init__(self, mode='region', num_targets=4, target_ratio=0.65, target_block_ratio=(0.15, 0.2),
                 context_ratio=(0.4, 0.75)):
        super().__init__()
        if mode not in MASK_MODES:
            raise ValueError(f'RegionMasker: unknown mode {mode!r}; choose one of {MASK_MODES}')
        if not 0.0 < target_ratio < 1.0:
            raise ValueError(f'RegionMasker: target_ratio must be in (0, 1), got {target_ratio}')
        for name, (lo, hi) in (('target_block_ratio', target_block_ratio), ('context_ratio', context_ratio)):
            if not 0.0 < lo <= hi <= 1.0:
                raise ValueError(f'RegionMasker: {name} must satisfy 0 < min <= max <= 1, got {(lo, hi)}')
        if num_targets < 1:
            raise ValueError(f'RegionMasker: num_targets must be >= 1, got {num_targets}')
        self.mode = mode
        self.num_targets = num_targets
        self.target_ratio = target_ratio
        self.target_block_ratio = tuple(target_block_ratio)
        self.context_ratio = tuple(context_ratio)

    def extra_repr(self):
        return f'mode={self.mode}, num_targets={self.num_targets}, target_ratio={self.target_ratio}'

    @torch.no_grad()
    def forward(self, centres):
        """centres (B, M, 3) -> :class:`MaskResult`."""
        B, M, _ = centres.shape
        if M < 2:
            raise ValueError(f'RegionMasker: need at least 2 patch tokens to split into context and targets, got {M}')
        return getattr(self, f'_mask_{self.mode}')(centres.float())

    def _num_targets_total(self, M):
        return min(max(round(self.target_ratio * M), 1), M - 1)

    @staticmethod
    def _complement(taken, count):
        """Indices of the ``count`` False entries of each row of ``taken`` (B, M), ascending."""
        return torch.argsort(taken.to(torch.int8), dim=1, stable=True)[:, :count]

    def _mask_random(self, centres):
        B, M, _ = centres.shape
        n = self._num_targets_total(M)
        perm = torch.rand(B, M, device=centres.device).argsort(dim=1)
        target = perm[:, :n].sort(dim=1).values
        context = perm[:, n:].sort(dim=1).values
        return MaskResult(context, target.unsqueeze(1))

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
        return MaskResult(context, target, None if bool(valid.all()) else valid)

    @staticmethod
    def sequence_order(centres):
        """Greedy nearest-neighbour walk over centres (B, M, 3) from the min(x+y+z) one -> order (B, M)."""
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
        return MaskResult(context, target)
