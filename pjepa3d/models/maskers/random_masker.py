"""Random token masking (the notes' 'Masking Strategy' ablation; Point-MAE's masking)."""
import torch

from pjepa3d.registry import MODELS
from .base import BaseMasker, MaskResult, check_target_ratio, num_targets_total


@MODELS.register_module()
class RandomMasker(BaseMasker):
    """round(``target_ratio`` * M) random tokens form one target block; context = the rest.

    Per sample: one ``torch.rand(B, M)`` draw on the centres' device, argsorted;
    the first n positions are the targets. Both index sets are returned ascending.
    Fully batched (no loop). Same draws and output as the old
    ``RegionMasker(mode='random')``, which now builds this class.

    Args:
        target_ratio (float): fraction of the tokens that are targets, in (0, 1);
            clipped so that at least one token is a target and one is context.
    """

    mode = 'random'

    def __init__(self, target_ratio=0.65):
        super().__init__()
        check_target_ratio(type(self).__name__, target_ratio)
        self.target_ratio = target_ratio

    def extra_repr(self):
        return f'target_ratio={self.target_ratio}'

    def _mask(self, centres):
        B, M, _ = centres.shape
        n = num_targets_total(self.target_ratio, M)
        perm = torch.rand(B, M, device=centres.device).argsort(dim=1)
        target = perm[:, :n].sort(dim=1).values
        context = perm[:, n:].sort(dim=1).values
        return MaskResult(context, target.unsqueeze(1))
