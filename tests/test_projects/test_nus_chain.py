"""nuScenes detection end to end: GT database, Runner training with ObjectSample, tools/test.py outputs.

The fast tests run in the default suite on the real two-keyframe sample (../shared/data/nuscenes_sample, skipped
when absent); the whole README chain (pretrain -> extract -> fine-tune -> test) runs as subprocesses only with
RUN_SLOW=1.
"""
import copy
import json
import os
import pickle
import re
import subprocess
import sys

import numpy as np
import pytest
import torch

pytest.importorskip('mmdet3d', reason='mmdet3d (detection extras) is not installed; bash tools/run_tests.sh '
                                      'installs it (PJEPA3D_WITH_MMDET3D=1, see requirements/mmdet3d.txt)')

from mmengine.config import Config  # noqa: E402
from mmengine.registry import DefaultScope  # noqa: E402
from mmengine.runner import Runner, load_checkpoint  # noqa: E402

from mmdet3d.datasets.transforms import DataBaseSampler  # noqa: E402
from mmdet3d.registry import MODELS, TRANSFORMS  # noqa: E402
from mmdet3d.structures import LiDARInstance3DBoxes  # noqa: E402
from projects.PointJEPA_nuScenes.pointjepa_nus.detection import (Det3DBEVVisualizationHook,  # noqa: E402
                                                                 TolerantDataBaseSampler)
from tests.conftest import load_script  # noqa: E402
from tests.test_tools._utils import tool_env  # noqa: E402
from .nus_helpers import DET_CONFIG, PRETRAIN_CONFIG, PROJECT_ROOT, TINY_BACKBONE, demo_infos, nus_root  # noqa

TOOLS = PROJECT_ROOT / 'projects' / 'PointJEPA_nuScenes' / 'tools'
CLASSES = ['car', 'truck', 'construction_vehicle', 'bus', 'trailer', 'barrier', 'motorcycle', 'bicycle',
           'pedestrian', 'traffic_cone']


gt_tool = load_script('projects/PointJEPA_nuScenes/tools/create_gt_database.py')


@pytest.fixture(scope='module')
def gt_db(shared_data, tmp_path_factory):
    """The GT database of the annotated sample scan, written by the CLI into a tmp dir (keyframe only)."""
    out = tmp_path_factory.mktemp('gtdb')
    with DefaultScope.overwrite_default_scope('mmdet3d'):  # a relative data root, as in the README
        gt_tool.main([os.path.relpath(nus_root(shared_data)), 'nuscenes_infos_demo.pkl', str(out), '--sweeps-num', '0'])
    with open(out / 'nuscenes_dbinfos_train.pkl', 'rb') as f:
        return dict(root=out, infos=pickle.load(f))


def _points_in_box(points, box):
    """Independent of mmdet3d: rows of ``points`` inside a LiDAR box (x, y, z bottom, l, w, h, yaw)."""
    x, y, z, length, width, height, yaw = box[:7]
    d = points[:, :3] - np.array([x, y, z])
    c, s = np.cos(-yaw), np.sin(-yaw)
    lx, ly = c * d[:, 0] - s * d[:, 1], s * d[:, 0] + c * d[:, 1]
    return (np.abs(lx) <= length / 2) & (np.abs(ly) <= width / 2) & (d[:, 2] >= 0) & (d[:, 2] <= height)


