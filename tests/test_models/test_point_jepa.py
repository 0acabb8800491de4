"""PointJEPA end to end: learning with the real Runner, deterministic features, bad input, every config builds."""

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

import pjepa3d  # noqa: F401
from pjepa3d.registry import MODELS
from pjepa3d.utils import PointCloudError
from tests.conftest import PROJECT_ROOT, tiny_runner_cfg


class _RecordLoss(Hook):
    priority = 'LOWEST'

    def __init__(self):
        self.losses = []

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.losses.append(outputs['loss'].item())


def test_loss_goes_down_on_a_fixed_batch_with_the_real_runner(tmp_path, tiny_model_cfg):
    record = _RecordLoss()
    # one batch of the same 16 clouds every epoch, 40 steps
    cfg = tiny_runner_cfg(tmp_path, tiny_model_cfg, max_epochs=40, num_samples=16, batch_size=16, lr=2e-3,
                          checkpoint_interval=100)
    runner = Runner.from_cfg(cfg)
    runner.register_hook(record)
    runner.train()
    first, last = sum(record.losses[:5]) / 5, sum(record.losses[-5:]) / 5
    assert len(record.losses) == 40
    assert last < 0.6 * first, f'loss did not go down: first {first:.4f}, last {last:.4f}'


def test_extract_feat_is_deterministic_in_eval_mode(tiny_model_cfg):
    model = MODELS.build(tiny_model_cfg)
    model.init_weights()
    model.eval()
    points = torch.rand(3, 128, 3)
    a = model(dict(points=points), mode='tensor')
    b = model(dict(points=points), mode='tensor')
    assert a.shape == (3, 64)  # concat(max, mean) of 32-dim tokens
    assert torch.equal(a, b)
    model.train()  # random FPS start in training: the tokens differ from call to call
    t1 = model.backbone(points).tokens
    t2 = model.backbone(points).tokens
    assert not torch.equal(t1, t2)


@pytest.mark.parametrize('bad, message', [
    (torch.zeros(2, 0, 3), 'empty'),
    (torch.rand(2, 10, 3), 'fewer than the 16 needed'),
    (torch.rand(2, 64, 2), '3 values per point'),
])
def test_bad_batches_raise_clear_errors(tiny_model_cfg, bad, message):
    model = MODELS.build(tiny_model_cfg)
    with pytest.raises(PointCloudError, match=message):
        model.loss(dict(points=bad))


def test_nan_batch_names_the_sample(tiny_model_cfg):
    model = MODELS.build(tiny_model_cfg)
    points = torch.rand(4, 64, 3)
    points[2, 5, 1] = float('nan')
    with pytest.raises(PointCloudError, match=r'batch index \[2\].*NaN'):
        model.loss(dict(points=points))


def test_unknown_options_in_config_are_rejected(tiny_model_cfg):
    for key, value, message in [('ema_scope', 'tokenizer', 'unknown ema_scope'),
                                ('head', dict(type='JEPAHead', predictor=tiny_model_cfg['head']['predictor'],
                                              loss='l1'), 'unknown loss')]:
        cfg = dict(tiny_model_cfg, **{key: value})
        with pytest.raises(ValueError, match=message):
            MODELS.build(cfg)
    cfg = dict(tiny_model_cfg)
    cfg['backbone'] = dict(cfg['backbone'], pos_embed='fourier')
    with pytest.raises(ValueError, match='unknown positional encoding'):
        MODELS.build(cfg)


CONFIGS = sorted(str(p.relative_to(PROJECT_ROOT)) for p in (PROJECT_ROOT / 'configs').rglob('*.py')
                 if '_base_' not in p.parts)


def backbone_params_by_hand(backbone):
    """Parameters of a backbone counted from its dims: the mini-PointNet C -> h1 -> h2 -> (h2 | max) -> h3 -> D
    (fc3_local without bias, BatchNorm after fc1 and the concat), the positional encoding (sincos: none; mlp:
    3 -> H -> D), per block 2 LayerNorms + qkv (with bias) + proj + MLP D -> rD -> D = 12 D^2 + 13 D at r = 4,
    and the final LayerNorm."""
    tok, enc = backbone.tokenizer, backbone.encoder
    C, D = tok.in_channels, backbone.embed_dims
    h1, h2, h3 = tok.embed.fc1.out_features, tok.embed.fc2.out_features, tok.embed.fc3_global.out_features
    tokenizer = (C * h1 + h1) + 2 * h1 + (h1 * h2 + h2) + (h2 * h3 + h3) + h2 * h3 + 2 * h3 + (h3 * D + D)
    pos = 0
    if type(backbone.pos_embed).__name__ == 'MLPPosEmbed':
        H = backbone.pos_embed.mlp[0].out_features
        pos = 3 * H + H + H * D + D
    hidden = enc.blocks[0].mlp[0].out_features  # int(D * mlp_ratio)
    block = 2 * D + (3 * D * D + 3 * D) + (D * D + D) + 2 * D + (D * hidden + hidden) + (hidden * D + D)
    return tokenizer + pos + enc.depth * block + 2 * D


