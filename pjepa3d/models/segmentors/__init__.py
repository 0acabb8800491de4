"""Downstream segmentors built on the pretrained backbone."""
from .point_part_segmentor import PointPartSegmentor

__all__ = ['PointPartSegmentor']
