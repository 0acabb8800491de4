"""3D positional encodings of patch centres: (B, M, 3) -> (B, M, D)."""
import math

import torch
import torch.nn as nn

from pjepa3d.registry import MODELS


@MODELS.register_module()
class SinCos3DPosEmbed(nn.Module):
    """Fixed per-axis sine/cosine features, D/3 dims per axis (notes sec. 4.7).

    Each axis gets F = D // 6 frequencies in geometric progression from 1 down
    to 1/``temperature``, applied to ``scale * coordinate``; leftover dims
    (D not divisible by 6) are zero. ``scale`` sets the finest resolution in
    input units: 50 suits unit-sphere objects, 1-2 suits scenes in metres.
    """

    def __init__(self, embed_dims, scale=50.0, temperature=10000.0):
        super().__init__()
        self.embed_dims = embed_dims
        self.scale = scale
        num_freqs = embed_dims // 6
        if num_freqs == 0:
            raise ValueError(f'sincos3d needs embed_dims >= 6, got {embed_dims}')
        freqs = torch.exp(-math.log(temperature) * torch.arange(num_freqs) / num_freqs)
        self.register_buffer('freqs', freqs, persistent=False)

    def forward(self, centres):
        angles = (centres.float() * self.scale).unsqueeze(-1) * self.freqs  # (B, M, 3, F)
        pe = torch.cat([angles.sin(), angles.cos()], dim=-1).flatten(-2)  # (B, M, 6F)
        pad = self.embed_dims - pe.shape[-1]
        if pad:
            pe = torch.nn.functional.pad(pe, (0, pad))
        return pe.to(centres.dtype)


@MODELS.register_module()
class MLPPosEmbed(nn.Module):
    """Learned 3 -> hidden -> GELU -> D embedding (the Point-JEPA authors' code)."""

    def __init__(self, embed_dims, hidden_dims=128):
        super().__init__()
        self.embed_dims = embed_dims
        self.mlp = nn.Sequential(nn.Linear(3, hidden_dims), nn.GELU(), nn.Linear(hidden_dims, embed_dims))

    def forward(self, centres):
        return self.mlp(centres)


POS_EMBED_TYPES = {'sincos3d': SinCos3DPosEmbed, 'mlp': MLPPosEmbed}


def build_pos_embed(cfg, embed_dims):
    """Build a positional encoding from ``'sincos3d'`` / ``'mlp'`` or a dict with that ``type`` and options."""
    cfg = dict(type=cfg) if isinstance(cfg, str) else dict(cfg)
    kind = cfg.pop('type')
    if kind not in POS_EMBED_TYPES:
        raise ValueError(f'unknown positional encoding {kind!r}; choose one of {sorted(POS_EMBED_TYPES)}')
    cfg.setdefault('embed_dims', embed_dims)
    return POS_EMBED_TYPES[kind](**cfg)
