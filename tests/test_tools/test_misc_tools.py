"""print_config.py, publish_model.py and get_flops.py on real configs and a real training checkpoint."""
import hashlib
import re

import torch
from mmengine.config import Config
from tests.conftest import load_script

from ._utils import DEMO_CONFIG, ROOT


def _tool(rel):
    return load_script(f'tools/{rel}')


def test_print_config_resolves_bases_and_overrides(tmp_path, capsys):
    out = tmp_path / 'resolved.py'
    cfg = _tool('misc/print_config.py').main([str(DEMO_CONFIG), '--cfg-options', 'model.backbone.encoder.depth=3',
                                              '--save-path', str(out)])
    text = capsys.readouterr().out
    assert 'depth=3' in text and "type='PointJEPA'" in text and str(out) in text
    saved = Config.fromfile(str(out))
    assert saved.model.backbone.encoder.depth == 3
    assert saved.to_dict() == cfg.to_dict()
    assert saved.train_cfg.to_dict() == Config.fromfile(str(DEMO_CONFIG)).train_cfg.to_dict()  # _base_ merged


def test_publish_model_strips_training_state_and_names_the_hash(trained, tmp_path, capsys):
    src = trained['ckpt']
    final = _tool('model_converters/publish_model.py').main([str(src), str(tmp_path / 'pub' / 'pointjepa.pth')])
    m = re.fullmatch(r'pointjepa-([0-9a-f]{8})\.pth', final.split('/')[-1])
    assert m, final
    assert hashlib.sha256(open(final, 'rb').read()).hexdigest().startswith(m.group(1))
    assert final.split('/')[-1] in capsys.readouterr().out
    full, slim = torch.load(src, map_location='cpu'), torch.load(final, map_location='cpu')
    assert 'optimizer' in full and set(slim) == {'state_dict', 'meta'}
    assert slim['state_dict'].keys() == full['state_dict'].keys()
    assert all(torch.equal(slim['state_dict'][k], v) for k, v in full['state_dict'].items())
    assert len(open(final, 'rb').read()) < len(open(src, 'rb').read())
    assert [p.name for p in (tmp_path / 'pub').iterdir()] == [final.split('/')[-1]]  # no temp file left
    # the published file builds the model strictly through the API
    from pjepa3d.apis import init_model
    shrunk = Config.fromfile(str(trained['work_dir'] / f'{DEMO_CONFIG.stem}.py'))
    model = init_model(shrunk, final)
    for k, v in model.state_dict().items():
        assert torch.equal(v, full['state_dict'][k]), k


def test_get_flops_counts_the_backbone(capsys):
    info = _tool('analysis_tools/get_flops.py').main(
        [str(DEMO_CONFIG), '--num-points', '512', '--cfg-options', 'model.backbone.tokenizer.num_groups=32'])
    from pjepa3d.registry import MODELS
    cfg = Config.fromfile(str(DEMO_CONFIG))
    cfg.model.backbone.tokenizer.num_groups = 32
    backbone = MODELS.build(cfg.model.backbone)
    assert info['params'] == sum(p.numel() for p in backbone.parameters())
    # each ViT-T block's linear layers alone: 12 D^2 multiply-adds per token (qkv 3, proj 1, MLP 4 + 4)
    m, d = 32, backbone.embed_dims
    block = re.search(r'encoder\.blocks\.0\s*\|\s*[\d.]+[KM]\s*\|\s*([\d.]+)M', info['out_table'])
    assert block and float(block.group(1)) * 1e6 >= 12 * m * d * d
    assert 'FLOPs:' in capsys.readouterr().out


def _has_colour(png, hex_colour, min_pixels=20):
    import matplotlib.image as mpimg
    import numpy as np
    img = mpimg.imread(png)[..., :3]
    rgb = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255.0
    return int((np.abs(img - rgb).max(axis=-1) < 0.04).sum()) >= min_pixels


def test_browse_dataset_writes_one_picture_per_sample_with_the_masks(tmp_path, capsys):
    out = tmp_path / 'browse'
    paths = _tool('misc/browse_dataset.py').main([str(DEMO_CONFIG), '--num-samples', '2', '--start', '3',
                                                  '--output-dir', str(out), '--cfg-options',
                                                  'train_dataloader.dataset.num_samples=8'])
    assert sorted(p.name for p in out.iterdir()) == ['train_00003.png', 'train_00004.png']
    assert [str(out / 'train_00003.png'), str(out / 'train_00004.png')] == paths
    for png in paths:  # context blue and the first target block's red are both drawn
        assert _has_colour(png, '#1f77b4') and _has_colour(png, '#d62728')
    assert str(out) in capsys.readouterr().out


def test_visualize_mask_uses_the_configs_dataset_and_its_seed(tmp_path):
    from tests.conftest import write_toy_modelnet10
    root = write_toy_modelnet10(tmp_path / 'mn10', num_points=256, train=2, test=1)
    config = ROOT / 'configs' / 'point_jepa' / 'pointjepa_vit-t_1xb32-400i_modelnet10.py'
    tool = _tool('analysis_tools/visualize_mask.py')

    def picture(name, seed):
        return tool.main([str(config), '--index', '1', '--seed', str(seed), '--out', str(tmp_path / name),
                          '--cfg-options', f'train_dataloader.dataset.data_root={root}',
                          'train_dataloader.dataset.cache_dir=False', 'train_dataloader.dataset.num_points=256',
                          'train_dataloader.dataset.val_ratio=0.0', 'model.backbone.tokenizer.num_groups=16',
                          'model.backbone.tokenizer.group_size=16'])

    png = picture('a.png', 0)
    assert png == str(tmp_path / 'a.png') and _has_colour(png, '#1f77b4') and _has_colour(png, '#d62728')
    # the masker's draw follows --seed alone
    assert open(picture('b.png', 0), 'rb').read() == open(png, 'rb').read()
    assert open(picture('c.png', 1), 'rb').read() != open(png, 'rb').read()


