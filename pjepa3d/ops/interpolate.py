"""Propagate features from patch centres back to points."""
import torch

from .knn import gather_points, knn_with_dist


def three_interpolate(points, centres, feats, k=3, eps=1e-8):
    """Inverse-distance-weighted interpolation from the ``k`` nearest centres.

    Weights are ``1 / (distance + eps)`` normalised to sum to 1; a point that
    coincides with a centre gets (up to ``eps``) that centre's feature.

    Args:
        points (Tensor): (B, N, 3) where features are wanted.
        centres (Tensor): (B, M, 3) where features are known.
        feats (Tensor): (B, M, C) features at the centres.
        k (int): centres per point (1 = nearest centre).
    Returns:
        Tensor: (B, N, C).
    """
    k = min(k, centres.shape[1])
    sq, idx = knn_with_dist(points, centres, k)  # (B, N, k) each; no gradient through the weights
    weight = 1.0 / (sq.sqrt() + eps)
    weight = (weight / weight.sum(dim=-1, keepdim=True)).to(feats.dtype)
    return (gather_points(feats, idx) * weight.unsqueeze(-1)).sum(dim=2)
