"""The run's random streams are part of its state: saved in every checkpoint, restored on resume.

Without this hook a resumed run continues with the right weights, EMA target and tau, but its random
streams (the masker's and FPS's draws from torch's generator, numpy and Python for the data pipeline,
the dataloader workers' seeds) restart from the config seed, so its losses drift from the uninterrupted
run's from the 4th decimal on. mmengine 0.10.7 saves none of them (it re-applies ``randomness.seed``).

What the hook does:

* **Saves** Python's, numpy's, torch's (and CUDA's) generator states and the training dataloader's
  generator in ``checkpoint['rng_states']``, one entry per rank (under DDP the states are gathered to
  rank 0, which writes the checkpoint).
* **Restores** them when a run resumes, at the point where the uninterrupted run stood when it saved:
  - epoch loops: before the next epoch starts;
  - ``IterBasedTrainLoop``: mmengine replays the first ``iter`` batches through a fresh dataloader to
    reach the checkpoint's position; the dataloader generator restarts from its seed so the replay
    re-creates the same worker seeds, and the main-process states are restored right before the first
    batch after the replay is fetched (so a pipeline that runs in the main process, ``num_workers=0``,
    replays too). The hook serves the replay itself: the same batches, without mmengine's 2 s pause at
    every dataloader restart, and with progress in the log (ModelNet10 pretraining resumed at iteration
    9,000, 113 batches a pass, crosses 79 restarts: 158 s of pauses).
* **Keeps validation out of the training streams**: the states are taken before every validation and
  put back after it, so validating (or not, or at another interval) never changes what training draws.
* **Seeds dataloader workers per pass, not per run.** mmengine's ``worker_init_fn`` seeds numpy and
  Python in every worker with ``seed + worker_id`` each time the workers start, so with
  ``persistent_workers=False`` every epoch repeats the same "random" augmentation. The hook gives the
  training dataloader its own ``torch.Generator`` (seeded from the run's seed and rank) and
  :func:`seed_worker`, which seeds numpy and Python from the per-pass seed torch gives each worker.
  mmengine's ``IterBasedTrainLoop`` starts its first iterator before any hook runs, so that first pass
  keeps mmengine's seeding; every later pass uses the hook's.

Exactness (tested with the real Runner and ``kill -9``): every logged loss and ``ema_tau`` after the
resume point equals the uninterrupted run's for epoch loops (``persistent_workers=False`` or
``num_workers=0``) and for ``IterBasedTrainLoop`` (any workers). Not exact: an epoch loop with
``persistent_workers=True`` and ``num_workers > 0``, whose long-lived workers' streams cannot be
rebuilt without replaying the earlier epochs; the hook warns when it resumes such a run.

It is a default hook of ``configs/_base_/default_runtime.py`` (``default_hooks.rng_state``). mmengine lets only
its own default hooks be set to ``None``; to drop this one, re-declare ``default_hooks`` with ``_delete_=True``.
"""
import random
import time
from functools import partial

import numpy as np
import torch
from mmengine.dataset import worker_init_fn as mmengine_worker_init_fn
from mmengine.dist import all_gather_object, get_rank, get_world_size
from mmengine.hooks import Hook
from mmengine.runner.loops import IterBasedTrainLoop

from pjepa3d.registry import FUNCTIONS, HOOKS


@FUNCTIONS.register_module()
def seed_worker(worker_id):
    """``worker_init_fn``: seed numpy and Python in a dataloader worker from torch's per-worker seed.

    torch seeds each worker's torch generator with ``base_seed + worker_id``, where ``base_seed`` is
    drawn anew (from the loader's generator) every time an iterator starts its workers; numpy and
    Python are not seeded by torch. Deriving them from that seed makes every pass differ from the last
    and stay reproducible from the loader generator's state.
    """
    seed = torch.initial_seed()
    np.random.seed(seed % 2 ** 32)
    random.seed(seed)


def capture_rng_states(loader_generator=None):
    """The current process's generator states as plain tensors / ints (safe for ``weights_only`` loading)."""
    version, internal, gauss_next = random.getstate()
    kind, keys, pos, has_gauss, cached_gauss = np.random.get_state()
    states = dict(
        python=dict(version=version, internal=torch.tensor(internal, dtype=torch.int64), gauss_next=gauss_next),
        numpy=dict(kind=kind, keys=torch.from_numpy(keys.astype(np.int64)), pos=int(pos), has_gauss=int(has_gauss),
                   cached_gauss=float(cached_gauss)),
        torch=torch.get_rng_state(),
        cuda=torch.cuda.get_rng_state() if torch.cuda.is_available() and torch.cuda.is_initialized() else None,
        loader=loader_generator.get_state() if loader_generator is not None else None)
    return states


