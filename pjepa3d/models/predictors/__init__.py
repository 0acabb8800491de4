from .jepa_predictor import JEPAPredictor

__all__ = ['JEPAPredictor']
