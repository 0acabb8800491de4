"""SyntheticShapes: determinism, splits, classes, normalisation, sizes, batching."""
import numpy as np
import pytest
from mmengine.dataset import default_collate

from pjepa3d.datasets import SyntheticShapes
from pjepa3d.datasets.synthetic import SHAPE_BUILDERS, generate_shape
from pjepa3d.registry import DATASETS


def points_of(ds, i):
    return ds[i]['points']


def test_same_index_same_cloud_and_indices_differ():
    a = SyntheticShapes(num_samples=40, num_points=256)
    b = SyntheticShapes(num_samples=40, num_points=256)
    for i in (0, 7, 39):
        np.testing.assert_array_equal(points_of(a, i), points_of(b, i))
        np.testing.assert_array_equal(points_of(a, i), points_of(a, i))  # no hidden state
    clouds = [points_of(a, i) for i in range(40)]
    assert all(not np.array_equal(clouds[i], clouds[j]) for i in range(40) for j in range(i))
    # same class, different index: different random proportions
    k = len(a.metainfo['classes'])
    assert a.get_data_info(0)['label'] == a.get_data_info(k)['label']
    assert not np.allclose(np.sort(np.abs(clouds[0]), 0), np.sort(np.abs(clouds[k]), 0), atol=1e-2)


def test_fresh_draws_a_new_instance_of_the_same_class_per_fetch():
    ds = SyntheticShapes(num_samples=8, num_points=256, fresh=True)
    np.random.seed(3)
    first = [ds[i] for i in range(8)]
    again = ds[2]
    assert again['label'] == first[2]['label'] == 2
    assert not np.array_equal(again['points'], first[2]['points'])
    # reproducible from numpy's global stream (what mmengine / RNGStateHook seed per worker and pass)
    np.random.seed(3)
    np.testing.assert_array_equal(ds[0]['points'], first[0]['points'])
    # the fixed mode ignores that stream
    fixed = SyntheticShapes(num_samples=8, num_points=256)
    np.random.seed(4)
    a = fixed[2]['points']
    np.testing.assert_array_equal(a, fixed[2]['points'])


def test_up_axis_z_turns_the_y_up_cloud_about_x():
    y_up = SyntheticShapes(num_samples=4, num_points=512, use_normals=True)
    z_up = SyntheticShapes(num_samples=4, num_points=512, use_normals=True, up_axis='z')
    a, b = y_up[1]['points'], z_up[1]['points']
    rot = np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0]], dtype=np.float32)  # +90 degrees about x
    np.testing.assert_allclose(b[:, :3], a[:, :3] @ rot.T, atol=1e-6)
    np.testing.assert_allclose(b[:, 3:], a[:, 3:] @ rot.T, atol=1e-6)
    # the extent along the up axis (the height) is the same in both conventions
    np.testing.assert_allclose(np.ptp(b[:, 2]), np.ptp(a[:, 1]), rtol=1e-6)
    with pytest.raises(ValueError, match='up_axis'):
        SyntheticShapes(up_axis='x')


def test_splits_and_seeds_give_different_samples():
    clouds = {s: points_of(SyntheticShapes(num_samples=4, num_points=128, split=s), 3)
              for s in ('train', 'val', 'test')}
    assert not np.array_equal(clouds['train'], clouds['val'])
    assert not np.array_equal(clouds['train'], clouds['test'])
    assert not np.array_equal(clouds['val'], clouds['test'])
    other_seed = points_of(SyntheticShapes(num_samples=4, num_points=128, seed=1), 3)
    assert not np.array_equal(clouds['train'], other_seed)
    with pytest.raises(ValueError, match='split'):
        SyntheticShapes(split='validation')


