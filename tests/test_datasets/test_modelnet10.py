"""ModelNet10: the complete set in ../shared/data (official counts, val carve, label fractions) and small
OFF / PCD files written here in the same layout (surface sampling, disk cache, errors naming the file)."""
import os
from pathlib import Path

import numpy as np
import pytest
from pypcd4 import Encoding, PointCloud

from pjepa3d.datasets.modelnet10 import (MODELNET10_CLASSES, ModelNet10, normalize_unit_sphere, read_pcd_xyz,
                                         sample_off_surface)
from pjepa3d.utils.checks import PointCloudError

REPO_ROOT = Path(__file__).resolve().parents[2]
MODELNET10_ROOT = REPO_ROOT / '..' / 'shared' / 'data' / 'modelnet10_pcd'

OFFICIAL_COUNTS = {  # class: (train, test), the official split
    'bathtub': (106, 50), 'bed': (515, 100), 'chair': (889, 100), 'desk': (200, 86), 'dresser': (200, 86),
    'monitor': (465, 100), 'night_stand': (200, 86), 'sofa': (680, 100), 'table': (392, 100), 'toilet': (344, 100)}


@pytest.fixture(scope='module')
def modelnet10_root():
    if not (MODELNET10_ROOT / 'ModelNet10').is_dir():
        pytest.skip('needs ../shared/data/modelnet10_pcd (the complete ModelNet10)')
    return MODELNET10_ROOT


def _label_counts(ds):
    labels = np.array([ds.get_data_info(i)['label'] for i in range(len(ds))])
    return {name: int((labels == k).sum()) for k, name in enumerate(ds.class_names)}


def _ids(ds):
    return [ds.get_data_info(i)['id'] for i in range(len(ds))]


# ----------------------------------------------------------------------------------------------------------
# the complete ModelNet10 (read-only shared copy)


def test_real_counts_per_class_and_split(modelnet10_root):
    train = ModelNet10(modelnet10_root, split='train')
    test = ModelNet10(modelnet10_root, split='test')
    assert train.class_names == MODELNET10_CLASSES == tuple(OFFICIAL_COUNTS)
    assert train.metainfo['classes'] == MODELNET10_CLASSES
    assert _label_counts(train) == {c: n for c, (n, _) in OFFICIAL_COUNTS.items()}
    assert _label_counts(test) == {c: n for c, (_, n) in OFFICIAL_COUNTS.items()}
    assert (len(train), len(test)) == (3991, 908)
    for ds, split in ((train, 'train'), (test, 'test')):  # label = the class folder, files from the split folder
        for i in range(0, len(ds), 97):
            info = ds.get_data_info(i)
            path = Path(info['file'])
            assert path.parent.name == split and path.parent.parent.name == MODELNET10_CLASSES[info['label']]
            assert path.suffix == '.pcd'


def test_real_val_carve_disjoint_and_covers_train(modelnet10_root):
    full = _ids(ModelNet10(modelnet10_root, split='train'))
    train = ModelNet10(modelnet10_root, split='train', val_ratio=0.1)
    val = ModelNet10(modelnet10_root, split='val', val_ratio=0.1)
    tr, va = _ids(train), _ids(val)
    assert len(va) == round(0.1 * 3991) and len(tr) + len(va) == 3991
    assert not set(tr) & set(va)
    assert sorted(tr + va) == sorted(full)
    counts = _label_counts(val)  # stratified: about 10 % of every class
    for c, (n, _) in OFFICIAL_COUNTS.items():
        assert abs(counts[c] - 0.1 * n) <= 1, (c, counts[c])
    # another split_seed: another val set of the same size
    other = ModelNet10(modelnet10_root, split='val', val_ratio=0.1, split_seed=1)
    assert len(other) == len(va) and _ids(other) != va


def test_real_label_fraction_nested_and_seeded(modelnet10_root):
    def subset(fraction, seed=0):
        return ModelNet10(modelnet10_root, split='train', label_fraction=fraction, fraction_seed=seed)

    one = subset(0.01)
    counts = _label_counts(one)
    assert all(n >= 1 for n in counts.values())
    # max(1, round(1 % of each class))
    assert counts == {c: max(1, int(round(0.01 * n))) for c, (n, _) in OFFICIAL_COUNTS.items()}
    assert counts['bathtub'] == 1 and counts['chair'] == 9 and len(one) == 40
    assert _ids(subset(0.01)) == _ids(one)  # deterministic per seed
    assert _ids(subset(0.01, seed=1)) != _ids(one)
    five, ten = set(_ids(subset(0.05))), set(_ids(subset(0.1)))
    assert set(_ids(one)) <= five <= ten  # nested for one seed
    assert len(ten) == sum(max(1, int(round(0.1 * n))) for n, _ in OFFICIAL_COUNTS.values())


