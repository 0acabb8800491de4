"""Effective rank (RankMe, Garrido et al. 2023): exp of the entropy of the normalised singular values."""
import torch


@torch.no_grad()
def effective_rank(feats, eps=1e-7):
    """feats (n, d) -> scalar in [1, min(n, d)]; about 1 when features collapse to one direction."""
    s = torch.linalg.svdvals(feats.float())
    p = s / (s.sum() + eps) + eps
    return torch.exp(-(p * p.log()).sum())


@torch.no_grad()
def centred_effective_rank(feats, eps=1e-7, rel_tol=1e-6):
    """Effective rank of ``feats - feats.mean(0)``: the rank of the features' spread across samples.

    :func:`effective_rank` of raw features counts their common offset (the mean feature) as one more
    direction, so features that vary along a single direction around a non-zero mean score about 2,
    not 1; centring removes that offset. feats (n, d) -> scalar in [1, min(n - 1, d)]. The centring is
    done in float64; a spread below ``rel_tol`` x the features' magnitude (rounding noise: every sample
    the same feature, i.e. fully collapsed) and n < 2 give 1.
    """
    x = feats.double()
    if x.shape[0] < 2:
        return feats.new_tensor(1.0, dtype=torch.float32)
    centred = x - x.mean(dim=0, keepdim=True)
    if centred.norm() <= rel_tol * x.norm():
        return feats.new_tensor(1.0, dtype=torch.float32)
    return effective_rank(centred, eps=eps)
