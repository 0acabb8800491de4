"""The JEPA predictor: context tokens + target positions -> predicted target-token features."""
import torch
import torch.nn as nn

from pjepa3d.models.utils import build_blocks, build_pos_embed, init_transformer_weights
from pjepa3d.registry import MODELS


@MODELS.register_module()
class JEPAPredictor(nn.Module):
    """Narrow Transformer that predicts target tokens from context tokens and target positions.

    All K target blocks go through in ONE pass: the context is repeated per block
    along the batch, so each block's queries see the context and their own block
    only (the same maths as one pass per block, as in I-JEPA).

    Args:
        in_dims (int): D, encoder width.
        embed_dims (int): D_p, predictor width (the bottleneck).
        depth (int): L_p blocks.
        pos_embed (str | dict): positional encoding of centres in D_p dims.
        query_noise (float): in training, Gaussian noise of this std (in the centres' units: clouds are
            normalised to the unit sphere) added to the target centres before their positional encoding,
            so a prediction cannot rest on a target's exact position; eval mode never adds it. 0 (default):
            none (I-JEPA, the notes and the authors' code).
    """

    def __init__(self, in_dims=384, embed_dims=192, depth=6, num_heads=6, mlp_ratio=4.0, qkv_bias=True,
                 drop_path_rate=0.0, pos_embed='sincos3d', query_noise=0.0):
        super().__init__()
        if not query_noise >= 0:
            raise ValueError(f'JEPAPredictor: query_noise must be >= 0 (a std), got {query_noise}')
        self.query_noise = float(query_noise)
        self.proj_in = nn.Linear(in_dims, embed_dims)
        self.mask_token = nn.Parameter(torch.zeros(embed_dims))
        self.pos_embed = build_pos_embed(pos_embed, embed_dims)
        self.blocks = build_blocks(embed_dims, depth, num_heads, mlp_ratio, qkv_bias, drop_path_rate=drop_path_rate)
        self.norm = nn.LayerNorm(embed_dims, eps=1e-6)
        self.proj_out = nn.Linear(embed_dims, in_dims)
        init_transformer_weights(self)
        nn.init.trunc_normal_(self.mask_token, std=0.02)

    def forward(self, ctx_feats, ctx_centres, tgt_centres, tgt_valid=None):
        """ctx_feats (B, Nc, D), ctx_centres (B, Nc, 3), tgt_centres (B, K, Nt, 3),
        tgt_valid (B, K, Nt) bool or None -> predictions (B, K, Nt, D)."""
        B, Nc, _ = ctx_feats.shape
        _, K, Nt, _ = tgt_centres.shape
        ctx = self.proj_in(ctx_feats) + self.pos_embed(ctx_centres)
        ctx = ctx.unsqueeze(1).expand(-1, K, -1, -1).reshape(B * K, Nc, -1)
        if self.training and self.query_noise > 0:
            tgt_centres = tgt_centres + self.query_noise * torch.randn_like(tgt_centres)
        queries = (self.mask_token + self.pos_embed(tgt_centres)).reshape(B * K, Nt, -1)
        x = torch.cat([ctx, queries], dim=1)
        attn_mask = None
        if tgt_valid is not None:  # padded query slots are never attended to
            keys = torch.cat([tgt_valid.new_ones(B * K, Nc), tgt_valid.reshape(B * K, Nt)], dim=1)
            attn_mask = keys[:, None, None, :]
        for block in self.blocks:
            x = block(x, attn_mask)
        return self.proj_out(self.norm(x[:, Nc:])).view(B, K, Nt, -1)
