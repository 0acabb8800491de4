from .point_jepa import EMA_SCOPES, PointJEPA

__all__ = ['EMA_SCOPES', 'PointJEPA']
from .point_mae import PointMAE

__all__ += ['PointMAE']
