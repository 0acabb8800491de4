"""Helpers for the tools tests: the real demo config, shrunk through --cfg-options, run in subprocesses."""
import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / 'tools'
DEMO_CONFIG = ROOT / 'configs' / 'point_jepa' / 'pointjepa_vit-t_1xb32-demo_synthetic.py'
STEM = DEMO_CONFIG.stem

# ViT-T demo -> a few-thousand-parameter model on 8 clouds of 128 points: one iteration per epoch
# (epoch loop: mmengine's iteration loop sleeps 2 s whenever a finite dataloader restarts)
SHRINK = [
    'model.backbone.tokenizer.num_groups=8', 'model.backbone.tokenizer.group_size=8',
    'model.backbone.tokenizer.embed_dims=32', 'model.backbone.tokenizer.hidden_dims=[16,32,32]',
    'model.backbone.encoder.embed_dims=32', 'model.backbone.encoder.depth=1', 'model.backbone.encoder.num_heads=2',
    'model.head.predictor.in_dims=32', 'model.head.predictor.embed_dims=16', 'model.head.predictor.depth=1',
    'model.head.predictor.num_heads=2',
    'train_dataloader.batch_size=8', 'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
    'train_dataloader.dataset.num_samples=8', 'train_dataloader.dataset.num_points=128',
    'default_hooks.logger.interval=1', 'default_hooks.checkpoint.interval=1',
]
EMBED_DIMS = 32


def shrink(max_epochs=1, *extra):
    return ['--cfg-options', *SHRINK, f'train_cfg.max_epochs={max_epochs}', *extra]


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def tool_env(heap=True, **extra):
    """The environment of a tool run as a subprocess: no distributed variables and no PYTHONPATH, one thread, then
    ``extra``. With ``heap`` (default), glibc's :data:`~pjepa3d.utils.HEAP_ENV` where unset: ``tools/train.py`` on
    a CPU keeps the heap by default by re-executing itself with these variables, and a child that starts with them
    takes the same path (``--keep-heap: on``) without that second start (about 4 s a process on a first-generation
    2-core EPYC: the shrunk demo config 11.1-12.0 s by default, 7.2-7.3 s started with them). ``heap=False`` removes
    them (the tests of the restart itself)."""
    from pjepa3d.utils import HEAP_ENV
    env = {k: v for k, v in os.environ.items()
           if k not in ('RANK', 'LOCAL_RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT', 'PYTHONPATH')
           and (heap or k not in HEAP_ENV)}
    if heap:
        env = {**HEAP_ENV, **env}
    # one thread per process: the 2-core machine is shared by the test processes
    env.update(OMP_NUM_THREADS='1', MKL_NUM_THREADS='1', PYTHON=sys.executable, PYTHONUNBUFFERED='1')
    env.update(extra)
    return env


def run(cmd, cwd, timeout=180, heap=True, **env):
    """Run ``cmd`` with :func:`tool_env` (``heap``, ``env``); return the CompletedProcess (text, stdout and stderr
    captured)."""
    proc = subprocess.run([str(c) for c in cmd], cwd=str(cwd), env=tool_env(heap, **env), capture_output=True,
                          text=True, timeout=timeout)
    return proc


def check(proc):
    assert proc.returncode == 0, f'exit {proc.returncode}\n--- stdout\n{proc.stdout[-4000:]}\n' \
                                 f'--- stderr\n{proc.stderr[-6000:]}'
    return proc


def logs(work_dir):
    """Text of every mmengine log file under ``work_dir``."""
    return '\n'.join(p.read_text() for p in sorted(Path(work_dir).glob('*/*.log')))
