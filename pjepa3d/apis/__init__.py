"""High-level entry points, as mmpretrain's / mmdet3d's ``apis``: build a model from a config and a
checkpoint, and get features of point clouds given as arrays or files."""
from .inference import FeatureExtractor, inference_features, init_model, load_config, prepare_cloud

__all__ = ['FeatureExtractor', 'inference_features', 'init_model', 'load_config', 'prepare_cloud']
