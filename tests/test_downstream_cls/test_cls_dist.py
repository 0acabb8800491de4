"""dist_test.sh on a classification protocol: 2 CPU processes (gloo) give the single-process metrics."""
import re
import sys

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from pjepa3d.registry import MODELS
from tests.test_tools._utils import ROOT, TOOLS, check, free_port, run
from .conftest import write_tiny_cfg

FT = 'pointjepa_vit-t-demo_1xb16-20e_ft_modelnet40subset.py'


def _metrics(stdout):
    found = re.findall(r"'accuracy/overall': ([\d.]+).*?'accuracy/mean_class': ([\d.]+)", stdout)
    assert found, stdout[-3000:]
    return tuple(float(v) for v in found[-1])


def test_dist_test_matches_single_process(modelnet_subset, tmp_path):
    # batch 4 over 29 test shapes: uneven shards, so the collected results must drop the sampler's padding
    cfg_path = write_tiny_cfg(tmp_path / 'ft.py', FT, modelnet_subset, num_votes=1,
                              extra="test_dataloader['batch_size'] = 4\n")
    init_default_scope('pjepa3d')
    torch.manual_seed(3)
    model = MODELS.build(Config.fromfile(cfg_path).model)
    ckpt = tmp_path / 'classifier.pth'
    torch.save(dict(meta=dict(epoch=1), state_dict=model.state_dict()), ckpt)

    single = check(run([sys.executable, TOOLS / 'test.py', cfg_path, ckpt, '--work-dir', tmp_path / 'one'],
                       cwd=ROOT))
    dist = check(run(['bash', TOOLS / 'dist_test.sh', cfg_path, ckpt, 2, '--work-dir', tmp_path / 'two'],
                     cwd=ROOT, PORT=str(free_port())))
    overall, mean_class = _metrics(single.stdout + single.stderr)
    assert _metrics(dist.stdout + dist.stderr) == (overall, mean_class)
    # 29 shapes: an accuracy that is a multiple of 1/29 shows every test shape was counted exactly once
    assert abs(overall * 29 / 100 - round(overall * 29 / 100)) < 1e-3


def test_dist_train_through_the_freeze_and_unfreeze(modelnet_subset, tmp_path):
    """dist_train.sh, 2 gloo processes, the fine-tune config: DDP must accept a backbone without gradients
    in the frozen epoch and with gradients after it (find_unused_parameters)."""
    cfg_path = write_tiny_cfg(tmp_path / 'ft.py', FT, modelnet_subset, max_epochs=2, freeze_epochs=1, num_votes=1)
    proc = check(run(['bash', TOOLS / 'dist_train.sh', cfg_path, 2, '--work-dir', tmp_path / 'work'],
                     cwd=ROOT, PORT=str(free_port())))
    assert (tmp_path / 'work' / 'epoch_2.pth').is_file(), proc.stdout[-2000:]
    ckpt = torch.load(tmp_path / 'work' / 'epoch_2.pth', map_location='cpu', weights_only=False)
    assert ckpt['meta']['epoch'] == 2
