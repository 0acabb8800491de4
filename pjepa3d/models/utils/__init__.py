from .bn_calibration import calibrate_batchnorm
from .checkpoint import CheckpointKeyError, load_prefixed_weights
from .forward_modes import ForwardModesMixin
from .pooling import max_mean_pool
from .positional_encoding import MLPPosEmbed, SinCos3DPosEmbed, build_pos_embed
from .rankme import centred_effective_rank, effective_rank
from .transformer import Attention, DropPath, TransformerBlock, build_blocks, init_transformer_weights

__all__ = [
    'calibrate_batchnorm', 'CheckpointKeyError', 'load_prefixed_weights', 'ForwardModesMixin', 'max_mean_pool',
    'effective_rank', 'centred_effective_rank', 'MLPPosEmbed', 'SinCos3DPosEmbed', 'build_pos_embed', 'Attention',
    'DropPath', 'TransformerBlock', 'build_blocks', 'init_transformer_weights'
]
