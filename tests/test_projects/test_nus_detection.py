"""The Point-JEPA pillar encoder inside mmdet3d's CenterPoint: real mmdet3d, the real nuScenes scan, CPU."""
import copy
import importlib
import time

import numpy as np
import pytest
import torch

pytest.importorskip('mmdet3d', reason='mmdet3d (detection extras) is not installed; bash tools/run_tests.sh '
                                      'installs it (PJEPA3D_WITH_MMDET3D=1, see requirements/mmdet3d.txt)')

from mmengine.config import Config  # noqa: E402
from mmengine.dataset import pseudo_collate  # noqa: E402
from mmengine.registry import DefaultScope  # noqa: E402

from mmdet3d.registry import DATASETS, MODELS  # noqa: E402
from mmdet3d.structures import LiDARInstance3DBoxes  # noqa: E402
from pjepa3d.models.utils import CheckpointKeyError  # noqa: E402
from pjepa3d.utils import PointCloudError  # noqa: E402
from projects.PointJEPA_nuScenes.pointjepa_nus.detection import (CenterPointDynamic,  # noqa: E402
                                                                 NuScenesLabelFractionDataset,
                                                                 PointJEPAPillarEncoder, scatter_pool,
                                                                 unique_coors)
from .nus_helpers import DET_CONFIG, PROJECT_CONFIGS, SCRATCH_CONFIG, TINY_BACKBONE, demo_infos, nus_root  # noqa
from .nus_helpers import write_infos  # noqa: E402
from .test_extract_backbone import extract_backbone  # noqa: E402

NUM_POINTS = 8192  # the real scan subsampled for CPU speed (the grid stays mmdet3d's 512 x 512)


def shrink(cfg, shared_data, checkpoint=None, prefix='backbone.'):
    """The project's detection config on the real sample: tiny backbone, fewer points, no GT-sampling db."""
    enc = cfg.model.pts_voxel_encoder
    for k, v in copy.deepcopy(TINY_BACKBONE).items():
        enc.backbone[k].update(v)
    enc.backbone.init_cfg = None if checkpoint is None else dict(type='Pretrained', checkpoint=str(checkpoint),
                                                                  prefix=prefix)
    enc.max_tokenize_points = 4096
    root = str(nus_root(shared_data))
    for loader, train in ((cfg.train_dataloader, True), (cfg.test_dataloader, False)):
        ds = loader.dataset.dataset if train else loader.dataset
        ds.update(data_root=root, ann_file='nuscenes_infos_demo.pkl',
                  data_prefix=dict(pts='samples/LIDAR_TOP', img='', sweeps='samples/LIDAR_TOP'))
        pipeline = [t for t in ds.pipeline if t['type'] != 'ObjectSample']  # no nuscenes_dbinfos here
        for t in pipeline:
            if t['type'] == 'LoadPointsFromMultiSweeps':
                t['sweeps_num'] = 0  # the sample has no sweeps; padding would copy the scan 9 times
        at = [t['type'] for t in pipeline].index('LoadPointsFromMultiSweeps') + 1
        pipeline.insert(at, dict(type='PointSample', num_points=NUM_POINTS))
        ds.pipeline = pipeline
    return cfg


@pytest.fixture(autouse=True)
def mmdet3d_scope():
    """mmdet3d's registries as the default scope inside each test, restored afterwards (no leak into others)."""
    with DefaultScope.overwrite_default_scope('mmdet3d'):
        yield


def load_cfg(shared_data, path=DET_CONFIG, **kw):
    return shrink(Config.fromfile(str(path)), shared_data, **kw)


def first_sample(cfg, train=True):
    ds_cfg = cfg.train_dataloader.dataset.dataset if train else cfg.test_dataloader.dataset
    return pseudo_collate([DATASETS.build(ds_cfg)[0]])


@pytest.fixture(scope='module')
def backbone_file(pretrain_run, tmp_path_factory):
    out = tmp_path_factory.mktemp('det') / 'backbone.pth'
    extract_backbone.main([pretrain_run['ckpt'], str(out)])
    return out


