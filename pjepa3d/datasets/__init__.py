"""Datasets (registered in DATASETS) and transforms (registered in TRANSFORMS)."""
from .base_point_dataset import BasePointDataset
from .modelnet10 import MODELNET10_CLASSES, ModelNet10
from .modelnet40 import MODELNET40_CLASSES, ModelNet40
from .modelnet_fewshot import ModelNetFewShot
from .scanobjectnn import SCANOBJECTNN_CLASSES, SCANOBJECTNN_VARIANTS, ScanObjectNN
from .shapenet55 import ShapeNet55
from .splits import carve_val_split, label_fraction_indices, load_index_file, save_index_file
from .synthetic_shapes import SyntheticShapes
from .transforms import (NormalizeUnitSphere, PackPointInputs, PointSample, RandomJitter, RandomRotate,
                         RandomScale)

__all__ = ['BasePointDataset', 'ModelNet10', 'MODELNET10_CLASSES', 'ModelNet40', 'MODELNET40_CLASSES', 'ShapeNet55', 'SyntheticShapes', 'PointSample',
           'NormalizeUnitSphere', 'RandomScale', 'RandomRotate', 'RandomJitter', 'PackPointInputs']
from .shapenet_part import CATEGORY_NAMES as SHAPENETPART_CATEGORY_NAMES
from .shapenet_part import CATEGORY_PARTS as SHAPENETPART_CATEGORY_PARTS
from .shapenet_part import ShapeNetPart

__all__ += ['ShapeNetPart', 'SHAPENETPART_CATEGORY_NAMES', 'SHAPENETPART_CATEGORY_PARTS']
__all__ += ['ModelNetFewShot', 'ScanObjectNN', 'SCANOBJECTNN_CLASSES', 'SCANOBJECTNN_VARIANTS', 'carve_val_split',
            'label_fraction_indices', 'load_index_file', 'save_index_file']
from .probe_dataset import ProbeDataset

__all__ += ['ProbeDataset']
