"""PointPartSegmentor: feature propagation, training signal on real Cap shapes, restricted prediction,
and loading a pretraining checkpoint into its backbone."""
import pytest
import torch
from mmengine.dataset import default_collate
from mmengine.runner import save_checkpoint

from pjepa3d.datasets import ShapeNetPart
from pjepa3d.models.utils import CheckpointKeyError
from pjepa3d.ops import idw_weights, three_interpolate
from pjepa3d.registry import MODELS

from .conftest import tiny_seg_model


def test_weights_sum_to_one_and_fall_with_distance():
    sq = torch.tensor([[0.01, 0.04, 0.09], [1.0, 1.0, 4.0], [0.0, 0.25, 1.0], [0.0, 0.0, 1.0]])
    w = idw_weights(sq)
    torch.testing.assert_close(w.sum(-1), torch.ones(4))
    torch.testing.assert_close(w[0], torch.tensor([1 / 0.1, 1 / 0.2, 1 / 0.3]) / (10 + 5 + 10 / 3))
    assert w[1, 0] == w[1, 1] > w[1, 2]
    assert w[2].tolist() == [1.0, 0.0, 0.0]  # on a centre: that centre only
    assert w[3].tolist() == [0.5, 0.5, 0.0]  # on two coinciding centres: shared


def test_point_on_a_centre_gets_exactly_its_feature():
    g = torch.Generator().manual_seed(0)
    centres = torch.rand(2, 10, 3, generator=g)
    feats = torch.randn(2, 10, 5, generator=g)
    points = torch.cat([torch.rand(2, 30, 3, generator=g), centres], dim=1)  # the last 10 points are the centres
    out = three_interpolate(points, centres, feats, k=3)
    assert out.shape == (2, 40, 5)
    assert torch.equal(out[:, 30:], feats)  # exactly, not approximately
    # the other points: brute-force inverse-distance weighting over the 3 nearest centres
    d = torch.cdist(points[:, :30], centres, compute_mode='donot_use_mm_for_euclid_dist')  # exact distances
    dist, idx = d.topk(3, dim=-1, largest=False)
    w = 1 / (dist + 1e-8)
    w = w / w.sum(-1, keepdim=True)
    ref = (torch.gather(feats.unsqueeze(1).expand(-1, 30, -1, -1), 2, idx.unsqueeze(-1).expand(-1, -1, -1, 5))
           * w.unsqueeze(-1)).sum(2)
    torch.testing.assert_close(out[:, :30], ref)
    # k=1: the nearest centre's feature
    nearest = three_interpolate(points[:, :30], centres, feats, k=1)
    torch.testing.assert_close(nearest, torch.gather(feats, 1, idx[..., :1].expand(-1, -1, 5)))
    # features are a convex combination: constant features propagate unchanged
    torch.testing.assert_close(three_interpolate(points, centres, torch.ones(2, 10, 5)), torch.ones(2, 40, 5))


def test_gradient_reaches_the_centre_features():
    centres = torch.rand(1, 6, 3)
    feats = torch.randn(1, 6, 4, requires_grad=True)
    three_interpolate(torch.rand(1, 20, 3), centres, feats).sum().backward()
    assert feats.grad is not None and feats.grad.abs().sum() > 0


@pytest.fixture(scope='module')
def cap_batch(shapenetpart_root):
    ds = ShapeNetPart(shapenetpart_root, split='train', pipeline=[
        dict(type='PointSample', num_points=128, method='random', seed=0, per_sample_seed=True),
        dict(type='NormalizeUnitSphere'), dict(type='PackPartSegInputs')])
    return default_collate([ds[i] for i in range(4)])


def test_loss_decreases_on_a_fixed_real_batch(cap_batch):
    torch.manual_seed(0)
    model = MODELS.build(tiny_seg_model())
    model.init_weights()
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(30):
        out = model(cap_batch['inputs'], cap_batch['data_samples'], mode='loss')
        assert set(out) == {'loss', 'acc'}
        assert torch.isfinite(out['loss'])
        opt.zero_grad()
        out['loss'].backward()
        opt.step()
        losses.append(out['loss'].item())
    assert losses[0] == pytest.approx(torch.log(torch.tensor(50.0)).item(), rel=0.3)  # ~uniform over 50 parts
    assert sum(losses[-5:]) / 5 < 0.5 * sum(losses[:5]) / 5, losses


