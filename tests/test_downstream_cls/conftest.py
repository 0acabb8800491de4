"""Fixtures for the classification tests: tiny models and files in the real layouts (the real ModelNet40
subset fixture, `modelnet_subset`, is in tests/conftest.py)."""
import copy
import pickle
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BENCH = PROJECT_ROOT / 'configs' / 'point_jepa' / 'benchmarks'

TINY_BACKBONE = dict(
    type='PointPatchTransformer',
    tokenizer=dict(type='PointPatchTokenizer', num_groups=8, group_size=8, embed_dims=32, hidden_dims=(16, 32, 64)),
    pos_embed='sincos3d',
    encoder=dict(type='PointTransformerEncoder', embed_dims=32, depth=2, num_heads=2, drop_path_rate=0.1))


@pytest.fixture
def tiny_backbone():
    return copy.deepcopy(TINY_BACKBONE)


def tiny_pipelines(num_points=64):
    train = [dict(type='PointSample', num_points=num_points, method='first'), dict(type='NormalizeUnitSphere'),
             dict(type='RandomScale', scale_range=(0.9, 1.1)), dict(type='PackPointInputs')]
    test = [dict(type='PointSample', num_points=num_points, method='first'), dict(type='NormalizeUnitSphere'),
            dict(type='PackPointInputs')]
    return train, test


def write_tiny_cfg(path, base, data_root, max_epochs=2, freeze_epochs=1, checkpoint=None, prefix='backbone.',
                   num_votes=3, extra=''):
    """A config file inheriting the shipped ``base`` config, shrunk to a tiny backbone, 64 points and no workers.

    ``checkpoint``: the backbone's Pretrained init (None: random init).
    """
    train, test = tiny_pipelines()
    init = 'None' if checkpoint is None else repr(dict(type='Pretrained', checkpoint=str(checkpoint), prefix=prefix))
    loader = "num_workers=0, persistent_workers=False, batch_size=32"
    text = f"""_base_ = [{str(BENCH / base)!r}]
model = dict(backbone=dict(_delete_=True, init_cfg={init}, **{TINY_BACKBONE!r}), head=dict(in_channels=64))
train_dataloader = dict({loader}, dataset=dict(data_root={str(data_root)!r}, pipeline={train!r}))
val_dataloader = dict({loader}, dataset=dict(data_root={str(data_root)!r}, pipeline={test!r}))
test_dataloader = dict({loader}, dataset=dict(data_root={str(data_root)!r}, pipeline={test!r}))
train_cfg = dict(max_epochs={max_epochs})
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True, begin=0, end={max_epochs})]
custom_hooks = [dict(type='FreezeBackboneHook', freeze_epochs={freeze_epochs}),
                dict(type='TestVotingHook', num_votes={num_votes}), dict(type='TestBestAndLastHook')]
default_hooks = dict(logger=dict(interval=1))
log_level = 'WARNING'
randomness = dict(seed=0)
""" + extra
    Path(path).write_text(text)
    return Path(path)


def save_pretrain_checkpoint(path, backbone_cfg, prefix='backbone.', seed=1):
    """A pretraining-style checkpoint (``meta`` + ``state_dict`` with ``<prefix>...`` keys); returns the tensors."""
    from mmengine.registry import init_default_scope
    from pjepa3d.registry import MODELS
    init_default_scope('pjepa3d')
    torch.manual_seed(seed)
    backbone = MODELS.build(copy.deepcopy(backbone_cfg))
    for p in backbone.parameters():  # distinct from any default init
        p.data.add_(torch.randn_like(p) * 0.05)
    state = {k: v.clone() for k, v in backbone.state_dict().items()}
    torch.save(dict(meta=dict(epoch=1), state_dict={prefix + k: v for k, v in state.items()},
                    optimizer={}), path)
    return state


def write_scanobjectnn(root, n_train=12, n_test=6, num_points=2048, seed=0):
    """The released h5 layout for all three variants: h5_files/main_split{,_nobg}/...; returns labels."""
    rng = np.random.default_rng(seed)
    labels = {}
    for sub, suffix in (('main_split', ''), ('main_split_nobg', ''), ('main_split', '_augmentedrot_scale75')):
        folder = root / 'h5_files' / sub
        folder.mkdir(parents=True, exist_ok=True)
        for split, n in (('training', n_train), ('test', n_test)):
            lab = np.arange(n) % 5
            with h5py.File(folder / f'{split}_objectdataset{suffix}.h5', 'w') as f:
                f.create_dataset('data', data=rng.normal(size=(n, num_points, 3)).astype(np.float32))
                f.create_dataset('label', data=lab.astype(np.int64))
                f.create_dataset('mask', data=np.zeros((n, num_points), dtype=np.int64))  # present in the release
            labels[(sub + suffix, split)] = lab
    return labels


def write_fewshot(root, way=5, shot=2, folds=(0, 1), n_test=2, num_points=256, seed=0):
    """Point-BERT's few-shot pickles: {way}way_{shot}shot/{fold}.pkl = dict(train=[(pts, label, class_id)], test=...).

    Class ``i`` of an episode is ModelNet40 class ``3 * i + fold``; class ``i``'s points are a sphere
    shell of radius ``i + 1`` (normals included, (N, 6) float32), so the classes are separable.
    """
    rng = np.random.default_rng(seed)
    folder = root / f'{way}way_{shot}shot'
    folder.mkdir(parents=True, exist_ok=True)
    for fold in folds:
        record = {}
        for split, n in (('train', shot), ('test', n_test)):
            items = []
            for i in range(way):
                for _ in range(n):
                    d = rng.normal(size=(num_points, 3))
                    d /= np.linalg.norm(d, axis=1, keepdims=True)
                    items.append((np.concatenate([d * (i + 1), d], 1).astype(np.float32), i, 3 * i + fold))
            record[split] = items
        with open(folder / f'{fold}.pkl', 'wb') as f:
            pickle.dump(record, f)
    return folder


def load_tool(relpath):
    """Import a script under tools/ as a module (they are scripts, not a package)."""
    from tests.conftest import load_script
    return load_script(f'tools/{relpath}')
