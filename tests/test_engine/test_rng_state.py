"""A resumed run is the same run: kill -9, --resume, and every logged loss / ema_tau after the resume point
equals the uninterrupted run's (RNGStateHook); dataloader workers draw anew every pass."""
import json
import random
import subprocess
import sys
from functools import partial
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.dataset import DefaultSampler
from mmengine.dataset import worker_init_fn as mmengine_worker_init_fn
from mmengine.runner.loops import _InfiniteDataloaderIterator
from torch.utils.data import DataLoader, Dataset

from pjepa3d.engine.hooks import RNGStateHook, seed_worker
from pjepa3d.engine.hooks.rng_state_hook import _ReplayThenRestore, capture_rng_states, restore_rng_states
from tests.test_tools._utils import check, tool_env

ROOT = Path(__file__).resolve().parents[2]
DEMO_CONFIG = ROOT / 'configs' / 'point_jepa' / 'pointjepa_vit-t_1xb32-demo_synthetic.py'

# the demo config shrunk to a few-thousand-parameter model on 64-point clouds, with random augmentation in the
# data pipeline (numpy draws, in the workers or, with num_workers=0, in the main process), drop-path (torch
# draws in the model) and the region masker (torch draws): every random stream a resume must continue
TINY = """
_base_ = [{demo!r}]
model = dict(
    backbone=dict(tokenizer=dict(num_groups=8, group_size=8, embed_dims=32, hidden_dims=(16, 32, 32)),
                  encoder=dict(embed_dims=32, depth=2, num_heads=2, drop_path_rate=0.2)),
    head=dict(predictor=dict(in_dims=32, embed_dims=16, depth=1, num_heads=2)))
train_dataloader = dict(
    batch_size=8, num_workers={workers}, persistent_workers={persistent},
    dataset=dict(num_samples={samples}, num_points=64, pipeline=[
        dict(type='RandomScale', scale_range=(0.8, 1.2)), dict(type='RandomJitter', sigma=0.01),
        dict(type='PackPointInputs')]))
optim_wrapper = dict(optimizer=dict(lr=1e-3))
custom_imports = dict(imports=['tests.test_engine.kill_hook'], allow_failed_imports=False)
custom_hooks = [dict(type='pjepa3d.EMAHook', schedule='cosine', tau_start=0.996, tau_end=1.0),
                dict(type='KillAtIterHook', iteration='{{{{$KILL_AT:0}}}}')]
{loop}
"""
EPOCH_LOOP = """
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=6)
param_scheduler = [dict(type='CosineAnnealingLR', T_max=6, by_epoch=True, begin=0, end=6, convert_to_iter_based=True)]
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1, max_keep_ckpts=10))
"""
ITER_LOOP = """
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=12)
param_scheduler = [dict(type='CosineAnnealingLR', T_max=12, by_epoch=False, begin=0, end=12)]
default_hooks = dict(logger=dict(interval=1, log_metric_by_epoch=False),
                     checkpoint=dict(by_epoch=False, interval=4, max_keep_ckpts=10))
log_processor = dict(by_epoch=False)
"""
NO_RNG_HOOK = """
default_hooks = dict(_delete_=True, timer=dict(type='IterTimerHook'), logger=dict(type='LoggerHook', interval=1),
                     param_scheduler=dict(type='ParamSchedulerHook'),
                     checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=10),
                     sampler_seed=dict(type='DistSamplerSeedHook'))
"""


def _env():
    return tool_env(PYTHONPATH=str(ROOT))


def _train(config, work_dir, *extra, kill_at=0, processes=1):
    if processes == 1:
        cmd = [sys.executable, str(ROOT / 'tools' / 'train.py'), str(config), '--work-dir', str(work_dir), *extra]
        env = dict(_env(), KILL_AT=str(kill_at))
    else:  # torchrun through the shipped launcher (gloo on CPU)
        import socket
        with socket.socket() as sock:
            sock.bind(('127.0.0.1', 0))
            port = sock.getsockname()[1]
        cmd = ['bash', str(ROOT / 'tools' / 'dist_train.sh'), str(config), str(processes), '--work-dir', str(work_dir),
               *extra]
        env = dict(_env(), KILL_AT=str(kill_at), PORT=str(port), PYTHON=sys.executable)
    return subprocess.run(cmd, cwd=str(work_dir.parent), env=env, capture_output=True, text=True, timeout=300)


def _scalars(work_dir):
    """Every logged training record of every run in ``work_dir``, in order: {iter: (loss, ema_tau, lr)}."""
    rows = {}
    for path in sorted(Path(work_dir).glob('*/vis_data/scalars.json')):
        for line in path.read_text().splitlines():
            rec = json.loads(line)
            if 'loss' in rec:
                rows[rec['iter']] = (rec['loss'], rec['ema_tau'], rec['lr'])
    return rows


