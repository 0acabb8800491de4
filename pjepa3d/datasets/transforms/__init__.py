"""Point-cloud transforms (mmcv-free): plain callables ``results -> results`` registered in TRANSFORMS."""
from .formatting import PackPointInputs
from .geometric import NormalizeUnitSphere, RandomJitter, RandomRotate, RandomScale
from .point_sample import PointSample

__all__ = ['PointSample', 'NormalizeUnitSphere', 'RandomScale', 'RandomRotate', 'RandomJitter', 'PackPointInputs']
from .formatting_seg import PackPartSegInputs

__all__ += ['PackPartSegInputs']
