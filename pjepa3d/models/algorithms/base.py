"""What every pjepa3d self-supervised algorithm shares: the mmengine modes and feature extraction."""
from mmengine.model import BaseModel


class BasePointSSL(BaseModel):
    """An mmengine ``BaseModel`` with a ``backbone`` (a ``PointJEPABackbone``) and a ``loss``.

    ``forward(mode='loss')`` -> ``loss()``; ``'tensor'`` -> ``extract_feat()`` (B, 2D);
    ``'predict'`` -> one dict per sample with ``feat`` and, when labels are given, ``gt_label``.
    Subclasses build ``self.backbone`` and implement ``loss(inputs, data_samples)``.
    """

    def forward(self, inputs, data_samples=None, mode='tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.extract_feat(inputs)
        raise RuntimeError(f'{type(self).__name__}: invalid mode {mode!r}; use loss, predict or tensor')

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