def test_gt_database_cli_writes_mmdet3d_layout(gt_db, shared_data):
    infos, root = gt_db['infos'], gt_db['root']
    assert {'car', 'pedestrian', 'barrier'} <= set(infos) <= set(CLASSES)
    entries = [e for v in infos.values() for e in v]
    valid = [i for i in demo_infos(shared_data)['data_list'][0]['instances'] if i['bbox_3d_isvalid']]
    assert 50 < len(entries) == len(valid) <= 69
    files = sorted((root / 'nuscenes_gt_database').glob('*.bin'))
    assert len(files) == len(entries)
    scan = np.fromfile(next((nus_root(shared_data) / 'samples' / 'LIDAR_TOP').glob('n015*.pcd.bin')),
                       dtype=np.float32).reshape(-1, 5)
    car = max(infos['car'], key=lambda e: e['num_points_in_gt'])
    assert car['path'].startswith('nuscenes_gt_database/') and car['num_points_in_gt'] > 20
    pts = np.fromfile(root / car['path'], dtype=np.float32).reshape(-1, 5)  # box-centred x, y, z, i, t
    assert len(pts) == car['num_points_in_gt']
    inside = scan[_points_in_box(scan, car['box3d_lidar'])]
    assert abs(len(inside) - len(pts)) <= max(1, len(pts) // 100)
    np.testing.assert_allclose(pts[:, :3].mean(0) + car['box3d_lidar'][:3], inside[:, :3].mean(0), atol=0.05)


def test_gt_database_cli_default_pads_the_missing_sweeps_like_mmdet3d(gt_db, shared_data, tmp_path):
    with DefaultScope.overwrite_default_scope('mmdet3d'):
        gt_tool.main([str(nus_root(shared_data)), str(nus_root(shared_data) / 'nuscenes_infos_demo.pkl'),
                      str(tmp_path)])
    with open(tmp_path / 'nuscenes_dbinfos_train.pkl', 'rb') as f:
        padded = pickle.load(f)
    # no sweep in the infos: mmdet3d's pipeline appends 10 copies of the keyframe (objects beyond 1 m)
    for a, b in zip(gt_db['infos']['car'], padded['car']):
        assert b['num_points_in_gt'] == 11 * a['num_points_in_gt']


def test_gt_database_cli_errors(tmp_path, capsys):
    with pytest.raises(SystemExit, match='data root not found'):
        gt_tool.main([str(tmp_path / 'nope'), 'infos.pkl', str(tmp_path / 'out')])
    with pytest.raises(SystemExit, match='infos file not found'):
        gt_tool.main([str(tmp_path), 'infos.pkl', str(tmp_path / 'out')])
    assert not (tmp_path / 'out').exists()


def _sampler_cfg(gt_db, sampler_type):
    cfg = copy.deepcopy(Config.fromfile(str(DET_CONFIG)).db_sampler.to_dict())
    cfg.update(type=sampler_type, data_root=str(gt_db['root']) + '/',
               info_path=str(gt_db['root'] / 'nuscenes_dbinfos_train.pkl'))
    return cfg


def test_tolerant_sampler_skips_missing_classes_and_pastes(gt_db):
    with DefaultScope.overwrite_default_scope('mmdet3d'):
        # mmdet3d's own sampler cannot load a database without trailers / motorcycles
        with pytest.raises(KeyError):
            TRANSFORMS.build(_sampler_cfg(gt_db, 'DataBaseSampler'))
        sampler = TRANSFORMS.build(_sampler_cfg(gt_db, 'TolerantDataBaseSampler'))
    assert isinstance(sampler, TolerantDataBaseSampler) and isinstance(sampler, DataBaseSampler)
    assert 'trailer' not in sampler.sample_classes and 'car' in sampler.sample_classes
    assert all(sampler.db_infos[c] for c in sampler.sample_classes)
    # an empty scene: nothing collides, so objects are pasted (mmdet3d's np.long path, numpy 1.26 here)
    np.random.seed(0)
    out = sampler.sample_all(np.zeros((0, 9), dtype=np.float32), np.zeros(0, dtype=np.int64))
    names = [CLASSES[i] for i in out['gt_labels_3d']]
    assert out['gt_labels_3d'].dtype == np.int64 and len(names) == out['gt_bboxes_3d'].shape[0] > 0
    assert set(names) <= set(sampler.sample_classes) and names.count('car') == 2
    assert len(out['points']) == sum(e['num_points_in_gt'] for e in _matching(sampler, out))


def _matching(sampler, out):
    boxes = [tuple(np.round(b, 4)) for b in out['gt_bboxes_3d']]
    return [e for v in sampler.db_infos.values() for e in v if tuple(np.round(e['box3d_lidar'], 4)) in boxes]


def _unscoped(cfg):
    if isinstance(cfg, dict):
        return {k: _unscoped(v) for k, v in cfg.items() if k != '_scope_'}
    return [_unscoped(v) for v in cfg] if isinstance(cfg, (list, tuple)) else cfg


def test_det_config_restates_mmdet3d_train_pipeline_with_env_paths(monkeypatch, tmp_path):
    import mmdet3d
    monkeypatch.delenv('NUS_DATA_ROOT', raising=False)
    monkeypatch.delenv('NUS_GT_DB_ROOT', raising=False)
    stock = Config.fromfile(os.path.join(os.path.dirname(mmdet3d.__file__), '.mim', 'configs', 'centerpoint',
                                         'centerpoint_pillar02_second_secfpn_8xb4-cyclic-20e_nus-3d.py'))
    ours = Config.fromfile(str(DET_CONFIG))
    a, b = ours.train_dataloader.dataset.dataset.pipeline, stock.train_dataloader.dataset.dataset.pipeline
    assert [t['type'] for t in a] == [t['type'] for t in b]
    for ta, tb in zip(a, b):
        if ta['type'] == 'ObjectSample':
            sa, sb = ta['db_sampler'], tb['db_sampler']
            assert sa.pop('type') == 'TolerantDataBaseSampler' and 'type' not in sb
            assert _unscoped(sa) == _unscoped(sb)  # values taken from a mmdet3d:: base carry _scope_
        else:
            assert ta == tb, ta['type']
    assert ours.data_root == ours.gt_db_root == 'data/nuscenes/'
    monkeypatch.setenv('NUS_DATA_ROOT', str(tmp_path / 'nus'))
    cfg = Config.fromfile(str(DET_CONFIG))
    root = str(tmp_path / 'nus') + '/'
    sampler = cfg.train_dataloader.dataset.dataset.pipeline[3].db_sampler
    assert cfg.train_dataloader.dataset.dataset.data_root == cfg.test_dataloader.dataset.data_root == root
    assert cfg.val_evaluator.ann_file == cfg.test_evaluator.ann_file == root + 'nuscenes_infos_val.pkl'
    assert sampler.data_root == root and sampler.info_path == root + 'nuscenes_dbinfos_train.pkl'
    monkeypatch.setenv('NUS_GT_DB_ROOT', str(tmp_path / 'db'))
    sampler = Config.fromfile(str(DET_CONFIG)).train_dataloader.dataset.dataset.pipeline[3].db_sampler
    assert sampler.info_path == str(tmp_path / 'db' / 'nuscenes_dbinfos_train.pkl')
    assert Config.fromfile(str(PRETRAIN_CONFIG)).train_dataloader.dataset.data_root == root


def test_detector_trains_two_iterations_with_the_runner_and_gt_database(gt_db, shared_data, tmp_path, monkeypatch):
    """The detection config (tiny backbone, keyframe only) through mmengine's Runner, ObjectSample on."""
    monkeypatch.setenv('NUS_DATA_ROOT', str(nus_root(shared_data)))
    monkeypatch.setenv('NUS_GT_DB_ROOT', str(gt_db['root']))
    cfg = Config.fromfile(str(DET_CONFIG))
    enc = cfg.model.pts_voxel_encoder
    for k, v in copy.deepcopy(TINY_BACKBONE).items():
        enc.backbone[k].update(v)
    enc.backbone.init_cfg = None
    enc.max_tokenize_points = 4096
    ds = cfg.train_dataloader.dataset.dataset
    ds.ann_file = 'nuscenes_infos_demo.pkl'
    next(t for t in ds.pipeline if t['type'] == 'LoadPointsFromMultiSweeps')['sweeps_num'] = 0
    # CBGS needs every class in the infos (the sample has no trailer / motorcycle): repeat the scan instead
    cfg.train_dataloader = dict(batch_size=1, num_workers=0, persistent_workers=False,
                                sampler=dict(type='DefaultSampler', shuffle=False),
                                dataset=dict(type='RepeatDataset', times=2, dataset=ds))
    cfg.train_cfg = dict(by_epoch=True, max_epochs=1)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1)
    cfg.default_hooks.logger.interval = 1
    cfg.work_dir = str(tmp_path / 'work')
    cfg.log_level = 'WARNING'
    with DefaultScope.overwrite_default_scope('mmdet3d'):
        runner = Runner.from_cfg(cfg)
        object_sample = runner.train_dataloader.dataset.dataset.pipeline.transforms[3]
        assert type(object_sample).__name__ == 'ObjectSample'
        assert sum(map(len, object_sample.db_sampler.db_infos.values())) > 20  # the database was loaded
        runner.train()
        assert runner.iter == 2
        loss = runner.message_hub.get_scalar('train/loss').current()
        assert np.isfinite(loss) and loss > 0
        ckpt = tmp_path / 'work' / 'epoch_1.pth'
        assert ckpt.is_file()
        fresh = MODELS.build(cfg.model)
        load_checkpoint(fresh, str(ckpt), map_location='cpu', strict=True, logger='silent')
    trained = runner.model.state_dict()
    for k, v in fresh.state_dict().items():
        assert torch.equal(v, trained[k]), k


