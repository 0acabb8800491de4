from .checks import PointCloudError, validate_points
from .compat import register_checkpoint_safe_globals

__all__ = ['PointCloudError', 'validate_points', 'register_checkpoint_safe_globals']
