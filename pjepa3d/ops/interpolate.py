"""Propagate features from patch centres back to points."""
import torch

from .knn import gather_points, knn_with_dist


def idw_weights(sq_dist, eps=1e-8):
    """Inverse-distance weights from squared distances (..., k) -> (..., k), each row summing to 1.

    ``w_j = (1 / (d_j + eps)) / sum_i (1 / (d_i + eps))`` with ``d`` the Euclidean distance. A point
    at distance exactly 0 from some of its centres takes their features only (weight 1, split equally
    if several coincide), so a point on a centre gets exactly that centre's feature.
    """
    dist = sq_dist.clamp_min(0).sqrt()
    weight = 1.0 / (dist + eps)
    weight = weight / weight.sum(dim=-1, keepdim=True)
    exact = dist == 0
    hit = exact.any(dim=-1, keepdim=True)
    exact_w = exact.to(weight.dtype) / exact.sum(dim=-1, keepdim=True).clamp_min(1).to(weight.dtype)
    return torch.where(hit, exact_w, weight)


def three_interpolate(points, centres, feats, k=3, eps=1e-8):
    """Inverse-distance-weighted interpolation from the ``k`` nearest centres (:func:`idw_weights`).

    Args:
        points (Tensor): (B, N, 3) where features are wanted.
        centres (Tensor): (B, M, 3) where features are known (same units).
        feats (Tensor): (B, M, C) features at the centres.
        k (int): centres per point (1 = nearest centre).
    Returns:
        Tensor: (B, N, C). No gradient flows through the weights (distances), only through ``feats``.
    """
    k = min(int(k), centres.shape[1])
    with torch.no_grad():
        sq, idx = knn_with_dist(points.contiguous(), centres.contiguous(), k)  # (B, N, k) each
        weight = idw_weights(sq, eps).to(feats.dtype)
    return (gather_points(feats, idx) * weight.unsqueeze(-1)).sum(dim=2)
