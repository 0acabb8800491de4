"""Reference implementations the tests and benchmarks compare pjepa3d against (not used by models)."""
from .legacy_maskers import LegacyRegionMasker

__all__ = ['LegacyRegionMasker']
