"""Missing or broken data must fail with a clear error that names the path (and the sample index)."""
import h5py
import numpy as np
import pytest

from pjepa3d.datasets import ModelNet40, ShapeNet55, SyntheticShapes
from pjepa3d.utils.checks import PointCloudError

from .conftest import random_rows, write_resampled


def test_nonexistent_roots(tmp_path):
    missing = tmp_path / 'nowhere'
    for cls in (ModelNet40, ShapeNet55):
        with pytest.raises(FileNotFoundError, match='nowhere'):
            cls(missing)
    with pytest.raises(FileNotFoundError, match='modelnet40_normal_resampled'):
        ModelNet40(tmp_path)  # exists but holds no dataset


def test_modelnet_missing_split_and_names_files(tmp_path):
    folder = write_resampled(tmp_path, {'chair_0001': random_rows(10)}, splits={'train': ['chair_0001']})
    assert len(ModelNet40(tmp_path, split='train')) == 1
    with pytest.raises(FileNotFoundError, match=r'modelnet40_test\.txt'):
        ModelNet40(tmp_path, split='test')
    (folder / 'modelnet40_shape_names.txt').unlink()
    with pytest.raises(FileNotFoundError, match=r'modelnet40_shape_names\.txt'):
        ModelNet40(tmp_path, split='train')


def test_modelnet_listed_file_missing_or_unknown_class(tmp_path):
    folder = write_resampled(tmp_path, {'chair_0001': random_rows(10)},
                             splits={'train': ['chair_0001', 'chair_0002'], 'test': ['sofa_0001']})
    with pytest.raises(FileNotFoundError, match='chair_0002.txt'):
        ModelNet40(tmp_path, split='train')
    with pytest.raises(ValueError, match='sofa'):
        ModelNet40(folder, split='test')


@pytest.mark.parametrize('content, message', [
    ('', 'empty'),
    ('\n'.join(['0.1,0.2,0.3,0,0,1'] * 3 + ['nan,0.2,0.3,0,0,1']) + '\n', 'NaN'),
    ('\n'.join(['0.1,0.2,0.3,0,0,1'] * 2 + ['0.1,0.2,inf,0,0,1']) + '\n', 'NaN or inf'),
    ('\n'.join(['0.1,0.2,0.3,1'] * 4) + '\n', 'expected 6 values'),
    ('0.1,0.2,0.3,0,0,1\n0.1,0.2,0.3\n', 'cannot parse'),
    ('0.1,0.2,0.3,0,0,one\n', 'cannot parse'),
])
def test_modelnet_bad_point_files(tmp_path, content, message):
    write_resampled(tmp_path, {'airplane_0001': random_rows(5), 'chair_0007': content},
                    splits={'train': ['airplane_0001', 'chair_0007']})
    ds = ModelNet40(tmp_path, split='train')
    assert ds[0]['points'].shape == (5, 3)
    with pytest.raises(PointCloudError, match=message) as err:
        ds[1]
    assert 'chair_0007.txt' in str(err.value) and 'sample 1' in str(err.value)


def test_modelnet_hdf5_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r'ply_data_train\*\.h5'):
        ModelNet40(tmp_path, layout='hdf5')
    data = np.zeros((2, 16, 3), np.float32)
    data[1, 4, 2] = np.nan
    with h5py.File(tmp_path / 'ply_data_train0.h5', 'w') as f:
        f['data'], f['label'] = data, np.array([[1], [2]], np.uint8)
    ds = ModelNet40(tmp_path, split='train')
    assert ds[0]['points'].shape == (16, 3)
    with pytest.raises(PointCloudError, match='NaN') as err:
        ds[1]
    assert 'ply_data_train0.h5' in str(err.value) and 'sample 1, row 1' in str(err.value)
    with h5py.File(tmp_path / 'ply_data_test0.h5', 'w') as f:
        f['points'] = data
    with pytest.raises(ValueError, match="ply_data_test0.h5: expected datasets 'data' and 'label'"):
        ModelNet40(tmp_path, split='test')


@pytest.mark.parametrize('array, message', [
    (np.zeros((0, 3), np.float32), 'empty'),
    (np.full((8, 3), np.nan, np.float32), 'NaN'),
    (np.zeros((8, 4), np.float32), 'expected 3 values'),
    (np.zeros(8, np.float32), r'shape \(N, C\)'),
])
def test_shapenet_bad_point_files(tmp_path, array, message):
    (tmp_path / 'shapenet_pc').mkdir()
    np.save(tmp_path / 'shapenet_pc' / '02691156-good.npy', np.ones((8, 3), np.float32))
    np.save(tmp_path / 'shapenet_pc' / '02691156-bad.npy', array)
    (tmp_path / 'train.txt').write_text('02691156-good.npy\n02691156-bad.npy\n')
    ds = ShapeNet55(tmp_path)
    assert ds[0]['points'].shape == (8, 3)
    with pytest.raises(PointCloudError, match=message) as err:
        ds[1]
    assert '02691156-bad.npy' in str(err.value) and 'sample 1' in str(err.value)


def test_shapenet_missing_files(tmp_path):
    (tmp_path / 'shapenet_pc').mkdir()
    with pytest.raises(FileNotFoundError, match=r'train\.txt'):
        ShapeNet55(tmp_path)
    (tmp_path / 'train.txt').write_text('02691156-gone.npy\n')
    with pytest.raises(FileNotFoundError, match='02691156-gone.npy'):
        ShapeNet55(tmp_path)
    (tmp_path / 'shapenet_pc' / '02691156-gone.npy').write_bytes(b'not a numpy file')
    with pytest.raises(PointCloudError, match='02691156-gone.npy'):
        ShapeNet55(tmp_path)[0]
    with pytest.raises(FileNotFoundError, match='point-cloud folder .*elsewhere'):
        ShapeNet55(tmp_path, pc_dir='elsewhere')


def test_invalid_arguments(tmp_path):
    with pytest.raises(ValueError, match='split'):
        ModelNet40(tmp_path, split='val')
    with pytest.raises(ValueError, match='layout'):
        ModelNet40(tmp_path, layout='ply')
    with pytest.raises(ValueError, match='rotation'):
        SyntheticShapes(rotation='random')