def test_configs_inherit_mmdet3d_centerpoint():
    names = sorted(p.name for p in PROJECT_CONFIGS.glob('centerpoint_*.py'))
    assert len(names) == 6
    for name in names:
        cfg = Config.fromfile(str(PROJECT_CONFIGS / name))
        m = cfg.model
        assert m.type == 'CenterPointDynamic' and m.pts_voxel_encoder.type == 'PointJEPAPillarEncoder'
        assert m.data_preprocessor.voxel_type == 'dynamic' and m.data_preprocessor.voxel_layer.max_num_points == -1
        # scatter / SECOND / SECONDFPN / CenterHead come from mmdet3d's config, unchanged
        assert (m.pts_middle_encoder.type, m.pts_backbone.type, m.pts_neck.type, m.pts_bbox_head.type) == \
            ('PointPillarsScatter', 'SECOND', 'SECONDFPN', 'CenterHead')
        assert m.pts_middle_encoder.in_channels == m.pts_voxel_encoder.feat_channels[-1]
        pretrained = m.pts_voxel_encoder.backbone.init_cfg
        assert (pretrained is None) == ('scratch' in name)
        ds = cfg.train_dataloader.dataset.dataset
        frac = {'5pct': 0.05, '20pct': 0.2}.get(name.split('-')[-1][:-3])
        assert (ds.get('label_fraction'), ds.type) == ((frac, 'NuScenesLabelFractionDataset') if frac
                                                       else (None, 'NuScenesDataset'))
    # the encoder's backbone matches the pretraining config's (same weights fit)
    det = Config.fromfile(str(DET_CONFIG)).model.pts_voxel_encoder.backbone
    pre = Config.fromfile(str(PROJECT_CONFIGS / 'pointjepa_vit-s_8xb16-100e_nus-lidar.py')).model.backbone
    assert det.arch == pre.arch == 'vit-s'
    for key in ('tokenizer', 'encoder', 'pos_embed'):
        assert {k: v for k, v in det[key].items()} == {k: v for k, v in pre[key].items()}, key


def test_one_training_iteration_on_the_real_scan(shared_data, backbone_file):
    cfg = load_cfg(shared_data, checkpoint=backbone_file)
    model = MODELS.build(cfg.model)
    assert isinstance(model, CenterPointDynamic) and isinstance(model.pts_voxel_encoder, PointJEPAPillarEncoder)
    model.init_weights()
    batch = first_sample(cfg)
    gt = batch['data_samples'][0].gt_instances_3d
    assert 40 < len(gt.bboxes_3d) <= 69  # of the 69 annotated boxes, those inside the range and classes
    model.train()
    data = model.data_preprocessor(batch, training=True)
    losses = model(**data, mode='loss')
    assert len([k for k in losses if k.endswith('loss_heatmap')]) == 6  # CenterHead's 6 task heads
    for name, value in losses.items():
        assert torch.isfinite(value).all(), name
    total, _ = model.parse_losses(losses)
    total.backward()
    enc = model.pts_voxel_encoder.backbone
    for part in (enc.tokenizer, enc.encoder):
        grads = [p.grad for p in part.parameters() if p.requires_grad]
        assert grads and all(g is not None for g in grads)
        assert sum(float(g.abs().sum()) for g in grads) > 0


def test_inference_returns_mmdet3d_boxes(shared_data):
    cfg = load_cfg(shared_data)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.eval()
    with torch.no_grad():
        out = model.test_step(first_sample(cfg, train=False))
    assert len(out) == 1
    pred = out[0].pred_instances_3d
    assert isinstance(pred.bboxes_3d, LiDARInstance3DBoxes) and pred.bboxes_3d.tensor.shape[1] == 9
    n = len(pred.bboxes_3d)
    assert 0 < n <= 500 and pred.scores_3d.shape == (n, ) and pred.labels_3d.shape == (n, )
    assert int(pred.labels_3d.min()) >= 0 and int(pred.labels_3d.max()) < 10
    assert torch.isfinite(pred.bboxes_3d.tensor).all()


