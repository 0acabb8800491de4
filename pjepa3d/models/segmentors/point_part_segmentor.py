"""Part segmentation on the pretrained patch Transformer (ShapeNetPart protocol)."""
import torch
from mmengine.model import BaseModel

from pjepa3d.models.utils import ForwardModesMixin, max_mean_pool
from pjepa3d.ops import three_interpolate
from pjepa3d.registry import MODELS


def _default_category_parts():
    from pjepa3d.datasets.shapenet_part import CATEGORY_PARTS
    return CATEGORY_PARTS


@MODELS.register_module()
class PointPartSegmentor(ForwardModesMixin, BaseModel):
    """Backbone -> hidden tokens of ``feature_blocks`` -> propagated to every point -> :class:`PartSegHead`.

    The tokens of the chosen blocks (each after the encoder's final LayerNorm) are fused (mean or
    concat) into (B, M, C); the global feature is concat(max, mean) over tokens (B, 2C); per-point
    features come from the patch centres by inverse-distance weighting over ``interp_k`` nearest
    centres. The head adds the category embedding and predicts ``num_parts`` logits per point.

    ``forward(mode='loss')`` -> ``dict(loss, acc)`` (cross-entropy over all parts; ``acc`` = point
    accuracy, logged only); ``'predict'`` -> one dict per shape with ``pred_pts_seg`` LongTensor (N,)
    (argmax restricted to the parts of the shape's category, the community convention),
    ``pts_semantic_mask`` (ground truth, if given), ``category``, ``sample_idx``; ``'tensor'`` ->
    logits (B, N, num_parts).

    Inputs: ``inputs['points']`` (B, N, C) with xyz in channels 0-2; ``data_samples['category']`` (B,)
    (needed in every mode: the class label is a model input) and ``data_samples['pts_semantic_mask']``
    (B, N) for the loss.

    Args:
        backbone (dict): a ``PointPatchTransformer`` config (``init_cfg`` with a ``Pretrained`` checkpoint).
        head (dict): a ``PartSegHead`` config; ``in_channels`` / ``global_channels`` / ``num_parts`` /
            ``num_categories`` are filled in when absent.
        feature_blocks (tuple[int]): 1-based encoder block numbers whose outputs are used; (4, 8, 12)
            for a 12-block encoder (the authors' 0-based ``[3, 7, 11]``).
        fuse (str): 'mean' (average the blocks' tokens, the Point-JEPA authors' code) or 'concat'
            (Point-MAE).
        num_categories (int), num_parts (int): 16 and 50 for ShapeNetPart.
        category_parts (list[list[int]], optional): category index -> its global part ids; default the
            ShapeNetPart table.
        interp_k (int): nearest centres used by the propagation.
        allow_partial_load (bool): the same as the backbone's ``init_cfg.strict=False`` (kept for older
            configs): by default a ``Pretrained`` backbone must be filled completely (a checkpoint of
            another size or depth stops with ``CheckpointKeyError`` naming the missing / mismatched keys);
            True accepts a partial load (logged as a warning).
    """

    FUSE = ('mean', 'concat')

    def __init__(self, backbone, head, feature_blocks=(4, 8, 12), fuse='mean', num_categories=16, num_parts=50,
                 category_parts=None, interp_k=3, allow_partial_load=False, data_preprocessor=None, init_cfg=None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.allow_partial_load = bool(allow_partial_load)
        if self.allow_partial_load and isinstance(backbone.get('init_cfg'), dict):
            backbone = dict(backbone, init_cfg=dict(backbone['init_cfg'], strict=False))
        if fuse not in self.FUSE:
            raise ValueError(f'PointPartSegmentor: fuse must be one of {self.FUSE}, got {fuse!r}')
        self.backbone = MODELS.build(backbone)
        depth = len(self.backbone.encoder.blocks)
        blocks = tuple(int(b) for b in feature_blocks)
        if not blocks or len(set(blocks)) != len(blocks) or min(blocks) < 1 or max(blocks) > depth:
            raise ValueError(f'PointPartSegmentor: feature_blocks must be distinct 1-based block numbers in '
                             f'1..{depth} (the encoder depth), got {feature_blocks}')
        self.feature_blocks = tuple(sorted(blocks))
        self.fuse = fuse
        self.interp_k = int(interp_k)
        self.num_categories = int(num_categories)
        self.num_parts = int(num_parts)
        dims = self.backbone.embed_dims * (len(blocks) if fuse == 'concat' else 1)
        head = dict(head)
        for key, value in dict(in_channels=dims, global_channels=2 * dims, num_parts=self.num_parts,
                               num_categories=self.num_categories).items():
            if head.get(key) is None:
                head[key] = value
            elif head[key] != value:
                raise ValueError(f'PointPartSegmentor: head.{key}={head[key]} but the segmentor gives {value} '
                                 f'(leave it unset to fill it in)')
        self.head = MODELS.build(head)
        parts = _default_category_parts() if category_parts is None else category_parts
        if len(parts) != self.num_categories:
            raise ValueError(f'PointPartSegmentor: category_parts has {len(parts)} categories, '
                             f'num_categories is {self.num_categories}')
        mask = torch.zeros(self.num_categories, self.num_parts, dtype=torch.bool)
        for cat, ids in enumerate(parts):
            if not len(ids) or min(ids) < 0 or max(ids) >= self.num_parts:
                raise ValueError(f'PointPartSegmentor: category {cat} has part ids {list(ids)} outside '
                                 f'0..{self.num_parts - 1}')
            mask[cat, list(ids)] = True
        self.register_buffer('category_part_mask', mask, persistent=False)  # (num_categories, num_parts)

    # ---------------------------------------------------------------- features
    @staticmethod
    def _points(inputs):
        return inputs['points'] if isinstance(inputs, dict) else inputs

    def _category(self, data_samples):
        if not isinstance(data_samples, dict) or data_samples.get('category') is None:
            raise ValueError(f"{type(self).__name__}: data_samples['category'] (B,) is required: the shape's "
                             'category is an input of the part-segmentation head (pack with PackPartSegInputs)')
        return torch.as_tensor(data_samples['category']).long().reshape(-1)

    def extract_feat(self, points):
        """points (B, N, C) -> point features (B, N, F), global features (B, 2F)."""
        _, centres, hidden = self.backbone(points, out_indices=self.feature_blocks)  # BackboneOutput
        if len(hidden) != len(self.feature_blocks):
            raise RuntimeError(f'{type(self).__name__}: asked the encoder for blocks {self.feature_blocks}, '
                               f'got {len(hidden)} outputs')
        tokens = torch.stack(hidden).mean(0) if self.fuse == 'mean' else torch.cat(hidden, dim=-1)  # (B, M, F)
        global_feats = max_mean_pool(tokens)
        return three_interpolate(points[..., :3], centres, tokens, self.interp_k), global_feats

    def _logits(self, inputs, data_samples):
        points = self._points(inputs)
        category = self._category(data_samples).to(points.device)
        if category.numel() != points.shape[0]:
            raise ValueError(f'{type(self).__name__}: {category.numel()} categories for {points.shape[0]} clouds')
        point_feats, global_feats = self.extract_feat(points)
        return self.head(point_feats, points[..., :3], global_feats, category), category

    # ---------------------------------------------------------------- modes
    def forward_tensor(self, inputs, data_samples=None):
        """Per-point part logits (B, N, num_parts)."""
        return self._logits(inputs, data_samples)[0]

    def loss(self, inputs, data_samples):
        """dict(loss=cross-entropy, acc=point accuracy in % (not optimised))."""
        if not isinstance(data_samples, dict) or data_samples.get('pts_semantic_mask') is None:
            raise ValueError(f"{type(self).__name__}: the loss needs data_samples['pts_semantic_mask'] (B, N)")
        logits, _ = self._logits(inputs, data_samples)
        target = data_samples['pts_semantic_mask'].to(logits.device).long()
        if target.shape != logits.shape[:2]:
            raise ValueError(f'{type(self).__name__}: pts_semantic_mask has shape {tuple(target.shape)}, '
                             f'expected {tuple(logits.shape[:2])}')
        with torch.no_grad():
            acc = (logits.argmax(-1) == target).float().mean() * 100
        return dict(loss=self.head.loss(logits, target), acc=acc)

    def predict_parts(self, logits, category):
        """Argmax over the parts of each shape's category: logits (B, N, P), category (B,) -> (B, N) part ids."""
        allowed = self.category_part_mask[category].unsqueeze(1)  # (B, 1, P)
        return logits.masked_fill(~allowed, float('-inf')).argmax(dim=-1)

    def predict(self, inputs, data_samples=None):
        """One dict per shape: ``pred_pts_seg`` (N,), ``category``, ``sample_idx`` [, ``pts_semantic_mask``]."""
        logits, category = self._logits(inputs, data_samples)
        pred = self.predict_parts(logits, category)
        gt = data_samples.get('pts_semantic_mask')
        idx = data_samples.get('sample_idx')
        out = []
        for i in range(len(pred)):
            sample = dict(pred_pts_seg=pred[i], category=int(category[i]),
                          sample_idx=int(idx[i]) if idx is not None else i)
            if gt is not None:
                sample['pts_semantic_mask'] = gt[i]
            out.append(sample)
        return out
