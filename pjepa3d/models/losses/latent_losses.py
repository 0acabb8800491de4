"""Losses between predicted and target token features (the JEPA objective), averaged over valid tokens."""
import torch.nn as nn
import torch.nn.functional as F

from pjepa3d.registry import MODELS


def masked_mean(err, valid=None):
    """Mean of ``err`` (B, K, Nt, D) over channels and the target slots where ``valid`` (B, K, Nt) is True
    (all slots when None): padded slots of a rectangular target batch add nothing."""
    if valid is None:
        return err.mean()
    w = valid.unsqueeze(-1).to(err.dtype)
    return (err * w).sum() / (w.sum() * err.shape[-1])


@MODELS.register_module()
class LatentMSELoss(nn.Module):
    """Squared error between predictions and targets (the notes' loss)."""

    def __init__(self, loss_weight=1.0):
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, preds, targets, valid=None):
        return self.loss_weight * masked_mean(F.mse_loss(preds, targets, reduction='none'), valid)


@MODELS.register_module()
class LatentSmoothL1Loss(nn.Module):
    """SmoothL1 with transition point ``beta`` (the authors' code: beta 2)."""

    def __init__(self, beta=2.0, loss_weight=1.0):
        super().__init__()
        self.beta = beta
        self.loss_weight = loss_weight

    def forward(self, preds, targets, valid=None):
        err = F.smooth_l1_loss(preds, targets, reduction='none', beta=self.beta)
        return self.loss_weight * masked_mean(err, valid)
