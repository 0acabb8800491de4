"""Representation probe during pretraining: SVMProbeMetric, the centred effective rank, ProbeDataset,
PointJEPA's predict features, ProbeAtStartHook / CollapseMonitorHook(source='val') / save_best in a real
mmengine Runner, and the ema_scope='all' target tokenizer at step 0."""
import copy
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

import pjepa3d  # noqa: F401
from pjepa3d.datasets import ProbeDataset
from pjepa3d.engine import CollapseMonitorHook
from pjepa3d.evaluation import ProbeWarning, SVMProbeMetric
from pjepa3d.models.utils import centred_effective_rank, effective_rank
from pjepa3d.registry import MODELS
from tests.conftest import PROJECT_ROOT, TINY_MODEL

PROBE_CFG = PROJECT_ROOT / 'configs/_base_/datasets/modelnet10_probe.py'


# --------------------------------------------------------------------------- the metric on known features

def _predictions(feats, labels, splits, extra=None):
    """Prediction dicts as the model's predict returns them (one per sample)."""
    out = []
    for i in range(len(labels)):
        d = dict(feat=torch.as_tensor(feats[i]), gt_label=torch.tensor(int(labels[i])),
                 probe_split=torch.tensor(int(splits[i])))
        for key, value in (extra or {}).items():
            d[key] = torch.as_tensor(value[i])
        out.append(d)
    return out


def _run_metric(metric, predictions, batch=50):
    for start in range(0, len(predictions), batch):
        metric.process(None, predictions[start:start + batch])
    return metric.evaluate(len(predictions))


