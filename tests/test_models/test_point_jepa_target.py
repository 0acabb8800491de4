"""PointJEPA's EMA target: what ema_scope='all' copies (tokenizer, positional encoding and encoder, parameters and
BatchNorm buffers), the update formula on every tensor, the copy of a pretrained backbone at init_weights, and
monitor_interval."""
import copy

import pytest
import torch

import pjepa3d  # noqa: F401
from pjepa3d.registry import MODELS

BACKBONE = dict(
    type='PointPatchTransformer',
    tokenizer=dict(type='PointPatchTokenizer', num_groups=16, group_size=8, embed_dims=32, hidden_dims=(16, 32, 64)),
    pos_embed=dict(type='mlp', hidden_dims=16),  # learned: the target has a positional encoding of its own to copy
    encoder=dict(type='PointTransformerEncoder', embed_dims=32, depth=2, num_heads=2, drop_path_rate=0.0))


def _model(ema_scope='all', backbone=None, **kw):
    cfg = dict(type='PointJEPA', backbone=copy.deepcopy(backbone or BACKBONE),
               masker=dict(type='RegionMasker', mode='region', num_targets=2, target_ratio=0.5),
               head=dict(type='JEPAHead', predictor=dict(type='JEPAPredictor', in_dims=32, embed_dims=16, depth=1,
                                                         num_heads=2)),
               ema_scope=ema_scope, **kw)
    return MODELS.build(cfg)


def _bn_buffers(module):
    return {k: v for k, v in module.state_dict().items() if 'running_' in k or 'num_batches_tracked' in k}


def test_ema_scope_all_target_owns_copies_of_tokenizer_pos_embed_and_encoder():
    torch.manual_seed(0)
    model = _model('all')
    model.init_weights()
    online, target = model.backbone.state_dict(), model.target.state_dict()
    assert online.keys() == target.keys()
    assert any(k.startswith('tokenizer.embed.') for k in target) and any(k.startswith('pos_embed.') for k in target)
    assert {'tokenizer.embed.bn1.running_mean', 'tokenizer.embed.bn1.running_var',
            'tokenizer.embed.bn3.num_batches_tracked'} <= set(_bn_buffers(model.target))
    # copies, not the same modules or storage
    assert model.target.tokenizer is not model.backbone.tokenizer
    assert model.target.pos_embed is not model.backbone.pos_embed
    for k in online:
        assert online[k].data_ptr() != target[k].data_ptr(), k
    # right after init_weights: equal values, no gradient into the target
    for k in online:
        assert torch.equal(online[k], target[k]), k
    assert not any(p.requires_grad for p in model.target.parameters())
    assert all(p.requires_grad for p in model.backbone.parameters())
    # ema_scope='encoder' shares tokenizer and positional encoding (one copy: the online one)
    enc = _model('encoder')
    assert enc.target.tokenizer is enc.backbone.tokenizer and enc.target.pos_embed is enc.backbone.pos_embed
    assert enc.target.encoder is not enc.backbone.encoder


def test_ema_scope_all_update_moves_every_parameter_and_copies_the_buffers():
    """theta_bar <- tau * theta_bar + (1 - tau) * theta on every target parameter (tokenizer, positional
    encoding, encoder); buffers (BatchNorm running statistics and batch count) are copied from the online ones."""
    torch.manual_seed(0)
    model = _model('all')
    model.init_weights()
    model.train()
    # online moves away from the target: new weights, and BatchNorm statistics measured on two batches
    with torch.no_grad():
        for p in model.backbone.parameters():
            p.add_(torch.randn_like(p))
        for p in model.target.parameters():
            p.add_(0.5 * torch.randn_like(p))
        for _ in range(2):
            model.backbone.tokenize(torch.rand(4, 64, 3) * 3)
    before = {k: v.clone() for k, v in model.target.state_dict().items()}
    online = {k: v.clone() for k, v in model.backbone.state_dict().items()}
    buffers = set(_bn_buffers(model.backbone))
    assert all(not torch.equal(before[k], online[k]) for k in buffers if 'running_' in k)
    assert int(online['tokenizer.embed.bn1.num_batches_tracked']) == 2

    tau = 0.9
    model.update_target(tau)
    after = model.target.state_dict()
    params = {k for k, _ in model.target.named_parameters()}
    assert params | buffers == set(after) and params and not params & buffers
    for k in params:
        torch.testing.assert_close(after[k], tau * before[k] + (1 - tau) * online[k], msg=k)
        assert not torch.allclose(after[k], before[k]) and not torch.allclose(after[k], online[k]), k
    for k in buffers:
        assert torch.equal(after[k], online[k]), k  # copied, not averaged
    for k, v in model.backbone.state_dict().items():
        assert torch.equal(v, online[k]), k  # the online side is read only
    # tau = 1 leaves the parameters where they are; tau = 0 copies the online ones
    model.update_target(1.0)
    for k in params:
        torch.testing.assert_close(model.target.state_dict()[k], after[k], msg=k)
    model.update_target(0.0)
    for k in params:
        torch.testing.assert_close(model.target.state_dict()[k], online[k], msg=k)


