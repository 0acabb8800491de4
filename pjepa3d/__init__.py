"""pjepa3d: Point-JEPA self-supervised pretraining for point clouds, OpenMMLab style."""
from .version import __version__
from .utils.compat import register_checkpoint_safe_globals

# torch>=2.6 loads checkpoints with weights_only=True; mmengine checkpoints
# carry a few non-tensor objects that must be allow-listed to load at all.
register_checkpoint_safe_globals()

from . import engine  # noqa: E402,F401  (registers EMAHook and the atomic checkpoint backend)

__all__ = ['__version__']
