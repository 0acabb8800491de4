"""PointJEPAPillarEncoder's max_tokenize_points (what the tokenizer is given) and freeze_backbone (no gradient,
eval mode, BatchNorm statistics fixed), on procedural points (no ../shared/data needed)."""
import pytest
import torch

pytest.importorskip('mmdet3d', reason='mmdet3d (detection extras) is not installed; bash tools/run_tests.sh '
                                      'installs it (PJEPA3D_WITH_MMDET3D=1, see requirements/mmdet3d.txt)')

from projects.PointJEPA_nuScenes.pointjepa_nus.detection import PointJEPAPillarEncoder  # noqa: E402

BACKBONE = dict(type='PointPatchTransformer', pos_embed=dict(type='sincos3d', scale=1.0),
                tokenizer=dict(type='PointPatchTokenizer', in_channels=4, num_groups=16, group_size=8, embed_dims=32,
                               hidden_dims=(16, 32, 64)),
                encoder=dict(type='PointTransformerEncoder', embed_dims=32, depth=1, num_heads=2,
                             drop_path_rate=0.0))


def _encoder(**kw):
    torch.manual_seed(0)
    return PointJEPAPillarEncoder(backbone=BACKBONE, patch_channels=8, feat_channels=(16, ), **kw)


def _scan(n, seed=0):
    """n points (x, y, z, intensity, time lag) inside mmdet3d's nuScenes range."""
    g = torch.Generator().manual_seed(seed)
    xyz = (torch.rand(n, 3, generator=g) - 0.5) * torch.tensor([60.0, 60.0, 4.0])
    return torch.cat([xyz, torch.rand(n, 1, generator=g), torch.zeros(n, 1)], dim=1)


def _coors(points, batch=0):
    x = ((points[:, 0] + 51.2) / 0.2).floor().long()
    y = ((points[:, 1] + 51.2) / 0.2).floor().long()
    return torch.stack([torch.full_like(x, batch), torch.zeros_like(x), y, x], dim=1).int()


class _Inputs:
    """Records what the (real) backbone is called with."""

    def __init__(self, module):
        self.seen = []
        module.register_forward_pre_hook(lambda m, args: self.seen.append(args[0].detach().clone()))


def test_max_tokenize_points_caps_what_the_tokenizer_sees():
    enc = _encoder(max_tokenize_points=500)
    inputs = _Inputs(enc.backbone)
    pts = _scan(2000)
    enc.eval()
    with torch.no_grad():
        feats = enc.point_patch_features(pts)
        # eval: an even stride of exactly 500 rows, the tokenizer's channels (x, y, z, intensity)
        seen = inputs.seen[-1]
        assert seen.shape == (1, 500, 4)
        assert torch.equal(seen[0], pts[torch.linspace(0, 1999, 500).long()][:, :4])
        assert feats.shape == (2000, 8)  # features still reach every point
        enc.point_patch_features(pts)
        assert torch.equal(inputs.seen[-1], seen)  # deterministic in eval
        # training: 500 distinct rows of the input, a new subset each call
        enc.train()
        enc.point_patch_features(pts)
        enc.point_patch_features(pts)
    a, b = inputs.seen[-2][0], inputs.seen[-1][0]
    assert a.shape == b.shape == (500, 4)
    for subset in (a, b):
        rows = (subset[:, None, :] == pts[None, :, :4]).all(-1)  # (500, 2000): which input row each one is
        assert (rows.sum(1) == 1).all() and rows.any(0).sum() == 500
    assert not torch.equal(a, b)
    # at or below the cap every point goes through unchanged; below the tokenizer's minimum, cyclic repetition
    enc.eval()
    with torch.no_grad():
        enc.point_patch_features(pts[:500])
        assert torch.equal(inputs.seen[-1][0], pts[:500, :4])
        enc.point_patch_features(pts[:10])
        assert torch.equal(inputs.seen[-1][0], pts[torch.arange(16) % 10][:, :4])  # 16 = num_groups
    # no cap: all 2000
    uncapped = _encoder()
    seen_all = _Inputs(uncapped.backbone)
    with torch.no_grad():
        uncapped.eval().point_patch_features(pts)
    assert seen_all.seen[-1].shape == (1, 2000, 4)
    with pytest.raises(ValueError, match=r'max_tokenize_points=10 is below the tokenizer\'s 16'):
        _encoder(max_tokenize_points=10)


def test_freeze_backbone_no_gradient_eval_mode_fixed_statistics():
    enc = _encoder(freeze_backbone=True)
    enc.train()
    assert not any(m.training for m in enc.backbone.modules())
    assert enc.training and enc.patch_proj.training and all(layer.training for layer in enc.pfn_layers)
    assert not any(p.requires_grad for p in enc.backbone.parameters())
    before = {k: v.clone() for k, v in enc.backbone.state_dict().items()}
    pts = _scan(1500)
    feats, _ = enc(pts, _coors(pts))
    feats.sum().backward()
    assert all(p.grad is None for p in enc.backbone.parameters())
    assert enc.patch_proj.weight.grad is not None and enc.pfn_layers[0].linear.weight.grad is not None
    for k, v in enc.backbone.state_dict().items():
        assert torch.equal(v, before[k]), k  # running statistics included
    # eval-mode backbone: deterministic (FPS starts at point 0) even while the encoder trains
    enc.eval()
    with torch.no_grad():
        ref = enc.point_patch_features(pts)
    enc.train()
    with torch.no_grad():
        assert torch.equal(enc.point_patch_features(pts), ref)

    # without freeze_backbone: gradients reach the backbone, it trains and measures statistics
    free = _encoder()
    free.train()
    assert all(m.training for m in free.backbone.modules())
    feats, _ = free(pts, _coors(pts))
    feats.sum().backward()
    assert all(p.grad is not None for p in free.backbone.encoder.parameters())
    assert not torch.equal(free.backbone.tokenizer.embed.bn1.running_mean,
                           torch.zeros_like(free.backbone.tokenizer.embed.bn1.running_mean))