def test_predict_stays_inside_the_category_parts(cap_batch):
    torch.manual_seed(0)
    model = MODELS.build(tiny_seg_model())
    model.init_weights()
    model.eval()
    with torch.no_grad():
        preds = model(cap_batch['inputs'], cap_batch['data_samples'], mode='predict')
        logits = model(cap_batch['inputs'], cap_batch['data_samples'], mode='tensor')
    assert logits.shape == (4, 128, 50)
    assert len(preds) == 4
    for p, gt in zip(preds, cap_batch['data_samples']['pts_semantic_mask']):
        assert p['pred_pts_seg'].shape == (128,) and p['category'] == 2
        assert set(p['pred_pts_seg'].unique().tolist()) <= {6, 7}
        assert torch.equal(p['pts_semantic_mask'], gt)
    # an untrained head's unrestricted argmax is almost never a Cap part; restricted it always is
    assert not set(logits.argmax(-1).unique().tolist()) <= {6, 7}
    # the same clouds declared Airplanes: predictions among Airplane's parts 0-3
    samples = dict(cap_batch['data_samples'], category=torch.zeros(4, dtype=torch.long))
    with torch.no_grad():
        for p in model(cap_batch['inputs'], samples, mode='predict'):
            assert set(p['pred_pts_seg'].unique().tolist()) <= {0, 1, 2, 3}


def test_bad_configs_and_inputs_fail_clearly(cap_batch):
    with pytest.raises(ValueError, match=r'feature_blocks must be distinct 1-based block numbers in 1\.\.2'):
        MODELS.build(dict(tiny_seg_model(), feature_blocks=(4, 8, 12)))
    with pytest.raises(ValueError, match='feature_blocks'):
        MODELS.build(dict(tiny_seg_model(), feature_blocks=(0, 1)))
    cfg = tiny_seg_model()
    cfg['head']['in_channels'] = 99
    with pytest.raises(ValueError, match='head.in_channels=99 but the segmentor gives 32'):
        MODELS.build(cfg)
    model = MODELS.build(tiny_seg_model())
    with pytest.raises(ValueError, match=r"data_samples\['category'\] \(B,\) is required"):
        model(cap_batch['inputs'], None, mode='predict')
    with pytest.raises(ValueError, match="needs data_samples\\['pts_semantic_mask'\\]"):
        model(cap_batch['inputs'], dict(category=cap_batch['data_samples']['category']), mode='loss')


def _pretraining_checkpoint(path, tiny_model_cfg):
    """A real (tiny) PointJEPA's state dict saved as mmengine does; returns its backbone tensors."""
    torch.manual_seed(123)
    pre = MODELS.build(tiny_model_cfg)
    pre.init_weights()
    save_checkpoint(dict(state_dict=pre.state_dict(), meta=dict(epoch=1)), str(path))
    return {k[len('backbone.'):]: v.clone() for k, v in pre.state_dict().items() if k.startswith('backbone.')}


def test_pretrained_backbone_is_loaded_with_the_right_prefix(tmp_path, tiny_model_cfg):
    ckpt = tmp_path / 'pretrain.pth'
    saved = _pretraining_checkpoint(ckpt, tiny_model_cfg)
    torch.manual_seed(0)
    model = MODELS.build(tiny_seg_model(checkpoint=ckpt))
    own = model.backbone.state_dict()
    assert set(saved) == set(own)
    assert any(not torch.equal(own[k], saved[k]) for k in saved)  # differs before loading
    model.init_weights()
    for k, v in model.backbone.state_dict().items():
        assert torch.equal(v, saved[k]), k

    wrong = MODELS.build(tiny_seg_model(checkpoint=ckpt, prefix='encoder.'))
    with pytest.raises(CheckpointKeyError, match=r"prefix 'encoder\.' matches none .*\['backbone\.', 'head\.'"):
        wrong.init_weights()
    empty = MODELS.build(dict(tiny_seg_model(checkpoint=ckpt), backbone=dict(
        tiny_seg_model(checkpoint=ckpt)['backbone'], init_cfg=dict(type='Pretrained', checkpoint='',
                                                                    prefix='backbone.'))))
    with pytest.raises(ValueError, match='checkpoint is empty'):
        empty.init_weights()


def test_checkpoint_of_another_depth_stops_unless_partial_load_is_allowed(tmp_path, tiny_model_cfg):
    shallow = dict(tiny_model_cfg)
    shallow['backbone']['encoder']['depth'] = 1  # the segmentor's backbone has 2 blocks
    ckpt = tmp_path / 'shallow.pth'
    saved = _pretraining_checkpoint(ckpt, shallow)
    with pytest.raises(CheckpointKeyError, match=r'does not fit the backbone.*MISSING.*encoder\.blocks\.1\.'):
        MODELS.build(tiny_seg_model(checkpoint=ckpt)).init_weights()
    model = MODELS.build(dict(tiny_seg_model(checkpoint=ckpt), allow_partial_load=True))
    model.init_weights()
    own = model.backbone.state_dict()
    assert all(torch.equal(own[k], v) for k, v in saved.items())