def test_pretrained_weights_arrive_through_init_cfg(shared_data, backbone_file, pretrain_run):
    model = MODELS.build(load_cfg(shared_data, checkpoint=backbone_file).model)
    enc = model.pts_voxel_encoder.backbone
    saved = pretrain_run['backbone_state']
    assert not all(torch.equal(v, saved[k]) for k, v in enc.state_dict().items() if v.is_floating_point())
    model.init_weights()
    state = enc.state_dict()
    assert sorted(state) == sorted(saved)
    for k, v in state.items():
        assert torch.equal(v, saved[k]), k
    # the full pretraining checkpoint works too, and prefix='target.' selects the EMA target
    model = MODELS.build(load_cfg(shared_data, checkpoint=pretrain_run['ckpt'], prefix='target.').model)
    model.init_weights()
    full = torch.load(pretrain_run['ckpt'], map_location='cpu', weights_only=True)['state_dict']
    enc_state = model.pts_voxel_encoder.backbone.state_dict()
    assert torch.equal(enc_state['encoder.norm.weight'], full['target.encoder.norm.weight'])


def test_wrong_prefix_and_empty_checkpoint_fail_loudly(shared_data, backbone_file):
    model = MODELS.build(load_cfg(shared_data, checkpoint=backbone_file, prefix='student.').model)
    with pytest.raises(CheckpointKeyError, match=r"prefix 'student\.' matches none.*\['backbone\.'\]"):
        model.init_weights()
    cfg = load_cfg(shared_data, checkpoint=backbone_file)
    cfg.model.pts_voxel_encoder.backbone.init_cfg.checkpoint = None
    with pytest.raises(ValueError, match=r'model\.pts_voxel_encoder\.backbone\.init_cfg\.checkpoint'):
        MODELS.build(cfg.model).init_weights()


def tiny_encoder(**kw):
    backbone = dict(type='PointPatchTransformer', pos_embed=dict(type='sincos3d', scale=1.0),
                    tokenizer=dict(type='PointPatchTokenizer', in_channels=4, **TINY_BACKBONE['tokenizer']),
                    encoder=dict(type='PointTransformerEncoder', **TINY_BACKBONE['encoder']))
    return PointJEPAPillarEncoder(backbone=backbone, **kw)


def real_points(shared_data, n=3000, seed=0):
    info = demo_infos(shared_data)['data_list'][0]
    pts = np.fromfile(nus_root(shared_data) / 'samples' / 'LIDAR_TOP' / info['lidar_points']['lidar_path'],
                      dtype=np.float32).reshape(-1, 5)
    inside = np.all((pts[:, :3] > [-51.2, -51.2, -5]) & (pts[:, :3] < [51.2, 51.2, 3]), axis=1)
    pts = pts[inside][np.random.default_rng(seed).choice(inside.sum(), n, replace=False)]
    return torch.from_numpy(pts)


def pillar_coors(points, batch):
    """[batch, z, y, x] of 0.2 m pillars over mmdet3d's nuScenes range (-1 outside)."""
    x = ((points[:, 0] + 51.2) / 0.2).floor().long()
    y = ((points[:, 1] + 51.2) / 0.2).floor().long()
    coors = torch.stack([torch.full_like(x, batch), torch.zeros_like(x), y, x], dim=1)
    outside = (x < 0) | (x >= 512) | (y < 0) | (y >= 512)
    coors[outside, 1:] = -1
    return coors.int()


def test_scatter_pool_matches_a_loop():
    g = torch.Generator().manual_seed(0)
    feats, index = torch.randn(200, 5, generator=g), torch.randint(0, 17, (200, ), generator=g)
    index[:17] = torch.arange(17)
    for mode, ref in (('max', lambda x: x.max(0).values), ('mean', lambda x: x.mean(0))):
        out = scatter_pool(feats, index, 17, mode)
        for s in range(17):
            torch.testing.assert_close(out[s], ref(feats[index == s]))


@pytest.mark.parametrize('dtype', [torch.int32, torch.int64])
def test_unique_coors_equals_unique_rows(dtype):
    """The keyed unique returns torch.unique(dim=0)'s rows, order and inverse (the pillars' order in the output)."""
    g = torch.Generator().manual_seed(1)
    n = 5000
    coors = torch.stack([torch.randint(0, 3, (n,), generator=g), torch.zeros(n, dtype=torch.long),
                         torch.randint(0, 40, (n,), generator=g), torch.randint(0, 600, (n,), generator=g)], 1)
    coors = coors.to(dtype)
    want_rows, want_inv = torch.unique(coors, dim=0, return_inverse=True)
    rows, inv = unique_coors(coors)
    assert rows.dtype == dtype and torch.equal(rows, want_rows) and torch.equal(inv, want_inv)
    assert len(rows) < n  # duplicates were merged
    rows, inv = unique_coors(coors[:0])
    assert rows.shape == (0, 4) and inv.shape == (0,)


