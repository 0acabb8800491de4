"""Shared fixtures: the real sample data beside the project and a tiny Point-JEPA config."""
import copy
import os
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = (PROJECT_ROOT / '..' / 'shared' / 'data').resolve()

if os.environ.get('PYTEST_XDIST_WORKER'):
    # one of several pytest-xdist workers (tools/run_tests.sh: one per core, at most 4): one thread each, as the
    # tools the tests start in subprocesses have, so that workers never wait on each other's OpenMP threads
    import torch
    torch.set_num_threads(1)
    os.environ['OMP_NUM_THREADS'] = os.environ['MKL_NUM_THREADS'] = '1'

TINY_MODEL = dict(
    type='PointJEPA',
    backbone=dict(
        type='PointPatchTransformer',
        tokenizer=dict(type='PointPatchTokenizer', num_groups=16, group_size=8, embed_dims=32,
                       hidden_dims=(16, 32, 64)),
        pos_embed='sincos3d',
        encoder=dict(type='PointTransformerEncoder', embed_dims=32, depth=2, num_heads=2, drop_path_rate=0.1)),
    masker=dict(type='RegionMasker', mode='region'),
    head=dict(type='JEPAHead', predictor=dict(type='JEPAPredictor', in_dims=32, embed_dims=16, depth=1, num_heads=2)),
    ema_scope='encoder')


@pytest.fixture
def tiny_model_cfg():
    return copy.deepcopy(TINY_MODEL)


@pytest.fixture(scope='session')
def shared_data():
    if not SHARED_DATA.is_dir():
        pytest.skip(f'needs ../shared/data beside the repo (the real sample data); not found at {SHARED_DATA}')
    return SHARED_DATA


@pytest.fixture(scope='session')
def modelnet_subset():
    root = SHARED_DATA / 'modelnet40_subset'
    if not root.is_dir():
        pytest.skip(f'real ModelNet40 sample not found at {root} (expected ../shared/data beside the repo)')
    return root


def load_script(relpath):
    """A script of the repository (``tools/...py``, ``benchmarks/...py``, a project tool) as a module, so a test
    can call its ``main(argv)`` in-process; scripts are not a package, hence the import by path."""
    import importlib.util
    path = PROJECT_ROOT / relpath
    name = 'pjepa3d_script_' + str(relpath).replace('/', '_').removesuffix('.py')
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tiny_runner_cfg(work_dir, model, max_epochs=2, num_samples=32, batch_size=16, lr=1e-3, hooks=None,
                    checkpoint_interval=1, num_points=64):
    """A full mmengine Runner config around ``model`` on SyntheticShapes (epoch loop, no workers)."""
    return dict(
        default_scope='pjepa3d',
        work_dir=str(work_dir),
        model=model,
        train_dataloader=dict(
            batch_size=batch_size, num_workers=0,
            sampler=dict(type='DefaultSampler', shuffle=False),
            collate_fn=dict(type='default_collate'),
            dataset=dict(type='SyntheticShapes', split='train', num_samples=num_samples, num_points=num_points,
                         pipeline=[dict(type='PackPointInputs')])),
        train_cfg=dict(type='EpochBasedTrainLoop', max_epochs=max_epochs),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=lr, weight_decay=0.0),
                           paramwise_cfg=dict(bypass_duplicate=True)),
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=1),
            checkpoint=dict(type='CheckpointHook', interval=checkpoint_interval,
                            backend_args=dict(backend='atomic_local'))),
        custom_hooks=hooks if hooks is not None else [
            dict(type='pjepa3d.EMAHook', schedule='cosine', tau_start=0.9, tau_end=1.0)],
        randomness=dict(seed=0),
        log_level='WARNING',
    )


def toy_shape(cls, rng, num_points):
    """One cloud of a toy class with its own geometry ('ball': sphere shell, 'plate': flat disc, 'rod': thin
    rod), in mesh-like units far from the unit sphere (the ModelNet10 dataset centres and scales)."""
    import numpy as np
    if cls == 'ball':
        p = rng.normal(size=(num_points, 3))
        p /= np.linalg.norm(p, axis=1, keepdims=True)
    elif cls == 'plate':
        r, t = np.sqrt(rng.uniform(size=num_points)), rng.uniform(0, 2 * np.pi, num_points)
        p = np.stack([r * np.cos(t), r * np.sin(t), rng.normal(scale=0.02, size=num_points)], axis=1)
    else:
        p = np.stack([rng.uniform(-1, 1, num_points), *rng.normal(scale=0.05, size=(2, num_points))], axis=1)
    return (p * rng.uniform(50, 150) + rng.uniform(-500, 500, size=3)).astype(np.float32)


def write_toy_modelnet10(root, num_points, train=6, test=3, classes=('ball', 'plate', 'rod'), ascii_first=False):
    """<root>/{cls}/{train,test}/<cls>_NNNN.pcd in ModelNet10's layout (binary PCD, the first file of a folder
    ascii with ``ascii_first``), seeded; returns ``root``."""
    import numpy as np
    from pypcd4 import Encoding, PointCloud
    rng = np.random.default_rng(0)
    for cls in classes:
        for split, n, first in (('train', train, 1), ('test', test, 101)):
            folder = root / cls / split
            folder.mkdir(parents=True)
            for k in range(n):
                enc = Encoding.ASCII if (ascii_first and k == 0) else Encoding.BINARY
                PointCloud.from_xyz_points(toy_shape(cls, rng, num_points)).save(
                    str(folder / f'{cls}_{first + k:04d}.pcd'), encoding=enc)
    return root
