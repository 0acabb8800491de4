"""Compatibility fixes for the torch / mmengine versions pjepa3d supports."""
import torch


def register_checkpoint_safe_globals():
    """Allow-list the objects mmengine 0.10 writes into checkpoints.

    torch>=2.6 defaults ``torch.load`` to ``weights_only=True``; mmengine's
    ``meta.message_hub`` holds ``HistoryBuffer`` objects and numpy arrays and
    scalars, so ``--resume`` / ``load_from`` fail with "Unsupported global"
    unless these types are registered as safe.
    """
    add_safe_globals = getattr(torch.serialization, 'add_safe_globals', None)
    if add_safe_globals is None:  # torch < 2.4 loads everything anyway
        return
    import numpy as np
    from mmengine.logging.history_buffer import HistoryBuffer

    safe = [HistoryBuffer, np.ndarray, np.dtype]
    try:  # numpy >= 1.25 / 2.x
        from numpy.core.multiarray import _reconstruct, scalar
    except ImportError:  # pragma: no cover
        from numpy._core.multiarray import _reconstruct, scalar
    safe += [_reconstruct, scalar]
    safe += [type(np.dtype(t)) for t in ('float64', 'float32', 'float16', 'int64', 'int32', 'int8', 'uint8', 'bool')]
    add_safe_globals(safe)
