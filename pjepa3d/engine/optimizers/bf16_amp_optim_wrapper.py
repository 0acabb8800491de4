"""bfloat16 mixed precision through an optimizer wrapper, on any device (what ``tools/train.py --amp`` uses on CPU).

mmengine 0.10's ``AmpOptimWrapper`` asserts a GPU / NPU / MLU / MUSA when it is built, because its
``GradScaler`` is a CUDA-family object. bfloat16 has float32's exponent range, so it needs no loss scaling, and
``torch.autocast`` runs it on the CPU as well. This wrapper is therefore the ``OptimWrapper`` of mmengine plus an
autocast context in ``optim_context``: the forward pass of ``train_step`` runs under
``torch.autocast(<device of the model>, dtype=torch.bfloat16)``; parameters, gradients and the optimizer state
stay float32 (autocast casts copies of the weights for the ops it lowers).

On a CPU, bfloat16 is only fast where oneDNN has a bfloat16 path (:func:`cpu_has_bf16_path`); elsewhere PyTorch
falls back to kernels (which ones was not investigated) that make the step many times slower than float32. Measured
on a 2-core AMD EPYC (Zen 1, AVX2 only; ``bench_pretrain_step.py --worker [--amp] --steps 2 --warmup 1``): the ViT-S
step 6.4 s in float32, 74.6 s under bfloat16 autocast. ``tools/train.py --amp`` therefore trains in float32 on such
a CPU (and says so), and this wrapper warns when a config selects it there.
"""
import logging
from contextlib import contextmanager

import torch

from mmengine.logging import print_log
from mmengine.optim import OptimWrapper

from pjepa3d.registry import OPTIM_WRAPPERS

#: the ViT-S pretraining step without a oneDNN bfloat16 path (module docstring): float32 s, bfloat16 autocast s
SLOW_CPU_BF16_STEP = (6.4, 74.6)


def cpu_has_bf16_path():
    """Whether PyTorch's oneDNN has a bfloat16 path on this CPU (``torch.ops.mkldnn._is_mkldnn_bf16_supported``:
    on x86 AVX512 BW / VL / DQ, AVX512-BF16 or AMX; on Arm the bf16 extensions). ``False`` also where the check
    itself is missing from the build."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def cpu_bf16_slow_reason():
    """One sentence on why bfloat16 autocast is slow on this CPU, for warnings: the CPU capability PyTorch
    dispatches to and the measurement behind it."""
    return (f'this CPU has no oneDNN bfloat16 path (torch CPU capability {torch.backends.cpu.get_cpu_capability()}), '
            f'where the ViT-S step measured {SLOW_CPU_BF16_STEP[1]:.1f} s under bfloat16 autocast against '
            f'{SLOW_CPU_BF16_STEP[0]:.1f} s in float32 (pjepa3d/engine/optimizers/bf16_amp_optim_wrapper.py)')


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
        self._checked_cpu = False

    @contextmanager
    def optim_context(self, model):
        """mmengine's context (gradient accumulation / DDP no_sync) plus bf16 autocast on the model's device."""
        param = next(model.parameters(), None)
        device_type = param.device.type if param is not None else 'cpu'
        if device_type == 'cpu' and not self._checked_cpu:
            self._checked_cpu = True
            if not cpu_has_bf16_path():
                print_log(f'BF16AmpOptimWrapper: {cpu_bf16_slow_reason()}; expect this run to be several times '
                          'slower than in float32 (--cfg-options optim_wrapper.type=OptimWrapper)',
                          logger='current', level=logging.WARNING)
        with super().optim_context(model), torch.autocast(device_type=device_type, dtype=self.cast_dtype):
            yield
