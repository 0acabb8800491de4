"""What every pjepa3d self-supervised algorithm shares: the mmengine modes and feature extraction."""
from mmengine.model import BaseModel

from pjepa3d.models.utils import ForwardModesMixin


class BasePointSSL(ForwardModesMixin, BaseModel):
    """An mmengine ``BaseModel`` with a ``backbone`` (a ``PointJEPABackbone``) and a ``loss``.

    ``forward(mode='loss')`` -> ``loss()``; ``'tensor'`` -> ``extract_feat()`` (B, 2D);
    ``'predict'`` -> one dict per sample with ``feat`` and, when labels are given, ``gt_label``.
    Subclasses build ``self.backbone`` and implement ``loss(inputs, data_samples)``.
    """

    def forward_tensor(self, inputs, data_samples=None):
        return self.extract_feat(inputs)

    @staticmethod
    def _points(inputs):
        return inputs['points'] if isinstance(inputs, dict) else inputs

    def extract_feat(self, inputs):
        """Global features (B, 2D) of the online backbone: concat(max, mean) of final-LN tokens."""
        return self.backbone.extract_feat(self._points(inputs))

    def predict(self, inputs, data_samples=None):
        """One dict per sample with ``feat`` (2D,) and, when given, ``gt_label``."""
        feats = self.extract_feat(inputs)
        labels = data_samples.get('label') if isinstance(data_samples, dict) else None
        return [dict(feat=f, **({} if labels is None else dict(gt_label=labels[i]))) for i, f in enumerate(feats)]
