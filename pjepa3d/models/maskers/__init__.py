from .base import MASK_MODES, BaseMasker, MaskResult
from .random_masker import RandomMasker
from .region_masker import RegionMasker
from .sequence_masker import SequenceMasker

__all__ = ['MASK_MODES', 'BaseMasker', 'MaskResult', 'RandomMasker', 'RegionMasker', 'SequenceMasker']
