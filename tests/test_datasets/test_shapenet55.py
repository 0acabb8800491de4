"""ShapeNet55 (Point-BERT layout) on small .npy files written by the test."""
import numpy as np
import pytest
from mmengine.dataset import default_collate

from pjepa3d.datasets import ShapeNet55

SYNSETS = ('04379243', '02691156', '03001627')


@pytest.fixture
def shapenet_root(tmp_path):
    rng = np.random.default_rng(0)
    (tmp_path / 'shapenet_pc').mkdir()
    names = []
    for k, synset in enumerate(SYNSETS):
        for j in range(2):
            name = f'{synset}-{k}{j}abcdef.npy'
            np.save(tmp_path / 'shapenet_pc' / name, rng.normal(size=(8192, 3)).astype(np.float32))
            names.append(name)
    (tmp_path / 'train.txt').write_text('\n'.join(names[:5]) + '\n')
    (tmp_path / 'test.txt').write_text(names[5] + '\n' + names[0] + '\n')
    return tmp_path, names


def test_shapenet55_loads_and_labels(shapenet_root):
    root, names = shapenet_root
    ds = ShapeNet55(root, split='train')
    assert len(ds) == 5 and ds.metainfo['classes'] == tuple(sorted(SYNSETS))
    for i, name in enumerate(names[:5]):
        sample = ds[i]
        assert sample['file'].endswith(name) and sample['points'].shape == (8192, 3)
        assert ds.metainfo['classes'][sample['label']] == name.split('-')[0]
        np.testing.assert_array_equal(sample['points'], np.load(root / 'shapenet_pc' / name))
    test = ShapeNet55(root, split='test')  # labels index the synsets present in that split file
    assert test.metainfo['classes'] == ('03001627', '04379243') and [test[i]['label'] for i in (0, 1)] == [0, 1]


def test_shapenet55_ann_file_subfolder_and_batch(shapenet_root):
    root, names = shapenet_root
    (root / 'ShapeNet-55').mkdir()
    (root / 'test.txt').rename(root / 'ShapeNet-55' / 'test.txt')
    assert len(ShapeNet55(root, split='test')) == 2
    (root / 'mine.txt').write_text(names[2] + '\n')
    ds = ShapeNet55(root, ann_file='mine.txt', pipeline=[
        dict(type='PointSample', num_points=1024, method='random'), dict(type='NormalizeUnitSphere'),
        dict(type='PackPointInputs')])
    assert len(ds) == 1 and ds.metainfo['classes'] == ('02691156',)
    batch = default_collate([ds[0], ds[0]])
    assert batch['inputs']['points'].shape == (2, 1024, 3)
    with pytest.raises(ValueError, match='no normals'):
        ShapeNet55(root, split='train', use_normals=True)
