"""The transferable backbone: tokenizer + positional encoding + Transformer encoder."""
import torch
from mmengine.model import BaseModule

from mmengine.logging import MMLogger

from pjepa3d.registry import MODELS
from pjepa3d.models.utils import CheckpointKeyError, build_pos_embed, load_prefixed_weights


@MODELS.register_module()
class PointJEPABackbone(BaseModule):
    """Points (B, N, C) -> tokens (B, M, D) after the final LayerNorm, centres (B, M, 3).

    Args:
        tokenizer (dict): a ``PointPatchTokenizer`` config.
        encoder (dict): a ``PointTransformerEncoder`` config.
        pos_embed (str | dict): ``'sincos3d'`` or ``'mlp'`` (or a dict with options).
        init_cfg (dict, optional): e.g. ``dict(type='Pretrained', checkpoint=..., prefix='backbone.')``.
            A ``Pretrained`` init loads through :func:`load_prefixed_weights`: it logs loaded / missing /
            unexpected keys and raises ``CheckpointKeyError`` when the prefix matches nothing, and, unless
            the init_cfg says ``strict=False``, when the checkpoint leaves a backbone tensor unfilled or holds
            one the backbone lacks. An empty ``checkpoint`` is an error too (set it, or ``init_cfg=None``
            for a scratch run).
    """

    def __init__(self, tokenizer, encoder, pos_embed='sincos3d', init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.tokenizer = MODELS.build(tokenizer)
        self.encoder = MODELS.build(encoder)
        if self.tokenizer.embed_dims != self.encoder.embed_dims:
            raise ValueError(f'tokenizer embed_dims {self.tokenizer.embed_dims} != encoder embed_dims '
                             f'{self.encoder.embed_dims}')
        self.pos_embed = build_pos_embed(pos_embed, self.encoder.embed_dims)
        self.embed_dims = self.encoder.embed_dims

    def init_weights(self):
        """Default init, or load a pretrained checkpoint loudly (see the class docstring)."""
        cfg = self.init_cfg
        if not (isinstance(cfg, dict) and cfg.get('type') == 'Pretrained'):
            super().init_weights()
            return
        if not cfg.get('checkpoint'):
            raise ValueError(f"{type(self).__name__}: init_cfg is Pretrained but checkpoint is empty; pass "
                             "--cfg-options model.backbone.init_cfg.checkpoint=PRETRAIN.pth, or set "
                             "model.backbone.init_cfg=None to train from scratch")
        report = load_prefixed_weights(self, cfg['checkpoint'], prefix=cfg.get('prefix', ''),
                                       logger=MMLogger.get_current_instance())
        if cfg.get('strict', True) and (report['missing'] or report['unexpected']):
            raise CheckpointKeyError(
                f"{type(self).__name__}: the pretrained checkpoint does not fit the backbone (another size or depth?): "
                f"{report['report']}. Match the backbone to the pretraining config, or set "
                "init_cfg.strict=False to accept a partial load.")
        self._is_init = True

    def forward(self, points, out_indices=None):
        """(B, N, C) -> tokens (B, M, D), centres (B, M, 3) [, hidden list with ``out_indices``]."""
        tokens, centres = self.tokenizer(points)
        out = self.encoder(tokens, self.pos_embed(centres), out_indices=out_indices)
        if out_indices is None:
            return out, centres
        return out[0], centres, out[1]

    def extract_feat(self, points):
        """Global feature (B, 2D): concat(max-pool, mean-pool) of the final-LN tokens."""
        tokens, _ = self(points)
        return torch.cat([tokens.amax(dim=1), tokens.mean(dim=1)], dim=-1)
