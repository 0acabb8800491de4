"""JEPAHead: the predictor (``models/predictors/``) and the latent loss (``models/losses/latent_losses.py``)."""
import torch.nn as nn

from pjepa3d.models.predictors import JEPAPredictor  # noqa: F401  (registered there; imported here for old code)
from pjepa3d.registry import MODELS

#: the string shortcuts of ``loss`` and the registered losses they build
LOSS_TYPES = ('mse', 'smooth_l1')


@MODELS.register_module()
class JEPAHead(nn.Module):
    """Predictor and the loss between its predictions and the (stop-gradient) targets.

    Args:
        predictor (dict): a predictor config (``JEPAPredictor``).
        loss (str | dict): a registered latent loss, e.g. ``dict(type='LatentMSELoss')`` or
            ``dict(type='LatentSmoothL1Loss', beta=2.0)``; or the shortcuts ``'mse'`` (notes) and
            ``'smooth_l1'`` (authors' code, with ``loss_beta``). Averaged over valid target tokens and channels.
        loss_beta (float): SmoothL1 transition point of the ``'smooth_l1'`` shortcut.
    """

    def __init__(self, predictor, loss='mse', loss_beta=2.0):
        super().__init__()
        if isinstance(loss, str):
            if loss not in LOSS_TYPES:
                raise ValueError(f'JEPAHead: unknown loss {loss!r}; choose one of {LOSS_TYPES} or a loss config')
            loss_cfg = dict(type='LatentMSELoss') if loss == 'mse' else dict(type='LatentSmoothL1Loss', beta=loss_beta)
        else:
            loss_cfg = loss
        self.predictor = MODELS.build(predictor)
        self.loss_fn = MODELS.build(loss_cfg)
        self.loss_type = loss if isinstance(loss, str) else loss_cfg['type']
        self.loss_beta = getattr(self.loss_fn, 'beta', loss_beta)

    def loss(self, ctx_feats, ctx_centres, tgt_centres, targets, tgt_valid=None):
        """targets (B, K, Nt, D) -> (loss scalar, predictions (B, K, Nt, D))."""
        preds = self.predictor(ctx_feats, ctx_centres, tgt_centres, tgt_valid)
        return self.loss_fn(preds, targets, tgt_valid), preds
