from .jepa_head import LOSS_TYPES, JEPAHead, JEPAPredictor

__all__ = ['LOSS_TYPES', 'JEPAHead', 'JEPAPredictor']
