"""nuScenes LiDAR pretraining: the infos dataset on the real sample scans, bad inputs, one Runner iteration."""
import copy
import pickle

import numpy as np
import pytest
import torch

from pjepa3d.utils import PointCloudError
from pjepa3d.datasets.splits import fraction_of, load_index_file, save_index_file
from projects.PointJEPA_nuScenes.pointjepa_nus import NuScenesLidarPretrain
from .nus_helpers import demo_infos, nus_root, raw_in_range, scan_files, two_scan_infos, write_infos


def build(root, ann_file, **kw):
    return NuScenesLidarPretrain(data_root=str(root), ann_file=str(ann_file), **kw)


def test_reads_real_infos_and_scan(shared_data):
    ds = build(nus_root(shared_data), 'nuscenes_infos_demo.pkl')
    assert len(ds) == 1
    info = ds.get_data_info(0)
    assert info['file'].endswith(demo_infos(shared_data)['data_list'][0]['lidar_points']['lidar_path'])
    points = ds.load_points(info)
    expected = raw_in_range(info['file'])
    assert points.dtype == np.float32 and points.shape == expected.shape and points.shape[1] == 4
    np.testing.assert_array_equal(points, expected)
    assert 30000 < len(points) < 34800  # 34.7k points, a few outside the 51.2 m / [-5, 3] m box
    assert ds.metainfo['dataset'] == 'nuscenes'


def test_two_scans_and_pipeline(shared_data, tmp_path):
    ann = write_infos(tmp_path / 'infos.pkl', two_scan_infos(shared_data))
    ds = build(nus_root(shared_data), ann, pipeline=[dict(type='PointSample', num_points=2048, method='random'),
                                                     dict(type='PackPointInputs')])
    assert len(ds) == 2
    a, b = ds[0]['inputs']['points'], ds[1]['inputs']['points']
    assert a.shape == b.shape == (2048, 4)
    assert not torch.equal(a, b)
    assert ds.get_data_info(1)['token'] == 'second-scan'


def test_sweeps_are_moved_into_the_keyframe_frame(shared_data, tmp_path):
    """A sweep (the other real scan) with a known lidar2sensor: rotated, shifted, time-lagged, close points dropped."""
    infos = copy.deepcopy(demo_infos(shared_data))
    key = infos['data_list'][0]
    other = next(p for p in scan_files(shared_data) if p.name != key['lidar_points']['lidar_path'])
    lidar2sensor = np.eye(4)
    lidar2sensor[:3, :3] = [[0, -1, 0], [1, 0, 0], [0, 0, 1]]  # 90 degrees about z
    lidar2sensor[:3, 3] = [1.0, 2.0, 0.0]
    key['lidar_sweeps'] = [dict(timestamp=key['timestamp'] - 0.05,
                                lidar_points=dict(lidar_path=f'../sweeps/LIDAR_TOP/{other.name}',
                                                  lidar2sensor=lidar2sensor.tolist()))]
    ann = write_infos(tmp_path / 'infos.pkl', infos)
    # the sweep lives in the sweeps/ folder of data_prefix: point it at the real samples folder
    ds = build(nus_root(shared_data), ann, sweeps_num=1, use_dims=(0, 1, 2, 3, 4),
               data_prefix=dict(pts='samples/LIDAR_TOP', sweeps='samples/LIDAR_TOP'))
    points = ds.load_points(ds.get_data_info(0))
    sweep = np.fromfile(other, dtype=np.float32).reshape(-1, 5)
    sweep = sweep[np.hypot(sweep[:, 0], sweep[:, 1]) >= 1.0]
    moved = sweep[:, :3] @ lidar2sensor[:3, :3].astype(np.float32) - lidar2sensor[:3, 3].astype(np.float32)
    inside = np.all((moved >= [-51.2, -51.2, -5.0]) & (moved < [51.2, 51.2, 3.0]), axis=1)
    keyframe = raw_in_range(ds.get_data_info(0)['file'], dims=(0, 1, 2, 3, 4))
    assert len(points) == len(keyframe) + inside.sum()
    np.testing.assert_allclose(points[len(keyframe):, :3], moved[inside], atol=1e-5)
    np.testing.assert_allclose(points[len(keyframe):, 4], 0.05, atol=1e-6)
    assert (points[:len(keyframe), 4] == 0).all()  # keyframe time lag replaces the ring index


