"""Chamfer distance between point sets, pure PyTorch (no CUDA extension)."""
import torch.nn as nn

from pjepa3d.registry import MODELS


def chamfer_l2(pred, target):
    """Squared-L2 Chamfer distance between each pair of sets.

    Args:
        pred (Tensor): (..., P, 3) points.
        target (Tensor): (..., Q, 3) points (same leading dims).
    Returns:
        Tensor (...): mean_i min_j |p_i - t_j|^2 + mean_j min_i |p_i - t_j|^2, in squared input
        units. Distances are direct differences (not |a|^2 - 2ab + |b|^2), so identical sets
        give exactly 0.
    """
    if pred.shape[:-2] != target.shape[:-2] or pred.shape[-1] != target.shape[-1]:
        raise ValueError(f'chamfer_l2: incompatible shapes {tuple(pred.shape)} and {tuple(target.shape)}')
    d = (pred.unsqueeze(-2) - target.unsqueeze(-3)).square().sum(-1)  # (..., P, Q)
    return d.min(dim=-1).values.mean(dim=-1) + d.min(dim=-2).values.mean(dim=-1)


@MODELS.register_module()
class ChamferL2Loss(nn.Module):
    """:func:`chamfer_l2` per set, averaged over the sets whose ``weight`` is True (all by default)."""

    def __init__(self, loss_weight=1.0):
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, pred, target, weight=None):
        """pred (..., P, 3), target (..., Q, 3), weight (...) bool/float or None -> scalar."""
        per_set = chamfer_l2(pred, target)
        if weight is None:
            return self.loss_weight * per_set.mean()
        w = weight.to(per_set.dtype)
        return self.loss_weight * (per_set * w).sum() / w.sum().clamp_min(1.0)
