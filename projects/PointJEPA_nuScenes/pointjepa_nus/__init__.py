"""Point-JEPA on nuScenes: LiDAR pretraining dataset (pjepa3d registry, no mmdet3d needed).

The detection parts (the pillar encoder in mmdet3d's MODELS, the label-fraction dataset in mmdet3d's
DATASETS) live in :mod:`.detection`, which needs mmcv / mmdet / mmdet3d: the detection configs import it
through ``custom_imports``.
"""
from .nus_lidar_dataset import NUS_POINT_CLOUD_RANGE, NuScenesLidarPretrain, crop_to_range, read_scan

__all__ = ['NuScenesLidarPretrain', 'NUS_POINT_CLOUD_RANGE', 'read_scan', 'crop_to_range']