def test_truncated_scan_names_the_file(shared_data, tmp_path):
    root = tmp_path / 'nus'
    (root / 'samples' / 'LIDAR_TOP').mkdir(parents=True)
    infos = demo_infos(shared_data)
    name = infos['data_list'][0]['lidar_points']['lidar_path']
    data = (nus_root(shared_data) / 'samples' / 'LIDAR_TOP' / name).read_bytes()
    (root / 'samples' / 'LIDAR_TOP' / name).write_bytes(data[:len(data) // 2 + 6])  # cut mid-point
    write_infos(root / 'infos.pkl', infos)
    ds = build(root, 'infos.pkl')
    with pytest.raises(PointCloudError, match=r'shorter than its stated size') as err:
        ds[0]
    assert name in str(err.value) and 'truncated' in str(err.value)


def test_infos_without_data_list(shared_data, tmp_path):
    ann = tmp_path / 'old_infos.pkl'
    with open(ann, 'wb') as f:
        pickle.dump(dict(infos=demo_infos(shared_data)['data_list'], metadata=dict(version='v1.0-mini')), f)
    with pytest.raises(ValueError, match='data_list') as err:
        build(nus_root(shared_data), ann)
    assert str(ann) in str(err.value)


def test_infos_entry_without_lidar_path(shared_data, tmp_path):
    infos = demo_infos(shared_data)
    del infos['data_list'][0]['lidar_points']['lidar_path']
    ann = write_infos(tmp_path / 'infos.pkl', infos)
    with pytest.raises(ValueError, match=r'data_list\[0\].*lidar_path'):
        build(nus_root(shared_data), ann)


def test_no_point_inside_the_range(shared_data):
    ds = build(nus_root(shared_data), 'nuscenes_infos_demo.pkl', point_cloud_range=[200, 200, -5, 250, 250, 3])
    with pytest.raises(PointCloudError, match='none of its 34') as err:
        ds[0]
    assert '.pcd.bin' in str(err.value) and 'sample 0' in str(err.value)


def test_fraction_of_infos_seeded_and_nested():
    a = fraction_of(1000, 0.05, seed=0).tolist()
    assert a == fraction_of(1000, 0.05, seed=0).tolist() and len(a) == 50 and a == sorted(a)
    assert set(a) <= set(fraction_of(1000, 0.2, seed=0).tolist())
    assert a != fraction_of(1000, 0.05, seed=1).tolist()
    assert fraction_of(1000, 1.0).tolist() == list(range(1000))
    with pytest.raises(ValueError, match='fraction'):
        fraction_of(10, 0.0)


def test_index_file_round_trip_and_range_check(tmp_path):
    save_index_file(str(tmp_path / 'f.json'), [3, 1, 2], fraction_seed=0)
    assert load_index_file(str(tmp_path / 'f.json'), 4).tolist() == [3, 1, 2]
    with pytest.raises(ValueError, match='index 3 out of range for a source list of 3'):
        load_index_file(str(tmp_path / 'f.json'), 3)


def test_one_pretraining_iteration_with_the_runner(pretrain_run):
    cfg = pretrain_run['cfg']
    assert cfg.model.backbone.tokenizer.in_channels == 4 and cfg.model.backbone.tokenizer.num_groups == 64
    assert cfg.train_dataloader.dataset.type == 'NuScenesLidarPretrain'
    assert pretrain_run['iters'] == 1
    assert np.isfinite(pretrain_run['loss']) and pretrain_run['loss'] > 0
    assert pretrain_run['backbone_changed']
    ckpt = torch.load(pretrain_run['ckpt'], map_location='cpu', weights_only=True)
    assert any(k.startswith('backbone.') for k in ckpt['state_dict'])
    assert any(k.startswith('target.') for k in ckpt['state_dict'])


def test_make_label_fractions_tool_writes_the_datasets_draw(tmp_path):
    from tests.conftest import load_script
    mod = load_script('projects/PointJEPA_nuScenes/tools/make_label_fractions.py')
    infos = tmp_path / 'nuscenes_infos_train.pkl'
    infos.write_bytes(pickle.dumps(dict(metainfo={}, data_list=[dict(token=f't{i}') for i in range(40)])))
    mod.main([str(infos), str(tmp_path / 'lists'), '--fractions', '0.05', '0.2', '--seed', '3'])
    five = load_index_file(str(tmp_path / 'lists' / 'nuscenes_infos_train_5pct_seed3.json'), 40)
    twenty = load_index_file(str(tmp_path / 'lists' / 'nuscenes_infos_train_20pct_seed3.json'), 40)
    assert five.tolist() == fraction_of(40, 0.05, 3).tolist() and len(twenty) == 8
    assert set(five.tolist()) <= set(twenty.tolist())