def _run_killed_and_resumed(tmp_path, loop, workers, persistent, samples, kill_at, hooks_off=False, processes=1):
    config = tmp_path / 'tiny.py'
    text = TINY.format(demo=str(DEMO_CONFIG), workers=workers, persistent=persistent, samples=samples, loop=loop)
    if hooks_off:  # mmengine only lets its own default hooks be set to None: re-declare them without rng_state
        text += NO_RNG_HOOK
    config.write_text(text)
    whole, broken = tmp_path / 'whole', tmp_path / 'broken'
    whole.mkdir(), broken.mkdir()
    proc = _train(config, whole, processes=processes)
    check(proc)  # on failure both streams: the logs (stdout) say how far training got, stderr how it ended
    killed = _train(config, broken, kill_at=kill_at, processes=processes)
    # one process: SIGKILL itself (-9); torchrun: the agent reports the killed worker and exits non-zero
    assert killed.returncode == -9 if processes == 1 else killed.returncode != 0, \
        f'the run was not killed: exit {killed.returncode}\n{killed.stderr[-3000:]}'
    before = _scalars(broken)
    assert max(before) == kill_at - 1, sorted(before)
    resumed = _train(config, broken, '--resume', processes=processes)
    check(resumed)
    return _scalars(whole), _scalars(broken), resumed.stdout + resumed.stderr


def _assert_same_after_resume(whole, resumed_rows, first):
    compared = [i for i in sorted(whole) if i >= first]
    assert compared and all(i in resumed_rows for i in compared), (compared, sorted(resumed_rows))
    for i in compared:
        assert resumed_rows[i] == whole[i], f'iteration {i}: resumed {resumed_rows[i]} != uninterrupted {whole[i]}'


@pytest.mark.parametrize('workers,persistent', [(1, False), (0, False)])
def test_epoch_loop_resumes_exactly_after_kill(tmp_path, workers, persistent):
    # 16 clouds, batch 8: 2 iterations per epoch; killed in the middle of epoch 4 (iteration 8), the latest
    # checkpoint is epoch 3 (iteration 6): iterations 7-12 are trained again and must log what the whole run did
    whole, broken, out = _run_killed_and_resumed(tmp_path, EPOCH_LOOP, workers, persistent, 16, kill_at=8)
    assert 'resumed epoch: 3, iter: 6' in out
    assert 'RNGStateHook: restored the random streams of iteration 6' in out
    _assert_same_after_resume(whole, broken, first=7)


@pytest.mark.parametrize('workers,persistent', [(1, True), (0, False)])
def test_iter_loop_resumes_exactly_after_kill(tmp_path, workers, persistent):
    # 48 clouds, batch 8: the dataloader restarts after 6 iterations; checkpoints at 4 and 8, killed at 11:
    # mmengine replays 8 batches (across the restart) and iterations 9-12 must log what the whole run did
    whole, broken, out = _run_killed_and_resumed(tmp_path, ITER_LOOP, workers, persistent, 48, kill_at=11)
    assert 'resumed epoch: 0, iter: 8' in out
    assert 'RNGStateHook: replayed the first 8 batches (the data order up to the checkpoint, 1 dataloader ' \
           'restart(s))' in out
    _assert_same_after_resume(whole, broken, first=9)


def test_two_process_ddp_run_resumes_exactly_after_kill(tmp_path):
    # torchrun, 2 CPU processes (gloo): each rank has its own streams (its masker draws, its data augmentation);
    # the checkpoint holds both ranks' states and each rank gets its own back. 32 clouds / 2 ranks / batch 8:
    # 2 iterations per epoch, killed in epoch 4, resumed from epoch 3
    whole, broken, out = _run_killed_and_resumed(tmp_path, EPOCH_LOOP, 0, False, 32, kill_at=8, processes=2)
    assert 'RNGStateHook: restored the random streams of iteration 6 (rank 0)' in out  # rank 0 logs
    _assert_same_after_resume(whole, broken, first=7)
    ckpt = torch.load(tmp_path / 'broken' / 'epoch_3.pth', map_location='cpu')
    per_rank = ckpt['rng_states']['per_rank']
    assert ckpt['rng_states']['world_size'] == 2 and len(per_rank) == 2
    assert not torch.equal(per_rank[0]['torch'], per_rank[1]['torch'])  # diff_rank_seed: the ranks' streams differ


