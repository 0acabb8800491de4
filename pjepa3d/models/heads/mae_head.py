"""Point-MAE decoder + reconstruction loss: visible tokens -> the masked patches' points."""
import torch
import torch.nn as nn

from pjepa3d.models.utils import build_blocks, build_pos_embed, init_transformer_weights
from pjepa3d.registry import MODELS


@MODELS.register_module()
class MAEDecoder(nn.Module):
    """Light Transformer over visible tokens + one mask token per masked patch.

    Args:
        in_dims (int): D, encoder width.
        embed_dims (int): decoder width.
        depth (int): decoder blocks.
        group_size (int): k, points reconstructed per masked patch.
        out_channels (int): values per reconstructed point (3: centre-relative xyz).
        pos_embed (str | dict): positional encoding of centres in decoder width,
            added before every block (as Point-MAE's decoder).
    """

    def __init__(self, in_dims=384, embed_dims=384, depth=4, num_heads=6, mlp_ratio=4.0, qkv_bias=True,
                 drop_path_rate=0.0, group_size=32, out_channels=3, pos_embed='sincos3d'):
        super().__init__()
        self.group_size = group_size
        self.out_channels = out_channels
        self.proj_in = nn.Linear(in_dims, embed_dims) if in_dims != embed_dims else nn.Identity()
        self.mask_token = nn.Parameter(torch.zeros(embed_dims))
        self.pos_embed = build_pos_embed(pos_embed, embed_dims)
        self.blocks = build_blocks(embed_dims, depth, num_heads, mlp_ratio, qkv_bias, drop_path_rate=drop_path_rate)
        self.norm = nn.LayerNorm(embed_dims, eps=1e-6)
        self.proj_out = nn.Linear(embed_dims, group_size * out_channels)
        init_transformer_weights(self)
        nn.init.trunc_normal_(self.mask_token, std=0.02)

    def forward(self, vis_feats, vis_centres, mask_centres, mask_valid=None):
        """vis_feats (B, Nv, D), vis_centres (B, Nv, 3), mask_centres (B, Nm, 3),
        mask_valid (B, Nm) bool or None (False = padding, never attended to)
        -> points (B, Nm, k, out_channels), relative to each masked centre."""
        B, Nv, _ = vis_feats.shape
        Nm = mask_centres.shape[1]
        x = torch.cat([self.proj_in(vis_feats), self.mask_token.expand(B, Nm, -1)], dim=1)
        pos = self.pos_embed(torch.cat([vis_centres, mask_centres], dim=1))
        attn_mask = None
        if mask_valid is not None:
            attn_mask = torch.cat([mask_valid.new_ones(B, Nv), mask_valid], dim=1)[:, None, None, :]
        for block in self.blocks:
            x = block(x + pos, attn_mask)
        out = self.proj_out(self.norm(x[:, Nv:]))
        return out.view(B, Nm, self.group_size, self.out_channels)


@MODELS.register_module()
class MAEHead(nn.Module):
    """Decoder and the reconstruction loss of each masked patch (Chamfer-L2 by default).

    Args:
        decoder (dict): an ``MAEDecoder`` config.
        loss (dict): a loss config called as ``loss(pred, target, weight)``.
    """

    def __init__(self, decoder, loss=dict(type='ChamferL2Loss')):
        super().__init__()
        self.decoder = MODELS.build(decoder)
        self.loss_fn = MODELS.build(loss)

    def loss(self, vis_feats, vis_centres, mask_centres, target_points, mask_valid=None):
        """target_points (B, Nm, k, 3) centre-relative -> (loss scalar, reconstruction (B, Nm, k, 3))."""
        pred = self.decoder(vis_feats, vis_centres, mask_centres, mask_valid)
        return self.loss_fn(pred, target_points, mask_valid), pred
