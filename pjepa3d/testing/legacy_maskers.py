"""The masker as it was before the masker split: the reference the tests and ``benchmarks/bench_masker.py`` pin
today's maskers against.

``RegionMasker``, ``SequenceMasker`` and ``RandomMasker`` (pjepa3d/models/maskers) must reproduce these masks
bit for bit from the same seed in their default modes (``growth='interleaved'``, ``order='nn_walk'``); the
benchmark times them against this loop. Kept in one place so the tests and the benchmark compare against the
same code; it is not used by any model.
"""
import torch


class LegacyRegionMasker(torch.nn.Module):
    """``RegionMasker`` of commit 42802b2 (before the masker split), verbatim minus argument checks.

    Returns ``(context_idx, target_idx, target_valid or None)`` as that class did. ``order_fn`` (default: its
    own nearest-neighbour walk, :meth:`sequence_order`) lets the sequence strategy run on another order (the
    tests feed it the Morton order).
    """

    def __init__(self, mode='region', num_targets=4, target_ratio=0.65, target_block_ratio=(0.15, 0.2),
                 context_ratio=(0.4, 0.75), order_fn=None):
        super().__init__()
        self.mode = mode
        self.order_fn = order_fn or self.sequence_order
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
        order = self.order_fn(centres)
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