def test_bev_picture_puts_box_corners_where_the_points_are():
    """The hook's canvas: x right, y (forward) up, yaw counter-clockwise; corners at the world corners' pixels."""
    from mmdet3d.visualization import Det3DLocalVisualizer
    vis = Det3DLocalVisualizer.get_instance('bev-test-visualizer')
    hook = Det3DBEVVisualizationHook(draw=True, vis_task='lidar_det', bev_range=20, bev_scale=10)
    hook._visualizer = vis
    drawn = []
    draw_polygons = vis.draw_polygons
    vis.draw_polygons = lambda polygons, **kw: drawn.append([np.asarray(p) for p in polygons]) or \
        draw_polygons(polygons, **kw)
    yaw = np.pi / 6
    box = LiDARInstance3DBoxes(torch.tensor([[5.0, 10.0, -1.0, 4.0, 2.0, 1.5, yaw]]))
    far = LiDARInstance3DBoxes(torch.tensor([[30.0, 0.0, -1.0, 4.0, 2.0, 1.5, 0.0]]))  # outside the 20 m view
    points = np.array([[5.0, 10.0, 0.0, 1.0]], dtype=np.float32)
    image = hook.draw_bev(points, gt_boxes=LiDARInstance3DBoxes.cat([box, far]), pred_boxes=box)
    assert image.shape == (400, 400, 3) and image.dtype == np.uint8
    assert (image[100, 250] > 100).all()  # the point: col (5 + 20) * 10, row (20 - 10) * 10
    assert len(drawn) == 2 and all(len(p) == 1 for p in drawn)  # one box each; the far one is not drawn
    c, s = np.cos(yaw), np.sin(yaw)
    world = [np.array([5.0, 10.0]) + a * 2.0 * np.array([c, s]) + b * 1.0 * np.array([-s, c])
             for a in (1, -1) for b in (1, -1)]
    expected = sorted(((x + 20) * 10, (20 - y) * 10) for x, y in world)
    got = sorted(map(tuple, drawn[0][0]))
    np.testing.assert_allclose(np.array(got), np.array(expected), atol=1e-3)


