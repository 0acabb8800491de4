"""pjepa3d.apis: init_model, inference_features / FeatureExtractor on arrays and on files of every format
(written here), the same features as svm_eval.py's path, and the extract_features.py CLI."""
import numpy as np
import pytest
import torch

from pjepa3d.apis import FeatureExtractor, inference_features, init_model, prepare_cloud
from pjepa3d.datasets.point_files import read_points
from pjepa3d.models.utils import CheckpointKeyError
from pjepa3d.registry import MODELS
from pjepa3d.utils.checks import PointCloudError
from tests.conftest import TINY_MODEL, write_toy_modelnet10

N = 300


@pytest.fixture(scope='module')
def cloud():
    rng = np.random.default_rng(0)
    xyz = rng.normal(size=(N, 3)).astype(np.float32) * np.array([3.0, 1.0, 0.5], np.float32) + 7.0
    return xyz


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """A tiny Point-JEPA whose online and target encoders differ, saved as a checkpoint, and its config."""
    root = tmp_path_factory.mktemp('model')
    torch.manual_seed(0)
    model = MODELS.build(TINY_MODEL)
    model.init_weights()
    with torch.no_grad():
        for p in model.backbone.encoder.parameters():
            p.add_(0.05 * torch.randn_like(p))
        for bn in (m for m in model.modules() if isinstance(m, torch.nn.BatchNorm1d)):
            bn.running_mean.uniform_(-0.1, 0.1)
    ckpt = root / 'tiny.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), ckpt)
    config = root / 'tiny.py'
    config.write_text(f"default_scope = 'pjepa3d'\nmodel = {TINY_MODEL!r}\n")
    return dict(model=model.eval(), ckpt=str(ckpt), config=str(config))


def _write_formats(root, xyz):
    """The same cloud in every point-file format; returns {name: path}."""
    import trimesh
    from pypcd4 import PointCloud
    root.mkdir(parents=True, exist_ok=True)
    paths = {}
    paths['pcd'] = root / 'a.pcd'
    PointCloud.from_xyz_points(xyz).save(str(paths['pcd']))
    paths['ply'] = root / 'a.ply'
    trimesh.PointCloud(xyz).export(str(paths['ply']))
    paths['npy'] = root / 'a.npy'
    np.save(paths['npy'], xyz)
    paths['npz'] = root / 'a.npz'
    np.savez(paths['npz'], points=xyz)
    paths['txt'] = root / 'a.txt'  # ModelNet40's comma-separated rows (with normals)
    np.savetxt(paths['txt'], np.concatenate([xyz, np.zeros_like(xyz)], 1), delimiter=',', fmt='%.8f')
    paths['xyz'] = root / 'a.xyz'
    np.savetxt(paths['xyz'], xyz, fmt='%.8f', header='x y z')
    kitti = root / 'kitti' / 'velodyne'
    kitti.mkdir(parents=True)
    paths['kitti'] = kitti / '000001.bin'
    np.concatenate([xyz, np.ones((len(xyz), 1), np.float32)], 1).tofile(paths['kitti'])
    paths['nus'] = root / 'n008__LIDAR_TOP__1533151603547590.pcd.bin'
    np.concatenate([xyz, np.ones((len(xyz), 2), np.float32)], 1).tofile(paths['nus'])
    return paths


def test_every_point_format_reads_the_same_cloud(tmp_path, cloud):
    paths = _write_formats(tmp_path, cloud)
    for name, path in paths.items():
        xyz = read_points(path)[:, :3]
        assert xyz.shape == cloud.shape, name
        np.testing.assert_allclose(xyz, cloud, atol=1e-5, err_msg=name)
    assert read_points(paths['kitti']).shape[1] == 4 and read_points(paths['nus']).shape[1] == 5