def _separable(num_classes=4, per_class=60, dim=16, seed=0):
    """Class c = a cluster around 3 * e_c (+ noise 0.3): linearly separable with a wide margin."""
    rng = np.random.RandomState(seed)
    labels = np.repeat(np.arange(num_classes), per_class)
    feats = rng.normal(0, 0.3, (len(labels), dim)) + 3.0 * np.eye(dim)[labels]
    splits = np.tile(np.repeat([0, 1], per_class // 2), num_classes)  # half of each class fits, half scores
    return feats.astype(np.float32), labels, splits


def test_metric_scores_separable_features_near_100_and_shuffled_labels_near_chance():
    feats, labels, splits = _separable()
    rng = np.random.RandomState(1)
    noise = rng.normal(size=feats.shape).astype(np.float32)  # a second feature key with no class content
    metric = SVMProbeMetric(C=0.01, rank_min_samples=100)
    res = _run_metric(metric, _predictions(feats, labels, splits, extra=dict(feat_target=noise)))
    assert set(res) == {'svm_acc', 'feat_rank', 'svm_acc_target', 'feat_rank_target'}
    assert res['svm_acc'] >= 99.0
    assert res['svm_acc_target'] <= 100 / 4 + 15  # noise features: chance level
    # the centred score-part features: 4 clusters spread mostly over 3 directions; isotropic noise over all 16
    assert res['feat_rank'] < 0.8 * res['feat_rank_target'] and res['feat_rank_target'] > 12.0, res

    shuffled = rng.permutation(labels)  # the same features, labels unrelated to them
    res = _run_metric(SVMProbeMetric(C=0.01, rank_min_samples=100), _predictions(feats, shuffled, splits))
    assert res['svm_acc'] <= 100 / 4 + 15, res


def test_metric_chooses_c_by_cross_validation_on_the_fit_part():
    """Two classes told apart only by x0 - x1, while both carry a large shared nuisance: a small C (close to a
    class-mean classifier) scores near chance, a large C separates them. With a grid the probe finds that C by
    cross-validation on the fit part, logs it as svm_c, and scores what the best fixed C scores."""
    rng = np.random.RandomState(0)
    labels = np.repeat([0, 1], 100)
    nuisance = rng.normal(0, 3.0, 200)
    feats = np.stack([nuisance + 0.5 * (2 * labels - 1), nuisance, rng.normal(0, 1, 200), rng.normal(0, 1, 200)], 1)
    preds = _predictions(feats.astype(np.float32), labels, np.tile(np.repeat([0, 1], 50), 2))
    small = _run_metric(SVMProbeMetric(C=1e-3, rank_min_samples=1), preds)
    grid = _run_metric(SVMProbeMetric(C=(1e-3, 1e-1, 10.0), rank_min_samples=1), preds)
    assert small['svm_acc'] < 70 and 'svm_c' not in small
    assert grid['svm_c'] == 10.0 and grid['svm_acc'] == 100.0
    assert grid['feat_rank'] == small['feat_rank']
    for bad in (0, (), (0.1, -1.0), 'cv'):
        with pytest.raises(ValueError, match='C must be'):
            SVMProbeMetric(C=bad)
    with pytest.raises(ValueError, match='cv_folds'):
        SVMProbeMetric(C=(0.1, 1.0), cv_folds=1)


def test_metric_standardizes_with_the_fit_part_only():
    """One informative feature on a scale 1e-4 x the 15 noise features: raw, C=0.01 cannot use it;
    standardised (statistics of the fit part) it separates the classes."""
    rng = np.random.RandomState(0)
    labels = np.repeat([0, 1], 100)
    feats = rng.normal(0, 1.0, (200, 16))
    feats[:, 0] = 1e-4 * (2.0 * labels - 1.0 + rng.normal(0, 0.1, 200))
    splits = np.tile(np.repeat([0, 1], 50), 2)
    raw = _run_metric(SVMProbeMetric(standardize=False, rank_min_samples=1), _predictions(feats, labels, splits))
    std = _run_metric(SVMProbeMetric(standardize=True, rank_min_samples=1), _predictions(feats, labels, splits))
    assert std['svm_acc'] >= 95.0 and raw['svm_acc'] <= 70.0, (raw, std)


def test_metric_errors_on_an_empty_part_and_warns_on_a_small_score_part():
    feats, labels, splits = _separable(num_classes=2, per_class=20)
    only_fit = _predictions(feats, labels, np.zeros_like(splits))
    with pytest.raises(ValueError, match='0 score'):
        _run_metric(SVMProbeMetric(), only_fit)
    only_score = _predictions(feats, labels, np.ones_like(splits))
    with pytest.raises(ValueError, match='0 fit'):
        _run_metric(SVMProbeMetric(), only_score)
    with pytest.warns(ProbeWarning, match='20 clouds'):  # 2 x 10 score clouds < 256
        res = _run_metric(SVMProbeMetric(rank_min_samples=256), _predictions(feats, labels, splits))
    assert res['svm_acc'] == 100.0
    no_split = [{k: v for k, v in p.items() if k != 'probe_split'} for p in _predictions(feats, labels, splits)]
    with pytest.raises(KeyError, match='probe_split'):
        _run_metric(SVMProbeMetric(), no_split)


# --------------------------------------------------------------------------- centred effective rank

def _zero_mean_orthonormal(n, d, seed=0):
    """(n, d) with orthonormal columns, each orthogonal to the all-ones vector (so every column has mean 0)."""
    a = torch.randn(n, d + 1, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    a[:, 0] = 1.0
    q, _ = torch.linalg.qr(a)
    return q[:, 1:]


@pytest.mark.parametrize('n, d', [(32, 8), (100, 16)])
def test_centred_rank_of_orthonormal_features_is_their_dimension_with_or_without_offset(n, d):
    q = _zero_mean_orthonormal(n, d)
    assert centred_effective_rank(q).item() == pytest.approx(d, rel=1e-4)
    offset = torch.zeros(d, dtype=torch.float64)
    offset[0] = 10.0 / n ** 0.5  # X^T X = I + n v v^T: singular values 10.05 and 1 (d - 1 times)
    x = q + offset
    assert centred_effective_rank(x).item() == pytest.approx(d, rel=1e-4)
    assert effective_rank(x).item() < 0.7 * d  # the offset is counted as a dominant direction


@pytest.mark.parametrize('n, d', [(64, 32), (300, 768)])
def test_centred_rank_of_offset_rank_one_features_is_one(n, d):
    g = torch.Generator().manual_seed(n)
    x = torch.outer(torch.randn(n, generator=g), torch.randn(d, generator=g))  # varies along one direction
    x = x + 3.0 * torch.randn(1, d, generator=g)  # plus a constant offset (a mean feature)
    assert centred_effective_rank(x).item() == pytest.approx(1.0, abs=1e-3)
    assert effective_rank(x).item() > 1.2  # uncentred: the offset adds a second direction
    same = torch.randn(1, d, generator=g).expand(n, d)  # fully collapsed: every cloud the same feature
    assert centred_effective_rank(same).item() == pytest.approx(1.0, abs=1e-3)


# --------------------------------------------------------------------------- a small ModelNet10 in PCD files

CLASSES = ('ball', 'plate')  # alphabetical = label order


def _shape(cls, rng, n=128):
    if cls == 'ball':  # a sphere's surface
        p = rng.normal(size=(n, 3))
        p /= np.linalg.norm(p, axis=1, keepdims=True)
        return p * rng.uniform(0.8, 1.2)
    # a flat square plate, randomly tilted about z
    p = np.c_[rng.uniform(-1, 1, (n, 2)), rng.normal(0, 0.01, n)]
    a = rng.uniform(0, np.pi)
    rot = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    return p @ rot.T


@pytest.fixture(scope='module')
def pcd_modelnet(tmp_path_factory):
    """ModelNet10's folder layout with 2 classes x 16 'train' shapes (+ 2 'test') of 128 points, as PCD files."""
    from pypcd4 import PointCloud

    root = tmp_path_factory.mktemp('pcd') / 'ModelNet10'
    rng = np.random.RandomState(0)
    for cls in CLASSES:
        for split, count in (('train', 16), ('test', 2)):
            folder = root / cls / split
            folder.mkdir(parents=True)
            for i in range(count):
                PointCloud.from_xyz_points(_shape(cls, rng).astype(np.float32)).save(
                    str(folder / f'{cls}_{i + 1:04d}.pcd'))
    return root


def _probe_dataset_cfg(root):
    """The shipped fragment's dataset, pointed at ``root`` with a larger carve for 16 shapes per class."""
    ds = copy.deepcopy(Config.fromfile(PROBE_CFG).val_dataloader.dataset.to_dict())
    for part in ('fit', 'score'):
        ds[part].update(data_root=str(root), val_ratio=0.25, cache_dir=False)
    ds['fit']['label_fraction'] = 0.5
    return ds


def test_probe_dataset_tags_fit_and_score_samples(pcd_modelnet):
    ds = ProbeDataset(**{k: v for k, v in _probe_dataset_cfg(pcd_modelnet).items() if k != 'type'})
    assert (len(ds.fit), len(ds.score)) == (12, 8)  # 16 - 4 carved = 12 per class x 0.5; 4 per class carved
    assert len(ds) == 20 and ds.metainfo['classes'] == CLASSES
    splits = [ds[i]['data_samples']['probe_split'] for i in range(len(ds))]
    assert splits == [0] * 12 + [1] * 8
    files = [ds[i]['data_samples']['sample_idx'] for i in range(len(ds))]
    assert files[:12] == list(range(12)) and files[12:] == list(range(8))
    assert ds[-1]['inputs']['points'].shape == (128, 3)
    unpacked = dict(type='ModelNet10', data_root=str(pcd_modelnet), split='test', cache_dir=False)
    with pytest.raises(TypeError, match='PackPointInputs'):
        ProbeDataset(fit=unpacked, score=unpacked)[0]


def test_shipped_fragment_reads_the_environment_and_is_the_documented_probe(monkeypatch, pcd_modelnet):
    monkeypatch.setenv('MODELNET10_ROOT', str(pcd_modelnet))
    cfg = Config.fromfile(PROBE_CFG)
    fit, score = cfg.val_dataloader.dataset.fit, cfg.val_dataloader.dataset.score
    assert fit.data_root == score.data_root == str(pcd_modelnet)
    assert (fit.split, fit.val_ratio, fit.split_seed, fit.label_fraction) == ('train', 0.1, 0, 0.25)
    assert (score.split, score.val_ratio, score.split_seed) == ('val', 0.1, 0)
    assert cfg.val_dataloader.batch_size == 64 and cfg.val_dataloader.num_workers in (0, 1)
    assert cfg.val_evaluator.type == 'SVMProbeMetric' and cfg.val_cfg == dict(type='ValLoop')
    monkeypatch.delenv('MODELNET10_ROOT')
    assert Config.fromfile(PROBE_CFG).val_dataloader.dataset.fit.data_root == 'data/ModelNet10'


# --------------------------------------------------------------------------- model: predict and ema_scope='all'

def _tiny(scope='all', drop_path=0.1):
    cfg = copy.deepcopy(TINY_MODEL)
    cfg['ema_scope'] = scope
    cfg['backbone']['encoder']['drop_path_rate'] = drop_path
    return cfg


@pytest.mark.parametrize('scope', ['encoder', 'all'])
def test_predict_returns_online_and_target_features_with_labels_and_split(scope):
    model = MODELS.build(_tiny(scope))
    model.init_weights()
    with torch.no_grad():  # make the target differ from the online encoder
        for p in model.backbone.encoder.parameters():
            p.add_(0.1 * torch.randn_like(p))
    model.eval()
    points = torch.rand(3, 64, 3)
    samples = dict(label=torch.tensor([2, 0, 1]), probe_split=torch.tensor([0, 1, 1]))
    out = model.predict(dict(points=points), samples)
    assert len(out) == 3 and set(out[0]) == {'feat', 'feat_target', 'gt_label', 'probe_split'}
    with torch.no_grad():
        online, target = model.backbone.extract_feat(points), model.target.extract_feat(points)
    assert torch.allclose(torch.stack([o['feat'] for o in out]), online)
    assert torch.allclose(torch.stack([o['feat_target'] for o in out]), target)
    assert not torch.allclose(online, target)
    assert [int(o['gt_label']) for o in out] == [2, 0, 1] and [int(o['probe_split']) for o in out] == [0, 1, 1]


@pytest.mark.parametrize('scope', ['encoder', 'all'])
def test_predict_computes_the_target_features_once_while_the_target_is_the_online_copy(scope):
    """At iteration 0 (after init_weights) the EMA target is an exact copy: in eval mode ``feat_target`` is the
    online ``feat`` (one forward); in training mode, or once any target tensor differs, the target runs again."""
    torch.manual_seed(0)
    model = MODELS.build(_tiny(scope))
    model.init_weights()
    points = torch.rand(3, 64, 3)
    model.eval()
    with torch.no_grad():
        feats = model.predict_feats(dict(points=points))
        assert feats['feat_target'] is feats['feat']
        assert torch.equal(feats['feat'], model.target.extract_feat(points))  # what a second forward gives
        model.train()
        assert model.predict_feats(dict(points=points))['feat_target'] is not feats['feat']
        model.eval()
        # one BatchNorm buffer of the target changed (ema_scope='all' owns them; 'encoder': a LayerNorm weight)
        name, tensor = next((k, v) for k, v in model.target.state_dict().items()
                            if ('running_var' in k if scope == 'all' else k.startswith('encoder.')))
        tensor.mul_(1.5)
        feats = model.predict_feats(dict(points=points))
        assert feats['feat_target'] is not feats['feat'], name
        assert torch.equal(feats['feat_target'], model.target.extract_feat(points))
        assert not torch.equal(feats['feat_target'], feats['feat'])


def test_point_mae_predict_passes_the_probe_split_through():
    mae = dict(type='PointMAE', backbone=copy.deepcopy(TINY_MODEL['backbone']),
               head=dict(type='MAEHead', decoder=dict(type='MAEDecoder', in_dims=32, embed_dims=16, depth=1,
                                                      num_heads=2, group_size=8)))
    model = MODELS.build(mae)
    model.eval()
    out = model.predict(dict(points=torch.rand(2, 64, 3)), dict(label=torch.tensor([1, 0]),
                                                                probe_split=torch.tensor([1, 0])))
    assert set(out[0]) == {'feat', 'gt_label', 'probe_split'} and [int(o['probe_split']) for o in out] == [1, 0]


def test_ema_scope_all_target_equals_online_at_step_0_and_keeps_copying_running_stats():
    """At step 0 (target = online weights, fresh BatchNorm statistics), with no drop-path, the target's
    features of the grouped input equal the online encoder's: the target tokenizer normalises with the
    batch statistics, as the online one does in training (running statistics (0, 1) would not)."""
    torch.manual_seed(0)
    model = MODELS.build(_tiny('all', drop_path=0.0))
    model.target_norm = False
    model.init_weights()
    model.train()
    assert model.target.tokenizer.embed.training and not model.target.encoder.training
    points = torch.rand(4, 64, 3) * torch.tensor([1.0, 2.0, 0.5]) + 3.0  # far from zero-mean / unit-var
    groups, centres = model.backbone.tokenizer.group(points)
    tokens = model.backbone.tokenizer.embed_groups(groups)
    pos = model.backbone.pos_embed(centres)
    online = model.backbone.encoder(tokens, pos)
    target = model._target_features(groups, tokens, pos, centres)
    assert torch.allclose(target, online, atol=1e-5, rtol=1e-4), (target - online).abs().max()
    # the loss path gives the same targets (this is what the predictor regresses)
    model.target_norm = True
    out = model.loss(dict(points=points))
    assert torch.isfinite(out['loss'])

    # update_target still copies the online BatchNorm statistics into the target tokenizer
    online_bn, target_bn = model.backbone.tokenizer.embed.bn1, model.target.tokenizer.embed.bn1
    with torch.no_grad():
        online_bn.running_mean.add_(torch.randn_like(online_bn.running_mean))
        online_bn.running_var.mul_(2.5)
    assert not torch.equal(online_bn.running_mean, target_bn.running_mean)
    model.update_target(0.99)
    assert torch.equal(online_bn.running_mean, target_bn.running_mean)
    assert torch.equal(online_bn.running_var, target_bn.running_var)

    # in eval mode the target tokenizer uses those running statistics, as the online one does
    model.eval()
    assert not model.target.tokenizer.embed.training
    with torch.no_grad():
        whole = model.target.tokenizer.embed_groups(groups)
        part = model.target.tokenizer.embed_groups(groups[:2])  # running statistics: independent of the batch
    assert torch.allclose(whole[:2], part, atol=1e-5)


# --------------------------------------------------------------------------- the probe in a real Runner

class _ValRecorder(Hook):
    """Records every validation: the iteration, the metrics and the BatchNorm statistics it ran with."""
    priority = 'LOWEST'

    def __init__(self):
        self.vals, self.bn_var = [], []

    def before_val(self, runner):
        model = runner.model
        self.bn_var.append((model.backbone.tokenizer.embed.bn1.running_var.clone(),
                            model.target.tokenizer.embed.bn1.running_var.clone()))

    def after_val_epoch(self, runner, metrics=None):
        self.vals.append((runner.iter, dict(metrics)))


def _runner_cfg(work_dir, root, name, max_iters=4, val_interval=2, start_probe=True, resume=False):
    train_set = dict(type='ModelNet10', data_root=str(root), split='train', val_ratio=0.25, cache_dir=False,
                     pipeline=[dict(type='PackPointInputs')])
    hooks = [dict(type='pjepa3d.EMAHook', schedule='cosine', tau_start=0.99, tau_end=1.0)]
    if start_probe:
        hooks.append(dict(type='ProbeAtStartHook', calib_samples=16))
    hooks.append(dict(type='CollapseMonitorHook', key='feat_rank', source='val', min_ratio=0.3))
    loader = dict(num_workers=0, collate_fn=dict(type='default_collate'))
    return dict(
        default_scope='pjepa3d', work_dir=str(work_dir), experiment_name=name, model=_tiny('all'),
        train_dataloader=dict(loader, batch_size=8, sampler=dict(type='DefaultSampler', shuffle=True),
                              dataset=train_set),
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=val_interval),
        val_dataloader=dict(loader, batch_size=64, sampler=dict(type='DefaultSampler', shuffle=False),
                            dataset=_probe_dataset_cfg(root)),
        val_evaluator=dict(type='SVMProbeMetric', C=0.01, rank_min_samples=8),
        val_cfg=dict(type='ValLoop'),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.0),
                           paramwise_cfg=dict(bypass_duplicate=True)),
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=1, log_metric_by_epoch=False),  # probe curve by iteration
            checkpoint=dict(type='CheckpointHook', interval=2, by_epoch=False, save_best='svm_acc', rule='greater',
                            backend_args=dict(backend='atomic_local'))),
        log_processor=dict(by_epoch=False),
        custom_hooks=hooks, randomness=dict(seed=0), log_level='INFO', resume=resume)