def test_tensorboard_option_writes_event_files(tmp_path):
    import sys

    from ._utils import TOOLS, check, run, shrink
    check(run([sys.executable, TOOLS / 'train.py', DEMO_CONFIG, '--work-dir', tmp_path / 'tb', *shrink(1)],
              cwd=tmp_path, PJEPA3D_TENSORBOARD='1'))
    events = list((tmp_path / 'tb').glob('*/vis_data/events.out.tfevents.*'))
    assert events and events[0].stat().st_size > 0
    check(run([sys.executable, TOOLS / 'train.py', DEMO_CONFIG, '--work-dir', tmp_path / 'plain', *shrink(1)],
              cwd=tmp_path))
    assert not list((tmp_path / 'plain').glob('*/vis_data/events.out.tfevents.*'))


def _tsne_setup(tmp_path):
    """(config, checkpoint of a seeded ViT-T with 16 patches of 16 points, --cfg-options) on a toy ModelNet10."""
    from pjepa3d.registry import MODELS
    from tests.conftest import write_toy_modelnet10
    root = write_toy_modelnet10(tmp_path / 'mn10', num_points=256, train=8, test=8)
    config = ROOT / 'configs' / 'point_jepa' / 'benchmarks' / 'pointjepa_vit-t-demo_modelnet10-svm.py'
    options = [f'{d}_dataloader.dataset.{k}={v}' for d in ('train', 'test')
               for k, v in (('data_root', root), ('cache_dir', False), ('num_points', 256))]
    options += ['model.backbone.tokenizer.num_groups=16', 'model.backbone.tokenizer.group_size=16']
    cfg = Config.fromfile(str(config))
    cfg.merge_from_dict(dict(o.split('=', 1) for o in options[-2:]))
    torch.manual_seed(5)
    backbone = MODELS.build(cfg.model.backbone)
    ckpt = tmp_path / 'pre.pth'
    torch.save(dict(state_dict={f'backbone.{k}': v for k, v in backbone.state_dict().items()}), ckpt)
    return config, ckpt, options


def test_tsne_picture_of_pretrained_and_random_init(tmp_path, capsys):
    config, ckpt, options = _tsne_setup(tmp_path)
    out, panels = _tool('analysis_tools/visualize_tsne.py').main(
        [str(config), str(ckpt), '--prefix', 'backbone.', '--calib-samples', '16', '--perplexity', '5',
         '--out', str(tmp_path / 'tsne.png'), '--cfg-options', *options])
    assert out == str(tmp_path / 'tsne.png') and (tmp_path / 'tsne.png').stat().st_size > 10000
    assert [p[0] for p in panels] == ['pretrained (backbone)', 'random init (seed 0), BN calibrated']
    for title, points, labels, separation in panels:
        assert points.shape == (24, 2) and sorted(set(labels.tolist())) == [0, 1, 2]
        assert separation >= 90, (title, separation)  # balls, plates and rods fall apart in any encoder's plane
    assert 't-SNE picture written to' in capsys.readouterr().out


def test_tsne_from_the_features_svm_eval_saved(tmp_path, capsys):
    """svm_eval.py --save-features writes every encoder's train / test features; visualize_tsne.py --features draws
    the same picture from them as from its own extraction (the demo's t-SNE step without a second extraction)."""
    import numpy as np
    import pytest

    from pjepa3d.evaluation.svm import load_features
    config, ckpt, options = _tsne_setup(tmp_path)
    rows = _tool('analysis_tools/svm_eval.py').main(
        [str(config), str(ckpt), '--prefix', 'backbone.', '--baselines', 'calibrated', '--init-seeds', '0', '1',
         '--calib-samples', '16', '--num-seeds', '1', '--C', '1.0', '--save-features', '--out-dir', str(tmp_path / 'e'),
         '--cfg-options', *options])
    npz = tmp_path / 'e' / 'features.npz'
    assert f'features (train / test, first SVM seed) of 3 encoders written to {npz}' in capsys.readouterr().out
    x, y, info = load_features(npz, 'train', kind='calibrated', init_seed=1)
    assert x.shape == (24, 384) and y.tolist() == sorted(y.tolist()) and info['bn_calibration_clouds'] == 16
    assert info['classes'] == ['ball', 'plate', 'rod'] and info['encoder'] == rows[2]['encoder']
    tsne = _tool('analysis_tools/visualize_tsne.py')
    common = [str(config), str(ckpt), '--prefix', 'backbone.', '--perplexity', '5', '--cfg-options', *options]
    _, extracted = tsne.main([*common, '--calib-samples', '16', '--out', str(tmp_path / 'a.png')])
    capsys.readouterr()
    _, loaded = tsne.main([*common, '--features', str(npz), '--out', str(tmp_path / 'b.png')])
    assert 'not extracted again' in capsys.readouterr().out
    for a, b in zip(extracted, loaded):
        assert a[0] == b[0] and a[3] == b[3] and np.array_equal(a[1], b[1]) and np.array_equal(a[2], b[2])
    with pytest.raises(ValueError, match=r'features.npz: no feature entries with kind=.calibrated., init_seed=2'):
        tsne.main([*common, '--features', str(npz), '--init-seed', '2'])
    with pytest.raises(SystemExit, match='calibrated on 16 clouds, not --calib-samples 8'):
        tsne.main([*common, '--features', str(npz), '--calib-samples', '8'])
    with pytest.raises(SystemExit):  # svm_eval has no val split
        tsne.main([*common, '--features', str(npz), '--split', 'val'])