def test_encoder_pools_into_unique_pillars_and_ignores_outside_points(shared_data):
    torch.manual_seed(0)
    enc = tiny_encoder().eval()
    pts = torch.cat([real_points(shared_data, seed=0), real_points(shared_data, seed=1)])
    coors = torch.cat([pillar_coors(pts[:3000], 0), pillar_coors(pts[3000:], 1)])
    with torch.no_grad():
        feats, out_coors = enc(pts, coors)
    assert out_coors.shape[0] == torch.unique(coors, dim=0).shape[0] == feats.shape[0]
    assert feats.shape[1] == 64 and (feats >= 0).all()  # ReLU then max
    assert torch.equal(out_coors, torch.unique(coors, dim=0))
    # points marked outside the range (-1) change nothing
    far = torch.tensor([[80.0, 0.0, 0.0, 10.0, 0.0]])
    with torch.no_grad():
        feats2, out_coors2 = enc(torch.cat([pts, far]), torch.cat([coors, torch.tensor([[0, -1, -1, -1]]).int()]))
    assert torch.equal(out_coors2, out_coors) and torch.allclose(feats2, feats, atol=1e-5)


def test_encoder_names_the_sample_without_points_in_range(shared_data):
    enc = tiny_encoder().eval()
    pts = real_points(shared_data, n=500)
    coors = torch.cat([pillar_coors(pts[:250], 0), pillar_coors(pts[250:], 1)])
    coors[250:, 1:] = -1  # sample 1: every point outside the range
    metas = [dict(lidar_path='a.pcd.bin'), dict(lidar_path='n015__LIDAR_TOP__1.pcd.bin')]
    with pytest.raises(PointCloudError, match=r'sample 1 of the batch \(n015__LIDAR_TOP__1\.pcd\.bin\) has no '
                                              r'point inside'):
        enc(pts, coors, None, None, metas)


def test_label_fraction_dataset_takes_the_seeded_subset(shared_data, tmp_path):
    infos = demo_infos(shared_data)
    infos['data_list'] = [dict(copy.deepcopy(infos['data_list'][0]), sample_idx=i, token=f't{i}') for i in range(20)]
    ann = write_infos(tmp_path / 'infos20.pkl', infos)
    common = dict(type='NuScenesLabelFractionDataset', data_root=str(nus_root(shared_data)), ann_file=str(ann),
                  data_prefix=dict(pts='samples/LIDAR_TOP'), pipeline=[], test_mode=False,
                  metainfo=dict(classes=['car', 'truck', 'construction_vehicle', 'bus', 'trailer', 'barrier',
                                         'motorcycle', 'bicycle', 'pedestrian', 'traffic_cone']))
    ds = DATASETS.build(dict(common, label_fraction=0.2, fraction_seed=0,
                             save_index_file=str(tmp_path / 'used.json')))
    from pjepa3d.datasets.splits import fraction_of, load_index_file
    assert isinstance(ds, NuScenesLabelFractionDataset) and len(ds) == 4
    assert ds.fraction_indices == fraction_of(20, 0.2, 0).tolist()
    assert [ds.get_data_info(i)['token'] for i in range(4)] == [f't{i}' for i in ds.fraction_indices]
    assert load_index_file(str(tmp_path / 'used.json')).tolist() == ds.fraction_indices
    pinned = DATASETS.build(dict(common, index_file=str(tmp_path / 'used.json')))
    assert [pinned.get_data_info(i)['token'] for i in range(4)] == [f't{i}' for i in ds.fraction_indices]
    assert len(DATASETS.build(dict(common))) == 20


def test_pretraining_dataset_keeps_pjepa3d_transforms_under_the_mmdet3d_scope(shared_data):
    from pjepa3d.datasets.transforms import PointSample
    from projects.PointJEPA_nuScenes.pointjepa_nus import NuScenesLidarPretrain
    assert DefaultScope.get_current_instance().scope_name == 'mmdet3d'
    ds = NuScenesLidarPretrain(data_root=str(nus_root(shared_data)), ann_file='nuscenes_infos_demo.pkl',
                               pipeline=[dict(type='PointSample', num_points=1024, method='random'),
                                         dict(type='PackPointInputs')])
    assert isinstance(ds.pipeline.transforms[0], PointSample)
    assert ds[0]['inputs']['points'].shape == (1024, 4)