def _run(cfg):
    runner = Runner.from_cfg(Config(cfg))
    recorder = _ValRecorder()
    runner.register_hook(recorder)
    runner.train()
    log_text = Path(runner.log_dir, f'{runner.timestamp}.log').read_text()
    return runner, recorder, log_text


PROBE_KEYS = ('svm_acc', 'svm_acc_target', 'feat_rank', 'feat_rank_target')


def test_runner_probes_at_iteration_0_and_every_interval_and_saves_the_best(tmp_path, pcd_modelnet):
    runner, rec, log_text = _run(_runner_cfg(tmp_path, pcd_modelnet, 'probe_a'))
    assert runner.iter == 4
    assert [it for it, _ in rec.vals] == [0, 2, 4]  # the start point, then val_interval
    for _, metrics in rec.vals:
        assert set(PROBE_KEYS) <= set(metrics) and all(np.isfinite(metrics[k]) for k in PROBE_KEYS), metrics
        assert 0.0 <= metrics['svm_acc'] <= 100.0 and 1.0 <= metrics['feat_rank'] <= 8
    start = rec.vals[0][1]
    # iteration 0: BatchNorm statistics calibrated (not the (0, 1) of a fresh BatchNorm) before validating,
    # the target's too; with equal weights and equal statistics the target probe equals the online one
    online_var, target_var = rec.bn_var[0]
    assert not torch.allclose(online_var, torch.ones_like(online_var)) and torch.allclose(online_var, target_var)
    assert start['svm_acc_target'] == start['svm_acc'] and start['feat_rank_target'] == pytest.approx(
        start['feat_rank'], rel=1e-4)
    assert start['svm_acc'] >= 75.0  # balls vs plates: easy even for the calibrated random init
    assert 'ProbeAtStartHook: calibrated the BatchNorm running statistics of backbone.tokenizer, target.tokenizer ' \
           'on 16 training clouds' in log_text
    assert 'ProbeAtStartHook: validating at iteration 0' in log_text

    # the learning curve is in the scalar log, starting at step 0
    lines = [json.loads(line) for line in Path(runner.log_dir, 'vis_data', 'scalars.json').read_text().splitlines()]
    probe_steps = [line['step'] for line in lines if 'svm_acc' in line]
    assert probe_steps == [0, 2, 4] and all(k in line for line in lines if 'svm_acc' in line for k in PROBE_KEYS)
    assert re.search(r'Iter\(val\) \[1/1\].*svm_acc: [\d.]+.*feat_rank: [\d.]+', log_text)

    # save_best: exactly one best checkpoint, of the first probe with the highest svm_acc
    best = sorted(Path(tmp_path).glob('best_svm_acc_iter_*.pth'))
    accs = [m['svm_acc'] for _, m in rec.vals]
    first_best_iter = rec.vals[int(np.argmax(accs))][0]
    assert [p.name for p in best] == [f'best_svm_acc_iter_{first_best_iter}.pth']
    assert runner.message_hub.get_info('best_score') == max(accs)
    assert torch.load(best[0], map_location='cpu', weights_only=False)['meta']['iter'] == first_best_iter

    # the collapse monitor took its start from the iteration-0 probe and logged the ratio
    monitor = [h for h in runner.hooks if isinstance(h, CollapseMonitorHook)][0]
    assert monitor.start_iter == 0 and monitor.start == start['feat_rank']
    assert runner.message_hub.get_scalar('val/feat_rank_ratio').current() == pytest.approx(
        rec.vals[-1][1]['feat_rank'] / start['feat_rank'])

    # resumed: no start probe, and the monitor keeps the original start
    cfg = _runner_cfg(tmp_path, pcd_modelnet, 'probe_a_resumed', max_iters=6, resume=True)
    runner2, rec2, log2 = _run(cfg)
    assert runner2.iter == 6 and [it for it, _ in rec2.vals] == [6]
    assert 'ProbeAtStartHook: resumed at iteration 4; no start probe' in log2 and 'calibrated' not in log2
    monitor2 = [h for h in runner2.hooks if isinstance(h, CollapseMonitorHook)][0]
    assert monitor2.start == start['feat_rank'] and monitor2.start_iter == 0


