"""BatchNorm statistics of a random-init (or any) encoder, calibrated on data without training it."""
import contextlib
import random

import numpy as np
import torch
import torch.nn as nn


@torch.no_grad()
def calibrate_batchnorm(model, batches):
    """Re-estimate every BatchNorm's running mean / var of ``model`` from ``batches``; no gradient, no weight change.

    A freshly initialised encoder evaluated in eval mode normalises with running statistics (0, 1)
    that it never measured, which handicaps a random-init baseline. This resets them and runs
    train-mode forward passes over ``batches`` (an iterable of point tensors (B, N, C)) with a
    cumulative average (BatchNorm ``momentum=None``), so the result is the exact mean of the per-batch
    statistics, independent of the batch order. Only the modules that own a BatchNorm switch to train
    mode (FPS keeps its deterministic eval start); everything returns to eval mode afterwards.

    Args:
        model (nn.Module): e.g. a ``PointPatchTransformer``; called as ``model(points)``.
        batches (iterable[Tensor]): the calibration clouds.
    Returns:
        int: the number of clouds seen.
    """
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return 0
    owners = [m for m in model.modules() if any(isinstance(c, nn.modules.batchnorm._BatchNorm)
                                                for c in m.children())]
    momenta = [bn.momentum for bn in bns]
    model.eval()
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None
    for m in owners:
        m.train()
    for bn in bns:
        bn.train()
    seen = 0
    try:
        for points in batches:
            model(points)
            seen += len(points)
    finally:
        for bn, momentum in zip(bns, momenta):
            bn.momentum = momentum
        model.eval()
    if not seen:
        raise ValueError('calibrate_batchnorm: no calibration batch was given')
    return seen


def batchnorm_layers(module):
    """Every BatchNorm layer of ``module``."""
    return [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


def batchnorm_root(backbone):
    """(name, module): the smallest part of ``backbone`` to run for calibrating all its BatchNorms: its
    tokenizer when every BatchNorm lives there (``PointPatchTransformer``: the mini-PointNet), else the backbone."""
    tokenizer = getattr(backbone, 'tokenizer', None)
    if isinstance(tokenizer, nn.Module) and len(batchnorm_layers(tokenizer)) == len(batchnorm_layers(backbone)):
        return 'tokenizer', tokenizer
    return '', backbone


@contextlib.contextmanager
def preserved_rng():
    """Run a block without moving the global random generators (python, numpy, torch, CUDA): the
    training that follows draws exactly what it would have drawn without the block."""
    py, npy, cpu = random.getstate(), np.random.get_state(), torch.get_rng_state()
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() and torch.cuda.is_initialized() else None
    try:
        yield
    finally:
        random.setstate(py)
        np.random.set_state(npy)
        torch.set_rng_state(cpu)
        if cuda is not None:
            torch.cuda.set_rng_state_all(cuda)


def calibration_indices(num_available, num_samples, seed):
    """Positions of the calibration clouds: ``min(num_samples, num_available)`` drawn without replacement by
    ``np.random.default_rng(seed)`` (sorted)."""
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(num_available, size=min(int(num_samples), num_available), replace=False))


def calibrate_on_dataset(backbone, dataset, num_samples, seed, batch_size=32):
    """Calibrate ``backbone``'s BatchNorm running statistics on ``num_samples`` seeded clouds of ``dataset`` (its
    pipeline output, e.g. a protocol's train split), ``batch_size`` at a time; return the number of clouds used.
    Python / numpy / torch are seeded with ``seed`` first, so a random pipeline draws the same clouds each time."""
    from mmengine.dataset import default_collate

    indices = calibration_indices(len(dataset), num_samples, seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)

    def batches():
        for start in range(0, len(indices), batch_size):
            batch = default_collate([dataset[int(i)] for i in indices[start:start + batch_size]])
            yield batch['inputs']['points']

    return calibrate_batchnorm(backbone, batches())