# ------------------------------------------------------------------------------------------ the README chain
def _run(cmd, cwd, **env):
    proc = subprocess.run([str(c) for c in cmd], cwd=str(cwd), env=tool_env(**env), capture_output=True, text=True,
                          timeout=1200)
    assert proc.returncode == 0, f'{cmd}\nexit {proc.returncode}\n--- stdout\n{proc.stdout[-4000:]}\n' \
                                 f'--- stderr\n{proc.stderr[-6000:]}'
    return proc


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get('RUN_SLOW') != '1',
                    reason='slow end-to-end nuScenes chain (1.5 min on 2 idle CPU cores): run with RUN_SLOW=1')
def test_readme_chain_pretrain_extract_finetune_test(shared_data, tmp_path):
    """README 'Run it on the nuScenes sample', as subprocesses: ViT-S configs as shipped, few iterations."""
    root = str(nus_root(shared_data))
    work = tmp_path / 'nus_work'
    env = dict(NUS_DATA_ROOT=root, NUS_GT_DB_ROOT=str(work / 'gt_database'))
    py, repo = sys.executable, PROJECT_ROOT
    _run([py, TOOLS / 'create_gt_database.py', root, 'nuscenes_infos_demo.pkl', work / 'gt_database'], repo)
    assert (work / 'gt_database' / 'nuscenes_dbinfos_train.pkl').is_file()
    # a. pretraining
    _run([py, 'tools/train.py', PRETRAIN_CONFIG, '--work-dir', work / 'pretrain', '--cfg-options',
          'train_dataloader.dataset.ann_file=nuscenes_infos_demo.pkl', 'train_dataloader.batch_size=1',
          'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False', 'train_cfg.max_epochs=2',
          'default_hooks.checkpoint.interval=1'], repo, **env)
    pre = torch.load(work / 'pretrain' / 'epoch_2.pth', map_location='cpu', weights_only=True)
    assert pre['meta']['iter'] == 2 and pre['meta']['epoch'] == 2
    keys = pre['state_dict']
    assert any(k.startswith('backbone.encoder.') for k in keys) and any(k.startswith('target.') for k in keys)
    # b. backbone extraction
    proc = _run([py, 'tools/model_converters/extract_backbone.py', work / 'pretrain' / 'epoch_2.pth',
                 work / 'backbone.pth'], repo)
    backbone = torch.load(work / 'backbone.pth', map_location='cpu', weights_only=True)['state_dict']
    assert f'kept {len(backbone)} of {len(keys)}' in proc.stdout
    assert all(k.startswith('backbone.') for k in backbone)
    from pjepa3d.registry import MODELS as PJEPA3D_MODELS
    det_cfg = Config.fromfile(str(DET_CONFIG))
    with DefaultScope.overwrite_default_scope('pjepa3d'):
        encoder_backbone = PJEPA3D_MODELS.build(det_cfg.model.pts_voxel_encoder.backbone)
    encoder_backbone.load_state_dict({k[len('backbone.'):]: v for k, v in backbone.items()}, strict=True)
    # c. fine-tuning with the backbone through init_cfg, ObjectSample on the database above, validation off
    proc = _run([py, 'tools/train.py', DET_CONFIG, '--work-dir', work / 'det', '--cfg-options',
                 f'model.pts_voxel_encoder.backbone.init_cfg.checkpoint={work / "backbone.pth"}',
                 'train_dataloader.dataset.type=RepeatDataset', 'train_dataloader.dataset.times=2',
                 'train_dataloader.dataset.dataset.ann_file=nuscenes_infos_demo.pkl', 'train_dataloader.batch_size=1',
                 'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
                 'train_cfg.max_epochs=1', 'val_cfg=None', 'val_dataloader=None', 'val_evaluator=None',
                 'default_hooks.checkpoint.interval=1'], repo, **env)
    assert f"{work / 'backbone.pth'}: loaded {len(backbone)}/{len(backbone)} tensors with prefix 'backbone.'" \
        in proc.stdout + proc.stderr
    det = torch.load(work / 'det' / 'epoch_1.pth', map_location='cpu', weights_only=True)
    assert det['meta']['iter'] == 2
    det_keys = det['state_dict']
    assert {f'pts_voxel_encoder.{k}' for k in backbone} <= set(det_keys)
    assert any(k.startswith('pts_bbox_head.task_heads.') for k in det_keys)
    # d. test: nuScenes submission json and a bird's-eye-view PNG
    proc = _run([py, 'tools/test.py', DET_CONFIG, work / 'det' / 'epoch_1.pth', '--work-dir', work / 'det_test',
                 '--show-dir', 'bev', '--task', 'lidar_det', '--cfg-options',
                 'test_dataloader.dataset.ann_file=nuscenes_infos_demo.pkl', 'test_dataloader.num_workers=0',
                 'test_dataloader.persistent_workers=False', f'test_evaluator.ann_file={root}/nuscenes_infos_demo.pkl',
                 'test_evaluator.format_only=True', f'test_evaluator.jsonfile_prefix={work / "predictions"}'],
                repo, **env)
    with open(work / 'predictions' / 'pred_instances_3d' / 'results_nusc.json') as f:
        submission = json.load(f)
    tokens = [info['token'] for info in demo_infos(shared_data)['data_list']]
    assert submission['meta']['use_lidar'] and sorted(submission['results']) == sorted(tokens)
    boxes = submission['results'][tokens[0]]
    assert 0 < len(boxes) <= 500
    for box in boxes[:50]:
        assert box['sample_token'] == tokens[0] and box['detection_name'] in CLASSES
        assert len(box['translation']) == len(box['size']) == 3 and len(box['rotation']) == 4
        assert len(box['velocity']) == 2 and 0 <= box['detection_score'] <= 1 and 'attribute_name' in box
    pngs = sorted((work / 'det_test').glob('*/bev/*.png'))
    lidar_stem = demo_infos(shared_data)['data_list'][0]['lidar_points']['lidar_path'].split('.')[0]
    assert [p.stem for p in pngs] == [lidar_stem] and pngs[0].stat().st_size > 10_000
    assert 'pictures: ' in proc.stdout
    import mmcv
    image = mmcv.imread(str(pngs[0]))
    assert image.shape == (1024, 1024, 3) and image.std() > 5


def test_train_names_an_infos_file_without_data_list(tmp_path):
    # mmengine's dataset error ('Annotation must have data_list and metainfo keys') names no file: tools/train.py
    # says which annotation file of the config is not mmdet3d 1.x infos, before any training step
    (tmp_path / 'old_infos.pkl').write_bytes(pickle.dumps(dict(infos=[dict(token='t0')], metadata=dict(version='x'))))
    env = tool_env(NUS_DATA_ROOT=str(tmp_path))
    options = ['train_dataloader.dataset.dataset.ann_file=old_infos.pkl',
               'train_dataloader.dataset.dataset.pipeline=[]',
               'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False']
    proc = subprocess.run([sys.executable, str(PROJECT_ROOT / 'tools' / 'train.py'), str(DET_CONFIG), '--work-dir',
                           str(tmp_path / 'w'), '--cfg-options', *options],
                          cwd=str(PROJECT_ROOT), env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert re.search(r"tools/train.py: error: Annotation must have data_list and metainfo keys: train: .*old_infos.pkl "
                     r"has no \['data_list', 'metainfo'\] \(its top level: \['infos', 'metadata'\]", proc.stderr), \
        proc.stderr[-3000:]
    assert not list((tmp_path / 'w').glob('epoch_*.pth'))
