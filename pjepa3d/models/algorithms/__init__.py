from .point_jepa import EMA_SCOPES, PointJEPA

__all__ = ['EMA_SCOPES', 'PointJEPA']