@pytest.mark.parametrize('config', CONFIGS)
def test_every_config_builds_its_model(config):
    cfg = Config.fromfile(PROJECT_ROOT / config)
    init_default_scope(cfg.get('default_scope', 'pjepa3d'))
    model = MODELS.build(cfg.model)
    assert sum(p.numel() for p in model.backbone.parameters()) == backbone_params_by_hand(model.backbone)
    assert cfg.default_scope == 'pjepa3d'


@pytest.mark.parametrize('config, params', [
    # ViT-T: C=3, D=192, (64, 128, 256), 6 blocks, mlp PE (H=128):
    # tokenizer 124,352 + PE 25,280 + 6 x (12 * 192^2 + 13 * 192 = 444,864) + 384
    ('configs/point_jepa/pointjepa_vit-t_1xb32-400i_modelnet10.py', 2_819_200),
    # ViT-S: C=3, D=384, (128, 256, 512), 12 blocks, sincos PE: tokenizer 494,464 + 12 x 1,774,464 + 768
    ('configs/point_jepa/pointjepa_vit-s_4xb32-coslr-300e_shapenet55.py', 21_788_800),
])
def test_backbone_sizes_of_the_presets(config, params):
    cfg = Config.fromfile(PROJECT_ROOT / config)
    init_default_scope('pjepa3d')
    backbone = MODELS.build(cfg.model).backbone
    assert sum(p.numel() for p in backbone.parameters()) == backbone_params_by_hand(backbone) == params


def test_config_options_reach_the_model():
    cfg = Config.fromfile(PROJECT_ROOT / 'configs/point_jepa/pointjepa_vit-s_1xb512-warmup-coslr-500e_shapenet55.py')
    init_default_scope('pjepa3d')
    model = MODELS.build(cfg.model)
    assert model.masker.mode == 'sequence' and model.head.loss_type == 'smooth_l1' and model.head.loss_beta == 2.0
    assert model.ema_scope == 'encoder' and model.target.tokenizer is model.backbone.tokenizer
    assert type(model.backbone.pos_embed).__name__ == 'MLPPosEmbed' and model.backbone.encoder.pos_every_block
    ema = [h for h in cfg.custom_hooks if h['type'] == 'pjepa3d.EMAHook'][0]
    assert (ema['schedule'], ema['tau_start'], ema['tau_end']) == ('linear', 0.9995, 0.99999)
    notes = Config.fromfile(PROJECT_ROOT / 'configs/point_jepa/pointjepa_vit-s_4xb32-coslr-300e_shapenet55.py')
    model = MODELS.build(notes.model)
    assert model.masker.mode == 'region' and model.head.loss_type == 'mse' and model.ema_scope == 'all'
    assert model.target.tokenizer is not model.backbone.tokenizer