def restore_rng_states(states, loader_generator=None):
    """Inverse of :func:`capture_rng_states` (the loader generator only when both sides have one)."""
    py = states['python']
    random.setstate((py['version'], tuple(int(v) for v in py['internal'].tolist()), py['gauss_next']))
    nps = states['numpy']
    np.random.set_state((nps['kind'], nps['keys'].numpy().astype(np.uint32), nps['pos'], nps['has_gauss'],
                         nps['cached_gauss']))
    torch.set_rng_state(states['torch'])
    if states.get('cuda') is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state(states['cuda'])
    if loader_generator is not None and states.get('loader') is not None:
        loader_generator.set_state(states['loader'])


class _ReplayThenRestore:
    """Wraps mmengine's infinite dataloader iterator for the replay of a resumed ``IterBasedTrainLoop``.

    mmengine reaches the checkpoint's position by fetching (and discarding) its first ``index`` batches. This
    wrapper serves those fetches itself, with two differences from mmengine's iterator, neither of which changes
    a batch or a random stream:

    * no 2 s pause at each dataloader restart (mmengine's ``time.sleep(2)``, a workaround for a deadlock its
      maintainers could not reproduce, kept for the batches that are trained): a replay of 9,000 ModelNet10
      iterations crosses 79 restarts, 158 s of sleeping;
    * progress in the log (mmengine prints one line, then nothing until training resumes).

    Then it calls ``apply()`` right before batch ``index`` (the first one trained) and hands over to mmengine's
    iterator, whose epoch counter and dataloader iterator it has kept up to date.
    """

    def __init__(self, inner, index, apply, log=None, every_s=10.0):
        self._inner, self._index, self._apply, self._count = inner, index, apply, 0
        self._log, self._every_s = log, every_s
        self._restarts = 0
        self._start = self._last_report = None
        # mmengine 0.10.x's _InfiniteDataloaderIterator; anything else is replayed through its own __next__
        self._own_restarts = all(hasattr(inner, name) for name in ('_dataloader', '_iterator', '_epoch'))

    def __iter__(self):
        return self

    def _restart(self):
        """mmengine's epoch transition (next epoch, the sampler told, a new dataloader iterator), without the pause."""
        inner = self._inner
        inner._epoch += 1
        loader = inner._dataloader
        sampler = getattr(loader, 'sampler', None)
        if not hasattr(sampler, 'set_epoch'):
            sampler = getattr(getattr(loader, 'batch_sampler', None), 'sampler', None)
        if hasattr(sampler, 'set_epoch'):
            sampler.set_epoch(inner._epoch)
        inner._iterator = iter(loader)
        self._restarts += 1

    def _replay_one(self):
        if not self._own_restarts:
            return next(self._inner)
        try:
            return next(self._inner._iterator)
        except StopIteration:
            self._restart()
            return next(self._inner._iterator)

    def _report(self, done=False):
        if self._log is None:
            return
        now = time.monotonic()
        if not done and now - self._last_report < self._every_s:
            return
        self._last_report = now
        spent = now - self._start
        if done:
            self._log(f'RNGStateHook: replayed the first {self._index} batches (the data order up to the checkpoint, '
                      f'{self._restarts} dataloader restart(s)) in {spent:.1f} s; training resumes')
        else:
            left = spent / self._count * (self._index - self._count)
            self._log(f'RNGStateHook: replaying the data order up to the checkpoint: {self._count}/{self._index} '
                      f'batches, {spent:.0f} s, about {left:.0f} s to go')

    def __next__(self):
        if self._count < self._index:
            if self._start is None:
                self._start = self._last_report = time.monotonic()
            batch = self._replay_one()
            self._count += 1
            self._report()
            return batch
        if self._count == self._index:
            if self._index:
                self._report(done=True)
            self._apply()
        self._count += 1
        return next(self._inner)

    def __getattr__(self, name):
        return getattr(self._inner, name)


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Saves the random streams in every checkpoint and restores them on resume (module docstring).

    Args:
        seed_dataloader (bool): give the training dataloader its own generator and :func:`seed_worker`
            (only when its ``worker_init_fn`` is mmengine's default or none, so a user's own is kept).
    """

    # after the model / EMA / logging hooks of an iteration, before CheckpointHook (VERY_LOW)
    priority = 'LOW'

    def __init__(self, seed_dataloader=True):
        self.seed_dataloader = seed_dataloader
        self._loader_gen = None
        self._loader_seed = None
        self._pending = None      # the resumed checkpoint's states, applied in before_train
        self._resumed_without = False
        self._gathered = None     # DDP: every rank's states, taken in after_train_iter / _epoch
        self._val_states = None

    # ---------------------------------------------------------------- dataloader seeding
    def _setup_loader(self, runner):
        loader = runner.train_dataloader
        if not self.seed_dataloader or loader is None:
            return
        init_fn = getattr(loader, 'worker_init_fn', None)
        if init_fn not in (None, seed_worker) and getattr(init_fn, 'func', None) is not mmengine_worker_init_fn:
            runner.logger.info('RNGStateHook: the training dataloader has its own worker_init_fn; kept')
            return
        seed = runner.seed if runner.seed is not None else 0
        self._loader_seed = int(np.random.SeedSequence([int(seed) % 2 ** 32, get_rank()]).generate_state(1)[0])
        self._loader_gen = torch.Generator().manual_seed(self._loader_seed)
        loader.generator = self._loader_gen
        loader.worker_init_fn = seed_worker

    # ---------------------------------------------------------------- saving
    def _capture(self):
        return capture_rng_states(self._loader_gen)

    def _gather(self):
        if get_world_size() > 1:
            self._gathered = all_gather_object(self._capture())

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self._gather()

    def after_train_epoch(self, runner):
        self._gather()

    def before_save_checkpoint(self, runner, checkpoint):
        per_rank = self._gathered if get_world_size() > 1 and self._gathered is not None else [self._capture()]
        checkpoint['rng_states'] = dict(world_size=get_world_size(), per_rank=per_rank,
                                        loader_seed=self._loader_seed)

    # ---------------------------------------------------------------- restoring
    def after_load_checkpoint(self, runner, checkpoint):
        # applied in before_train: Runner.resume may still re-seed after this call (a changed seed)
        self._pending = checkpoint.get('rng_states')
        self._resumed_without = 'rng_states' not in checkpoint

    def before_train(self, runner):
        self._setup_loader(runner)
        pending, self._pending = self._pending, None
        if runner.iter == 0 and runner.epoch == 0:
            return  # a fresh run (or load_from a checkpoint of another run): nothing to continue
        if pending is None:
            if self._resumed_without:
                runner.logger.warning('RNGStateHook: the resumed checkpoint has no rng_states (written before this '
                                      'hook existed); the random streams restart from the config seed, so the '
                                      'losses will differ slightly from an uninterrupted run')
            return
        world, rank = get_world_size(), get_rank()
        if pending['world_size'] != world:
            runner.logger.warning(f"RNGStateHook: the checkpoint was written by {pending['world_size']} process(es), "
                                  f'this run has {world}; the random streams are not restored')
            return
        states = pending['per_rank'][rank]
        loop = runner.train_loop
        if isinstance(loop, IterBasedTrainLoop):
            # mmengine replays `iter` batches from a fresh dataloader before training resumes: the loader
            # generator restarts from its seed (the replay re-creates the same worker seeds) and the
            # main-process states are restored right before the first batch after the replay
            if self._loader_gen is not None:
                self._loader_gen.manual_seed(self._loader_seed)
            loop.dataloader_iterator = _ReplayThenRestore(
                loop.dataloader_iterator, runner.iter, partial(restore_rng_states, states, None),
                log=runner.logger.info)
        else:
            restore_rng_states(states, self._loader_gen)
            loader = runner.train_dataloader
            if getattr(loader, 'persistent_workers', False) and getattr(loader, 'num_workers', 0) > 0:
                runner.logger.warning(
                    'RNGStateHook: resuming an epoch loop with persistent_workers=True: the workers start afresh, '
                    'so the data pipeline draws differ from the uninterrupted run (persistent_workers=False or '
                    'num_workers=0 resumes exactly)')
        runner.logger.info(f'RNGStateHook: restored the random streams of iteration {runner.iter} (rank {rank})')

    # ---------------------------------------------------------------- validation leaves them alone
    def before_val(self, runner):
        self._val_states = capture_rng_states(None)

    def after_val(self, runner):
        if self._val_states is not None:
            restore_rng_states(self._val_states, None)
            self._val_states = None


__all__ = ['RNGStateHook', 'capture_rng_states', 'restore_rng_states', 'seed_worker']
