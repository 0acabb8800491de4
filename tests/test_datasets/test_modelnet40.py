"""ModelNet40 on the real resampled subset and on small PointNet HDF5 files."""
from pathlib import Path

import h5py
import numpy as np
import pytest
from mmengine.dataset import default_collate

from pjepa3d.datasets import MODELNET40_CLASSES, ModelNet40


def test_real_subset_counts_classes_and_labels(modelnet_subset):
    train = ModelNet40(modelnet_subset, split='train')
    test = ModelNet40(modelnet_subset, split='test')
    assert (len(train), len(test)) == (127, 29)
    assert train.layout == 'resampled' and len(train.metainfo['classes']) == 40
    assert train.metainfo['classes'] == MODELNET40_CLASSES
    labels = {d.get_data_info(i)['label'] for d in (train, test) for i in range(len(d))}
    assert len(labels) == 39 and MODELNET40_CLASSES.index('door') not in labels
    for ds in (train, test):  # every label agrees with the class folder of its file
        for i in range(len(ds)):
            info = ds.get_data_info(i)
            assert Path(info['file']).parent.name == ds.metainfo['classes'][info['label']]
    sample = test[2]  # the official test list: airplane_0703, bed_0601, bench_0174, ...
    assert sample['points'].shape == (2048, 3) and sample['points'].dtype == np.float32
    assert Path(sample['file']).parent.name == 'bench' and sample['label'] == MODELNET40_CLASSES.index('bench')
    assert sample['sample_idx'] == 2


def test_real_subset_normals_and_root_forms(modelnet_subset):
    inner = modelnet_subset / 'modelnet40_normal_resampled'
    with_normals = ModelNet40(inner, split='test', use_normals=True)
    without = ModelNet40(modelnet_subset, split='test', layout='resampled')
    a, b = with_normals[0]['points'], without[0]['points']
    assert a.shape == (2048, 6) and b.shape == (2048, 3)
    np.testing.assert_array_equal(a[:, :3], b)
    np.testing.assert_allclose(np.linalg.norm(a[:, 3:], axis=1), 1, atol=1e-2)
    raw = np.loadtxt(without.get_data_info(0)['file'], delimiter=',')
    np.testing.assert_allclose(a, raw, atol=1e-6)


def test_real_subset_batch(modelnet_subset):
    ds = ModelNet40(modelnet_subset, split='test', use_normals=True,
                    pipeline=[dict(type='PointSample', num_points=256), dict(type='NormalizeUnitSphere'),
                              dict(type='PackPointInputs')])
    batch = default_collate([ds[i] for i in range(3)])
    assert batch['inputs']['points'].shape == (3, 256, 6)
    assert batch['data_samples']['label'].tolist() == [ds.get_data_info(i)['label'] for i in range(3)]


def write_h5(path, data, labels):
    with h5py.File(path, 'w') as f:
        f['data'] = data.astype(np.float32)
        f['label'] = np.asarray(labels, np.uint8).reshape(-1, 1)


@pytest.fixture
def hdf5_root(tmp_path):
    folder = tmp_path / 'modelnet40_ply_hdf5_2048'
    folder.mkdir()
    rng = np.random.default_rng(0)
    data = {k: rng.normal(size=(n, 2048, 3)) for k, n in (('train0', 3), ('train1', 2), ('test0', 2))}
    write_h5(folder / 'ply_data_train1.h5', data['train1'], [7, 39])
    write_h5(folder / 'ply_data_train0.h5', data['train0'], [0, 1, 2])
    write_h5(folder / 'ply_data_test0.h5', data['test0'], [5, 5])
    return tmp_path, data


def test_hdf5_layout(hdf5_root):
    root, data = hdf5_root
    train = ModelNet40(root, split='train')
    assert train.layout == 'hdf5' and len(train) == 5
    assert train.metainfo['classes'] == MODELNET40_CLASSES  # no shape_names.txt: the standard 40
    assert [train.get_data_info(i)['label'] for i in range(5)] == [0, 1, 2, 7, 39]  # files in numeric order
    np.testing.assert_allclose(train[3]['points'], data['train1'][0], rtol=1e-6)
    assert train[3]['points'].shape == (2048, 3) and train[3]['file'].endswith('ply_data_train1.h5')
    test = ModelNet40(root / 'modelnet40_ply_hdf5_2048', split='test', layout='hdf5')
    assert len(test) == 2 and test[1]['label'] == 5
    with pytest.raises(ValueError, match='no normals'):
        ModelNet40(root, split='train', use_normals=True)


def test_hdf5_shape_names_file_and_layout_choice(hdf5_root, tmp_path):
    root, _ = hdf5_root
    names = [f'class{i:02d}' for i in range(40)]
    (root / 'modelnet40_ply_hdf5_2048' / 'shape_names.txt').write_text('\n'.join(names) + '\n')
    assert ModelNet40(root, split='test').metainfo['classes'] == tuple(names)
    # both layouts present: auto prefers the resampled one, layout='hdf5' forces HDF5
    folder = root / 'modelnet40_normal_resampled'
    (folder / 'chair').mkdir(parents=True)
    np.savetxt(folder / 'chair' / 'chair_0001.txt', np.ones((10, 6)), delimiter=',')
    (folder / 'modelnet40_shape_names.txt').write_text('airplane\nchair\n')
    (folder / 'modelnet40_test.txt').write_text('chair_0001\n')
    assert ModelNet40(root, split='test').layout == 'resampled'
    assert ModelNet40(root, split='test', layout='hdf5').layout == 'hdf5'
