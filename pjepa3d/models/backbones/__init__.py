from .point_jepa_backbone import PointJEPABackbone
from .point_transformer_encoder import PointTransformerEncoder

__all__ = ['PointJEPABackbone', 'PointTransformerEncoder']