def test_real_sample_normalised(modelnet10_root):
    test = ModelNet10(modelnet10_root, split='test')
    for i in (0, 455, 907):
        sample = test[i]
        points = sample['points']
        assert points.shape == (1024, 3) and points.dtype == np.float32
        np.testing.assert_allclose(points.mean(axis=0), 0, atol=1e-5)
        assert np.linalg.norm(points, axis=1).max() == pytest.approx(1.0, abs=1e-5)
        assert sample['label'] == test.get_data_info(i)['label'] and sample['sample_idx'] == i
        raw = read_pcd_xyz(sample['file'])  # the raw file is in mesh units, far from the unit sphere
        assert raw.shape == (1024, 3)
        np.testing.assert_allclose(points, normalize_unit_sphere(raw), atol=1e-6)


# ----------------------------------------------------------------------------------------------------------
# small files written here

CUBE_V = [(x, y, z) for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)]  # vertex 4*(x>0) + 2*(y>0) + (z>0)
CUBE_F = [(0, 1, 3), (0, 3, 2), (4, 6, 7), (4, 7, 5), (0, 4, 5), (0, 5, 1),
          (2, 3, 7), (2, 7, 6), (0, 2, 6), (0, 6, 4), (1, 5, 7), (1, 7, 3)]
TETRA_V = [(0, 0, 0), (2, 0, 0), (0, 1, 0), (0, 0, 3)]
TETRA_F = [(0, 2, 1), (0, 1, 3), (0, 3, 2), (1, 2, 3)]


def off_text(vertices, faces, quirky=False, num_faces=None, scale=1.0, offset=(0, 0, 0)):
    """OFF text; ``quirky``: ModelNet's 'OFF<nv> <nf> 0' first line; ``num_faces``: the declared count."""
    counts = f'{len(vertices)} {len(faces) if num_faces is None else num_faces} 0'
    head = f'OFF{counts}\n' if quirky else f'OFF\n{counts}\n'
    body = ''.join(f'{scale * x + offset[0]:g} {scale * y + offset[1]:g} {scale * z + offset[2]:g}\n'
                   for x, y, z in vertices)
    return head + body + ''.join(f'3 {a} {b} {c}\n' for a, b, c in faces)


def write_pcd(path, xyz, encoding=Encoding.BINARY):
    path.parent.mkdir(parents=True, exist_ok=True)
    PointCloud.from_xyz_points(np.asarray(xyz, dtype=np.float32)).save(str(path), encoding=encoding)
    return path


def cloud(n=64, seed=0, stretch=(1.0, 1.0, 1.0), shift=(0.0, 0.0, 0.0)):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, 3)) * np.asarray(stretch) + np.asarray(shift)).astype(np.float32)


def test_sample_off_surface_on_cube_faces(tmp_path):
    half, centre = 0.5, np.array([2.0, -1.0, 3.0])
    quirky, normal = tmp_path / 'quirky.off', tmp_path / 'normal.off'
    quirky.write_text(off_text(CUBE_V, CUBE_F, quirky=True, scale=half, offset=centre))
    normal.write_text(off_text(CUBE_V, CUBE_F, scale=half, offset=centre))
    assert quirky.read_text().startswith('OFF8 12 0\n') and normal.read_text().startswith('OFF\n8 12 0\n')
    points = sample_off_surface(quirky, 6000, seed=0)
    assert points.shape == (6000, 3) and points.dtype == np.float32
    rel = np.abs(points - centre)
    # every point on the surface: its largest |coordinate - centre| is the half-size, none inside / outside
    np.testing.assert_allclose(rel.max(axis=1), half, atol=1e-5)
    # area-weighted: the six equal faces get about 1/6 each (binomial std ~29 of 1000)
    face = rel.argmax(axis=1) * 2 + (points[np.arange(6000), rel.argmax(axis=1)] > centre[rel.argmax(axis=1)])
    counts = np.bincount(face, minlength=6)
    assert counts.min() > 850 and counts.max() < 1150, counts
    # the quirky header reads as the normal one; same seed -> same points; another seed -> other points
    np.testing.assert_array_equal(sample_off_surface(normal, 6000, seed=0), points)
    np.testing.assert_array_equal(sample_off_surface(quirky, 6000, seed=0), points)
    assert not np.allclose(sample_off_surface(quirky, 6000, seed=1), points)


