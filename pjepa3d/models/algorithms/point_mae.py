"""Point-MAE baseline: reconstruct the raw points of masked patches from the visible ones."""
import torch

from pjepa3d.models.utils import effective_rank
from pjepa3d.ops import gather_points
from pjepa3d.registry import MODELS
from .base import BasePointSSL


@MODELS.register_module()
class PointMAE(BasePointSSL):
    """Tokenizer -> masker -> encoder on visible tokens -> decoder -> Chamfer-L2 on masked patches.

    The same ``PointPatchTransformer`` as Point-JEPA (so ``prefix='backbone.'`` transfers it the
    same way), no target encoder and no EMA.

    Args:
        backbone (dict): ``PointPatchTransformer`` config.
        head (dict): ``MAEHead`` config.
        masker (dict): masker config; default: 60 % random tokens (``RandomMasker``,
            Point-MAE). Any masker works (``RegionMasker``, ``SequenceMasker`` too):
            targets = all target-block tokens (padding skipped), visible = the context.
        monitor_interval (int): log ``feat_std`` / ``feat_rank`` every N loss calls.
    """

    def __init__(self, backbone, head, masker=dict(type='RandomMasker', target_ratio=0.6),
                 monitor_interval=1, data_preprocessor=None, init_cfg=None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if int(monitor_interval) < 1:
            raise ValueError(f'PointMAE: monitor_interval must be >= 1, got {monitor_interval}')
        self.backbone = MODELS.build(backbone)
        self.masker = MODELS.build(masker)
        self.head = MODELS.build(head)
        self.monitor_interval = int(monitor_interval)
        self._loss_calls = 0

    def loss(self, inputs, data_samples=None):
        """Points (B, N, C) -> dict with ``loss`` (Chamfer-L2, squared input units) and, every
        ``monitor_interval`` calls, ``feat_std`` (mean per-channel std of the mean-pooled visible
        features across the batch) and ``feat_rank`` (their effective rank)."""
        points = self._points(inputs)
        groups, centres, tokens, pos = self.backbone.tokenize(points)  # (B, M, k, C), (B, M, 3), (B, M, D) x 2
        mask = self.masker(centres)
        B, M, k, _ = groups.shape
        tgt_idx = mask.target_idx.flatten(1)  # (B, Nm)
        valid = None if mask.target_valid is None else mask.target_valid.flatten(1)
        vis = self.backbone.encode(tokens, pos, mask.context_idx).features
        target = gather_points(groups[..., :3].reshape(B, M, k * 3), tgt_idx).view(B, -1, k, 3)
        loss, _ = self.head.loss(vis, gather_points(centres, mask.context_idx), gather_points(centres, tgt_idx),
                                 target, valid)
        out = dict(loss=loss)
        if self._loss_calls % self.monitor_interval == 0:
            with torch.no_grad():
                pooled = vis.detach().float().mean(dim=1)  # (B, D)
                out.update(feat_std=pooled.std(dim=0).mean(), feat_rank=effective_rank(pooled))
        self._loss_calls += 1
        return out
