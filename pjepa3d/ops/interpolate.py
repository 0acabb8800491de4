"""Propagate features from patch centres back to points."""
import torch

from .knn import gather_points, knn


def three_interpolate(points, centres, feats, k=3, eps=1e-8):
    """Inverse-distance-weighted interpolation from the ``k`` nearest centres.

    Args:
        points (Tensor): (B, N, 3) where features are wanted.
        centres (Tensor): (B, M, 3) where features are known.
        feats (Tensor): (B, M, C) features at the centres.
        k (int): centres per point (1 = nearest centre).
    Returns:
        Tensor: (B, N, C).
    """
    k = min(k, centres.shape[1])
    idx = knn(points, centres, k)  # (B, N, k)
    near = gather_points(centres, idx)  # (B, N, k, 3)
    dist = (near - points.unsqueeze(2)).norm(dim=-1)
    weight = 1.0 / (dist + eps)
    weight = weight / weight.sum(dim=-1, keepdim=True)
    return (gather_points(feats, idx) * weight.unsqueeze(-1)).sum(dim=2)
