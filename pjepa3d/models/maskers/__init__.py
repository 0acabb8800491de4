from .region_masker import MASK_MODES, MaskResult, RegionMasker

__all__ = ['MASK_MODES', 'MaskResult', 'RegionMasker']
