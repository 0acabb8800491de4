"""Downstream segmentors built on the pretrained backbone."""
from .point_part_segmentor import PointPartSegmentor, idw_weights, propagate_features

__all__ = ['PointPartSegmentor', 'idw_weights', 'propagate_features']