def _tiny_jepa(**kw):
    from pjepa3d.registry import MODELS
    cfg = dict(
        type='PointJEPA',
        backbone=dict(type='PointPatchTransformer',
                      tokenizer=dict(type='PointPatchTokenizer', num_groups=16, group_size=8, embed_dims=48,
                                     hidden_dims=(16, 32, 64)),
                      pos_embed='mlp',
                      encoder=dict(type='PointTransformerEncoder', embed_dims=48, depth=3, num_heads=3,
                                   drop_path_rate=0.0)),
        masker=dict(type='RegionMasker', mode='region', num_targets=2, target_ratio=0.5),
        head=dict(type='JEPAHead', predictor=dict(type='JEPAPredictor', in_dims=48, embed_dims=24, depth=1,
                                                  num_heads=3, pos_embed='mlp')),
        **kw)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def test_target_norm_and_layers_compute_what_they_say():
    """'instance' standardises every channel over the tokens of each cloud (the shared vector is gone);
    target_layers=N averages the last N blocks' normalised outputs."""
    import torch.nn.functional as F
    torch.manual_seed(0)
    points = torch.rand(2, 64, 3)
    model = _tiny_jepa(target_norm='instance', target_layers=2)
    model.train()
    groups, centres = model.backbone.tokenizer.group(points)
    tokens = model.backbone.tokenizer.embed_groups(groups)
    pos = model.backbone.pos_embed(centres)
    target = model._target_features(groups, tokens, pos, centres)
    _, hidden = model.target.encoder(tokens, pos, out_indices=(2, 3))
    by_hand = sum((h - h.mean(1, keepdim=True)) / (h.var(1, keepdim=True, unbiased=False) + 1e-6).sqrt()
                  for h in hidden) / 2
    torch.testing.assert_close(target, by_hand, atol=1e-5, rtol=1e-5)
    single = _tiny_jepa(target_norm='instance')
    single.load_state_dict(model.state_dict())
    t1 = single._target_features(groups, tokens, pos, centres)
    assert t1.mean(dim=1).abs().max() < 1e-4 and (t1.std(dim=1, unbiased=False) - 1).abs().max() < 1e-3
    assert not torch.allclose(t1, target, atol=1e-3)  # one block is not the mean of two
    layer = _tiny_jepa(target_norm=True)
    layer.load_state_dict(model.state_dict())
    out = layer.target.encoder(tokens, pos)
    torch.testing.assert_close(layer._target_features(groups, tokens, pos, centres), F.layer_norm(out, (48,)))
    assert layer.target_norm == 'layer' and _tiny_jepa(target_norm=False).target_norm == 'none'
    with pytest.raises(ValueError, match='target_layers'):
        _tiny_jepa(target_layers=4)
    with pytest.raises(ValueError, match='target_norm'):
        _tiny_jepa(target_norm='group')
    batch = _tiny_jepa(target_norm='batch')
    batch.load_state_dict(model.state_dict())
    tb = batch._target_features(groups, tokens, pos, centres)
    flat = out.reshape(-1, 48)  # every token of the batch
    torch.testing.assert_close(tb, (out - flat.mean(0)) / (flat.var(0, unbiased=False) + 1e-6).sqrt(),
                               atol=1e-5, rtol=1e-5)
    assert tb.mean(dim=1).abs().max() > 1e-2  # each cloud keeps its offset from the batch mean


def test_backbone_api_tokenize_encode_forward_agree(tiny_model_cfg):
    from pjepa3d.ops import gather_points
    torch.manual_seed(0)
    backbone = MODELS.build(tiny_model_cfg['backbone']).eval()
    points = torch.rand(2, 64, 3)
    groups, centres, tokens, pos = backbone.tokenize(points)
    assert groups.shape == (2, 16, 8, 3) and tokens.shape == pos.shape == (2, 16, 32)
    out = backbone(points)
    assert torch.allclose(out.tokens, backbone.encode(tokens, pos).features) and out.hidden == ()
    assert torch.equal(out.centres, centres)
    idx = torch.tensor([[0, 3, 5], [2, 4, 15]])
    sub = backbone.encode(tokens, pos, idx)
    assert torch.allclose(sub.features, backbone.encoder(gather_points(tokens, idx), gather_points(pos, idx)))
    with_hidden = backbone(points, out_indices=(1, 2))
    assert len(with_hidden) == 3 and len(with_hidden.hidden) == 2  # same fields with or without out_indices
    assert torch.allclose(with_hidden.tokens, out.tokens)


def test_num_masks_is_one_batched_pass_of_independent_masks():
    """num_masks=2 on B clouds = num_masks=1 on the batch repeated twice (same draws: same loss and gradients),
    with the EMA target run once on the B clouds and two different masks per cloud."""
    torch.manual_seed(0)
    points = torch.rand(3, 64, 3)
    two = _tiny_jepa(num_masks=2).eval()  # eval: deterministic FPS, BatchNorm independent of the batch
    one = _tiny_jepa()
    one.load_state_dict(two.state_dict())
    one.eval()
    target_rows, masks = [], []
    two.target.encoder.register_forward_hook(lambda module, args, out: target_rows.append(args[0].shape[0]))
    two.masker.register_forward_hook(lambda module, args, out: masks.append(out))
    torch.manual_seed(1)
    loss2 = two.loss(points)['loss']
    torch.manual_seed(1)
    loss1 = one.loss(torch.cat([points, points]))['loss']
    torch.testing.assert_close(loss2, loss1)
    loss2.backward()
    loss1.backward()
    for (name, p2), p1 in zip(two.named_parameters(), one.parameters()):
        if p2.grad is not None or p1.grad is not None:
            torch.testing.assert_close(p2.grad, p1.grad, atol=1e-6, rtol=1e-4, msg=name)
    assert two.backbone.tokenizer.embed.fc1.weight.grad.abs().sum() > 0
    assert target_rows == [3]  # the target once per cloud, not once per mask
    target_idx = masks[0].target_idx
    assert target_idx.shape[0] == 6
    assert not torch.equal(target_idx[:3], target_idx[3:])  # each cloud gets two different masks
    for bad in (0, 1.5, '2', None):
        with pytest.raises(ValueError, match='num_masks'):
            _tiny_jepa(num_masks=bad)
