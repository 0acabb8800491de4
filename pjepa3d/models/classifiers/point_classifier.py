"""Object classification: a (pretrained) PointPatchTransformer + a head on its pooled global feature."""
import torch
from mmengine.model import BaseModel

from pjepa3d.models.utils import ForwardModesMixin
from pjepa3d.registry import MODELS


@MODELS.register_module()
class PointClassifier(ForwardModesMixin, BaseModel):
    """Points (B, N, C) -> backbone -> concat(max, mean) of final-LN tokens (B, 2D) -> head -> logits (B, K).

    mmengine modes: ``forward(inputs, data_samples, mode)`` with ``inputs = dict(points=(B, N, C))`` and
    ``data_samples = dict(label=(B,))`` (what ``PackPointInputs`` + ``default_collate`` give):

    * ``'loss'``: ``dict(loss, acc)`` from the head;
    * ``'predict'``: one dict per sample: ``pred_score`` (K,) softmax, ``pred_label`` (), ``gt_label`` ();
    * ``'tensor'``: logits (B, K).

    Args:
        backbone (dict): ``PointPatchTransformer`` config; load pretrained weights with
            ``init_cfg=dict(type='Pretrained', checkpoint=..., prefix='backbone.')``.
        head (dict): ``LinearClsHead`` / ``MLPClsHead`` config.
        frozen_backbone (bool): freeze the backbone for the whole run (linear probe): no gradients,
            kept in eval mode (no drop-path, BN statistics fixed). ``FreezeBackboneHook`` toggles
            the same state for part of a fine-tune.
        test_cfg (dict, optional): ``num_votes`` (1: no voting) and the vote augmentation: each extra
            vote rescales the cloud per axis by U(``vote_scale``) and shifts it by U(-``vote_translate``,
            ``vote_translate``); softmax scores are averaged. Votes draw from a generator seeded with
            ``vote_seed`` at every ``predict`` call, so test runs are repeatable. ``TestVotingHook`` sets
            ``num_votes`` for the test loop only.
        allow_partial_load (bool): the same as the backbone's ``init_cfg.strict=False`` (kept for older
            configs): by default a Pretrained backbone init must fill every backbone tensor (a checkpoint
            of another architecture or size stops with ``CheckpointKeyError`` listing the missing /
            mismatched keys); True accepts a partial load (reported as a warning).
    """

    def __init__(self, backbone, head, frozen_backbone=False, test_cfg=None, allow_partial_load=False,
                 data_preprocessor=None, init_cfg=None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.allow_partial_load = bool(allow_partial_load)
        if self.allow_partial_load and isinstance(backbone.get('init_cfg'), dict):
            backbone = dict(backbone, init_cfg=dict(backbone['init_cfg'], strict=False))
        self.backbone = MODELS.build(backbone)
        self.head = MODELS.build(head)
        test_cfg = dict(test_cfg or {})
        self.num_votes = int(test_cfg.pop('num_votes', 1))
        self.vote_scale = tuple(test_cfg.pop('vote_scale', (2.0 / 3.0, 1.5)))
        self.vote_translate = float(test_cfg.pop('vote_translate', 0.2))
        self.vote_seed = int(test_cfg.pop('vote_seed', 0))
        if test_cfg:
            raise ValueError(f'PointClassifier: unknown test_cfg keys {sorted(test_cfg)}')
        self.always_frozen = bool(frozen_backbone)
        self.backbone_frozen = False
        self.set_backbone_frozen(self.always_frozen)

    def set_backbone_frozen(self, frozen):
        """Freeze (no grad, eval mode) or unfreeze the backbone; a linear probe stays frozen."""
        frozen = bool(frozen) or self.always_frozen
        self.backbone_frozen = frozen
        for p in self.backbone.parameters():
            p.requires_grad_(not frozen)
        self.backbone.train(self.training and not frozen)

    def train(self, mode=True):
        super().train(mode)
        if self.backbone_frozen:
            self.backbone.eval()
        return self

    @staticmethod
    def _points(inputs):
        return inputs['points'] if isinstance(inputs, dict) else inputs

    def extract_feat(self, points):
        """(B, N, C) -> (B, 2D) concat(max, mean) of final-LN tokens."""
        if self.backbone_frozen:
            with torch.no_grad():
                return self.backbone.extract_feat(points)
        return self.backbone.extract_feat(points)

    def forward_tensor(self, inputs, data_samples=None):
        """Class logits (B, num_classes)."""
        return self.head(self.extract_feat(self._points(inputs)))

    def loss(self, inputs, data_samples):
        if not isinstance(data_samples, dict) or 'label' not in data_samples:
            raise ValueError("PointClassifier.loss needs data_samples with 'label' (B,)")
        points = self._points(inputs)
        labels = torch.as_tensor(data_samples['label'], device=points.device).reshape(-1).long()
        return self.head.loss(self.extract_feat(points), labels)

    def _vote_views(self, points, generator):
        """Yield ``num_votes`` views of (B, N, C): the input, then random anisotropic scale + shift of xyz."""
        yield points
        lo, hi = self.vote_scale
        for _ in range(self.num_votes - 1):
            b = points.shape[0]
            scale = torch.rand(b, 1, 3, generator=generator) * (hi - lo) + lo
            shift = (torch.rand(b, 1, 3, generator=generator) * 2 - 1) * self.vote_translate
            view = points.clone()
            view[..., :3] = points[..., :3] * scale.to(points) + shift.to(points)
            yield view

    @torch.no_grad()
    def predict(self, inputs, data_samples=None):
        """One dict per sample: ``pred_score`` (K,), ``pred_label`` (), ``gt_label`` () when labels are given."""
        points = self._points(inputs)
        generator = torch.Generator().manual_seed(self.vote_seed)
        scores = sum(self.head(self.extract_feat(view)).softmax(dim=-1)
                     for view in self._vote_views(points, generator)) / self.num_votes
        labels = data_samples.get('label') if isinstance(data_samples, dict) else None
        out = []
        for i, score in enumerate(scores):
            item = dict(pred_score=score, pred_label=score.argmax())
            if labels is not None:
                item['gt_label'] = torch.as_tensor(labels[i]).reshape(())
            out.append(item)
        return out
