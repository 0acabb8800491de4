from .checks import PointCloudError, validate_points
from .compat import register_checkpoint_safe_globals
from .cpu_heap import (HEAP_ENV, add_keep_heap_argument, heap_note, heap_would_help, keep_heap,
                       keep_heap_as_training, kept_heap_env, wants_kept_heap)

__all__ = ['PointCloudError', 'validate_points', 'register_checkpoint_safe_globals', 'HEAP_ENV', 'heap_would_help',
           'keep_heap', 'wants_kept_heap', 'kept_heap_env', 'heap_note', 'add_keep_heap_argument',
           'keep_heap_as_training']
