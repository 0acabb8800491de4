"""A fair random-init baseline for fine-tuning: BatchNorm statistics calibrated before training starts."""
import random

import numpy as np
import torch
import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from pjepa3d.models.utils.bn_calibration import (batchnorm_layers as _batchnorms, batchnorm_root,
                                                  calibrate_batchnorm, preserved_rng)
from pjepa3d.registry import HOOKS


def backbone_is_pretrained(model):
    """True when ``model.backbone`` is initialised from a checkpoint (``init_cfg`` of type ``Pretrained``)."""
    cfg = getattr(getattr(model, 'backbone', None), 'init_cfg', None)
    cfgs = cfg if isinstance(cfg, (list, tuple)) else [cfg]
    return any(isinstance(c, dict) and c.get('type') == 'Pretrained' for c in cfgs)


@HOOKS.register_module()
class BNCalibrationHook(Hook):
    """Calibrate the backbone's BatchNorm running statistics on training clouds before the first iteration.

    A randomly initialised backbone has BatchNorm running statistics (0, 1) it never measured. Wherever
    it runs in eval mode, that handicaps it: in ``FreezeBackboneHook``'s frozen phase (the frozen backbone
    is in eval mode), in every validation and in the test. This hook, in ``before_train`` at iteration 0
    only (not on resume), re-estimates them with :func:`~pjepa3d.models.utils.calibrate_batchnorm`
    (train-mode forward passes, no gradient, no weight change) on ``num_samples`` clouds of the training
    dataloader's dataset (all of them when it holds fewer), drawn without replacement by a generator
    seeded with ``seed`` (default: the runner's seed), read through the training pipeline and collate
    function in batches of ``batch_size``. Only labels-free forward passes: the labels are not used.

    It is meant for scratch runs (``model.backbone.init_cfg=None``). A backbone loaded from a checkpoint
    (``init_cfg=dict(type='Pretrained', ...)``, or a whole model loaded with ``load_from``) keeps the
    statistics it brings, unless ``force=True``. Only the smallest part of the backbone that holds all its
    BatchNorms is run (``PointPatchTransformer``: the tokenizer's mini-PointNet). The global random generators
    (python, numpy, torch) are restored afterwards, so training draws exactly what it would have drawn
    without the hook, and every module gets its train / eval mode back. The same seeded clouds and
    augmentations on every rank give every rank the same statistics. Logs what it did.

    Args:
        num_samples (int): clouds used for the calibration.
        batch_size (int): clouds per calibration forward pass.
        seed (int, optional): seed of the cloud selection and the pipeline's random transforms; ``None``:
            the runner's seed.
        force (bool): also calibrate a backbone loaded from a checkpoint.
    """

    priority = 'LOW'  # after FreezeBackboneHook's before_train; the modes are restored anyway

    def __init__(self, num_samples=512, batch_size=32, seed=None, force=False):
        if int(num_samples) < 1:
            raise ValueError(f'BNCalibrationHook: num_samples must be >= 1, got {num_samples}')
        if int(batch_size) < 1:
            raise ValueError(f'BNCalibrationHook: batch_size must be >= 1, got {batch_size}')
        self.num_samples = int(num_samples)
        self.batch_size = int(batch_size)
        self.seed = None if seed is None else int(seed)
        self.force = bool(force)
        self.calibrated = 0  # clouds used by the last calibration (0: none done)

    @staticmethod
    def _bn_root(backbone):
        part, root = batchnorm_root(backbone)
        return '.'.join(filter(None, ('backbone', part))), root

    def before_train(self, runner):
        self.calibrated = 0
        if runner.iter != 0:
            runner.logger.info(f'BNCalibrationHook: resumed at iteration {runner.iter}; BatchNorm statistics kept')
            return
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        backbone = getattr(model, 'backbone', None)
        if not isinstance(backbone, nn.Module):
            raise TypeError(f'BNCalibrationHook: {type(model).__name__} has no backbone module')
        if not _batchnorms(backbone):
            runner.logger.info('BNCalibrationHook: the backbone has no BatchNorm; nothing to calibrate')
            return
        loaded = ('backbone init_cfg is Pretrained' if backbone_is_pretrained(model)
                  else f'load_from={runner._load_from}' if getattr(runner, '_load_from', None) else None)
        if loaded and not self.force:
            runner.logger.info(f'BNCalibrationHook: the backbone was loaded from a checkpoint ({loaded}); its '
                               'BatchNorm statistics are kept (force=True to recalibrate)')
            return
        self.calibrated = self.calibrate(runner, model, backbone, loaded)

    def _selection(self, dataset, seed):
        n = len(dataset)
        if n == 0:
            raise RuntimeError('BNCalibrationHook: the training dataset is empty')
        rng = np.random.RandomState(seed)
        return np.sort(rng.choice(n, size=min(self.num_samples, n), replace=False)).tolist(), n

    @torch.no_grad()
    def calibrate(self, runner, model, backbone, loaded=None):
        loader = runner.train_dataloader
        seed = self.seed if self.seed is not None else int(runner.seed)
        indices, available = self._selection(loader.dataset, seed)
        name, root = self._bn_root(backbone)
        modes = {m: m.training for m in model.modules()}
        try:
            with preserved_rng():
                random.seed(seed)
                np.random.seed(seed)
                torch.manual_seed(seed)
                batches = []
                for start in range(0, len(indices), self.batch_size):
                    chunk = indices[start:start + self.batch_size]
                    data = loader.collate_fn([loader.dataset[i] for i in chunk])
                    inputs = model.data_preprocessor(data, False)['inputs']
                    batches.append(inputs['points'] if isinstance(inputs, dict) else inputs)
                seen = calibrate_batchnorm(root, batches)
        finally:
            for m, mode in modes.items():
                m.training = mode
        short = f' (the training set holds only {available})' if available < self.num_samples else f' of {available}'
        why = f'force=True although {loaded}' if loaded else 'random init'
        runner.logger.info(f'BNCalibrationHook: calibrated the BatchNorm running statistics of {name} '
                           f'({len(_batchnorms(root))} BatchNorm layers) on {seen} training clouds{short}, '
                           f'selection seed {seed}, batches of {self.batch_size} ({why})')
        return seen
