"""Drives Point-JEPA's EMA target encoder (not mmengine's evaluation-EMA hook)."""
import math

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from pjepa3d.registry import HOOKS

EMA_SCHEDULES = ('cosine', 'linear')


def ema_momentum(schedule, tau_start, tau_end, step, total):
    """tau after ``step`` of ``total`` iterations (clamped at ``tau_end`` beyond ``total``).

    cosine: tau_end - (tau_end - tau_start) * (1 + cos(pi * t)) / 2, t = step / total;
    linear: tau_start + (tau_end - tau_start) * t.
    """
    t = min(max(step / max(total, 1), 0.0), 1.0)
    if schedule == 'cosine':
        return tau_end - (tau_end - tau_start) * (1 + math.cos(math.pi * t)) / 2
    if schedule == 'linear':
        return tau_start + (tau_end - tau_start) * t
    raise ValueError(f'EMAHook: unknown schedule {schedule!r}; choose one of {EMA_SCHEDULES}')


@HOOKS.register_module()
class EMAHook(Hook):
    """After every optimizer step (not every iteration, under gradient accumulation):
    target <- tau * target + (1 - tau) * online.

    tau follows ``schedule`` from ``tau_start`` to ``tau_end`` over ``total_iters``
    (default: all training iterations); it is a function of the iteration alone, so
    a resumed run continues with exactly the tau it would have had, and the target
    weights themselves are in the checkpoint (``target.*``). tau is logged as
    ``ema_tau``. The model must provide ``update_target(tau)`` (``PointJEPA`` does).
    """

    priority = 'ABOVE_NORMAL'  # before checkpointing / logging in after_train_iter

    def __init__(self, schedule='cosine', tau_start=0.996, tau_end=1.0, total_iters=None):
        if schedule not in EMA_SCHEDULES:
            raise ValueError(f'EMAHook: unknown schedule {schedule!r}; choose one of {EMA_SCHEDULES}')
        if not (0.0 <= tau_start <= 1.0 and 0.0 <= tau_end <= 1.0):
            raise ValueError(f'EMAHook: tau_start / tau_end must lie in [0, 1], got {tau_start}, {tau_end}')
        self.schedule = schedule
        self.tau_start = tau_start
        self.tau_end = tau_end
        self.total_iters = total_iters

    @staticmethod
    def _model(runner):
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if not hasattr(model, 'update_target'):
            raise TypeError(f'EMAHook needs a model with update_target(tau); {type(model).__name__} has none')
        return model

    def _total(self, runner):
        return self.total_iters if self.total_iters is not None else runner.max_iters

    def tau(self, runner, step=None):
        """tau used for the update after iteration ``step`` (default: the current one)."""
        step = runner.iter if step is None else step
        return ema_momentum(self.schedule, self.tau_start, self.tau_end, step, self._total(runner))

    def before_train(self, runner):
        self._model(runner)

    @staticmethod
    def _optimizer_stepped(runner):
        """Whether this iteration's ``update_params`` stepped the optimizer.

        With ``accumulative_counts=k`` the optimizer steps every k-th iteration (and on the last one);
        in between the online weights have not changed, so the target must not move either.
        ``OptimWrapper.should_update()`` answers for the iteration that just ran (its counter was
        advanced by that iteration's backward). Optimizer wrappers without it step every iteration.
        """
        should_update = getattr(runner.optim_wrapper, 'should_update', None)
        return should_update() if callable(should_update) else True

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        tau = self.tau(runner)
        if self._optimizer_stepped(runner):
            self._model(runner).update_target(tau)
        runner.message_hub.update_scalar('train/ema_tau', tau)

    def before_save_checkpoint(self, runner, checkpoint):
        checkpoint.setdefault('meta', {})['ema_hook'] = dict(
            schedule=self.schedule, tau_start=self.tau_start, tau_end=self.tau_end,
            total_iters=self._total(runner), iter=runner.iter)

    def after_load_checkpoint(self, runner, checkpoint):
        saved = checkpoint.get('meta', {}).get('ema_hook')
        if saved is None:
            return
        now = dict(schedule=self.schedule, tau_start=self.tau_start, tau_end=self.tau_end,
                   total_iters=self._total(runner))
        changed = {k: (saved[k], v) for k, v in now.items() if saved.get(k) != v}
        if changed:
            runner.logger.warning(f'EMAHook: the EMA schedule differs from the checkpoint\'s '
                                  f'(saved, now): {changed}; tau continues on the new schedule')
