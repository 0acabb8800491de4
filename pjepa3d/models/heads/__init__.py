from .jepa_head import LOSS_TYPES, JEPAHead, JEPAPredictor

__all__ = ['LOSS_TYPES', 'JEPAHead', 'JEPAPredictor']
from .mae_head import MAEDecoder, MAEHead

__all__ += ['MAEDecoder', 'MAEHead']
from .part_seg_head import PartSegHead

__all__ += ['PartSegHead']
from .cls_head import LinearClsHead, MLPClsHead

__all__ += ['LinearClsHead', 'MLPClsHead']
