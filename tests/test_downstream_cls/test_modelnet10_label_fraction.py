"""ModelNet10 few-label fine-tuning: the shipped 1 % / 5 % configs, the nested label subsets, BNCalibrationHook
(calibrated random init, pretrained statistics kept) and tools/analysis_tools/label_fraction_study.py end to end
with the real Runner on a small ModelNet10 layout written here (binary PCD files, 3 classes of distinct
geometry)."""
import copy
import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from tests.conftest import write_toy_modelnet10

from pjepa3d.datasets.splits import carve_val_split, label_fraction_indices
from pjepa3d.evaluation import format_p
from pjepa3d.models.utils.bn_calibration import calibrate_batchnorm
from pjepa3d.registry import DATASETS, HOOKS, MODELS
from .conftest import BENCH, PROJECT_ROOT, TINY_BACKBONE, load_tool

CFG_1PCT = BENCH / 'pointjepa_vit-t-demo_1xb32_ft_modelnet10-label1pct.py'
CFG_5PCT = BENCH / 'pointjepa_vit-t-demo_1xb32_ft_modelnet10-label5pct.py'
REAL_MN10 = (PROJECT_ROOT / '..' / 'shared' / 'data' / 'modelnet10_pcd' / 'ModelNet10').resolve()
# the official train split per class (bathtub ... toilet), for the synthetic fallback
MN10_TRAIN_COUNTS = (106, 515, 889, 200, 200, 465, 200, 680, 392, 344)
NUM_POINTS = 256
CLASSES = ('ball', 'plate', 'rod')


@pytest.fixture(scope='module')
def tiny_mn10(tmp_path_factory):
    """<root>/ModelNet10/{ball,plate,rod}/{train,test}/<cls>_NNNN.pcd: 12 train / 4 test binary PCD clouds a class."""
    root = tmp_path_factory.mktemp('mn10') / 'ModelNet10'
    return write_toy_modelnet10(root, NUM_POINTS, train=12, test=4, classes=CLASSES)


