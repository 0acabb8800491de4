"""Every ablation config: inherits the notes' preset, changes what its name says, and trains two
iterations with the real Runner (model shrunk through the config, SyntheticShapes, no workers)."""
import math

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

import pjepa3d  # noqa: F401
from tests.conftest import PROJECT_ROOT

ABLATION_DIR = PROJECT_ROOT / 'configs/point_jepa/ablations'
PRESET = Config.fromfile(PROJECT_ROOT / 'configs/point_jepa/pointjepa_vit-s_4xb32-coslr-300e_shapenet55.py')


def _ema(cfg):
    return [h for h in cfg.custom_hooks if h.type == 'pjepa3d.EMAHook'][0]


# what each file must change (checked on the full-size config), in the order
EXPECTED = {
    'mask-random65.py': lambda c: (c.model.masker.mode, c.model.masker.target_ratio) == ('random', 0.65),
    'mask-random75.py': lambda c: (c.model.masker.mode, c.model.masker.target_ratio) == ('random', 0.75),
    'mask-region50.py': lambda c: (c.model.masker.mode, c.model.masker.target_ratio) == ('region', 0.5),
    'mask-region65.py': lambda c: (c.model.masker.mode, c.model.masker.target_ratio) == ('region', 0.65),
    'mask-region80.py': lambda c: (c.model.masker.mode, c.model.masker.target_ratio) == ('region', 0.8),
    'predictor-d96.py': lambda c: c.model.head.predictor.embed_dims == 96,
    'predictor-d192.py': lambda c: c.model.head.predictor.embed_dims == 192,
    'predictor-d384.py': lambda c: c.model.head.predictor.embed_dims == 384,
    'loss-mse-noln.py': lambda c: (c.model.target_norm, c.model.head.loss) == (False, 'mse'),
    'loss-mse-ln.py': lambda c: (c.model.target_norm, c.model.head.loss) == (True, 'mse'),
    'loss-smoothl1.py': lambda c: (c.model.target_norm, c.model.head.loss, c.model.head.loss_beta) == (
        True, 'smooth_l1', 2.0),
    'loss-rawpoints.py': lambda c: c.model.type == 'PointMAE' and c.model.masker == PRESET.model.masker,
    'ema-cosine.py': lambda c: (_ema(c).schedule, _ema(c).tau_start, _ema(c).tau_end) == ('cosine', 0.996, 1.0),
    'ema-linear.py': lambda c: (_ema(c).schedule, _ema(c).tau_start, _ema(c).tau_end) == ('linear', 0.9995, 0.99999),
    'emascope-encoder.py': lambda c: c.model.ema_scope == 'encoder',
    'emascope-all.py': lambda c: c.model.ema_scope == 'all',
}


def test_every_ablation_file_is_checked():
    assert sorted(p.name for p in ABLATION_DIR.glob('*.py')) == sorted(EXPECTED)


def shrink_model(model):
    """Same structure, tiny sizes: D 384 -> 32 (predictor width scaled by the same 1/12)."""
    bb = model.backbone
    bb.tokenizer.update(num_groups=16, group_size=8, embed_dims=32, hidden_dims=(16, 32, 64))
    bb.encoder.update(embed_dims=32, depth=1, num_heads=2)
    if model.type == 'PointJEPA':
        model.head.predictor.update(in_dims=32, embed_dims=model.head.predictor.embed_dims // 12, depth=1,
                                    num_heads=2)
    else:
        model.head.decoder.update(in_dims=32, embed_dims=32, depth=1, num_heads=2, group_size=8)
    return model


class _Record(Hook):
    priority = 'LOWEST'

    def __init__(self):
        self.outputs = []

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.outputs.append({k: v.item() for k, v in outputs.items()})


@pytest.mark.parametrize('name', sorted(EXPECTED))
def test_ablation_config_runs_two_iterations(name, tmp_path):
    path = ABLATION_DIR / name
    assert "_base_ = '../pointjepa_vit-s_4xb32-coslr-300e_shapenet55.py'" in path.read_text()
    cfg = Config.fromfile(path)
    assert EXPECTED[name](cfg), f'{name} does not change what its name says'
    differs = {k for k in ('model', 'custom_hooks') if cfg[k] != PRESET[k]}
    assert differs or name in ('mask-region65.py', 'predictor-d192.py', 'loss-mse-ln.py', 'ema-cosine.py',
                               'emascope-all.py'), name  # the preset's own setting is the control arm
    for key in ('optim_wrapper', 'param_scheduler', 'train_cfg'):  # the recipe stays the preset's
        assert cfg[key] == PRESET[key], key
    assert any(h.type == 'CollapseMonitorHook' for h in cfg.custom_hooks)

    shrink_model(cfg.model)
    cfg.work_dir = str(tmp_path)
    cfg.train_dataloader = dict(
        batch_size=8, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=True),
        collate_fn=dict(type='default_collate'),
        dataset=dict(type='SyntheticShapes', split='train', num_samples=16, num_points=64,
                     pipeline=[dict(type='PackPointInputs')]))
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1)
    cfg.default_hooks.logger.interval = 1
    cfg.log_level = 'WARNING'
    runner = Runner.from_cfg(cfg)
    record = _Record()
    runner.register_hook(record)
    runner.train()
    assert runner.iter == 2 and len(record.outputs) == 2
    assert all(math.isfinite(o['loss']) for o in record.outputs)
    assert all(('target_rank' if cfg.model.type == 'PointJEPA' else 'feat_rank') in o for o in record.outputs)
    model = runner.model
    assert type(model).__name__ == cfg.model.type
    if cfg.model.type == 'PointJEPA':
        assert model.masker.mode == cfg.model.masker.mode and model.ema_scope == cfg.model.ema_scope
        assert model.target_norm == {True: 'layer', False: 'none'}[cfg.model.target_norm]
        assert model.head.loss_type == cfg.model.head.loss
        ema = [h for h in runner.hooks if type(h).__name__ == 'EMAHook'][0]
        assert (ema.schedule, ema.tau_start) == (_ema(cfg).schedule, _ema(cfg).tau_start)
        assert all(torch.isfinite(p).all() for p in model.target.parameters())
