"""The transferable backbone: tokenizer + positional encoding + Transformer encoder."""
import torch
from mmengine.model import BaseModule

from pjepa3d.registry import MODELS
from pjepa3d.models.utils import build_pos_embed


@MODELS.register_module()
class PointJEPABackbone(BaseModule):
    """Points (B, N, C) -> tokens (B, M, D) after the final LayerNorm, centres (B, M, 3).

    Args:
        tokenizer (dict): a ``PointPatchTokenizer`` config.
        encoder (dict): a ``PointTransformerEncoder`` config.
        pos_embed (str | dict): ``'sincos3d'`` or ``'mlp'`` (or a dict with options).
        init_cfg (dict, optional): e.g. ``dict(type='Pretrained', checkpoint=..., prefix='backbone.')``.
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
