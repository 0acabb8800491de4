"""What every pjepa3d self-supervised algorithm shares: the mmengine modes and feature extraction."""
from mmengine.model import BaseModel

from pjepa3d.models.utils import ForwardModesMixin


class BasePointSSL(ForwardModesMixin, BaseModel):
    """An mmengine ``BaseModel`` with a ``backbone`` (a ``PointPatchTransformer``) and a ``loss``.

    ``forward(mode='loss')`` -> ``loss()``; ``'tensor'`` -> ``extract_feat()`` (B, 2D);
    ``'predict'`` -> one dict per sample with ``feat`` and, when given, ``gt_label`` / ``probe_split``.
    Subclasses build ``self.backbone`` and implement ``loss(inputs, data_samples)``.
    """

    #: ``data_samples`` keys passed through to every prediction (``label`` is renamed ``gt_label``).
    PASSTHROUGH_KEYS = (('label', 'gt_label'), ('probe_split', 'probe_split'))

    def forward_tensor(self, inputs, data_samples=None):
        return self.extract_feat(inputs)

    @staticmethod
    def _points(inputs):
        return inputs['points'] if isinstance(inputs, dict) else inputs

    def extract_feat(self, inputs):
        """Global features (B, 2D) of the online backbone: concat(max, mean) of final-LN tokens."""
        return self.backbone.extract_feat(self._points(inputs))

    def predict_feats(self, inputs):
        """Features the ``'predict'`` mode returns, ``{name: (B, F)}``; here ``feat`` (online backbone).
        Subclasses add more (``PointJEPA``: ``feat_target``); ``SVMProbeMetric`` probes every one."""
        return dict(feat=self.extract_feat(inputs))

    def predict(self, inputs, data_samples=None):
        """One dict per sample with the :meth:`predict_feats` features (``feat`` (2D,), ...) and, when
        ``data_samples`` carries them, ``gt_label`` and ``probe_split`` (0 fit / 1 score, set by
        ``ProbeDataset``)."""
        feats = self.predict_feats(inputs)
        given = data_samples if isinstance(data_samples, dict) else {}
        extra = {out: given[key] for key, out in self.PASSTHROUGH_KEYS if given.get(key) is not None}
        num = len(next(iter(feats.values())))
        return [dict({name: f[i] for name, f in feats.items()}, **{k: v[i] for k, v in extra.items()})
                for i in range(num)]
