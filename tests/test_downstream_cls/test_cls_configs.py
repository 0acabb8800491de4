"""Every shipped classification benchmark config builds, with the protocol settings SPEC sec. 2 asks for."""
from pathlib import Path

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from pjepa3d.registry import MODELS
from .conftest import BENCH, TINY_BACKBONE, tiny_pipelines, write_scanobjectnn

CONFIGS = sorted(p.name for p in BENCH.glob('pointjepa_*.py') if 'partseg' not in p.name and 'shapenetpart' not in p.name)


def test_the_protocols_are_all_there():
    names = ' '.join(CONFIGS)
    for key in ('modelnet40-svm', 'scanobjectnn-objbg-svm', 'modelnet40-linear-probe', 'ft_modelnet40.py',
                'ft_scanobjectnn-objbg', 'ft_scanobjectnn-objonly', 'ft_scanobjectnn-hardest', 'modelnet40-fewshot',
                'label1pct', 'label5pct', 'label10pct'):
        assert key in names, key


@pytest.mark.parametrize('name', CONFIGS)
def test_config_builds(name):
    init_default_scope('pjepa3d')
    cfg = Config.fromfile(BENCH / name)
    if 'svm' in name:  # svm_eval.py builds only the backbone of the config's model
        MODELS.build(cfg.model.backbone)
        published = 0.042 if 'scanobjectnn' in name else 0.012
        assert cfg.svm_cfg.C == ('cv' if ('vit-t-demo' in name or 'modelnet10' in name) else published)
        assert cfg.svm_cfg.num_seeds == 10
        return
    model = MODELS.build(cfg.model)
    assert type(model).__name__ == 'PointClassifier'
    assert cfg.model.backbone.init_cfg == dict(type='Pretrained', checkpoint='', prefix='backbone.')
    head = cfg.model.head
    width = 384 if 'vit-t-demo' in name else 768
    assert head.in_channels == width == 2 * model.backbone.embed_dims
    if 'linear-probe' in name:
        assert head.type == 'LinearClsHead' and model.always_frozen
    else:
        assert head.type == 'MLPClsHead' and head.hidden_channels == (256, 256) and head.dropout == 0.5
        assert head.label_smoothing > 0
    if 'scanobjectnn' in name:
        assert head.num_classes == 15 and cfg.model.backbone.tokenizer.num_groups == 128
        first = cfg.train_dataloader.dataset.pipeline[0]
        assert first == dict(type='pjepa3d.PointSample', num_points=2048, method='random')
    elif 'fewshot' in name:
        assert cfg.get('val_dataloader') is None  # no selection on test: the last epoch is reported
    elif 'modelnet10' in name:
        assert head.num_classes == 10
    else:
        assert head.num_classes == 40
    if 'fewshot' not in name:  # selection on the val split carved from train; test only evaluated
        assert cfg.val_dataloader.dataset.split == 'val' and cfg.test_dataloader.dataset.split == 'test'
        assert cfg.val_dataloader.dataset.val_ratio == cfg.train_dataloader.dataset.val_ratio > 0
        assert cfg.default_hooks.checkpoint.save_best == 'accuracy/overall'
        hooks = [h['type'] for h in cfg.custom_hooks]
        assert 'TestBestAndLastHook' in hooks and 'TestVotingHook' in hooks
    if name.endswith('ft_modelnet40.py'):
        assert dict(type='FreezeBackboneHook', freeze_epochs=150) in cfg.custom_hooks
        assert dict(type='TestVotingHook', num_votes=10) in cfg.custom_hooks


def test_scanobjectnn_hardest_config_runs(tmp_path):
    write_scanobjectnn(tmp_path / 'ScanObjectNN', n_train=20, n_test=5, num_points=256)
    train, test = tiny_pipelines(num_points=128)
    cfg = Config.fromfile(BENCH / 'pointjepa_vit-s_1xb32-300e_ft_scanobjectnn-hardest.py')
    root = str(tmp_path / 'ScanObjectNN')
    loader = dict(num_workers=0, persistent_workers=False, batch_size=8)
    cfg.merge_from_dict({
        'model.backbone': dict(TINY_BACKBONE, init_cfg=None), 'model.head.in_channels': 64,
        'train_dataloader': dict(loader, dataset=dict(data_root=root, val_ratio=0.25, pipeline=train)),
        'val_dataloader': dict(loader, dataset=dict(data_root=root, val_ratio=0.25, pipeline=test)),
        'test_dataloader': dict(loader, dataset=dict(data_root=root, pipeline=test)),
        'train_cfg.max_epochs': 1, 'param_scheduler': [], 'work_dir': str(tmp_path / 'work'), 'log_level': 'WARNING'})
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.train_dataloader.dataset.variant == 'PB_T50_RS' and len(runner.train_dataloader.dataset) == 15
    assert (Path(runner.work_dir) / 'test_last_and_best.json').is_file()


CLASHING = ('PointSample', 'Accuracy', 'EMAHook')  # also registered by mmdet3d / mmengine


def test_configs_name_clashing_components_by_scope():
    # a bare 'PointSample' / 'Accuracy' / 'EMAHook' means mmdet3d's or mmengine's one under their default scope
    # (the nuScenes detection configs run with default_scope='mmdet3d'): our configs write pjepa3d.<Name>
    import re
    root = Path(__file__).resolve().parents[2]
    bare = []
    for path in sorted(list((root / 'configs').rglob('*.py')) + list((root / 'projects').rglob('configs/*.py'))):
        for name in CLASHING:
            if re.search(rf"type=['\"]{name}['\"]", path.read_text()):
                bare.append(f'{path.relative_to(root)}: {name}')
    assert not bare, bare
    from mmengine.registry import DefaultScope

    from pjepa3d.datasets.transforms import PointSample
    from pjepa3d.registry import TRANSFORMS
    with DefaultScope.overwrite_default_scope('mmengine'):
        assert isinstance(TRANSFORMS.build(dict(type='pjepa3d.PointSample', num_points=8)), PointSample)
