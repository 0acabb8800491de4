from .point_jepa_backbone import PointJEPABackbone  # the old name of PointPatchTransformer (same class)
from .point_patch_transformer import PointPatchTransformer
from .point_transformer_encoder import PointTransformerEncoder

__all__ = ['PointJEPABackbone', 'PointPatchTransformer', 'PointTransformerEncoder']