def test_the_start_probe_does_not_change_the_training(tmp_path, pcd_modelnet):
    """Calibration + iteration-0 validation restore the random generators and leave the training order
    alone: the trained weights equal those of a run without the start probe (both validate at 2 and 3)."""
    with_probe, rec, _ = _run(_runner_cfg(tmp_path / 'a', pcd_modelnet, 'probe_b1', max_iters=3))
    without, rec_without, _ = _run(_runner_cfg(tmp_path / 'b', pcd_modelnet, 'probe_b2', max_iters=3,
                                               start_probe=False))
    assert [it for it, _ in rec.vals] == [0, 2, 3] and [it for it, _ in rec_without.vals] == [2, 3]
    a, b = with_probe.model.state_dict(), without.model.state_dict()
    params = [k for k, _ in with_probe.model.named_parameters()]
    assert all(torch.equal(a[k], b[k]) for k in params)
    assert not torch.equal(a['backbone.encoder.blocks.0.attn.qkv.weight'],
                           _initial_qkv(pcd_modelnet, tmp_path / 'c'))  # it did train
    # the online running statistics differ only by the calibration's start
    assert not torch.equal(a['backbone.tokenizer.embed.bn1.running_var'], b['backbone.tokenizer.embed.bn1.running_var'])


def _initial_qkv(root, work_dir):
    runner = Runner.from_cfg(Config(_runner_cfg(work_dir, root, 'probe_b3')))
    runner._init_model_weights()
    return runner.model.state_dict()['backbone.encoder.blocks.0.attn.qkv.weight']