def test_features_of_files_equal_features_of_the_array(tmp_path, cloud, trained):
    paths = _write_formats(tmp_path, cloud)
    backbone = init_model(trained['config'], trained['ckpt'], prefix='backbone.')
    ref = inference_features(backbone, cloud, num_points=256)[0]
    assert ref['global'].shape == (64,) and ref['patches'].shape == (16, 32) and ref['centres'].shape == (16, 3)
    out = inference_features(backbone, list(paths.values()), num_points=256)
    for name, res in zip(paths, out):
        np.testing.assert_allclose(res['global'], ref['global'], atol=1e-4, err_msg=name)
        np.testing.assert_allclose(res['patches'], ref['patches'], atol=1e-4, err_msg=name)


def _cube_files(root):
    import trimesh
    root.mkdir(parents=True, exist_ok=True)
    cube = trimesh.creation.box(extents=(2, 2, 2))
    paths = []
    for suffix in ('off', 'ply', 'obj', 'stl'):
        paths.append(root / f'cube.{suffix}')
        cube.export(str(paths[-1]))
    return paths


def test_meshes_are_sampled_on_their_surface_seeded(tmp_path):
    for path in _cube_files(tmp_path):
        pts = read_points(path, num_points=500, seed=3)
        assert pts.shape == (500, 3), path
        # every point of a [-1, 1]^3 cube's surface has a coordinate at +-1
        assert np.allclose(np.abs(pts).max(axis=1), 1.0, atol=1e-5), path
        assert np.array_equal(pts, read_points(path, num_points=500, seed=3))
        assert not np.array_equal(pts, read_points(path, num_points=500, seed=4))


def test_init_model_loads_the_chosen_encoder_strictly(trained, tmp_path):
    model = trained['model']
    target = init_model(trained['config'], trained['ckpt'], prefix='target.')
    online = init_model(trained['config'], trained['ckpt'], prefix='backbone.')
    for k, v in target.state_dict().items():
        assert torch.equal(v, model.target.state_dict()[k]), k
    assert any(not torch.equal(v, online.state_dict()[k]) for k, v in target.state_dict().items())
    assert not target.training and target.cfg.model.type == 'PointJEPA'
    whole = init_model(trained['config'], trained['ckpt'])
    assert type(whole).__name__ == 'PointJEPA' and not whole.training
    for k, v in whole.state_dict().items():
        assert torch.equal(v, model.state_dict()[k]), k
    # a checkpoint missing a tensor is refused unless strict=False
    state = {k: v for k, v in model.state_dict().items() if k != 'backbone.encoder.norm.weight'}
    partial = tmp_path / 'partial.pth'
    torch.save(dict(state_dict=state), partial)
    with pytest.raises(CheckpointKeyError, match=r"1 tensor\(s\) of the backbone were not in the checkpoint "
                                                 r"\['encoder.norm.weight'\]"):
        init_model(trained['config'], str(partial), prefix='backbone.')
    assert init_model(trained['config'], str(partial), prefix='backbone.', strict=False) is not None
    with pytest.raises(RuntimeError, match='norm.weight'):
        init_model(trained['config'], str(partial))


def test_same_features_as_the_svm_protocol(tmp_path, trained):
    from pjepa3d.datasets import ModelNet10
    from pjepa3d.evaluation.svm import extract_features
    root = write_toy_modelnet10(tmp_path / 'mn10', num_points=200, train=3, test=0)
    dataset = ModelNet10(str(root), split='train', num_points=200, cache_dir=False,
                         pipeline=[dict(type='PackPointInputs')])
    backbone = init_model(trained['config'], trained['ckpt'], prefix='target.')
    svm_feats, _ = extract_features(backbone, dataset)
    clouds = [dataset[i]['inputs']['points'] for i in range(len(dataset))]
    api = np.stack([r['global'] for r in FeatureExtractor(backbone, num_points=None, normalize=False)(clouds)])
    np.testing.assert_allclose(api, svm_feats, atol=1e-5)
    # normalising an already unit-sphere cloud changes nothing that matters
    again = np.stack([r['global'] for r in inference_features(backbone, clouds, num_points=None)])
    np.testing.assert_allclose(again, svm_feats, atol=1e-3)  # float rounding of a second centring only


