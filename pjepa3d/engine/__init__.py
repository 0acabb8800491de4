"""Registers pjepa3d's hooks, the bf16 optim wrapper, the summary optimizer constructor and the atomic checkpoint
backend; CPU-safe distributed set-up."""
from .atomic_backend import AtomicLocalBackend
from .distributed import adapt_cfg_for_device, has_accelerator, init_cpu_dist
from .hooks import *  # noqa: F401,F403
from .optimizers import BF16AmpOptimWrapper, SummaryOptimWrapperConstructor  # noqa: F401
