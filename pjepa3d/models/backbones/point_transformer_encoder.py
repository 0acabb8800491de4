"""The ViT over patch tokens: pre-LN blocks, positional encoding added at the input or at every block."""
import torch.nn as nn

from pjepa3d.registry import MODELS
from pjepa3d.models.utils import build_blocks, init_transformer_weights


@MODELS.register_module()
class PointTransformerEncoder(nn.Module):
    """(B, L, D) tokens + (B, L, D) positional encodings -> (B, L, D) features.

    Args:
        embed_dims (int): D.
        depth (int): number of blocks.
        num_heads (int): attention heads.
        mlp_ratio (float): MLP hidden width / D.
        drop_path_rate (float): stochastic depth of the last block (linear from 0).
        pos_every_block (bool): add the positional encoding before every block
            (the authors' code) instead of only at the input (the notes).
        final_norm (bool): LayerNorm on the output.
    """

    def __init__(self, embed_dims=384, depth=12, num_heads=6, mlp_ratio=4.0, qkv_bias=True, drop_rate=0.0,
                 attn_drop_rate=0.0, drop_path_rate=0.1, pos_every_block=False, final_norm=True):
        super().__init__()
        self.embed_dims = embed_dims
        self.depth = depth
        self.pos_every_block = pos_every_block
        self.blocks = build_blocks(embed_dims, depth, num_heads, mlp_ratio, qkv_bias, drop_rate, attn_drop_rate,
                                   drop_path_rate)
        self.norm = nn.LayerNorm(embed_dims, eps=1e-6) if final_norm else nn.Identity()
        init_transformer_weights(self)

    def forward(self, x, pos, out_indices=None):
        """Encode; with ``out_indices`` (block numbers, 1-based, e.g. (4, 8, 12)) also
        return those blocks' outputs, each passed through the final norm.

        Returns:
            Tensor (B, L, D), or (Tensor, list of Tensor) with ``out_indices``.
        """
        hidden = []
        for i, block in enumerate(self.blocks, start=1):
            x = block(x + pos if (self.pos_every_block or i == 1) else x)
            if out_indices is not None and i in out_indices:
                hidden.append(self.norm(x))
        x = self.norm(x)
        return x if out_indices is None else (x, hidden)