def test_class_coverage_and_metainfo():
    assert len(SHAPE_BUILDERS) >= 12
    ds = SyntheticShapes(num_samples=2 * len(SHAPE_BUILDERS), num_points=64)
    assert ds.metainfo['classes'] == tuple(SHAPE_BUILDERS)
    labels = [ds.get_data_info(i)['label'] for i in range(len(ds))]
    assert sorted(set(labels)) == list(range(len(SHAPE_BUILDERS)))
    assert {'table', 'chair', 'airplane', 'car', 'lamp', 'mug', 'bottle', 'shelf', 'ellipsoid',
            'box', 'cylinder', 'cone', 'torus', 'pyramid', 'capsule'} <= set(ds.metainfo['classes'])
    sub = SyntheticShapes(num_samples=4, num_points=64, classes=('box', 'chair'))
    assert sub.metainfo['classes'] == ('box', 'chair') and [sub[i]['label'] for i in range(4)] == [0, 1, 0, 1]
    with pytest.raises(ValueError, match='unknown classes'):
        SyntheticShapes(classes=('box', 'spaceship'))


@pytest.mark.parametrize('name', list(SHAPE_BUILDERS))
def test_every_class_is_finite_unit_sphere_with_unit_normals(name):
    for seed in range(4):
        rng = np.random.default_rng(seed)
        pts = generate_shape(name, rng, 512, occlusion_prob=0.5, rotation='so3')
        assert pts.shape == (512, 6) and pts.dtype == np.float32 and np.isfinite(pts).all()
        np.testing.assert_allclose(pts[:, :3].mean(0), 0, atol=1e-5)
        assert np.linalg.norm(pts[:, :3], axis=1).max() == pytest.approx(1, abs=1e-5)
        np.testing.assert_allclose(np.linalg.norm(pts[:, 3:], axis=1), 1, atol=1e-4)
        assert np.linalg.matrix_rank(pts[:, :3] - pts[:, :3].mean(0)) == 3  # a solid, not a line or plane


def test_normals_point_outwards_on_convex_solids():
    for name in ('ellipsoid', 'cone', 'capsule', 'pyramid'):
        pts = generate_shape(name, np.random.default_rng(0), 2000, occlusion_prob=0, noise_std=0)
        assert ((pts[:, :3] * pts[:, 3:]).sum(1) > 0).mean() > 0.97, name


@pytest.mark.parametrize('num_points', [1, 7, 100, 1024, 2500])
def test_requested_point_count(num_points):
    for occlusion in (0.0, 1.0):
        ds = SyntheticShapes(num_samples=3, num_points=num_points, occlusion_prob=occlusion, use_normals=True)
        for i in range(3):
            pts = ds[i]['points']
            assert pts.shape == (num_points, 6) and np.isfinite(pts).all()
            if num_points > 1:
                assert np.linalg.norm(pts[:, :3], axis=1).max() == pytest.approx(1, abs=1e-5)


def test_occlusion_removes_one_side():
    def asymmetry(p):  # an ellipsoid centred on its mean has max(p.d) == -min(p.d) for every direction d
        proj = p[:, :3] @ np.random.default_rng(0).normal(size=(3, 200))
        return np.abs(proj.max(0) + proj.min(0)).max()
    for seed in range(3):
        full = generate_shape('ellipsoid', np.random.default_rng(seed), 2048, occlusion_prob=0.0, noise_std=0)
        cut = generate_shape('ellipsoid', np.random.default_rng(seed), 2048, occlusion_prob=1.0, noise_std=0)
        assert cut.shape == full.shape
        assert asymmetry(full) < 0.2 and asymmetry(cut) > 0.4


def test_batch_through_default_collate_and_registry():
    ds = DATASETS.build(dict(type='SyntheticShapes', num_samples=6, num_points=200,
                             pipeline=[dict(type='PointSample', num_points=128, method='random'),
                                       dict(type='RandomRotate'), dict(type='PackPointInputs')]))
    batch = default_collate([ds[i] for i in range(4)])
    assert batch['inputs']['points'].shape == (4, 128, 3)
    assert batch['data_samples']['label'].tolist() == [0, 1, 2, 3]
    assert batch['data_samples']['sample_idx'].tolist() == [0, 1, 2, 3]