def test_sample_off_surface_is_area_weighted(tmp_path):
    # a tetrahedron with faces of very different areas: the share of points per face follows the area
    path = tmp_path / 'tetra.off'
    path.write_text(off_text(TETRA_V, TETRA_F))
    points = sample_off_surface(path, 20000, seed=3).astype(np.float64)
    on_xy, on_xz, on_yz = (np.abs(points[:, 2]) < 1e-6), (np.abs(points[:, 1]) < 1e-6), (np.abs(points[:, 0]) < 1e-6)
    slanted = np.abs(points[:, 0] / 2 + points[:, 1] + points[:, 2] / 3 - 1) < 1e-5
    assert (on_xy | on_xz | on_yz | slanted).all()
    areas = np.array([1.0, 3.0, 1.5, 0.5 * np.linalg.norm(np.cross([-2, 1, 0], [-2, 0, 3]))])
    share = np.array([on_xy.mean(), on_xz.mean(), on_yz.mean(), slanted.mean()])
    np.testing.assert_allclose(share, areas / areas.sum(), atol=0.015)


def make_layout(root, off=True):
    """<root>/ModelNet10/{box,tetra}/{train,test}/: OFF meshes (one with the quirky header) or PCD files."""
    folder = root / 'ModelNet10'
    for cls in ('box', 'tetra'):
        for split, n in (('train', 3), ('test', 2)):
            (folder / cls / split).mkdir(parents=True)
            for k in range(1, n + 1):
                stem = f'{cls}_{k + (0 if split == "train" else 100):04d}'
                if off:
                    v, f = (CUBE_V, CUBE_F) if cls == 'box' else (TETRA_V, TETRA_F)
                    (folder / cls / split / f'{stem}.off').write_text(
                        off_text(v, f, quirky=k == 1, scale=10.0 * k, offset=(k, -k, 50.0)))
                else:
                    stretch = (4.0, 1.0, 1.0) if cls == 'box' else (1.0, 1.0, 4.0)
                    enc = Encoding.ASCII if k == 2 else Encoding.BINARY
                    write_pcd(folder / cls / split / f'{stem}.pcd', cloud(64, seed=k, stretch=stretch,
                                                                           shift=(100.0, 0, 0)), enc)
    return folder


def test_off_dataset_samples_and_disk_cache(tmp_path):
    folder = make_layout(tmp_path / 'data')
    cache = tmp_path / 'cache'
    ds = ModelNet10(tmp_path / 'data', split='train', num_points=256, cache_dir=cache)
    assert ds.class_names == ('box', 'tetra') and len(ds) == 6
    assert [ds.get_data_info(i)['label'] for i in range(6)] == [0, 0, 0, 1, 1, 1]
    assert not cache.exists()  # nothing sampled before the first read
    first = ds[0]
    points = first['points']
    assert points.shape == (256, 3) and points.dtype == np.float32 and first['label'] == 0
    np.testing.assert_allclose(points.mean(axis=0), 0, atol=1e-5)
    assert np.linalg.norm(points, axis=1).max() == pytest.approx(1.0, abs=1e-5)
    # the cube's surface survives the normalisation: every point has max |coord - box centre| = one half-size
    rel = np.abs(points - (points.max(axis=0) + points.min(axis=0)) / 2)
    assert np.ptp(rel.max(axis=1)) < 1e-4
    files = sorted((cache / 'modelnet10').glob('*.npy'))
    assert len(files) == 1 and files[0].name.startswith('box_0001-') and files[0].name.endswith('-n256-s0.npy')
    raw = np.load(files[0])
    assert raw.shape == (256, 3)
    np.testing.assert_allclose(normalize_unit_sphere(raw), points, atol=1e-6)
    assert not list((cache / 'modelnet10').glob('*.tmp*'))  # written via a temp file + rename

    # same seed, another instance: identical points; another sample_seed: other points, another cache file
    np.testing.assert_array_equal(ModelNet10(tmp_path / 'data', num_points=256, cache_dir=False)[0]['points'], points)
    other = ModelNet10(tmp_path / 'data', num_points=256, sample_seed=1, cache_dir=cache)[0]['points']
    assert other.shape == (256, 3) and not np.allclose(other, points)
    assert len(list((cache / 'modelnet10').glob('box_0001-*-n256-s1.npy'))) == 1

    # a second instance reads the cached file instead of sampling again: plant a recognisable array in it
    planted = cloud(256, seed=9, stretch=(5.0, 1.0, 1.0))
    np.save(files[0], planted)
    again = ModelNet10(tmp_path / 'data', num_points=256, cache_dir=cache)[0]['points']
    np.testing.assert_allclose(again, normalize_unit_sphere(planted), atol=1e-6)
    # the first instance keeps its cloud in memory: no file read at all
    np.testing.assert_array_equal(ds[0]['points'], points)

    # the cache key includes the mesh's size / mtime: an edited mesh is sampled again, not read from the cache
    mesh = folder / 'box' / 'train' / 'box_0001.off'
    mesh.write_text(off_text(CUBE_V, CUBE_F, scale=3.0))
    os.utime(mesh, ns=(1, 1))
    fresh = ModelNet10(tmp_path / 'data', num_points=256, cache_dir=cache)[0]['points']
    assert not np.allclose(fresh, normalize_unit_sphere(planted), atol=1e-3)
    assert len(list((cache / 'modelnet10').glob('box_0001-*-n256-s0.npy'))) == 2

    # cache_dir=False writes nothing
    ModelNet10(tmp_path / 'data', split='test', num_points=64, cache_dir=False)[0]
    assert not list((cache / 'modelnet10').glob('box_0101-*'))