def _db_infos(path, scans):
    """A GT-database index in mmdet3d's format (one car per scan of ``scans``)."""
    import pickle
    cars = [dict(name='car', path=f'nuscenes_gt_database/{k}_car_0.bin', image_idx=k, gt_idx=0, num_points_in_gt=40,
                 difficulty=0, box3d_lidar=np.array([0, 0, 0, 4, 2, 1.5, 0], np.float32), group_id=k)
            for k in scans]
    path.write_bytes(pickle.dumps(dict(car=cars)))
    return str(path)


def test_label_fraction_run_refuses_a_database_of_all_scans(shared_data, tmp_path):
    from pjepa3d.datasets.splits import fraction_of
    infos = demo_infos(shared_data)
    infos['data_list'] = [dict(copy.deepcopy(infos['data_list'][0]), sample_idx=i, token=f't{i}') for i in range(20)]
    ann = write_infos(tmp_path / 'infos20.pkl', infos)

    def build(db_path):
        sampler = dict(type='TolerantDataBaseSampler', data_root=str(tmp_path) + '/', info_path=db_path, rate=1.0,
                       prepare=dict(filter_by_min_points=dict(car=5)), classes=['car'], sample_groups=dict(car=2),
                       points_loader=dict(type='LoadPointsFromFile', coord_type='LIDAR', load_dim=5, use_dim=5))
        return DATASETS.build(dict(
            type='NuScenesLabelFractionDataset', data_root=str(nus_root(shared_data)), ann_file=str(ann),
            data_prefix=dict(pts='samples/LIDAR_TOP'), test_mode=False, label_fraction=0.2, fraction_seed=0,
            pipeline=[dict(type='ObjectSample', db_sampler=sampler)], metainfo=dict(classes=['car'])))

    # mmdet3d's own database of all 20 scans (no token record): more scans than the subset's 4
    with pytest.raises(ValueError, match=r'holds objects of 20 scans, more than the 4 of this 20 % label subset.*'
                                         r'would leak labels.*--label-fraction 0.2 --fraction-seed 0'):
        build(_db_infos(tmp_path / 'all.pkl', range(20)))
    subset = fraction_of(20, 0.2, 0).tolist()
    assert len(build(_db_infos(tmp_path / 'subset.pkl', range(4)))) == 4  # image_idx = positions in the subset
    # with create_gt_database.py's token record, the scans themselves are checked
    import json
    (tmp_path / 'other.tokens.json').write_text(json.dumps(dict(tokens=['t0', 't2', 't3', 't4'])))
    with pytest.raises(ValueError, match=r"holds objects of 4 scan\(s\) outside this 20 % label subset"):
        build(_db_infos(tmp_path / 'other.pkl', range(4)))
    (tmp_path / 'mine.tokens.json').write_text(json.dumps(dict(tokens=[f't{i}' for i in subset])))
    assert len(build(_db_infos(tmp_path / 'mine.pkl', range(4)))) == 4


def test_gt_database_subset_infos_are_the_label_fraction_scans(shared_data, tmp_path):
    import pickle

    from pjepa3d.datasets.splits import fraction_of
    from tests.conftest import load_script
    tool = load_script('projects/PointJEPA_nuScenes/tools/create_gt_database.py')
    infos = demo_infos(shared_data)
    infos['data_list'] = [dict(copy.deepcopy(infos['data_list'][0]), sample_idx=i, token=f't{i}') for i in range(20)]
    ann = write_infos(tmp_path / 'infos20.pkl', infos)
    path = tool.subset_infos(str(ann), str(tmp_path / 'db'), 0.2, 0)
    kept = [info['sample_idx'] for info in pickle.loads(open(path, 'rb').read())['data_list']]
    assert kept == fraction_of(20, 0.2, 0).tolist() and path.endswith('infos20_20pct_seed0.pkl')