def test_without_the_hook_a_resumed_run_drifts(tmp_path):
    # the same kill / resume with RNGStateHook switched off: the losses after the resume point differ
    whole, broken, out = _run_killed_and_resumed(tmp_path, EPOCH_LOOP, 0, False, 16, kill_at=8, hooks_off=True)
    assert 'RNGStateHook' not in out
    assert any(broken[i][0] != whole[i][0] for i in range(7, 13))
    # before the kill both runs are the same run
    assert all(broken[i] == whole[i] for i in range(1, 7))


class _Draws(Dataset):
    """Each item: the next value of the worker's numpy and Python generators (what an augmentation draws)."""

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return torch.tensor([np.random.rand(), random.random()])


def _epochs(loader, n=2):
    return [torch.cat(list(loader)) for _ in range(n)]


def test_mmengine_worker_seeding_repeats_every_epoch_and_seed_worker_does_not():
    # mmengine 0.10.7's worker_init_fn seeds numpy / random with seed + worker_id each time workers start:
    # with persistent_workers=False, every epoch draws the same "random" augmentation
    mm = DataLoader(_Draws(), batch_size=2, num_workers=1, persistent_workers=False,
                    worker_init_fn=partial(mmengine_worker_init_fn, num_workers=1, rank=0, seed=0))
    first, second = _epochs(mm)
    assert torch.equal(first, second)

    def loader(seed):
        return DataLoader(_Draws(), batch_size=2, num_workers=1, persistent_workers=False,
                          generator=torch.Generator().manual_seed(seed), worker_init_fn=seed_worker)

    first, second = _epochs(loader(3))
    assert not torch.equal(first[:, 0], second[:, 0]) and not torch.equal(first[:, 1], second[:, 1])
    again = _epochs(loader(3))
    assert torch.equal(first, again[0]) and torch.equal(second, again[1])  # reproducible from the generator
    assert not torch.equal(first, _epochs(loader(4), 1)[0])


def test_capture_restore_round_trip_and_survives_weights_only_load(tmp_path):
    gen = torch.Generator().manual_seed(5)
    states = capture_rng_states(gen)
    expected = (random.random(), np.random.rand(), torch.rand(1).item(), torch.rand(1, generator=gen).item())
    path = tmp_path / 'states.pth'
    torch.save(states, path)
    restore_rng_states(torch.load(path, weights_only=True), gen)
    assert (random.random(), np.random.rand(), torch.rand(1).item(), torch.rand(1, generator=gen).item()) == expected


def test_validation_does_not_move_the_training_streams():
    hook = RNGStateHook()
    state = capture_rng_states()
    expected = (random.random(), np.random.rand(), torch.rand(1).item())
    restore_rng_states(state)
    hook.before_val(runner=None)
    torch.rand(100), np.random.rand(7), random.random()  # what a validation loop may draw
    hook.after_val(runner=None)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == expected


class _IndexAndDraw(Dataset):
    """Item i: (i, the worker's next numpy draw): the data order and the pipeline's random stream in one."""

    def __len__(self):
        return 10

    def __getitem__(self, i):
        return torch.tensor([float(i), np.random.rand()])


def _infinite(workers):
    loader = DataLoader(_IndexAndDraw(), batch_size=4, num_workers=workers, persistent_workers=workers > 0,
                        sampler=DefaultSampler(_IndexAndDraw(), shuffle=True, seed=0),
                        generator=torch.Generator().manual_seed(1), worker_init_fn=seed_worker)
    return _InfiniteDataloaderIterator(loader)


@pytest.mark.parametrize('workers', [0, 1])
def test_replay_serves_mmengine_batches_and_hands_over_its_position(workers):
    # 10 items, batch 4: 3 batches a pass. The resumed run replays 5 batches (one restart) and trains from the
    # 6th; every batch, the shuffled order of each pass and the workers' draws must be mmengine's own
    np.random.seed(0)
    reference = _infinite(workers)
    expected = [next(reference) for _ in range(9)]
    np.random.seed(0)
    applied, logged = [], []
    replay = _ReplayThenRestore(_infinite(workers), 5, apply=lambda: applied.append(len(got)), log=logged.append)
    got = []
    for _ in range(9):
        got.append(next(replay))
    assert all(torch.equal(a, b) for a, b in zip(got, expected)), (got, expected)
    assert sorted(torch.cat(got[:3])[:, 0].tolist()) == list(range(10))  # a whole pass, shuffled
    assert not torch.equal(got[0][:, 0], got[3][:, 0])  # the next pass is shuffled anew (set_epoch reached it)
    assert applied == [5]  # the states are restored right before the first trained batch, once
    assert replay._epoch == reference._epoch == 2  # mmengine's iterator continues from the replayed position
    assert logged[-1].startswith('RNGStateHook: replayed the first 5 batches') and '1 dataloader restart(s)' in \
        logged[-1], logged
