"""Datasets (registered in DATASETS) and transforms (registered in TRANSFORMS)."""
from .base_point_dataset import BasePointDataset
from .modelnet40 import MODELNET40_CLASSES, ModelNet40
from .shapenet55 import ShapeNet55
from .synthetic_shapes import SyntheticShapes
from .transforms import (NormalizeUnitSphere, PackPointInputs, PointSample, RandomJitter, RandomRotate,
                         RandomScale)

__all__ = ['BasePointDataset', 'ModelNet40', 'MODELNET40_CLASSES', 'ShapeNet55', 'SyntheticShapes', 'PointSample',
           'NormalizeUnitSphere', 'RandomScale', 'RandomRotate', 'RandomJitter', 'PackPointInputs']
