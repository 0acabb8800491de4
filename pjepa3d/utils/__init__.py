from .checks import PointCloudError, validate_points
from .compat import register_checkpoint_safe_globals
from .cpu_heap import HEAP_ENV, heap_would_help, keep_heap, wants_kept_heap

__all__ = ['PointCloudError', 'validate_points', 'register_checkpoint_safe_globals', 'HEAP_ENV', 'heap_would_help',
           'keep_heap', 'wants_kept_heap']
