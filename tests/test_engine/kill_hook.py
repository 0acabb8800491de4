"""A hook for the resume tests: SIGKILLs its own training process, as `kill -9` would, before iteration
``$KILL_AT`` (1-based, as logged) runs; ``KILL_AT`` unset or 0 never kills."""
import os
import signal

from mmengine.hooks import Hook

from pjepa3d.registry import HOOKS


@HOOKS.register_module()
class KillAtIterHook(Hook):
    priority = 'LOWEST'

    def __init__(self, iteration=0):
        self.iteration = int(iteration)

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if self.iteration and runner.iter + 1 == self.iteration:
            os.kill(os.getpid(), signal.SIGKILL)
