"""The representation probe at iteration 0: the start of the learning curve that the validation loop draws."""
import itertools

import torch
import torch.nn as nn
from mmengine.dist import all_reduce
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from pjepa3d.models.utils.bn_calibration import (batchnorm_layers as _batchnorms, batchnorm_root,
                                                  calibrate_batchnorm, preserved_rng)
from pjepa3d.registry import HOOKS

CALIBRATE_MODES = ('auto', True, False)


def _never_measured(module):
    """True when no BatchNorm of ``module`` has counted a batch (running statistics still (0, 1))."""
    return all(bn.num_batches_tracked is not None and int(bn.num_batches_tracked) == 0
               for bn in _batchnorms(module))


@HOOKS.register_module()
class ProbeAtStartHook(Hook):
    """Run the validation loop (e.g. the ``SVMProbeMetric`` probe) once before training starts.

    mmengine's ``IterBasedTrainLoop`` validates every ``val_interval`` iterations, never at iteration 0,
    so the learning curve would have no start. This hook runs ``runner.val_loop.run()`` in
    ``before_train`` when ``runner.iter == 0`` (not on resume); its metrics are logged at iteration 0
    and seen by every ``after_val_epoch`` hook (``CheckpointHook(save_best=...)``, and
    ``CollapseMonitorHook(source='val')``, which takes its start value from them).

    A fresh encoder's BatchNorm running statistics are (0, 1), never measured, which would handicap
    the eval-mode start point. So first the BatchNorm statistics of the online backbone and of the
    EMA target backbone (``model.target``, when it has its own BatchNorms) are calibrated with
    :func:`~pjepa3d.models.utils.calibrate_batchnorm` on ``calib_samples`` clouds of the training
    dataloader (train-mode forward passes, no gradient, no weight change; averaged across ranks). The
    iteration-0 probe is then the calibrated random-init baseline of the curve (or the loaded
    weights' score with ``load_from``). Training is unaffected: the BatchNorms normalise with batch
    statistics in training, and the global random generators are restored after the probe.

    Args:
        calib_samples (int): training clouds used for the calibration.
        calibrate ('auto' | bool): ``'auto'`` calibrates the backbones whose BatchNorms never measured a
            batch (a fresh init; a loaded checkpoint keeps its statistics); ``True`` always; ``False`` never.
    """

    priority = 'LOWEST'  # after every other before_train (CheckpointHook sets up its output folder there)

    def __init__(self, calib_samples=512, calibrate='auto'):
        if int(calib_samples) < 1:
            raise ValueError(f'ProbeAtStartHook: calib_samples must be >= 1, got {calib_samples}')
        if calibrate not in CALIBRATE_MODES:
            raise ValueError(f'ProbeAtStartHook: calibrate must be one of {CALIBRATE_MODES}, got {calibrate!r}')
        self.calib_samples = int(calib_samples)
        self.calibrate = calibrate

    def before_train(self, runner):
        if runner.iter != 0:
            runner.logger.info(f'ProbeAtStartHook: resumed at iteration {runner.iter}; no start probe')
            return
        if runner.val_loop is None:
            runner.logger.warning('ProbeAtStartHook: the config has no val_dataloader / val_evaluator / val_cfg; '
                                  'no start probe')
            return
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        with preserved_rng():
            if self.calibrate:
                self._calibrate(runner, model)
            runner.logger.info('ProbeAtStartHook: validating at iteration 0, before training')
            runner.val_loop.run()

    @staticmethod
    def _bn_parts(model):
        """(name, module to run) of each backbone with BatchNorms (online, then EMA target), deduplicated."""
        parts, seen = [], set()
        for name in ('backbone', 'target'):
            backbone = getattr(model, name, None)
            if not isinstance(backbone, nn.Module) or not _batchnorms(backbone):
                continue
            root = batchnorm_root(backbone)[1]
            if id(root) not in seen:  # ema_scope='encoder': the target shares the online tokenizer
                seen.add(id(root))
                parts.append((f'{name}.tokenizer' if root is not backbone else name, root))
        return parts

    def _batches(self, runner, model):
        """The first ``calib_samples`` clouds of the training order (this rank's share), through the
        training pipeline and collate function, in training-size batches.

        Read here, in the main process, rather than by iterating ``runner.train_dataloader``: with
        persistent workers a second ``iter()`` would reset the iterator the training loop already holds
        and shift the data it sees."""
        loader = runner.train_dataloader
        indices = list(itertools.islice(iter(loader.sampler), self.calib_samples))
        size = loader.batch_size or 32
        batches = []
        for start in range(0, len(indices), size):
            data = loader.collate_fn([loader.dataset[i] for i in indices[start:start + size]])
            inputs = model.data_preprocessor(data, False)['inputs']
            batches.append(inputs['points'] if isinstance(inputs, dict) else inputs)
        return batches, sum(len(b) for b in batches)

    @torch.no_grad()
    def _calibrate(self, runner, model):
        parts = self._bn_parts(model)
        fresh = [label for label, root in parts if _never_measured(root)]
        todo = [(label, root) for label, root in parts if self.calibrate is True or label in fresh]
        kept = [label for label, _ in parts if label not in dict(todo)]
        if kept:
            runner.logger.info(f'ProbeAtStartHook: {", ".join(kept)}: BatchNorm statistics already measured '
                               '(loaded weights), kept as they are')
        if not todo:
            return
        batches, seen = self._batches(runner, model)
        if not seen:
            raise RuntimeError('ProbeAtStartHook: the training dataloader gave no cloud for the BatchNorm calibration')
        for _, root in todo:
            calibrate_batchnorm(root, batches)
            for bn in _batchnorms(root):  # one set of statistics on every rank (no-op without distribution)
                all_reduce(bn.running_mean, op='mean')
                all_reduce(bn.running_var, op='mean')
        short = (f' (the training dataloader holds fewer than calib_samples = {self.calib_samples})'
                 if seen < self.calib_samples else '')
        labels = [label for label, _ in todo]
        why = ('they were (0, 1), never measured; the iteration-0 probe is the calibrated random-init baseline'
               if all(label in fresh for label in labels) else 'calibrate=True')
        runner.logger.info(f'ProbeAtStartHook: calibrated the BatchNorm running statistics of {", ".join(labels)} '
                           f'on {seen} training clouds{short} ({why})')
