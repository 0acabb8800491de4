"""Loaders on the real ModelNet40 subset and on files written in the real ScanObjectNN / few-shot layouts."""
import json
from pathlib import Path

import numpy as np
import pytest

from pjepa3d.datasets import (MODELNET40_CLASSES, SCANOBJECTNN_CLASSES, ModelNet40, ModelNetFewShot, ScanObjectNN,
                              carve_val_split, label_fraction_indices)
from .conftest import load_tool, write_fewshot, write_scanobjectnn

modelnet40_splits = load_tool('dataset_converters/modelnet40_splits.py')
modelnet40_to_npz = load_tool('dataset_converters/modelnet40_to_npz.py')


def _ids(ds):
    return [ds.source_ids[i] for i in ds.subset_indices]


def test_val_split_disjoint_reproducible_stratified(modelnet_subset):
    full = ModelNet40(modelnet_subset, split='train')
    train = ModelNet40(modelnet_subset, split='train', val_ratio=0.2, split_seed=0)
    val = ModelNet40(modelnet_subset, split='val', val_ratio=0.2, split_seed=0)
    assert len(full) == 127 and len(val) == round(0.2 * 127) and len(train) + len(val) == 127
    assert not set(_ids(train)) & set(_ids(val))  # disjoint
    assert set(_ids(train)) | set(_ids(val)) == set(full.source_ids)  # carved from train only
    test_ids = set(ModelNet40(modelnet_subset, split='test').source_ids)
    assert not test_ids & set(_ids(val))
    again = ModelNet40(modelnet_subset, split='val', val_ratio=0.2, split_seed=0)
    assert _ids(again) == _ids(val)  # reproducible
    other = ModelNet40(modelnet_subset, split='val', val_ratio=0.2, split_seed=1)
    assert _ids(other) != _ids(val)
    # stratified: every class keeps at least one training shape, and labels follow the class folders
    train_classes = {train.get_data_info(i)['label'] for i in range(len(train))}
    full_classes = {full.get_data_info(i)['label'] for i in range(len(full))}
    assert train_classes == full_classes
    info = val.get_data_info(0)
    assert MODELNET40_CLASSES[info['label']] in info['file']
    assert val[0]['points'].shape == (2048, 3)


def test_carve_and_fraction_rules():
    labels = np.repeat(np.arange(4), [10, 20, 1, 9])
    train, val = carve_val_split(labels, 0.25, seed=3)
    assert len(val) == 10 and len(np.intersect1d(train, val)) == 0
    assert 2 in labels[train]  # the single-sample class stays in train
    assert abs(np.sum(labels[val] == 1) - 5) <= 1  # proportional
    keep = label_fraction_indices(labels, 0.1, seed=0)
    assert [int(np.sum(labels[keep] == c)) for c in range(4)] == [1, 2, 1, 1]
    np.testing.assert_array_equal(keep, label_fraction_indices(labels, 0.1, seed=0))
    with pytest.raises(ValueError, match='val_ratio'):
        carve_val_split(labels, 1.5)


def test_label_fraction_and_index_file_roundtrip(modelnet_subset, tmp_path):
    frac = ModelNet40(modelnet_subset, split='train', val_ratio=0.2, label_fraction=0.05, fraction_seed=0)
    train = ModelNet40(modelnet_subset, split='train', val_ratio=0.2)
    assert set(_ids(frac)) <= set(_ids(train)) and len(frac) < len(train)
    classes = {train.get_data_info(i)['label'] for i in range(len(train))}
    assert {frac.get_data_info(i)['label'] for i in range(len(frac))} == classes  # >= 1 shape per class
    written = modelnet40_splits.main([str(modelnet_subset), '--val-ratio', '0.2', '--label-fraction', '0.05',
                                      '--out-dir', str(tmp_path)])
    written = [Path(p) for p in written]
    assert [p.name for p in written] == ['modelnet40_val0.2_seed0_train.json', 'modelnet40_val0.2_seed0_val.json',
                                         'modelnet40_val0.2_seed0_train_label5pct_seed0.json']
    pinned = ModelNet40(modelnet_subset, split='train', index_file=str(written[2]))
    assert _ids(pinned) == _ids(frac)
    record = json.loads(written[2].read_text())
    assert record['ids'] == _ids(frac) and record['num_source'] == 127
    # an index file made for another list fails loudly, naming the file
    record['ids'][0] = 'chair_9999'
    bad = tmp_path / 'bad.json'
    bad.write_text(json.dumps(record))
    with pytest.raises(ValueError, match='bad.json.*do not match'):
        ModelNet40(modelnet_subset, split='train', index_file=str(bad))
    with pytest.raises(ValueError, match="split='val'"):
        ModelNet40(modelnet_subset, split='val')


