"""CPU-only distributed launching: pjepa3d.engine.distributed, dist_train.sh / slurm_train.sh with 2 gloo processes."""
import os

import pytest
import torch
import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.model import MMDistributedDataParallel

from pjepa3d.engine.distributed import adapt_cfg_for_device, has_accelerator
from pjepa3d.registry import MODEL_WRAPPERS

from ._utils import TOOLS, check, free_port, logs, run, shrink

cpu_only = pytest.mark.skipif(has_accelerator(), reason='checks the CPU-only path')


def test_no_launcher_leaves_cfg_alone():
    cfg = Config(dict(env_cfg=dict(dist_cfg=dict(backend='nccl'))))
    adapt_cfg_for_device(cfg, 'none')
    assert cfg.launcher == 'none' and cfg.env_cfg.dist_cfg.backend == 'nccl'
    assert 'model_wrapper_cfg' not in cfg and not torch_dist.is_initialized()


def test_bad_launcher_rejected():
    with pytest.raises(ValueError, match='launcher'):
        adapt_cfg_for_device(Config(dict()), 'pytroch')


@pytest.fixture
def single_process_group(monkeypatch):
    """torchrun's environment for a world of one; the process group is destroyed afterwards."""
    for key, value in dict(RANK='0', LOCAL_RANK='0', WORLD_SIZE='1', MASTER_ADDR='127.0.0.1',
                           MASTER_PORT=str(free_port())).items():
        monkeypatch.setenv(key, value)
    yield
    if torch_dist.is_initialized():
        torch_dist.destroy_process_group()


@cpu_only
def test_mmengine_default_ddp_wrapper_fails_on_cpu(single_process_group):
    """Why the fix exists: device_ids=[LOCAL_RANK] (mmengine's default) is refused for a CPU module."""
    torch_dist.init_process_group('gloo')
    with pytest.raises(ValueError, match='device_ids'):
        MMDistributedDataParallel(module=torch.nn.Linear(2, 2), device_ids=[0])


@cpu_only
@pytest.mark.parametrize('wrapper_cfg', [None, dict(type='MMDistributedDataParallel', find_unused_parameters=True)])
def test_cpu_pytorch_launcher(single_process_group, wrapper_cfg):
    cfg = dict(env_cfg=dict(dist_cfg=dict(backend='nccl', timeout=60)))
    if wrapper_cfg is not None:
        cfg['model_wrapper_cfg'] = wrapper_cfg
    cfg = adapt_cfg_for_device(Config(cfg), 'pytorch')
    assert cfg.launcher == 'pytorch' and cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert torch_dist.is_initialized() and torch_dist.get_backend() == 'gloo'
    assert cfg.model_wrapper_cfg.device_ids is None
    assert cfg.model_wrapper_cfg.find_unused_parameters is (wrapper_cfg is not None)
    # what Runner.wrap_model does with it: its device_ids default must not win
    ddp = MODEL_WRAPPERS.build(cfg.model_wrapper_cfg, default_args=dict(module=torch.nn.Linear(2, 2),
                                                                         device_ids=[0]))
    assert ddp.device_ids is None
    ddp(torch.ones(3, 2)).sum().backward()
    assert ddp.module.weight.grad is not None


def test_dist_train_two_cpu_processes(demo_config, tmp_path):
    """bash tools/dist_train.sh CONFIG 2 from another cwd: 2 processes, gloo on CPU, a checkpoint."""
    work_dir = tmp_path / 'dist'
    proc = check(run(['bash', TOOLS / 'dist_train.sh', demo_config, 2, '--work-dir', 'dist', '--auto-scale-lr',
                      *shrink(1)], cwd=tmp_path, PORT=str(free_port())))
    text = logs(work_dir)
    assert 'world_size=2' in text
    if not has_accelerator():
        assert 'backend=gloo' in text
    # --auto-scale-lr: 2 processes x batch 8 against the config's base_batch_size 32
    assert 'LR is set based on batch size of 32 and the current batch size is 16' in text
    assert f'last checkpoint: {work_dir / "epoch_1.pth"}' in proc.stdout
    ck = torch.load(work_dir / 'epoch_1.pth')
    # 8 samples / 2 ranks / batch 8 -> one iteration per epoch
    assert (ck['meta']['epoch'], ck['meta']['iter']) == (1, 1)
    assert not any(k.startswith('module.') for k in ck['state_dict'])


def test_slurm_scripts_parse():
    for name in ('dist_train.sh', 'dist_test.sh', 'slurm_train.sh', 'slurm_test.sh'):
        proc = run(['bash', '-n', TOOLS / name], cwd=TOOLS)
        assert proc.returncode == 0, proc.stderr


FAKE_SRUN = r'''#!/usr/bin/env bash
# stand-in for slurm's srun: runs the command --ntasks times here, with slurm's per-task environment
NTASKS=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --ntasks=*) NTASKS=${1#--ntasks=}; shift;;
    -p) shift 2;;
    --*) shift;;
    *) break;;
  esac
done
pids=()
for ((i=0; i<NTASKS; i++)); do
  SLURM_PROCID=$i SLURM_NTASKS=$NTASKS SLURM_NODELIST=node0 SLURM_LOCALID=$i "$@" &
  pids+=($!)
done
rc=0; for p in "${pids[@]}"; do wait "$p" || rc=$?; done; exit $rc
'''


@pytest.mark.slow
def test_slurm_train_two_cpu_tasks(demo_config, tmp_path):
    """slurm_train.sh through a stand-in srun (2 tasks) and scontrol: the slurm launcher on CPU."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    (bin_dir / 'srun').write_text(FAKE_SRUN)
    (bin_dir / 'scontrol').write_text('#!/usr/bin/env bash\necho 127.0.0.1\n')
    for f in bin_dir.iterdir():
        f.chmod(0o755)
    work_dir = tmp_path / 'slurm'
    check(run(['bash', TOOLS / 'slurm_train.sh', 'partition', 'job', demo_config, work_dir, *shrink(1)],
              cwd=tmp_path, PATH=f'{bin_dir}{os.pathsep}{os.environ["PATH"]}', GPUS='2', GPUS_PER_NODE='2',
              MASTER_PORT=str(free_port())))
    text = logs(work_dir)
    assert 'launcher=slurm' in text and 'world_size=2' in text
    assert (work_dir / 'epoch_1.pth').is_file()
