"""Contracts of the point transforms."""
import numpy as np
import pytest
import torch
from mmengine.dataset import Compose
from mmengine.registry import DefaultScope

from pjepa3d.datasets.transforms import (NormalizeUnitSphere, PackPointInputs, PointSample, RandomJitter,
                                         RandomRotate, RandomScale)
from pjepa3d.registry import TRANSFORMS
from pjepa3d.utils.checks import PointCloudError


def cloud(n, cols=3, seed=0):
    return np.random.default_rng(seed).normal(size=(n, cols)).astype(np.float32)


@pytest.mark.parametrize('method', ['fps', 'random', 'first'])
@pytest.mark.parametrize('n', [1, 5, 100, 300])
def test_point_sample_always_returns_num_points(method, n):
    points = cloud(n, cols=6)
    out = PointSample(100, method=method)(dict(points=points))['points']
    assert out.shape == (100, 6)
    # every output row is an input row (xyz and normals moved together)
    matches = (out[:, None, :] == points[None, :, :]).all(-1)
    assert matches.any(1).all()
    if n <= 100:  # padded by repetition: each input point is used, none invented
        assert matches.any(0).all()
    else:
        assert len(np.unique(out, axis=0)) == 100


def test_point_sample_pads_cyclically_in_order():
    points = np.arange(12, dtype=np.float32).reshape(4, 3)
    out = PointSample(10, method='first')(dict(points=points))['points']
    np.testing.assert_array_equal(out[:, 0], [0, 3, 6, 9, 0, 3, 6, 9, 0, 3])


def test_point_sample_first_and_seeded_random():
    points = cloud(50)
    np.testing.assert_array_equal(PointSample(10, method='first')(dict(points=points))['points'], points[:10])
    a = PointSample(10, method='random', seed=3)(dict(points=points))['points']
    b = PointSample(10, method='random', seed=3)(dict(points=points))['points']
    c = PointSample(10, method='random', seed=4)(dict(points=points))['points']
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_point_sample_fps_is_farthest_first():
    points = cloud(500)
    out = PointSample(16, method='fps')(dict(points=points))['points']
    assert len(np.unique(out, axis=0)) == 16  # distinct points
    np.testing.assert_array_equal(out[0], points[0])  # deterministic start
    farthest = points[np.argmax(np.linalg.norm(points - points[0], axis=1))]
    np.testing.assert_array_equal(out[1], farthest)
    # FPS spreads points: its minimum pairwise distance beats the first 16 points'
    def min_gap(p):
        d = np.linalg.norm(p[:, None] - p[None], axis=-1)
        return d[~np.eye(len(p), dtype=bool)].min()
    assert min_gap(out) > min_gap(points[:16])


def test_point_sample_rejects_bad_args_and_empty_cloud():
    with pytest.raises(ValueError, match='method'):
        PointSample(10, method='grid')
    with pytest.raises(ValueError, match='num_points'):
        PointSample(0)
    with pytest.raises(PointCloudError, match='empty'):
        PointSample(10)(dict(points=np.zeros((0, 3), np.float32), sample_idx=4))


def test_normalize_unit_sphere_keeps_normals():
    points = cloud(200, cols=6)
    points[:, :3] = points[:, :3] * 5 + 3
    out = NormalizeUnitSphere()(dict(points=points.copy()))['points']
    np.testing.assert_allclose(out[:, :3].mean(0), 0, atol=1e-5)
    assert np.linalg.norm(out[:, :3], axis=1).max() == pytest.approx(1, abs=1e-6)
    np.testing.assert_array_equal(out[:, 3:], points[:, 3:])
    single = NormalizeUnitSphere()(dict(points=np.ones((1, 3), np.float32)))['points']
    assert np.isfinite(single).all()


