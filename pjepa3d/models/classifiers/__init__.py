from .point_classifier import PointClassifier

__all__ = ['PointClassifier']