def test_npz_converter_roundtrip(modelnet_subset, tmp_path, capsys):
    out = modelnet40_to_npz.main([str(modelnet_subset), '--out', str(tmp_path / 'mn40.npz'), '--num-points', '512'])
    assert str(tmp_path / 'mn40.npz') in capsys.readouterr().out
    cached = ModelNet40(tmp_path, layout='npz', cache_file=out, split='test', use_normals=True)
    txt = ModelNet40(modelnet_subset, split='test', use_normals=True)
    assert len(cached) == len(txt) == 29 and cached.metainfo['classes'] == MODELNET40_CLASSES
    for i in (0, 28):
        a, b = cached[i], txt[i]
        assert a['label'] == b['label'] and a['points'].shape == (512, 6)
        np.testing.assert_allclose(a['points'], b['points'][:512], atol=1e-6)
    val = ModelNet40(tmp_path, layout='npz', cache_file=out, split='val', val_ratio=0.2)
    assert _ids(val) == _ids(ModelNet40(modelnet_subset, split='val', val_ratio=0.2))


@pytest.mark.parametrize('variant,key', [('OBJ_BG', 'main_split'), ('OBJ_ONLY', 'main_split_nobg'),
                                         ('PB_T50_RS', 'main_split_augmentedrot_scale75')])
def test_scanobjectnn_variants(tmp_path, variant, key):
    labels = write_scanobjectnn(tmp_path)
    test = ScanObjectNN(tmp_path, variant=variant, split='test')
    train = ScanObjectNN(tmp_path / 'h5_files', variant=variant, split='train')  # h5_files itself works too
    assert (len(train), len(test)) == (12, 6)
    assert train.metainfo['classes'] == SCANOBJECTNN_CLASSES and len(SCANOBJECTNN_CLASSES) == 15
    assert [test.get_data_info(i)['label'] for i in range(6)] == labels[(key, 'test')].tolist()
    sample = test[4]
    assert sample['points'].shape == (2048, 3) and sample['points'].dtype == np.float32
    assert sample['label'] == 4 and sample['file'].endswith(
        {'main_split': 'main_split/test_objectdataset.h5', 'main_split_nobg': 'main_split_nobg/test_objectdataset.h5',
         'main_split_augmentedrot_scale75': 'main_split/test_objectdataset_augmentedrot_scale75.h5'}[key])
    import h5py
    with h5py.File(sample['file'], 'r') as f:
        np.testing.assert_array_equal(sample['points'], f['data'][4])
    val = ScanObjectNN(tmp_path, variant=variant, split='val', val_ratio=0.25)
    tr = ScanObjectNN(tmp_path, variant=variant, split='train', val_ratio=0.25)
    assert len(val) == 3 and not set(val.subset_indices) & set(tr.subset_indices)


def test_scanobjectnn_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='training_objectdataset_augmentedrot_scale75.h5'):
        ScanObjectNN(tmp_path, variant='PB_T50_RS')
    with pytest.raises(ValueError, match='variant'):
        ScanObjectNN(tmp_path, variant='hardest')


def test_fewshot_layout(tmp_path):
    write_fewshot(tmp_path, way=5, shot=2, folds=(0, 1))
    train = ModelNetFewShot(tmp_path, way=5, shot=2, fold=1, split='train')
    test = ModelNetFewShot(tmp_path, way=5, shot=2, fold=1, split='test', use_normals=True)
    assert (len(train), len(test)) == (10, 10)
    assert train.metainfo['classes'] == tuple(MODELNET40_CLASSES[3 * i + 1] for i in range(5))
    assert sorted(train.get_data_info(i)['label'] for i in range(10)) == sorted(list(range(5)) * 2)
    s = test[9]
    assert s['points'].shape == (256, 6) and s['label'] == 4
    assert train[0]['points'].shape == (256, 3)
    np.testing.assert_allclose(np.linalg.norm(s['points'][:, :3], axis=1), 5.0, rtol=1e-5)


def test_fewshot_missing_fold_names_file(tmp_path):
    write_fewshot(tmp_path, way=5, shot=2, folds=(0,))
    with pytest.raises(FileNotFoundError, match=r'5way_2shot[/\\]3\.pkl.*0\.pkl'):
        ModelNetFewShot(tmp_path, way=5, shot=2, fold=3)
    with pytest.raises(FileNotFoundError, match=r'10way_2shot[/\\]0\.pkl'):
        ModelNetFewShot(tmp_path, way=10, shot=2, fold=0)
