"""Effective rank (RankMe, Garrido et al. 2023): exp of the entropy of the normalised singular values."""
import torch


@torch.no_grad()
def effective_rank(feats, eps=1e-7):
    """feats (n, d) -> scalar in [1, min(n, d)]; about 1 when features collapse to one direction."""
    s = torch.linalg.svdvals(feats.float())
    p = s / (s.sum() + eps) + eps
    return torch.exp(-(p * p.log()).sum())