@pytest.mark.parametrize('ema_scope', ['all', 'encoder'])
def test_target_equals_a_pretrained_online_backbone_after_init_weights(tmp_path, ema_scope):
    # a pretraining-style checkpoint of a backbone with weights and BatchNorm statistics no init would give
    torch.manual_seed(5)
    source = MODELS.build(copy.deepcopy(BACKBONE))
    with torch.no_grad():
        for p in source.parameters():
            p.add_(torch.randn_like(p) * 0.1)
        for name, buf in source.named_buffers():
            if 'running_mean' in name:
                buf.uniform_(-1, 1)
            elif 'running_var' in name:
                buf.uniform_(0.5, 2)
    saved = {k: v.clone() for k, v in source.state_dict().items()}
    ckpt = tmp_path / 'pretrain.pth'
    torch.save(dict(meta=dict(iter=10), state_dict={f'backbone.{k}': v for k, v in saved.items()}), ckpt)

    torch.manual_seed(0)
    init_cfg = dict(type='Pretrained', checkpoint=str(ckpt), prefix='backbone.')
    backbone = dict(copy.deepcopy(BACKBONE), init_cfg=init_cfg)
    model = _model(ema_scope, backbone=backbone)
    fresh_target = {k: v.clone() for k, v in model.target.state_dict().items()}
    model.init_weights()
    online, target = model.backbone.state_dict(), model.target.state_dict()
    for k, v in saved.items():
        assert torch.equal(online[k], v), k  # the checkpoint was loaded ...
        assert torch.equal(target[k], v), k  # ... and the target starts from it, not from its own init
    # the target's own init differed from the checkpoint in every tensor that has an init
    assert all(not torch.equal(fresh_target[k], saved[k]) for k in saved if k.startswith('encoder.'))
    if ema_scope == 'encoder':  # tokenizer and positional encoding: the online modules themselves
        assert all(target[k].data_ptr() == online[k].data_ptr() for k in saved if not k.startswith('encoder.'))


def test_monitor_interval_computes_the_monitors_every_n_calls_without_changing_the_loss():
    points = torch.rand(2, 64, 3)
    outs = {}
    for interval in (1, 3):
        torch.manual_seed(0)
        model = _model('encoder', monitor_interval=interval)
        model.init_weights()
        model.train()
        outs[interval] = [model.loss(dict(points=points)) for _ in range(5)]
    monitors = {'pred_std', 'target_std', 'target_rank'}
    assert [set(o) for o in outs[1]] == [{'loss'} | monitors] * 5
    assert [monitors <= set(o) for o in outs[3]] == [True, False, False, True, False]
    assert [set(o) for o in outs[3]][1] == {'loss'}
    # the monitors draw no random numbers and touch no state: the losses are the same call for call
    for a, b in zip(outs[1], outs[3]):
        assert torch.equal(a['loss'], b['loss'])
    for k in monitors:
        assert torch.equal(outs[1][3][k], outs[3][3][k])
        assert outs[1][3][k].item() > 0
    with pytest.raises(ValueError, match='monitor_interval must be >= 1, got 0'):
        _model(monitor_interval=0)