def test_random_scale_per_axis_and_normals():
    np.random.seed(0)
    p = cloud(100, cols=3)
    p /= np.linalg.norm(p, axis=1, keepdims=True)  # unit sphere, normal = position
    points = np.concatenate([p, p], 1)
    out = RandomScale(scale_range=(0.5, 1.5))(dict(points=points.copy()))['points']
    scale = out[0, :3] / points[0, :3]
    np.testing.assert_allclose(out[:, :3], points[:, :3] * scale, rtol=1e-5)
    assert not np.allclose(scale, scale[0])  # anisotropic
    # ellipsoid normal = gradient of sum((q/s)^2) = q / s^2 = p / s
    expected = p / scale
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(out[:, 3:], expected, atol=1e-5)
    signs = {tuple(np.sign(RandomScale((1, 1), mirror_axes=(0, 2))(dict(points=np.ones((1, 3), np.float32)))
                           ['points'][0])) for _ in range(50)}
    assert {s[1] for s in signs} == {1.0} and {s[0] for s in signs} == {1.0, -1.0} and len(signs) == 4


def test_random_rotate_preserves_norms_and_rotates_normals():
    np.random.seed(1)
    points = cloud(100, cols=6)
    out = RandomRotate(axis='y')(dict(points=points.copy()))['points']
    np.testing.assert_allclose(np.linalg.norm(out[:, :3], axis=1), np.linalg.norm(points[:, :3], axis=1), rtol=1e-5)
    np.testing.assert_allclose(out[:, 1], points[:, 1], atol=1e-6)  # y is the axis
    np.testing.assert_allclose((out[:, :3] * out[:, 3:]).sum(1), (points[:, :3] * points[:, 3:]).sum(1), atol=1e-4)
    assert not np.allclose(out, points)
    quarter = RandomRotate(axis='y', angle_range=(90, 90))(dict(points=np.array([[1, 0, 0, 0, 0, 1]], np.float32)))
    np.testing.assert_allclose(quarter['points'], [[0, 0, -1, 1, 0, 0]], atol=1e-6)
    with pytest.raises(ValueError):
        RandomRotate(axis='w')


def test_random_jitter_is_clipped_and_keeps_normals():
    np.random.seed(2)
    points = cloud(1000, cols=6)
    out = RandomJitter(sigma=0.05, clip=0.02)(dict(points=points.copy()))['points']
    delta = out[:, :3] - points[:, :3]
    assert np.abs(delta).max() <= 0.02 + 1e-6 and np.abs(delta).mean() > 0.005
    np.testing.assert_array_equal(out[:, 3:], points[:, 3:])


def test_pack_point_inputs():
    packed = PackPointInputs()(dict(points=cloud(7, cols=6).astype(np.float64), label=3, sample_idx=5, file='a'))
    assert packed['inputs']['points'].dtype == torch.float32 and packed['inputs']['points'].shape == (7, 6)
    assert packed['data_samples']['label'].dtype == torch.long and packed['data_samples']['label'].item() == 3
    assert packed['data_samples']['sample_idx'] == 5 and 'file' not in packed['data_samples']
    assert PackPointInputs()(dict(points=cloud(2)))['data_samples']['label'].item() == -1
    assert PackPointInputs(meta_keys=('file',))(dict(points=cloud(2), file='a'))['data_samples']['file'] == 'a'


def test_transforms_build_from_registry_and_mmengine_compose():
    cfg = [dict(type='NormalizeUnitSphere'), dict(type='PointSample', num_points=32, method='random'),
           dict(type='RandomRotate'), dict(type='RandomScale'), dict(type='RandomJitter'),
           dict(type='PackPointInputs')]
    for t in cfg:
        assert callable(TRANSFORMS.build(t))
    with DefaultScope.overwrite_default_scope('pjepa3d'):  # how a Runner config builds them
        out = Compose(cfg)(dict(points=cloud(100), label=1, sample_idx=0))
    assert out['inputs']['points'].shape == (32, 3)


def test_dataset_pipelines_build_with_pjepa3d_transforms_under_another_default_scope():
    """A pjepa3d dataset inside another library's config (default scope 'mmengine' here, 'mmdet3d' in a
    detection config, whose registry has its own PointSample) still gets pjepa3d's transforms."""
    from mmengine.registry import DefaultScope

    from pjepa3d.datasets import SyntheticShapes
    from pjepa3d.datasets.transforms import PointSample
    with DefaultScope.overwrite_default_scope('mmengine'):
        ds = SyntheticShapes(num_samples=2, num_points=64, pipeline=[dict(type='PointSample', num_points=32),
                                                                     dict(type='PackPointInputs')])
    assert isinstance(ds.pipeline.transforms[0], PointSample)
    assert ds[0]['inputs']['points'].shape == (32, 3)
