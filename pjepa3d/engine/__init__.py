"""Registers hooks (and the CPU-safe distributed helpers) of pjepa3d.engine."""
from .hooks import *  # noqa: F401,F403
