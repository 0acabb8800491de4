"""tools/test.py (and dist_test.sh): runner.test() on a checkpoint written by tools/train.py."""
import argparse
import pickle
import sys

import pytest
import torch
from mmengine.config import Config, DictAction
from mmengine.dataset import default_collate
from mmengine.runner import load_checkpoint

from pjepa3d.registry import DATASETS, MODELS
from tests.conftest import load_script

from ._utils import EMBED_DIMS, SHRINK, TOOLS, check, free_port, run

TEST_SPLIT = """
test_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False), collate_fn=dict(type='default_collate'),
    dataset=dict(type='SyntheticShapes', split='test', num_samples=8, num_points=128,
                 pipeline=[dict(type='PackPointInputs')]))
test_cfg = dict(type='TestLoop')
"""


@pytest.fixture
def test_config(demo_config, tmp_path):
    """The demo config plus a small test split (pretraining configs have none)."""
    path = tmp_path / 'demo_with_test_split.py'
    path.write_text(f'_base_ = [{str(demo_config)!r}]\n{TEST_SPLIT}')
    return path


def _cfg_options(options):
    """--cfg-options strings -> the dict tools/*.py merge (same parser)."""
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(['--cfg-options', *options]).cfg_options


def _reference_features(config, ckpt, n):
    """Features of the first ``n`` test clouds from the checkpoint's weights, computed here."""
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(_cfg_options(SHRINK))
    model = MODELS.build(cfg.model)
    load_checkpoint(model, str(ckpt), map_location='cpu', logger='silent')
    model.eval()
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    batch = default_collate([dataset[i] for i in range(n)])
    with torch.no_grad():
        return model.extract_feat(batch['inputs'])


def test_test_py_dumps_predictions_from_checkpoint(trained, test_config, tmp_path):
    out = tmp_path / 'preds.pkl'
    proc = check(run([sys.executable, TOOLS / 'test.py', test_config, trained['ckpt'], '--work-dir',
                      tmp_path / 'wd', '--out', out, '--cfg-options', *SHRINK], cwd=tmp_path))
    assert f'Load checkpoint from {trained["ckpt"]}' in proc.stdout
    assert 'test finished' in proc.stdout
    with open(out, 'rb') as f:
        preds = pickle.load(f)
    assert len(preds) == 8
    feats = torch.stack([p['feat'] for p in preds])
    assert feats.shape == (8, 2 * EMBED_DIMS) and torch.isfinite(feats).all()
    # the dumped features are the checkpoint's (load_from worked), not a fresh random init's
    torch.testing.assert_close(feats[:4], _reference_features(test_config, trained['ckpt'], 4), rtol=1e-4, atol=1e-5)


def test_dist_test_two_cpu_processes(trained, test_config, tmp_path):
    out = tmp_path / 'preds.pkl'
    proc = check(run(['bash', TOOLS / 'dist_test.sh', test_config, trained['ckpt'], 2, '--work-dir', tmp_path / 'wd',
                      '--out', out, '--cfg-options', *SHRINK], cwd=tmp_path, PORT=str(free_port())))
    assert 'test finished' in proc.stdout
    with open(out, 'rb') as f:
        preds = pickle.load(f)
    assert len(preds) == 8  # both ranks' halves, collected on rank 0


def test_test_py_without_test_split_fails_clearly(demo_config, trained, tmp_path):
    # the demo config without any test split (whether or not the shipped one grows one)
    no_test = tmp_path / 'demo_without_test_split.py'
    no_test.write_text(f'_base_ = [{str(demo_config)!r}]\ntest_dataloader = None\ntest_cfg = None\n')
    assert Config.fromfile(no_test).get('test_dataloader') is None
    proc = run([sys.executable, TOOLS / 'test.py', no_test, trained['ckpt'], '--work-dir', tmp_path / 'wd'],
               cwd=tmp_path)
    assert proc.returncode != 0
    assert 'has no test split' in proc.stderr and 'Traceback' not in proc.stderr


def _load_test_tool():
    return load_script('tools/test.py')


def test_show_dir_turns_on_the_visualization_hook_as_mmdet3d(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv('LOCAL_RANK', '0')
    tool = _load_test_tool()
    with_hook = tmp_path / 'with_hook.py'
    with_hook.write_text("default_hooks = dict(visualization=dict(type='Det3DVisualizationHook'))\n")
    args = tool.parse_args([str(with_hook), 'x.pth', '--show-dir', 'bev', '--task', 'lidar_det', '--score-thr', '0.3'])
    cfg = tool.trigger_visualization_hook(Config.fromfile(with_hook), args)
    assert cfg.default_hooks.visualization == dict(type='Det3DVisualizationHook', draw=True, test_out_dir='bev',
                                                   vis_task='lidar_det', score_thr=0.3)
    with pytest.raises(SystemExit):
        tool.parse_args([str(with_hook), 'x.pth', '--show-dir', 'bev'])
    assert '--show / --show-dir need --task' in capsys.readouterr().err
    without_hook = tmp_path / 'without_hook.py'
    without_hook.write_text('default_hooks = dict()\n')
    args = tool.parse_args([str(without_hook), 'x.pth', '--show-dir', 'bev', '--task', 'lidar_det'])
    with pytest.raises(SystemExit, match='need a visualization hook'):
        tool.trigger_visualization_hook(Config.fromfile(without_hook), args)
