"""Variance-covariance regulariser (VICReg's two anti-collapse terms, as C-JEPA adds them to I-JEPA)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from pjepa3d.registry import MODELS


@MODELS.register_module()
class VarianceCovarianceLoss(nn.Module):
    """Keeps a batch of features (n, d) spread over many directions.

    ``var_weight * mean_j relu(gamma - sqrt(Var_j + eps)) + cov_weight * sum_{i != j} Cov_ij^2 / d``:
    the first term keeps every channel's standard deviation over the batch at ``gamma`` or more, the second
    decorrelates the channels (Bardes et al., VICReg, 2022). Written here rather than imported: it is a few
    lines, and no maintained package in our requirements ships it. Returns a dict of the two weighted terms
    (``loss_var``, ``loss_cov``) so the log shows each.
    """

    def __init__(self, var_weight=1.0, cov_weight=1.0, gamma=1.0, eps=1e-4):
        super().__init__()
        if var_weight < 0 or cov_weight < 0 or gamma <= 0:
            raise ValueError(f'VarianceCovarianceLoss: weights must be >= 0 and gamma > 0, got var_weight='
                             f'{var_weight}, cov_weight={cov_weight}, gamma={gamma}')
        self.var_weight, self.cov_weight, self.gamma, self.eps = var_weight, cov_weight, gamma, eps

    def forward(self, feats):
        if feats.dim() != 2 or feats.shape[0] < 2:
            raise ValueError(f'VarianceCovarianceLoss: needs features (n >= 2, d), got {tuple(feats.shape)}')
        x = feats.float()
        x = x - x.mean(dim=0)
        n, d = x.shape
        cov = (x.t() @ x) / (n - 1)
        var = cov.diagonal()  # each channel's (unbiased) variance
        off_diag = cov.pow(2).sum() - var.pow(2).sum()
        std = torch.sqrt(var + self.eps)
        return dict(loss_var=self.var_weight * F.relu(self.gamma - std).mean(),
                    loss_cov=self.cov_weight * off_diag / d)
