"""Registers pjepa3d's hooks and the atomic checkpoint backend."""
from .atomic_backend import AtomicLocalBackend
from .hooks import *  # noqa: F401,F403
