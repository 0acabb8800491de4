"""ShapeNetPart loader: the real Cap sample, a written second category, label alignment through the pipeline,
and clear errors on broken layouts."""
import json

import numpy as np
import pytest
import torch
from mmengine.dataset import default_collate

from pjepa3d.datasets import ShapeNetPart
from pjepa3d.datasets.shapenet_part import CATEGORY_NAMES, CATEGORY_PARTS, NUM_PARTS, PART_TO_CATEGORY
from pjepa3d.datasets.transforms import PackPartSegInputs, PointSample
from pjepa3d.registry import DATASETS
from pjepa3d.utils.checks import PointCloudError

from .conftest import AIRPLANE, CAP, NORMAL_DIR, airplane_shape, shape_text, write_layout


def test_part_table_is_the_community_one():
    assert len(CATEGORY_NAMES) == 16 and NUM_PARTS == 50
    flat = [p for parts in CATEGORY_PARTS for p in parts]
    assert flat == list(range(50))  # contiguous, each part in exactly one category
    assert CATEGORY_PARTS[CATEGORY_NAMES.index('Cap')] == (6, 7)
    assert CATEGORY_PARTS[CATEGORY_NAMES.index('Table')] == (47, 48, 49)
    assert PART_TO_CATEGORY[35] == CATEGORY_NAMES.index('Motorbike')


def test_reads_the_real_cap_sample(shapenetpart_root):
    counts = {s: len(ShapeNetPart(shapenetpart_root, split=s)) for s in ('train', 'val', 'test', 'trainval')}
    assert counts == dict(train=5, val=5, test=11, trainval=10)
    ds = ShapeNetPart(shapenetpart_root, split='test')
    assert ds.metainfo['classes'] == CATEGORY_NAMES and len(ds.metainfo['category_parts']) == 16
    seen = set()
    for i in range(len(ds)):
        r = ds[i]
        rows = len(open(r['file']).read().split('\n')) - 1
        assert r['points'].shape == (rows, 3) and r['points'].dtype == np.float32
        assert 2300 <= rows <= 2900
        assert r['pts_semantic_mask'].shape == (rows,) and r['pts_semantic_mask'].dtype == np.int64
        assert set(np.unique(r['pts_semantic_mask'])) <= {6, 7}
        assert r['category'] == r['label'] == 2 and r['category_name'] == 'Cap'
        seen |= set(np.unique(r['pts_semantic_mask']).tolist())
        # the first row of the file, parsed by hand
        first = [float(v) for v in open(r['file']).readline().split()]
        np.testing.assert_allclose(r['points'][0], first[:3], rtol=0, atol=1e-6)
        assert r['pts_semantic_mask'][0] == int(first[6])
    assert seen == {6, 7}


def test_normals_are_optional(shapenetpart_root):
    r = ShapeNetPart(shapenetpart_root, split='val', use_normals=True)[0]
    assert r['points'].shape[1] == 6
    norms = np.linalg.norm(r['points'][:, 3:], axis=1)
    assert abs(np.median(norms) - 1) < 1e-3  # unit normals (the real files have a few slightly off)


def test_second_category_written_in_the_same_layout(two_category_root):
    ds = DATASETS.build(dict(type='ShapeNetPart', data_root=str(two_category_root / NORMAL_DIR), split='train'))
    names = [ds[i]['category_name'] for i in range(len(ds))]
    assert sorted(names) == ['Airplane', 'Cap', 'Cap', 'Cap']
    plane = next(ds[i] for i in range(len(ds)) if ds[i]['category_name'] == 'Airplane')
    assert plane['category'] == 0 and plane['points'].shape == (300, 3)
    xyz, labels = airplane_shape(300, seed=0)
    np.testing.assert_array_equal(plane['pts_semantic_mask'], labels)
    assert set(np.unique(plane['pts_semantic_mask'])) == {0, 1, 2, 3}
    only = ShapeNetPart(two_category_root, split='test', categories=['Airplane'])
    assert len(only) == 1 and only[0]['category'] == 0
    assert len(ShapeNetPart(two_category_root, split='trainval')) == 6


def test_pipeline_keeps_labels_aligned(two_category_root):
    """Each Airplane label is the (x, y) quadrant: after sampling (down and up, padded) and packing, it still is."""
    pipeline = [dict(type='PointSample', num_points=n, method=m) for n, m in ((64, 'random'),)] + [
        dict(type='PackPartSegInputs')]
    for num_points, method in ((64, 'random'), (200, 'fps'), (500, 'random')):  # 500 > 300: padded
        pipeline[0] = dict(type='PointSample', num_points=num_points, method=method)
        ds = ShapeNetPart(two_category_root, split='train', categories=['Airplane'], pipeline=pipeline)
        out = ds[0]
        pts, mask = out['inputs']['points'], out['data_samples']['pts_semantic_mask']
        assert pts.shape == (num_points, 3) and mask.shape == (num_points,)
        expected = (pts[:, 0] > 0).long() + 2 * (pts[:, 1] > 0).long()
        assert torch.equal(mask, expected)
        assert int(out['data_samples']['category']) == 0


def test_per_sample_seed_gives_the_same_subset_every_time(shapenetpart_root):
    sample = PointSample(256, method='random', seed=0, per_sample_seed=True)
    ds = ShapeNetPart(shapenetpart_root, split='test')
    a = sample(ds[3])['points']
    _ = sample(ds[4])  # another sample in between does not change sample 3's subset
    b = sample(ds[3])['points']
    c = sample(ds[4])['points']
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c[:len(a)])
    with pytest.raises(ValueError, match='needs a seed'):
        PointSample(16, method='random', per_sample_seed=True)