def test_analyze_logs_on_the_json_log_of_a_real_run(tmp_path, pcd_modelnet, capsys):
    # tools/analysis_tools/analyze_logs.py on the scalar log a 4-iteration Runner run wrote
    from tests.conftest import load_script
    tool = load_script('tools/analysis_tools/analyze_logs.py')
    runner, rec, _ = _run(_runner_cfg(tmp_path, pcd_modelnet, 'probe_log'))
    log = Path(runner.log_dir, 'vis_data', f'{runner.timestamp}.json')
    train, val = tool.load_json_log(str(log))
    assert [r['iter'] for r in train] == [1, 2, 3, 4] and [r['iter'] for r in val] == [0, 2, 4]
    it, acc = tool.series(val, 'svm_acc_target')
    assert it.tolist() == [0, 2, 4] and acc.tolist() == pytest.approx([m['svm_acc_target'] for _, m in rec.vals])
    it, tau = tool.series(train, 'ema_tau')
    assert tau[0] == pytest.approx(0.99) and (tau[1:] >= tau[:-1]).all()
    out = tool.main(['plot_curve', str(log), '--keys', 'loss', 'ema_tau', 'svm_acc_target', 'feat_rank',
                     '--baseline-from-first', '--out', str(tmp_path / 'curve.png')])
    assert out == str(tmp_path / 'curve.png') and (tmp_path / 'curve.png').stat().st_size > 10000
    with pytest.raises(KeyError, match="no log has the key 'nope'"):
        tool.plot_curve([str(log)], ['nope'], out=str(tmp_path / 'x.png'))
    times = tool.cal_train_time([str(log)])
    assert times[0]['rows'] == 4 and 0 < times[0]['fastest'] <= times[0]['mean'] <= times[0]['slowest']
    assert '4 logged iterations' in capsys.readouterr().out