def _det_dataset(root, ann):
    return DATASETS.build(dict(type='NuScenesDataset', data_root=str(root), ann_file=str(ann),
                               data_prefix=dict(pts='samples/LIDAR_TOP'), test_mode=False,
                               pipeline=[dict(type='LoadPointsFromFile', coord_type='LIDAR', load_dim=5, use_dim=5)],
                               metainfo=dict(classes=['car', 'pedestrian', 'barrier'])))


def test_detection_input_check_names_the_bad_sample(shared_data, tmp_path):
    import re
    import shutil
    from projects.PointJEPA_nuScenes.pointjepa_nus.detection import check_detection_samples
    infos = demo_infos(shared_data)
    scan = nus_root(shared_data) / 'samples' / 'LIDAR_TOP' / infos['data_list'][0]['lidar_points']['lidar_path']
    root = tmp_path / 'nus'
    (root / 'samples' / 'LIDAR_TOP').mkdir(parents=True)
    shutil.copy(scan, root / 'samples' / 'LIDAR_TOP' / scan.name)
    ann = write_infos(root / 'infos.pkl', infos)
    with DefaultScope.overwrite_default_scope('mmdet3d'):
        assert check_detection_samples(_det_dataset(root, ann)) == []  # the real scan with its 69 boxes
        # a truncated scan: 3 stray bytes
        data = scan.read_bytes()
        (root / 'samples' / 'LIDAR_TOP' / scan.name).write_bytes(data[:-17])
        token = infos['data_list'][0]['token']
        with pytest.raises(PointCloudError, match=rf'sample 0 \(token {token}\) of .*infos.pkl: scan file .*'
                                                  rf'{re.escape(scan.name)} has {len(data) - 17} bytes, not a whole'):
            check_detection_samples(_det_dataset(root, ann))
        (root / 'samples' / 'LIDAR_TOP' / scan.name).unlink()
        with pytest.raises(FileNotFoundError, match=rf'sample 0 \(token {token}\).*scan file not found'):
            check_detection_samples(_det_dataset(root, ann))
        # box-less samples: kept (reported) unless no sample has a box
        (root / 'samples' / 'LIDAR_TOP' / scan.name).write_bytes(data)
        two = dict(infos, data_list=[infos['data_list'][0], dict(copy.deepcopy(infos['data_list'][0]), token='empty',
                                                                    sample_idx=1, instances=[])])
        assert check_detection_samples(_det_dataset(root, write_infos(root / 'two.pkl', two))) == ['empty']
        none = dict(infos, data_list=[dict(copy.deepcopy(infos['data_list'][0]), instances=[])])
        with pytest.raises(ValueError, match=r'none of its 1 samples has a 3D box'):
            check_detection_samples(_det_dataset(root, write_infos(root / 'none.pkl', none)))


def test_detector_bench_breakdown_times_every_part_and_cleans_up(shared_data):
    """bench_detector_iter.py's per-part table: every part of the encoder's forward is timed (a part the encoder
    stops calling would read 0 ms, as the tokenizer hook once did), the parts fit inside the forward, and the
    wrapped functions and methods are restored afterwards."""
    from tests.conftest import load_script
    import projects.PointJEPA_nuScenes.pointjepa_nus.detection.pillar_encoder as enc_mod
    sag_mod = importlib.import_module('pjepa3d.ops.sample_and_group')
    bench = load_script('projects/PointJEPA_nuScenes/tools/bench_detector_iter.py')
    originals = (sag_mod.morton_order, sag_mod.furthest_point_sample, sag_mod.group_points, enc_mod.three_interpolate,
                 enc_mod.unique_coors)
    torch.manual_seed(0)
    enc = tiny_encoder().train()
    pts = real_points(shared_data)
    coors = pillar_coors(pts, 0)
    breakdown = bench.EncoderBreakdown(enc)
    start = time.perf_counter()
    enc(pts, coors)
    total = time.perf_counter() - start
    breakdown.end_iteration()
    breakdown.remove()
    parts = breakdown.per_iter[0]
    assert set(parts) == set(bench.EncoderBreakdown.PARTS)
    assert all(v > 0 for v in parts.values()) and sum(parts.values()) <= total
    assert (sag_mod.morton_order, sag_mod.furthest_point_sample, sag_mod.group_points, enc_mod.three_interpolate,
            enc_mod.unique_coors) == originals
    assert 'embed_groups' not in vars(enc.backbone.tokenizer)
