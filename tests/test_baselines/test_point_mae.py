"""PointMAE: what it reconstructs, what gets gradients, learning with the real Runner, its configs."""
import copy

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

import pjepa3d  # noqa: F401
from pjepa3d.models.losses import chamfer_l2
from pjepa3d.ops import gather_points
from pjepa3d.registry import MODELS
from tests.conftest import PROJECT_ROOT, TINY_MODEL, tiny_runner_cfg

TINY_MAE = dict(
    type='PointMAE',
    backbone=copy.deepcopy(TINY_MODEL['backbone']),
    masker=dict(type='RegionMasker', mode='random', target_ratio=0.6),
    head=dict(type='MAEHead', decoder=dict(type='MAEDecoder', in_dims=32, embed_dims=16, depth=1, num_heads=2,
                                           group_size=8)))


def _tiny_mae(**masker):
    cfg = copy.deepcopy(TINY_MAE)
    cfg['masker'].update(masker)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def test_reconstructs_the_masked_patches_centre_relative_points():
    model = _tiny_mae()
    model.eval()  # fixed FPS start: the grouping below is the one the loss used
    seen = {}
    masker_forward, head_loss = model.masker.forward, model.head.loss
    model.masker.forward = lambda c: seen.setdefault('mask', masker_forward(c))

    def spy(vis, vis_c, mask_c, target, valid):
        seen.update(vis=vis, vis_c=vis_c, mask_c=mask_c, target=target, valid=valid)
        return head_loss(vis, vis_c, mask_c, target, valid)
    model.head.loss = spy
    points = torch.rand(3, 96, 3)
    out = model.loss(dict(points=points))
    groups, centres = model.backbone.tokenizer.group(points)
    mask = seen['mask']
    ctx, tgt = mask.context_idx, mask.target_idx.flatten(1)
    assert tgt.shape == (3, round(0.6 * 16)) and ctx.shape == (3, 16 - tgt.shape[1])  # 60 % masked
    for b in range(3):
        assert set(ctx[b].tolist()).isdisjoint(tgt[b].tolist())
        assert torch.equal(seen['target'][b], groups[b, tgt[b]])  # centre-relative points of masked patches
    assert torch.equal(seen['mask_c'], gather_points(centres, tgt))
    assert seen['vis'].shape == (3, ctx.shape[1], 32) and seen['valid'] is None  # encoder saw visible tokens only
    assert seen['target'].abs().max() < 1.0 and groups.abs().max() < 1.0  # relative, not absolute, coordinates
    recon = model.head.decoder(seen['vis'], seen['vis_c'], seen['mask_c'])
    assert out['loss'].item() == pytest.approx(chamfer_l2(recon, seen['target']).mean().item(), rel=1e-5)
    assert set(out) == {'loss', 'feat_std', 'feat_rank'}


def test_gradients_reach_tokenizer_encoder_and_decoder():
    model = _tiny_mae(mode='region', target_ratio=0.65)  # region blocks of unequal size: padded slots
    model.train()
    model.loss(dict(points=torch.rand(4, 64, 3)))['loss'].backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert not missing, missing


def test_monitor_interval():
    cfg = copy.deepcopy(TINY_MAE)
    cfg['monitor_interval'] = 3
    model = MODELS.build(cfg)
    keys = [set(model.loss(dict(points=torch.rand(2, 64, 3)))) for _ in range(4)]
    assert [('feat_rank' in k) for k in keys] == [True, False, False, True]
    with pytest.raises(ValueError, match='monitor_interval'):
        MODELS.build(dict(cfg, monitor_interval=0))


class _RecordLoss(Hook):
    priority = 'LOWEST'

    def __init__(self):
        self.losses = []

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.losses.append(outputs['loss'].item())


def test_reconstruction_loss_goes_down_with_the_real_runner(tmp_path):
    record = _RecordLoss()
    model = copy.deepcopy(TINY_MAE)
    model['head']['decoder']['embed_dims'] = 32
    # random FPS starts and masks every step: the targets change, so the loss falls slowly
    cfg = tiny_runner_cfg(tmp_path, model, max_epochs=30, num_samples=16, batch_size=16, lr=5e-3,
                          checkpoint_interval=100, hooks=[dict(type='CollapseMonitorHook', key='feat_rank')])
    runner = Runner.from_cfg(cfg)
    runner.register_hook(record)
    runner.train()
    first, last = sum(record.losses[:5]) / 5, sum(record.losses[-5:]) / 5
    assert len(record.losses) == 30
    assert last < 0.85 * first, f'Chamfer loss did not go down: first {first:.4f}, last {last:.4f}'


@pytest.mark.parametrize('config', ['configs/point_mae/pointmae_vit-s_4xb32-coslr-300e_shapenet55.py',
                                    'configs/point_mae/pointmae_vit-t_1xb32-demo_synthetic.py',
                                    'configs/point_mae/pointmae_vit-t_1xb32-400i_modelnet10.py'])
def test_configs_share_point_jepas_backbone(config):
    jepa = {'pointmae_vit-s_4xb32-coslr-300e_shapenet55.py': 'pointjepa_vit-s_4xb32-coslr-300e_shapenet55.py',
            'pointmae_vit-t_1xb32-demo_synthetic.py': 'pointjepa_vit-t_1xb32-demo_synthetic.py',
            'pointmae_vit-t_1xb32-400i_modelnet10.py': 'pointjepa_vit-t_1xb32-400i_modelnet10.py'}[config.split('/')[-1]]
    cfg = Config.fromfile(PROJECT_ROOT / config)
    ref = Config.fromfile(PROJECT_ROOT / 'configs/point_jepa' / jepa)
    assert cfg.model.backbone.to_dict() == ref.model.backbone.to_dict()
    assert cfg.model.masker.type == 'RandomMasker' and cfg.model.masker.target_ratio == 0.6
    init_default_scope('pjepa3d')
    model = MODELS.build(cfg.model)
    assert type(model).__name__ == 'PointMAE' and model.head.decoder.group_size == 32
    assert type(model.masker).__name__ == 'RandomMasker' and model.masker.target_ratio == 0.6
    if 'demo' in config:  # the evidence benchmark compares these two on the same recipe and data
        for key in ('optim_wrapper', 'param_scheduler', 'train_cfg', 'train_dataloader'):
            assert cfg[key] == ref[key], key
