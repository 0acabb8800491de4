"""Fixtures for the part-segmentation tests: the real ShapeNetPart 'Cap' sample, layouts written in tmp_path,
and a tiny segmentor config (Point-JEPA's tiny test backbone)."""
import copy
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from ..conftest import TINY_MODEL

ROOT = Path(__file__).resolve().parents[2]
SEG_CONFIG = ROOT / 'configs' / 'point_jepa' / 'benchmarks' / 'pointjepa_vit-s_1xb16-coslr-300e_shapenetpart-partseg.py'
NORMAL_DIR = 'shapenetcore_partanno_segmentation_benchmark_v0_normal'
CAP, AIRPLANE = '02954340', '02691156'


@pytest.fixture(scope='session')
def shapenetpart_root(shared_data):
    root = shared_data / 'shapenetpart_subset'
    if not (root / NORMAL_DIR).is_dir():
        pytest.skip(f'needs ../shared/data/shapenetpart_subset beside the repo (the real ShapeNetPart sample); '
                    f'not found at {root / NORMAL_DIR}')
    return root


def shape_text(xyz, labels, normals=None):
    """File text of one shape: rows ``x y z nx ny nz part``."""
    xyz = np.asarray(xyz, dtype=np.float64)
    if normals is None:
        normals = np.tile([0.0, 0.0, 1.0], (len(xyz), 1))
    return ''.join(f'{x:.6f} {y:.6f} {z:.6f} {a:.6f} {b:.6f} {c:.6f} {int(p)}\n'
                   for (x, y, z), (a, b, c), p in zip(xyz, normals, labels))


def write_layout(root, shapes, splits, categories=(('Cap', CAP), ('Airplane', AIRPLANE))):
    """Write ShapeNetPart's normal layout under ``root/NORMAL_DIR``.

    ``shapes``: {(synset, id): file text}; ``splits``: {'train'|'val'|'test': [(synset, id), ...]}.
    """
    folder = Path(root) / NORMAL_DIR
    (folder / 'train_test_split').mkdir(parents=True, exist_ok=True)
    (folder / 'synsetoffset2category.txt').write_text(''.join(f'{n}\t{s}\n' for n, s in categories))
    for (synset, shape_id), text in shapes.items():
        (folder / synset).mkdir(exist_ok=True)
        (folder / synset / f'{shape_id}.txt').write_text(text)
    for split, ids in splits.items():
        (folder / 'train_test_split' / f'shuffled_{split}_file_list.json').write_text(
            json.dumps([f'shape_data/{s}/{i}' for s, i in ids]))
    return folder


def airplane_shape(n, seed):
    """A synthetic 'Airplane' of n points whose part (0-3) is the quadrant of (x, y): label follows position."""
    xyz = np.random.default_rng(seed).uniform(-1, 1, size=(n, 3))
    labels = (xyz[:, 0] > 0).astype(int) + 2 * (xyz[:, 1] > 0).astype(int)
    return xyz, labels


@pytest.fixture
def two_category_root(tmp_path, shapenetpart_root):
    """The real Cap shapes (copied) plus three written Airplane shapes, with their own split lists."""
    real = shapenetpart_root / NORMAL_DIR / CAP
    shapes = {(CAP, p.stem): p.read_text() for p in sorted(real.glob('*.txt'))}
    for i, n in enumerate((300, 120, 90)):
        shapes[(AIRPLANE, f'plane_{i}')] = shape_text(*airplane_shape(n, seed=i))
    caps = sorted(k for k in shapes if k[0] == CAP)
    splits = dict(train=caps[:3] + [(AIRPLANE, 'plane_0')], val=[caps[3], (AIRPLANE, 'plane_1')],
                  test=caps[4:6] + [(AIRPLANE, 'plane_2')])
    write_layout(tmp_path, shapes, splits)
    return tmp_path


def tiny_seg_model(checkpoint=None, prefix='backbone.'):
    """A PointPartSegmentor around the tiny Point-JEPA test backbone (2 blocks of 32 dims)."""
    backbone = copy.deepcopy(TINY_MODEL['backbone'])
    backbone['encoder']['drop_path_rate'] = 0.0
    backbone['init_cfg'] = (None if checkpoint is None else
                            dict(type='Pretrained', checkpoint=str(checkpoint), prefix=prefix))
    return dict(type='PointPartSegmentor', backbone=backbone, feature_blocks=(1, 2), fuse='mean', interp_k=3,
                head=dict(type='PartSegHead', label_embed_dims=8, prop_channels=(32,), channels=(64, 32),
                          dropout=0.0))


def tiny_seg_cfg_options(data_root, work_dir, num_points=128, max_epochs=2, batch_size=4):
    """--cfg-options (as a dict) that shrink the real segmentation config to the tiny model and the Cap sample."""
    model = tiny_seg_model()
    opts = {
        'work_dir': str(work_dir),
        'model.backbone.tokenizer': model['backbone']['tokenizer'],
        'model.backbone.encoder': model['backbone']['encoder'],
        'model.backbone.init_cfg': None,
        'model.feature_blocks': model['feature_blocks'],
        'model.head.label_embed_dims': 8, 'model.head.prop_channels': (32,), 'model.head.channels': (64, 32),
        'train_cfg.max_epochs': max_epochs,
        'param_scheduler': [dict(type='ConstantLR', factor=1.0, by_epoch=True, begin=0, end=max_epochs)],
        'optim_wrapper.optimizer.lr': 1e-3,
        'default_hooks.logger.interval': 1, 'default_hooks.checkpoint.interval': 1,
        'log_level': 'WARNING',
    }
    for split in ('train', 'val', 'test'):
        opts.update({f'{split}_dataloader.num_workers': 0, f'{split}_dataloader.persistent_workers': False,
                     f'{split}_dataloader.batch_size': batch_size,
                     f'{split}_dataloader.dataset.data_root': str(data_root)})
    return opts


def shrink_pipelines(cfg, num_points):
    for split in ('train', 'val', 'test'):
        for t in cfg[f'{split}_dataloader']['dataset']['pipeline']:
            if t['type'] in ('PointSample', 'pjepa3d.PointSample'):
                t['num_points'] = num_points
    return cfg


@pytest.fixture
def cap_copy(tmp_path, shapenetpart_root):
    """A private copy of the real Cap sample (tests that write files never touch the shared one)."""
    dst = tmp_path / 'capdata'
    shutil.copytree(shapenetpart_root / NORMAL_DIR, dst / NORMAL_DIR)
    return dst