def _tiny_cfg(path, base, data_root=None, init_cfg='None', train_dataset='', extra=''):
    """A config inheriting a shipped one, shrunk to the tests' tiny backbone (64-dim feature) and 2 iterations.

    ``init_cfg``: the backbone's (Python text); ``train_dataset``: more train dataset settings (Python text)."""
    lines = [f'_base_ = [{str(base)!r}]',
             f"model = dict(backbone=dict(_delete_=True, init_cfg={init_cfg}, **{TINY_BACKBONE!r}), "
             "head=dict(in_channels=64))",
             "train_cfg = dict(max_iters=2, val_interval=1)",
             "param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False, begin=0, end=2)]",
             "default_hooks = dict(checkpoint=dict(interval=2), logger=dict(interval=1))",
             "log_level = 'WARNING'"]
    if data_root is not None:
        lines += [f"{loader} = dict(dataset=dict(data_root={str(data_root)!r}"
                  f"{', ' + train_dataset if train_dataset and loader == 'train_dataloader' else ''}))"
                  for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')]
    Path(path).write_text('\n'.join(lines) + '\n' + extra)
    return Path(path)


def _bn_stats(module):
    return {name: (m.running_mean.clone(), m.running_var.clone()) for name, m in module.named_modules()
            if isinstance(m, nn.modules.batchnorm._BatchNorm)}


# ---------------------------------------------------------------------------------------------- configs


@pytest.mark.parametrize('path, fraction', [(CFG_1PCT, 0.01), (CFG_5PCT, 0.05)])
def test_configs_resolve(path, fraction, monkeypatch, tmp_path):
    monkeypatch.setenv('MODELNET10_ROOT', str(tmp_path / 'mn10'))
    cfg = Config.fromfile(path)
    # the data root comes from $MODELNET10_ROOT (mmengine's env-var substitution), for all three splits
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert cfg[loader].dataset.type == 'ModelNet10'
        assert cfg[loader].dataset.data_root == str(tmp_path / 'mn10')
        assert cfg[loader].num_workers <= 1
    train, val, test = (cfg[k].dataset for k in ('train_dataloader', 'val_dataloader', 'test_dataloader'))
    assert (train.split, val.split, test.split) == ('train', 'val', 'test')
    assert train.val_ratio == val.val_ratio == 0.1 and train.split_seed == val.split_seed == 0
    assert train.label_fraction == fraction and train.fraction_seed == 0
    assert 'label_fraction' not in val and 'val_ratio' not in test
    assert [t['type'] for t in train.pipeline] == ['RandomScale', 'PackPointInputs']
    assert [t['type'] for t in test.pipeline] == ['PackPointInputs']
    # the demo ViT-T encoder, 10 classes
    bb = cfg.model.backbone
    assert (bb.arch, bb.tokenizer.num_groups, bb.tokenizer.group_size) == ('vit-t', 64, 32)
    assert (bb.encoder.drop_path_rate, bb.encoder.pos_every_block, bb.pos_embed) == (0.0, True, 'mlp')
    built = MODELS.build(dict(bb, init_cfg=None))
    assert (built.embed_dims, built.encoder.depth, built.encoder.blocks[0].attn.num_heads,
            built.tokenizer.embed.fc1.out_features, built.tokenizer.embed.fc4.in_features) == (192, 6, 3, 64, 256)
    assert bb.init_cfg.type == 'Pretrained' and bb.init_cfg.prefix == 'backbone.'
    assert cfg.model.head.num_classes == 10 and cfg.model.head.in_channels == 384
    # iteration-based schedule, val selection, the whole hook list (a top config's list replaces the base's)
    assert cfg.train_cfg.type == 'IterBasedTrainLoop' and 'max_epochs' not in cfg.train_cfg
    assert (cfg.train_cfg.max_iters, cfg.train_cfg.val_interval) == (300, 25)
    assert cfg.train_dataloader.sampler.type == 'InfiniteSampler'
    assert all(not s.get('by_epoch', True) and s['end'] <= 300 for s in cfg.param_scheduler)
    ckpt = cfg.default_hooks.checkpoint
    assert ckpt.save_best == 'accuracy/overall' and ckpt.rule == 'greater' and ckpt.by_epoch is False
    assert cfg.log_processor.by_epoch is False
    assert [h['type'] for h in cfg.custom_hooks] == ['FreezeBackboneHook', 'BNCalibrationHook', 'TestVotingHook',
                                                     'TestBestAndLastHook']
    hooks = {h['type']: h for h in cfg.custom_hooks}
    assert 0 < hooks['FreezeBackboneHook']['freeze_iters'] < cfg.train_cfg.max_iters
    assert 'freeze_epochs' not in hooks['FreezeBackboneHook']
    assert hooks['TestVotingHook']['num_votes'] == 1
    assert hooks['BNCalibrationHook'] == dict(type='BNCalibrationHook', num_samples=512, batch_size=32)
    init_default_scope('pjepa3d')
    for h in cfg.custom_hooks:  # all registered and constructible
        HOOKS.build(copy.deepcopy(h))
    model = MODELS.build(dict(cfg.model, backbone=dict(cfg.model.backbone, init_cfg=None))).eval()
    assert model(dict(points=torch.rand(2, 1024, 3) - 0.5), mode='tensor').shape == (2, 10)


def test_configs_on_the_real_modelnet10(monkeypatch):
    if not REAL_MN10.is_dir():
        pytest.skip(f'needs ../shared/data/modelnet10_pcd/ModelNet10 beside the repo (the complete '
                    f'ModelNet10); not found at {REAL_MN10}')
    monkeypatch.setenv('MODELNET10_ROOT', str(REAL_MN10))
    init_default_scope('pjepa3d')
    sets = {}
    for name, path in (('1pct', CFG_1PCT), ('5pct', CFG_5PCT)):
        cfg = Config.fromfile(path)
        for loader in ('train', 'val', 'test'):
            ds = DATASETS.build(cfg[f'{loader}_dataloader'].dataset)
            ds.full_init()  # lists the files only
            sets[name, loader] = ds
    assert [len(sets['1pct', k]) for k in ('train', 'val', 'test')] == [37, 399, 908]
    assert len(sets['5pct', 'train']) == 181
    one, five = (set(sets[k, 'train'].subset_indices.tolist()) for k in ('1pct', '5pct'))
    assert one < five  # nested, in positions of the official train list
    assert not five & set(sets['1pct', 'val'].subset_indices.tolist())  # never a val shape
    labels = np.bincount([sets['1pct', 'train'].get_data_info(i)['label'] for i in range(37)], minlength=10)
    assert labels.min() >= 1 and len(labels) == 10


@pytest.mark.parametrize('seed', [0, 1, 2, 7])
def test_label_fractions_are_nested_with_one_shape_per_class(seed):
    """On the real ModelNet10 train labels when present, else on labels with its class counts."""
    if REAL_MN10.is_dir():
        classes = sorted(p.name for p in REAL_MN10.iterdir() if (p / 'train').is_dir())
        labels = np.concatenate([np.full(len(list((REAL_MN10 / c / 'train').glob('*.pcd'))), i)
                                 for i, c in enumerate(classes)])
    else:
        labels = np.repeat(np.arange(10), MN10_TRAIN_COUNTS)
    assert len(labels) == 3991
    train, _ = carve_val_split(labels, 0.1, seed=0)
    sub = labels[train]
    one = set(train[label_fraction_indices(sub, 0.01, seed=seed)].tolist())
    five = set(train[label_fraction_indices(sub, 0.05, seed=seed)].tolist())
    ten = set(train[label_fraction_indices(sub, 0.1, seed=seed)].tolist())
    assert one < five < ten
    assert np.bincount(labels[sorted(one)], minlength=10).min() >= 1
    assert 30 <= len(one) <= 45 and 170 <= len(five) <= 190
    other = set(train[label_fraction_indices(sub, 0.01, seed=seed + 100)].tolist())
    assert other != one  # the seed picks the shapes


# ---------------------------------------------------------------------------------------------- BNCalibrationHook


class Watch(Hook):
    """BatchNorm statistics of the backbone and the torch RNG state, at one point of before_train."""

    def __init__(self, priority):
        self.priority = priority
        self.bn = self.state = self.rng = None

    def before_train(self, runner):
        self.bn = _bn_stats(runner.model.backbone)
        self.state = copy.deepcopy(runner.model.backbone.state_dict())
        self.rng = torch.get_rng_state()


def _runner(tmp_path, tiny_mn10, name, init_cfg='None', extra=''):
    # the whole train carve (32 clouds), no augmentation (so the calibration can be redone by hand); 1 iteration
    extra = ("train_cfg = dict(max_iters=1, val_interval=1)\n"
             "custom_hooks = [dict(type='FreezeBackboneHook', freeze_iters=200), dict(type='BNCalibrationHook'),\n"
             "                dict(type='TestBestAndLastHook')]\n" + extra)
    cfg = Config.fromfile(_tiny_cfg(tmp_path / f'{name}.py', CFG_1PCT, tiny_mn10, init_cfg=init_cfg, extra=extra,
                                    train_dataset="label_fraction=None, pipeline=[dict(type='PackPointInputs')]"))
    cfg.work_dir = str(tmp_path / name)
    runner = Runner.from_cfg(cfg)
    first, last = Watch('HIGHEST'), Watch('LOWEST')
    runner.register_hook(first)
    runner.register_hook(last)
    return runner, first, last


def _calibration_hook(runner):
    return next(h for h in runner.hooks if type(h).__name__ == 'BNCalibrationHook')


def test_bn_calibration_hook_calibrates_a_scratch_backbone(tmp_path, tiny_mn10):
    runner, first, last = _runner(tmp_path, tiny_mn10, 'scratch')
    runner.train()
    assert first.bn and all(torch.equal(m, torch.zeros_like(m)) and torch.equal(v, torch.ones_like(v))
                            for m, v in first.bn.values())  # a fresh init: never measured
    train_set = runner.train_dataloader.dataset
    assert len(train_set) == 32 and _calibration_hook(runner).calibrated == 32  # all 32 (< num_samples=512)
    for name, (m, v) in last.bn.items():  # moved away from (0, 1) ...
        assert not torch.allclose(m, torch.zeros_like(m)) and not torch.allclose(v, torch.ones_like(v)), name
    # ... to the statistics of the training clouds, measured by hand on a copy of the initial backbone
    backbone = copy.deepcopy(runner.model.backbone)
    backbone.load_state_dict(first.state)
    clouds = torch.stack([train_set[i]['inputs']['points'] for i in range(len(train_set))])
    calibrate_batchnorm(backbone.tokenizer, [clouds])
    for name, (m, v) in _bn_stats(backbone).items():
        torch.testing.assert_close(last.bn[name][0], m)
        torch.testing.assert_close(last.bn[name][1], v)
    # no weight changed, and training draws the random numbers it would have drawn without the hook
    for k, v in first.state.items():
        if 'running_' not in k and 'num_batches' not in k:
            assert torch.equal(last.state[k], v), k
    assert torch.equal(first.rng, last.rng)


def test_bn_calibration_hook_keeps_a_pretrained_backbone(tmp_path, tiny_mn10):
    init_default_scope('pjepa3d')
    torch.manual_seed(3)
    backbone = MODELS.build(copy.deepcopy(TINY_BACKBONE))
    for m in backbone.modules():  # statistics a pretraining run would have measured: neither (0, 1) nor the data's
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.num_batches_tracked.fill_(100)
    saved = _bn_stats(backbone)
    ckpt = tmp_path / 'pretrain.pth'
    torch.save(dict(meta=dict(epoch=1), state_dict={f'backbone.{k}': v for k, v in backbone.state_dict().items()}),
               ckpt)
    init = repr(dict(type='Pretrained', checkpoint=str(ckpt), prefix='backbone.'))
    runner, _, last = _runner(tmp_path, tiny_mn10, 'pretrained', init_cfg=init)
    runner.train()
    assert _calibration_hook(runner).calibrated == 0
    for name, (m, v) in saved.items():  # exactly the checkpoint's statistics
        assert torch.equal(last.bn[name][0], m) and torch.equal(last.bn[name][1], v), name
    # force=True recalibrates them
    runner, _, last = _runner(tmp_path, tiny_mn10, 'forced', init_cfg=init,
                              extra="custom_hooks = [dict(type='BNCalibrationHook', force=True)]\n")
    runner.train()
    assert _calibration_hook(runner).calibrated == 32
    assert all(not torch.allclose(last.bn[name][0], m) for name, (m, _) in saved.items())


# ---------------------------------------------------------------------------------------------- the study driver


def test_label_fraction_study_end_to_end(tmp_path, tiny_mn10, capsys):
    from .conftest import save_pretrain_checkpoint
    ckpt = tmp_path / 'pretrain.pth'
    pretrained = save_pretrain_checkpoint(ckpt, TINY_BACKBONE)
    cfgs = [str(_tiny_cfg(tmp_path / f'{tag}.py', base)) for tag, base in (('c1', CFG_1PCT), ('c5', CFG_5PCT))]
    study = load_tool('analysis_tools/label_fraction_study.py')
    work = tmp_path / 'study'
    out = study.main([*cfgs, '--checkpoint', str(ckpt), '--seeds', '0', '1', '--work-dir', str(work),
                      '--data-root', str(tiny_mn10)])

    saved = json.loads((work / 'label_fraction_study.json').read_text())
    assert saved['complete'] is True and out['json'] == str((work / 'label_fraction_study.json').resolve())
    rows = saved['rows']
    keys = [(r['fraction'], r['init'], r['seed']) for r in rows]
    assert sorted(keys) == sorted((f, i, s) for f in ('1pct', '5pct') for i in ('pretrained', 'scratch')
                                  for s in (0, 1))
    for r in rows:
        assert r['num_labelled'] == 3  # 1 shape per class (10-11 per class after the val carve)
        assert r['last_iter'] == 2 and r['best_iter'] in (1, 2)
        for key in ('test_oa_last', 'test_oa_best', 'val_oa_best'):
            assert 0.0 <= r[key] <= 100.0
        assert Path(r['work_dir']) == work / r['fraction'] / r['init'] / f"seed{r['seed']}"
        last = torch.load(Path(r['work_dir']) / 'iter_2.pth', map_location='cpu', weights_only=False)
        assert last['meta']['seed'] == r['seed']  # the Runner seed ...
        assert f"fraction_seed={r['seed']}" in last['meta']['cfg']  # ... and the label subset's seed
        state = {k[len('backbone.'):]: v for k, v in last['state_dict'].items() if k.startswith('backbone.')}
        # 2 iterations, the encoder frozen throughout (freeze_iters=200): the backbone is its init
        if r['init'] == 'pretrained':
            assert all(torch.equal(state[k], v) for k, v in pretrained.items())
        else:
            assert not torch.equal(state['encoder.blocks.0.attn.qkv.weight'], pretrained['encoder.blocks.0.attn.qkv.weight'])
            bn = [k for k in state if k.endswith('running_var')]
            assert bn and all(not torch.allclose(state[k], torch.ones_like(state[k])) for k in bn)  # calibrated
    scratch = {(r['fraction'], r['seed']): r for r in rows if r['init'] == 'scratch'}
    a, b = (torch.load(Path(scratch['1pct', s]['work_dir']) / 'iter_2.pth', map_location='cpu',
                       weights_only=False)['state_dict']['backbone.encoder.blocks.0.attn.qkv.weight'] for s in (0, 1))
    assert not torch.equal(a, b)  # the seed changes the random init
    summary = {(s['fraction'], s['init']): s for s in saved['summary']}
    assert set(summary) == {(f, i) for f in ('1pct', '5pct') for i in ('pretrained', 'scratch')}
    s = summary['5pct', 'scratch']
    vals = [r['test_oa_best'] for r in rows if r['fraction'] == '5pct' and r['init'] == 'scratch']
    assert s['test_oa_best']['mean'] == pytest.approx(np.mean(vals)) and s['seeds'] == [0, 1]
    assert {p['fraction'] for p in saved['paired_pretrained_minus_scratch']} == {'1pct', '5pct'}
    # which test shapes each run got right (TestBestAndLastHook via the Accuracy metric), and the paired test on them
    for r in rows:
        for which in ('last', 'best'):
            correct = r[f'test_correct_{which}']
            assert set(correct) <= {'0', '1'} and len(correct) == 4 * len(CLASSES)  # the tiny copy's test shapes
            assert 100 * correct.count('1') / len(correct) == pytest.approx(r[f'test_oa_{which}'])
    by_key = {(r['fraction'], r['init'], r['seed']): r for r in rows}
    for p in saved['paired_pretrained_minus_scratch']:
        assert [t['seed'] for t in p['mcnemar_best']] == [0, 1]
        for t in p['mcnemar_best']:
            pre, scr = (by_key[p['fraction'], init, t['seed']] for init in ('pretrained', 'scratch'))
            assert t['only_a'] - t['only_b'] == round((pre['test_oa_best'] - scr['test_oa_best']) * t['n'] / 100)

    text = capsys.readouterr().out
    assert '[1/8]' in text and '[8/8]' in text  # progress
    assert '| fraction | init | labelled shapes | test OA last (%) | test OA best-on-val (%) |' in text
    for f in ('1pct', '5pct'):
        for i in ('pretrained', 'scratch'):
            assert f'| {f} | {i} | 3 |' in text
    assert str(work / 'label_fraction_study.json') in text
    t = saved['paired_pretrained_minus_scratch'][0]['mcnemar_best'][0]
    assert ("Paired on the same test shapes (best-on-val checkpoints)" in text and f"seed 0: {t['only_a']} / "
            f"{t['only_b']} shapes, {format_p(t['p_value'])}" in text)


def test_label_fraction_study_checks_before_running(tmp_path):
    study = load_tool('analysis_tools/label_fraction_study.py')
    ckpt = tmp_path / 'pretrain.pth'
    torch.save(dict(state_dict={}), ckpt)
    no_test = _tiny_cfg(tmp_path / 'no_test.py', CFG_1PCT, extra="custom_hooks = [dict(type='BNCalibrationHook')]\n")
    with pytest.raises(ValueError, match='no TestBestAndLastHook'):
        study.main([str(no_test), '--checkpoint', str(ckpt), '--work-dir', str(tmp_path / 'w')])
    same = [str(_tiny_cfg(tmp_path / f'{k}.py', CFG_1PCT)) for k in 'ab']
    with pytest.raises(ValueError, match='same label fraction'):
        study.main([*same, '--checkpoint', str(ckpt), '--work-dir', str(tmp_path / 'w')])
    with pytest.raises(FileNotFoundError, match='--checkpoint'):
        study.main([same[0], '--checkpoint', str(tmp_path / 'missing.pth'), '--work-dir', str(tmp_path / 'w')])
    assert not (tmp_path / 'w').exists()


def test_label_fraction_study_resume_adds_a_checkpoint_and_keeps_the_other_arms(tmp_path, tiny_mn10, capsys):
    """--resume with a second --checkpoint: the finished scratch and first-checkpoint runs are kept as they
    were (not re-trained), only the new arm trains, and each pretrained arm is paired with scratch."""
    from .conftest import save_pretrain_checkpoint
    first, second = tmp_path / 'first.pth', tmp_path / 'second.pth'
    save_pretrain_checkpoint(first, TINY_BACKBONE, seed=1)
    other = save_pretrain_checkpoint(second, TINY_BACKBONE, seed=2)
    cfg = str(_tiny_cfg(tmp_path / 'c1.py', CFG_1PCT))
    study = load_tool('analysis_tools/label_fraction_study.py')
    work = tmp_path / 'study'
    common = [cfg, '--seeds', '0', '--work-dir', str(work), '--data-root', str(tiny_mn10)]
    before = study.main(common + ['--checkpoint', str(first)])['rows']
    assert [r['init'] for r in before] == ['pretrained', 'scratch']
    capsys.readouterr()
    out = study.main(common + ['--checkpoint', str(first), str(second), '--resume'])
    text = capsys.readouterr().out
    assert '--resume: 2 finished runs' in text
    assert text.count('kept from') == 2 and text.count('training in') == 1  # only 'pretrained 2' trained
    rows = {r['init']: r for r in out['rows']}
    assert list(rows) == ['pretrained 1', 'pretrained 2', 'scratch']
    for old in before:  # the kept runs' numbers and work dirs are the first call's
        new = rows['pretrained 1' if old['init'] == 'pretrained' else 'scratch']
        for key in ('test_oa_last', 'test_oa_best', 'val_oa_best', 'work_dir', 'seconds'):
            assert new[key] == old[key], key
    assert rows['pretrained 2']['checkpoint'] == str(second)
    assert Path(rows['pretrained 2']['work_dir']) == work / '1pct' / 'pretrained-2' / 'seed0'
    trained = torch.load(work / '1pct' / 'pretrained-2' / 'seed0' / 'iter_2.pth', map_location='cpu',
                         weights_only=False)['state_dict']
    key = 'encoder.blocks.0.attn.qkv.weight'
    assert torch.equal(trained[f'backbone.{key}'], other[key])  # the encoder, frozen throughout, is the 2nd init
    paired = {p['init']: p for p in out['paired']}
    assert set(paired) == {'pretrained 1', 'pretrained 2'}
    assert paired['pretrained 2']['test_oa_best']['per_seed'] == [rows['pretrained 2']['test_oa_best']
                                                                  - rows['scratch']['test_oa_best']]
    assert f'pretrained 2: {second} (prefix backbone.)' in text
    saved = json.loads((work / 'label_fraction_study.json').read_text())
    assert saved['complete'] is True and [r['init'] for r in saved['rows']] == list(rows)
