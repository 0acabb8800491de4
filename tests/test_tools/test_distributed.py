"""CPU-only distributed launching: pjepa3d.engine.distributed, dist_train.sh / slurm_train.sh with 2 gloo processes."""
import os
import sys

import pytest
import torch
import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.model import MMDistributedDataParallel

from pjepa3d.engine.distributed import adapt_cfg_for_device, has_accelerator, leave_process_group
from pjepa3d.registry import MODEL_WRAPPERS

from ._utils import ROOT, TOOLS, check, free_port, logs, run, shrink

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


def test_leave_process_group(single_process_group):
    """tools/train.py and tools/test.py end with it: the default group is gone, and a second call is harmless."""
    torch_dist.init_process_group('gloo')
    assert torch_dist.is_initialized()
    leave_process_group()
    assert not torch_dist.is_initialized()
    leave_process_group()
    assert not torch_dist.is_initialized()


END_PROCESS = r'''
import atexit, sys
import torch, torch.distributed as torch_dist
from pjepa3d.engine.distributed import leave_process_group
torch_dist.init_process_group('gloo')
ddp = torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(2, 2))  # keeps the group's threads alive
ddp(torch.ones(3, 2)).sum().backward()
atexit.register(lambda: open(sys.argv[1], 'w').write('atexit ran'))
sys.stdout.write('written before, not flushed')  # block-buffered: stdout is a pipe and -u is not set
leave_process_group(end_process=True)
print('after the end')
'''


def test_leave_process_group_can_end_the_process(tmp_path):
    """What the command lines do: after the group is left, atexit handlers run, buffered output is flushed and
    the process ends with 0 before anything after the call (and before the C++ teardown)."""
    marker = tmp_path / 'atexit.txt'
    env = dict(RANK='0', LOCAL_RANK='0', WORLD_SIZE='1', MASTER_ADDR='127.0.0.1', MASTER_PORT=str(free_port()),
               PYTHONPATH=str(ROOT), PYTHONUNBUFFERED='')
    proc = check(run([sys.executable, '-c', END_PROCESS, marker], cwd=tmp_path, **env))
    assert proc.stdout == 'written before, not flushed'
    assert marker.read_text() == 'atexit ran'


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


RECORD_ARGS = r'''#!/usr/bin/env bash
# stand-in for {what}: writes its arguments (one per line) and PYTHONPATH to $RECORD_FILE
printf '%s\n' "PYTHONPATH=$PYTHONPATH" "$@" > "$RECORD_FILE"
'''


def _recorder(bin_dir, name, what):
    bin_dir.mkdir(exist_ok=True)
    path = bin_dir / name
    path.write_text(RECORD_ARGS.format(what=what))
    path.chmod(0o755)
    return path


def _recorded(record):
    lines = record.read_text().splitlines()
    assert lines[0].startswith('PYTHONPATH=')
    return lines[0][len('PYTHONPATH='):].split(os.pathsep), lines[1:]


@pytest.mark.parametrize('script', ['dist_train.sh', 'dist_test.sh'])
def test_dist_scripts_build_the_torchrun_command(tmp_path, script):
    """The command dist_*.sh hands to the interpreter: torchrun's options from the environment, the tool,
    its positional arguments, --launcher pytorch, then the user's arguments verbatim (one with a space too)."""
    record = tmp_path / 'argv.txt'
    fake_python = _recorder(tmp_path / 'bin', 'python', 'the interpreter')
    tool, positional = ('train.py', ['cfg.py', '2']) if script == 'dist_train.sh' else \
        ('test.py', ['cfg.py', 'ckpt.pth', '2'])
    extra = ['--work-dir', 'a dir', '--cfg-options', 'x=1']
    check(run(['bash', TOOLS / script, *positional, *extra], cwd=tmp_path, PYTHON=str(fake_python),
              RECORD_FILE=str(record), NNODES='3', NODE_RANK='1', PORT='29611', MASTER_ADDR='10.1.2.3'))
    pythonpath, argv = _recorded(record)
    assert argv == ['-m', 'torch.distributed.run', '--nnodes=3', '--node_rank=1', '--master_addr=10.1.2.3',
                    '--nproc_per_node=2', '--master_port=29611', f'{TOOLS}/{tool}', *positional[:-1],
                    '--launcher', 'pytorch', *extra]
    assert os.path.samefile(pythonpath[0], TOOLS.parent)  # the repo first on the path (tools/..)
    # defaults: one node, rank 0, port 29500 on 127.0.0.1
    check(run(['bash', TOOLS / script, *positional], cwd=tmp_path, PYTHON=str(fake_python),
              RECORD_FILE=str(record)))
    assert _recorded(record)[1][2:7] == ['--nnodes=1', '--node_rank=0', '--master_addr=127.0.0.1',
                                         '--nproc_per_node=2', '--master_port=29500']


@pytest.mark.parametrize('script', ['slurm_train.sh', 'slurm_test.sh'])
def test_slurm_scripts_build_the_srun_command(tmp_path, script):
    """The srun command: partition, job name, GPUs / tasks / CPUs from the environment, SRUN_ARGS, then the tool
    with --launcher=slurm and the user's arguments verbatim."""
    record = tmp_path / 'argv.txt'
    bin_dir = tmp_path / 'bin'
    _recorder(bin_dir, 'srun', "slurm's srun")
    fourth, tool, tail = (('work dir', 'train.py', ['--work-dir=work dir']) if script == 'slurm_train.sh'
                          else ('ckpt.pth', 'test.py', ['ckpt.pth']))
    extra = ['--cfg-options', 'a=1 2']
    check(run(['bash', TOOLS / script, 'gpu-part', 'jepa', 'cfg.py', fourth, *extra], cwd=tmp_path,
              PATH=f'{bin_dir}{os.pathsep}{os.environ["PATH"]}', RECORD_FILE=str(record), GPUS='16',
              GPUS_PER_NODE='4', CPUS_PER_TASK='6', SRUN_ARGS='--qos=low --time=10', PYTHON='py3'))
    pythonpath, argv = _recorded(record)
    assert argv == ['-p', 'gpu-part', '--job-name=jepa', '--gres=gpu:4', '--ntasks=16', '--ntasks-per-node=4',
                    '--cpus-per-task=6', '--kill-on-bad-exit=1', '--qos=low', '--time=10', 'py3', '-u',
                    f'{TOOLS}/{tool}', 'cfg.py', *tail, '--launcher=slurm', *extra]
    assert os.path.samefile(pythonpath[0], TOOLS.parent)
    # defaults: 8 GPUs per node, 8 tasks, 5 CPUs each, python
    check(run(['bash', TOOLS / script, 'p', 'j', 'cfg.py', fourth], cwd=tmp_path,
              PATH=f'{bin_dir}{os.pathsep}{os.environ["PATH"]}', RECORD_FILE=str(record), PYTHON=''))
    argv = _recorded(record)[1]
    assert argv[3:7] == ['--gres=gpu:8', '--ntasks=8', '--ntasks-per-node=8', '--cpus-per-task=5']
    assert argv[8:10] == ['python', '-u']


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