def test_off_dataset_default_cache_dir_from_env(tmp_path, monkeypatch):
    make_layout(tmp_path / 'data')
    monkeypatch.setenv('PJEPA3D_CACHE_DIR', str(tmp_path / 'env_cache'))
    ds = ModelNet10(tmp_path / 'data' / 'ModelNet10', split='test', num_points=32)
    assert ds[3]['points'].shape == (32, 3) and ds[3]['label'] == 1
    assert [p.name.split('-')[0] for p in (tmp_path / 'env_cache' / 'modelnet10').glob('*.npy')] == ['tetra_0102']


def test_pcd_dataset_binary_and_ascii(tmp_path):
    folder = make_layout(tmp_path / 'data', off=False)
    binary = folder / 'box' / 'train' / 'box_0001.pcd'
    ascii_ = folder / 'box' / 'train' / 'box_0002.pcd'
    assert b'DATA binary' in binary.read_bytes() and 'DATA ascii' in ascii_.read_text()
    np.testing.assert_array_equal(read_pcd_xyz(binary), cloud(64, seed=1, stretch=(4, 1, 1), shift=(100, 0, 0)))
    np.testing.assert_allclose(read_pcd_xyz(ascii_), cloud(64, seed=2, stretch=(4, 1, 1), shift=(100, 0, 0)),
                               rtol=1e-6, atol=1e-5)
    ds = ModelNet10(tmp_path / 'data', split='train', cache_dir=tmp_path / 'cache')
    assert len(ds) == 6
    for i in range(len(ds)):
        sample = ds[i]
        assert sample['points'].shape == (64, 3) and sample['points'].dtype == np.float32
        np.testing.assert_allclose(sample['points'].mean(axis=0), 0, atol=1e-5)
        assert np.linalg.norm(sample['points'], axis=1).max() == pytest.approx(1.0, abs=1e-5)
        np.testing.assert_allclose(sample['points'], normalize_unit_sphere(read_pcd_xyz(sample['file'])), atol=1e-5)
    assert not (tmp_path / 'cache').exists()  # point files are not cached on disk


# ----------------------------------------------------------------------------------------------------------
# bad files: PointCloudError naming the file (and, through the dataset, the sample index)


