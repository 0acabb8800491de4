from .positional_encoding import MLPPosEmbed, SinCos3DPosEmbed, build_pos_embed
from .rankme import effective_rank
from .transformer import Attention, DropPath, TransformerBlock, build_blocks, init_transformer_weights

__all__ = ['effective_rank', 'MLPPosEmbed', 'SinCos3DPosEmbed', 'build_pos_embed', 'Attention', 'DropPath', 'TransformerBlock',
           'build_blocks', 'init_transformer_weights']