def test_prepare_cloud_normalises_and_reduces_by_fps(cloud):
    prepared = prepare_cloud(cloud, num_points=100)
    assert prepared.shape == (100, 3)
    full = prepare_cloud(cloud, num_points=None)
    assert torch.allclose(full.mean(0), torch.zeros(3), atol=1e-5)
    assert float(full.norm(dim=1).max()) == pytest.approx(1.0, abs=1e-6)
    # FPS keeps the extremes: the farthest point of the normalised cloud survives the reduction
    assert float(prepared.norm(dim=1).max()) == pytest.approx(1.0, abs=1e-6)
    batch = inference_features(MODELS.build(TINY_MODEL['backbone']), np.stack([cloud, cloud[::-1]]), num_points=128)
    assert len(batch) == 2 and batch[0]['patches'].shape == (16, 32)


def test_bad_files_name_the_file_and_the_problem(tmp_path):
    trunc = tmp_path / 'velodyne' / '000002.bin'
    trunc.parent.mkdir()
    np.zeros(4 * 10 + 3, np.float32).tofile(trunc)  # 10 KITTI points + 3 stray floats
    with pytest.raises(PointCloudError, match=r'000002.bin: 172 bytes is not a whole number of 4-float32 points'):
        read_points(trunc)
    ambiguous = tmp_path / 'scan.bin'
    np.zeros(20 * 4, np.float32).tofile(ambiguous)  # 320 bytes: 20 KITTI or 16 nuScenes points
    with pytest.raises(PointCloudError, match=r'scan.bin: cannot tell .* fit both; pass bin_dims=4 or 5'):
        read_points(ambiguous)
    assert read_points(ambiguous, bin_dims=5).shape == (16, 5)
    nan = tmp_path / 'nan.npy'
    arr = np.zeros((10, 3), np.float32)
    arr[4, 1] = np.nan
    np.save(nan, arr)
    with pytest.raises(PointCloudError, match=r'nan.npy: 1 point\(s\) with NaN or inf'):
        read_points(nan)
    flat = tmp_path / 'flat.npy'
    np.save(flat, np.zeros((10, 2), np.float32))
    with pytest.raises(PointCloudError, match=r'flat.npy: expected an \(N, >=3\) array'):
        read_points(flat)
    odd = tmp_path / 'cloud.las'
    odd.write_bytes(b'x')
    with pytest.raises(PointCloudError, match=r"cloud.las: unknown point file type '.las'"):
        read_points(odd)
    with pytest.raises(FileNotFoundError, match='missing.pcd'):
        read_points(tmp_path / 'missing.pcd')


def test_extract_features_cli_writes_what_it_says(tmp_path, cloud, trained, capsys):
    from tests.conftest import load_script
    mod = load_script('tools/analysis_tools/extract_features.py')
    paths = _write_formats(tmp_path / 'in', cloud)
    out = tmp_path / 'out'
    mod.main([trained['config'], trained['ckpt'], str(tmp_path / 'in'), '--out-dir', str(out), '--patches',
              '--num-points', '256', '--prefix', 'target.'])
    files = (out / 'files.txt').read_text().split()
    assert sorted(files) == sorted(str(p) for p in paths.values())
    glob = np.load(out / 'global.npy')
    assert glob.shape == (len(paths), 64)
    backbone = init_model(trained['config'], trained['ckpt'], prefix='target.')
    np.testing.assert_allclose(glob[0], inference_features(backbone, files[0], num_points=256)[0]['global'],
                               atol=1e-6)
    patches = np.load(out / 'patches.npz')
    assert patches['tokens_0'].shape == (16, 32) and patches['centres_0'].shape == (16, 3)
    assert str(out) in capsys.readouterr().out