@pytest.mark.parametrize('kind', ['truncated_faces', 'truncated_vertices', 'bad_header', 'no_counts', 'flat'])
def test_bad_off_raises_naming_the_file(tmp_path, kind):
    path = tmp_path / f'{kind}.off'
    if kind == 'truncated_faces':  # fewer face lines than declared
        path.write_text(off_text(CUBE_V, CUBE_F[:-4], num_faces=12))
        match = 'declares 8 vertices and 12 faces'
    elif kind == 'truncated_vertices':  # cut inside the vertex block
        path.write_text(off_text(CUBE_V, CUBE_F)[:40])
        match = 'cannot read the OFF mesh|the file holds'
    elif kind == 'bad_header':
        path.write_text(off_text(CUBE_V, CUBE_F).replace('OFF', 'PLY', 1))
        match = 'not an OFF file'
    elif kind == 'no_counts':
        path.write_text(off_text(CUBE_V, CUBE_F).replace('8 12 0', 'eight 12 0', 1))
        match = 'malformed OFF header'
    else:  # all faces degenerate: no area to sample
        path.write_text(off_text([(0, 0, 0), (1, 0, 0), (2, 0, 0)], [(0, 1, 2)]))
        match = 'no surface'
    with pytest.raises(PointCloudError, match=match) as err:
        sample_off_surface(path, 128, seed=0)
    assert str(path) in str(err.value)


def test_bad_off_through_dataset_names_file_and_index(tmp_path):
    folder = make_layout(tmp_path / 'data')
    bad = folder / 'tetra' / 'train' / 'tetra_0002.off'
    bad.write_text(off_text(TETRA_V, TETRA_F[:2], num_faces=4))
    ds = ModelNet10(tmp_path / 'data', split='train', num_points=64, cache_dir=tmp_path / 'cache')
    idx = [ds.get_data_info(i)['file'] for i in range(len(ds))].index(str(bad))
    assert idx == 4
    with pytest.raises(PointCloudError) as err:
        ds[idx]
    msg = str(err.value)
    assert str(bad) in msg and f'sample {idx}' in msg and 'truncated' in msg
    assert not list((tmp_path / 'cache' / 'modelnet10').glob('tetra_0002-*'))  # nothing cached for a bad mesh
    assert ds[idx - 1]['points'].shape == (64, 3)  # the other shapes still load


@pytest.mark.parametrize('kind', ['truncated_binary', 'truncated_binary_partial_point', 'truncated_ascii',
                                  'no_xyz', 'no_z'])
def test_bad_pcd_raises_naming_the_file(tmp_path, kind):
    path = tmp_path / f'{kind}.pcd'
    xyz = cloud(100)
    if kind.startswith('truncated_binary'):
        write_pcd(path, xyz)
        raw = path.read_bytes()
        path.write_bytes(raw[:-(12 * 10 if kind == 'truncated_binary' else 12 * 10 + 5)])
        match = ('declares 100 points but the file holds 90' if kind == 'truncated_binary'
                 else 'cannot read the PCD file')
    elif kind == 'truncated_ascii':
        write_pcd(path, xyz, Encoding.ASCII)
        path.write_text('\n'.join(path.read_text().splitlines()[:-7]) + '\n')
        match = 'declares 100 points but the file holds 93'
    elif kind == 'no_xyz':
        PointCloud.from_points(xyz, ('a', 'b', 'c'), (np.float32,) * 3).save(str(path))
        match = r"no \['x', 'y', 'z'\] field"
    else:
        PointCloud.from_points(xyz[:, :2], ('x', 'y'), (np.float32,) * 2).save(str(path))
        match = r"no \['z'\] field"
    with pytest.raises(PointCloudError, match=match) as err:
        read_pcd_xyz(path)
    assert str(path) in str(err.value)


def test_bad_pcd_through_dataset_names_file_and_index(tmp_path):
    folder = make_layout(tmp_path / 'data', off=False)
    truncated = folder / 'box' / 'test' / 'box_0102.pcd'
    truncated.write_bytes(truncated.read_bytes()[:-37])
    no_xyz = folder / 'tetra' / 'test' / 'tetra_0101.pcd'
    PointCloud.from_points(cloud(64), ('a', 'b', 'c'), (np.float32,) * 3).save(str(no_xyz))
    ds = ModelNet10(tmp_path / 'data', split='test')
    files = [ds.get_data_info(i)['file'] for i in range(len(ds))]
    for path in (truncated, no_xyz):
        idx = files.index(str(path))
        with pytest.raises(PointCloudError) as err:
            ds[idx]
        assert str(path) in str(err.value) and f'sample {idx}' in str(err.value)
    assert ds[0]['points'].shape == (64, 3)


def test_missing_root_says_where_and_how_to_get_the_data(tmp_path):
    missing = tmp_path / 'nowhere' / 'ModelNet10'
    with pytest.raises(FileNotFoundError) as err:
        ModelNet10(data_root=str(missing), split='train')
    msg = str(err.value)
    assert str(missing) in msg and 'MODELNET10_ROOT' in msg and '<class>_NNNN.off' in msg, msg
