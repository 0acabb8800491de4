"""Warn once, loudly, when the logged effective rank of the features collapses."""
import math
import warnings

from mmengine.hooks import Hook

from pjepa3d.registry import HOOKS


class RepresentationCollapseWarning(UserWarning):
    """Issued by :class:`CollapseMonitorHook`; ``-W error::...`` turns it into a failure."""


@HOOKS.register_module()
class CollapseMonitorHook(Hook):
    """Watch the effective rank (RankMe) the model logs and warn ONCE when it collapses.

    ``source='train'`` (default): the model's loss dict must carry ``key`` on the iterations it
    monitors (``PointJEPA``: ``target_rank``, ``PointMAE``: ``feat_rank``; every
    ``monitor_interval`` steps). ``source='val'``: ``key`` is a validation metric, read in
    ``after_val_epoch`` (``SVMProbeMetric``: ``feat_rank`` / ``feat_rank_target``, the centred
    effective rank of the probe's score-set features); with ``ProbeAtStartHook`` the first
    observation is the one at iteration 0, before any training (the calibrated random init).
    The starting value is the mean of the first ``start_iters`` observations; the hook fires when an
    observation falls below ``min_ratio`` x that value: a ``logger.warning`` banner (in the log file
    too) and a :class:`RepresentationCollapseWarning`. ``<source>/<key>_ratio`` (value / start) is
    logged at every observation. The start value and whether the hook fired are saved in
    checkpoints, so a resumed run compares with the original start.

    Args:
        key (str): name of the rank in the model's outputs (``source='train'``) or in the validation
            metrics (``source='val'``).
        min_ratio (float): fire below this fraction of the starting value, in (0, 1).
        start_iters (int): observations averaged into the starting value.
        source (str): ``'train'`` or ``'val'``.
    """

    priority = 'LOW'

    SOURCES = ('train', 'val')

    def __init__(self, key='target_rank', min_ratio=0.3, start_iters=1, source='train'):
        if source not in self.SOURCES:
            raise ValueError(f'CollapseMonitorHook: source must be one of {self.SOURCES}, got {source!r}')
        if not 0.0 < min_ratio < 1.0:
            raise ValueError(f'CollapseMonitorHook: min_ratio must be in (0, 1), got {min_ratio}')
        if int(start_iters) < 1:
            raise ValueError(f'CollapseMonitorHook: start_iters must be >= 1, got {start_iters}')
        self.key = key
        self.source = source
        if source == 'val':
            # before LoggerHook (BELOW_NORMAL), so the val/<key>_ratio it writes is in the same log line
            self.priority = 'NORMAL'
        self.min_ratio = float(min_ratio)
        self.start_iters = int(start_iters)
        self._start_values = []
        self.start = None
        self.fired_iter = None  # iteration (1-based; for 'val': iterations trained) at which the warning fired
        self.start_iter = None  # iteration of the first observation

    @property
    def fired(self):
        return self.fired_iter is not None

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if self.source != 'train' or not outputs or self.key not in outputs:
            return
        self._observe(runner, float(outputs[self.key]), runner.iter + 1)

    def after_val_epoch(self, runner, metrics=None):
        if self.source != 'val' or not metrics or self.key not in metrics:
            return
        if self.start_iter is None and runner.iter != 0:
            runner.logger.warning(f'CollapseMonitorHook: the first validation {self.key!r} comes at iteration '
                                  f'{runner.iter}, not 0; it is the start value (add ProbeAtStartHook to measure '
                                  f'the start before training)')
        self._observe(runner, float(metrics[self.key]), runner.iter)

    def _observe(self, runner, value, iteration):
        if self.start is None:
            if self.start_iter is None:
                self.start_iter = runner.iter
            if math.isfinite(value):
                self._start_values.append(value)
            if len(self._start_values) == self.start_iters:
                self.start = sum(self._start_values) / self.start_iters
                if self.source == 'val':
                    runner.message_hub.update_scalar(f'val/{self.key}_ratio', 1.0)
            return
        runner.message_hub.update_scalar(f'{self.source}/{self.key}_ratio', value / max(self.start, 1e-12))
        if not self.fired and not value >= self.min_ratio * self.start:  # NaN counts as collapsed
            self.fired_iter = iteration
            self._warn(runner, value)

    def _warn(self, runner, value):
        bar = '!' * 96
        where = 'validation ' if self.source == 'val' else ''
        msg = (f'REPRESENTATION COLLAPSE SUSPECTED at iteration {self.fired_iter}: {where}{self.key} = {value:.3f} is '
               f'below {self.min_ratio:g} x its starting value {self.start:.3f}. The encoder is mapping different '
               f'inputs to (nearly) the same features. Usual causes: EMA momentum too low (tau -> 0 copies the online '
               f'encoder), no target normalisation, a too-high learning rate, a predictor that ignores its '
               f'input. This warning is issued once per run.')
        runner.logger.warning(f'\n{bar}\n{msg}\n{bar}')
        warnings.warn(msg, RepresentationCollapseWarning, stacklevel=2)

    def after_train_epoch(self, runner):
        if self.source == 'train' and runner.epoch == 0 and not self._start_values and self.start is None:
            runner.logger.warning(f'CollapseMonitorHook: the model logged no {self.key!r} during the first epoch; '
                                  f'the collapse monitor is inactive (check the key and monitor_interval)')

    def after_train(self, runner):
        if self.source == 'val' and not self._start_values and self.start is None:
            runner.logger.warning(f'CollapseMonitorHook: no validation metric {self.key!r} was seen during training; '
                                  f'the collapse monitor was inactive (check the key, val_cfg and val_evaluator)')

    def before_save_checkpoint(self, runner, checkpoint):
        checkpoint.setdefault('meta', {})['collapse_monitor'] = dict(
            key=self.key, source=self.source, start=self.start, start_values=list(self._start_values),
            start_iter=self.start_iter, fired_iter=self.fired_iter)

    def after_load_checkpoint(self, runner, checkpoint):
        saved = checkpoint.get('meta', {}).get('collapse_monitor')
        if saved and saved.get('key') == self.key and saved.get('source', 'train') == self.source:
            self.start, self.fired_iter = saved['start'], saved['fired_iter']
            self._start_values = list(saved['start_values'])
            self.start_iter = saved.get('start_iter')
