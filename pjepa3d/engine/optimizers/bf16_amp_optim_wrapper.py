"""bfloat16 mixed precision through an optimizer wrapper, on any device (what ``tools/train.py --amp`` uses on CPU).

mmengine 0.10's ``AmpOptimWrapper`` asserts a GPU / NPU / MLU / MUSA when it is built, because its
``GradScaler`` is a CUDA-family object. bfloat16 has float32's exponent range, so it needs no loss scaling, and
``torch.autocast`` runs it on the CPU as well. This wrapper is therefore the ``OptimWrapper`` of mmengine plus an
autocast context in ``optim_context``: the forward pass of ``train_step`` runs under
``torch.autocast(<device of the model>, dtype=torch.bfloat16)``; parameters, gradients and the optimizer state
stay float32 (autocast casts copies of the weights for the ops it lowers).
"""
from contextlib import contextmanager

import torch

from mmengine.optim import OptimWrapper

from pjepa3d.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class BF16AmpOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose ``optim_context`` autocasts the forward pass to bfloat16 on the model's device.

    The OpenMMLab way of turning on mixed precision (an optim wrapper type), for devices where mmengine's
    ``AmpOptimWrapper`` cannot be built (the CPU). On a GPU, ``tools/train.py --amp`` keeps mmengine's
    ``AmpOptimWrapper``; this wrapper works there too (bf16, no loss scaler), if a config selects it.

    Args:
        dtype (str | torch.dtype): the autocast dtype; only ``'bfloat16'`` (no loss scaling is done, so
            float16, whose small range needs a scaler, is refused).
        **kwargs: passed to ``OptimWrapper`` (``optimizer``, ``accumulative_counts``, ``clip_grad``).
    """

    def __init__(self, dtype='bfloat16', **kwargs):
        if isinstance(dtype, str):
            dtype = getattr(torch, dtype, None)
        if dtype is not torch.bfloat16:
            raise ValueError(f'BF16AmpOptimWrapper: dtype must be bfloat16, got {dtype!r}; for float16 use '
                             "mmengine's AmpOptimWrapper (it has the loss scaler float16 needs) on a GPU")
        super().__init__(**kwargs)
        self.cast_dtype = dtype

    @contextmanager
    def optim_context(self, model):
        """mmengine's context (gradient accumulation / DDP no_sync) plus bf16 autocast on the model's device."""
        param = next(model.parameters(), None)
        device_type = param.device.type if param is not None else 'cpu'
        with super().optim_context(model), torch.autocast(device_type=device_type, dtype=self.cast_dtype):
            yield