def test_point_sample_rejects_misaligned_labels():
    results = dict(points=np.zeros((10, 3), np.float32), pts_semantic_mask=np.zeros(9, np.int64), file='x.txt',
                   sample_idx=2)
    with pytest.raises(PointCloudError, match=r'pts_semantic_mask has 9 rows but the cloud has 10.*x\.txt'):
        PointSample(4, method='first')(results)


def test_pack_and_collate_shapes(shapenetpart_root):
    ds = ShapeNetPart(shapenetpart_root, split='val', pipeline=[
        dict(type='PointSample', num_points=128, method='random'), dict(type='NormalizeUnitSphere'),
        dict(type='PackPartSegInputs')])
    batch = default_collate([ds[i] for i in range(3)])
    assert batch['inputs']['points'].shape == (3, 128, 3) and batch['inputs']['points'].dtype == torch.float32
    assert batch['data_samples']['pts_semantic_mask'].shape == (3, 128)
    assert batch['data_samples']['pts_semantic_mask'].dtype == torch.long
    assert batch['data_samples']['category'].tolist() == [2, 2, 2]
    with pytest.raises(KeyError, match='pts_semantic_mask'):
        PackPartSegInputs()(dict(points=np.zeros((4, 3), np.float32), file='a.txt'))


# ------------------------------------------------------------------ broken layouts: clear errors
def test_missing_split_file_is_named(cap_copy):
    split = cap_copy / NORMAL_DIR / 'train_test_split' / 'shuffled_val_file_list.json'
    split.unlink()
    with pytest.raises(FileNotFoundError, match=r"split file for 'val' not found: .*shuffled_val_file_list\.json"):
        ShapeNetPart(cap_copy, split='val')
    with pytest.raises(FileNotFoundError, match='shuffled_val_file_list'):
        ShapeNetPart(cap_copy, split='trainval')
    ShapeNetPart(cap_copy, split='test')  # the others still load
    with pytest.raises(ValueError, match="split must be one of"):
        ShapeNetPart(cap_copy, split='training')
    with pytest.raises(FileNotFoundError, match='data_root does not exist'):
        ShapeNetPart(cap_copy / 'nope')


def test_listed_but_missing_shape_is_named(cap_copy):
    (cap_copy / NORMAL_DIR / CAP / 'cap_test_03.txt').unlink()
    with pytest.raises(FileNotFoundError, match=r'1 shape file\(s\).*cap_test_03\.txt.*shuffled_test_file_list'):
        ShapeNetPart(cap_copy, split='test')


def test_bad_rows_are_named_with_file_and_line(cap_copy):
    path = cap_copy / NORMAL_DIR / CAP / 'cap_val_01.txt'
    lines = path.read_text().splitlines()
    lines[41] = ' '.join(lines[41].split()[:6])  # line 42 loses its part label
    path.write_text('\n'.join(lines) + '\n')
    ds = ShapeNetPart(cap_copy, split='val')
    with pytest.raises(PointCloudError, match=r'cap_val_01\.txt:42: expected 7 values .*got 6'):
        ds[1]
    lines[41] = '0.1 0.2 abc 0 0 1 6'
    path.write_text('\n'.join(lines) + '\n')
    with pytest.raises(PointCloudError, match=r'cap_val_01\.txt:42: cannot parse'):
        ds[1]


def test_label_outside_the_category_is_named(cap_copy):
    path = cap_copy / NORMAL_DIR / CAP / 'cap_val_02.txt'
    lines = path.read_text().splitlines()
    lines[9] = ' '.join(lines[9].split()[:6] + ['12'])  # a Chair part in a Cap
    path.write_text('\n'.join(lines) + '\n')
    with pytest.raises(PointCloudError, match=r'cap_val_02\.txt:10: part label 12 is not a part of Cap'):
        ShapeNetPart(cap_copy, split='val')[2]


def test_empty_shape_file_is_named(cap_copy):
    (cap_copy / NORMAL_DIR / CAP / 'cap_val_00.txt').write_text('\n')
    with pytest.raises(PointCloudError, match=r'cap_val_00\.txt: the shape file is empty'):
        ShapeNetPart(cap_copy, split='val')[0]


def test_bad_category_file_and_unknown_synset(tmp_path):
    xyz, labels = airplane_shape(50, seed=0)
    folder = write_layout(tmp_path, {(AIRPLANE, 'a'): shape_text(xyz, labels)}, dict(train=[(AIRPLANE, 'a')]),
                          categories=(('Cap', CAP),))
    with pytest.raises(ValueError, match=f'synset {AIRPLANE}, which is not in .*synsetoffset2category'):
        ShapeNetPart(tmp_path, split='train')
    (folder / 'synsetoffset2category.txt').write_text('Airplane\t02691156\nSpaceship\t09999999\n')
    with pytest.raises(ValueError, match=r"synsetoffset2category\.txt:2: unknown category 'Spaceship'"):
        ShapeNetPart(tmp_path, split='train')
    (folder / 'synsetoffset2category.txt').unlink()
    with pytest.raises(FileNotFoundError, match='category file not found'):
        ShapeNetPart(tmp_path, split='train')
    (folder / 'synsetoffset2category.txt').write_text('Airplane\t02691156\n')
    (folder / 'train_test_split' / 'shuffled_train_file_list.json').write_text(json.dumps({'a': 1}))
    with pytest.raises(ValueError, match='expected a JSON list'):
        ShapeNetPart(tmp_path, split='train')
