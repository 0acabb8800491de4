"""tools/train.py: mmdet3d 1.x flags, run for real on the shrunk demo config."""
import os
import os.path as osp
import platform
import subprocess
import sys

import pytest
import torch

from pjepa3d.engine.distributed import has_accelerator
from pjepa3d.engine.optimizers import cpu_has_bf16_path
from tests.conftest import load_script

from ._utils import DEMO_CONFIG, ROOT, SHRINK, STEM, TOOLS, check, run, shrink


def _load_tool(name):
    return load_script(f'tools/{name}.py')


@pytest.fixture(scope='module')
def train_tool():
    return _load_tool('train')


def test_flags(train_tool, demo_config, monkeypatch):
    monkeypatch.delenv('LOCAL_RANK', raising=False)
    cfg_path = str(demo_config)
    args = train_tool.parse_args([cfg_path])
    assert args.resume is None and args.launcher == 'none' and not args.amp
    assert train_tool.parse_args([cfg_path, '--resume']).resume == 'auto'
    assert train_tool.parse_args([cfg_path, '--resume', 'a/epoch_3.pth']).resume == 'a/epoch_3.pth'
    assert train_tool.parse_args([cfg_path, '--local-rank', '1']).local_rank == 1
    assert train_tool.parse_args([cfg_path, '--local_rank', '1']).local_rank == 1

    cfg = train_tool.build_cfg(train_tool.parse_args([cfg_path]))
    assert cfg.work_dir == osp.join('./work_dirs', STEM)
    assert cfg.default_scope == 'pjepa3d' and cfg.resume is False and cfg.auto_scale_lr.enable is False

    cfg = train_tool.build_cfg(train_tool.parse_args([cfg_path, '--work-dir', 'wd', '--amp', '--auto-scale-lr',
                                                      '--resume', '--cfg-options', 'train_cfg.max_epochs=3']))
    assert cfg.work_dir == 'wd' and cfg.train_cfg.max_epochs == 3
    if has_accelerator():  # mmdet3d's behaviour
        assert cfg.optim_wrapper.type == 'AmpOptimWrapper' and cfg.optim_wrapper.loss_scale == 'dynamic'
    elif cpu_has_bf16_path():  # mmengine's AmpOptimWrapper cannot be built on a CPU: bfloat16 autocast instead
        assert cfg.optim_wrapper.type == 'pjepa3d.BF16AmpOptimWrapper' and cfg.optim_wrapper.dtype == 'bfloat16'
        assert 'loss_scale' not in cfg.optim_wrapper
    else:  # bfloat16 would be many times slower than float32 here
        assert cfg.optim_wrapper.type == 'OptimWrapper'
    assert cfg.auto_scale_lr.enable is True
    assert cfg.resume is True and cfg.load_from is None

    cfg = train_tool.build_cfg(train_tool.parse_args([cfg_path, '--resume', 'x.pth']))
    assert cfg.resume is True and cfg.load_from == 'x.pth'


@pytest.mark.parametrize('bf16_path', [True, False])
def test_amp_on_a_cpu_follows_the_bf16_path(train_tool, demo_config, monkeypatch, bf16_path):
    """--amp without an accelerator: bfloat16 autocast where oneDNN has a bfloat16 path, float32 (OptimWrapper
    kept) where it has none; a config that already selects BF16AmpOptimWrapper is left as it is either way."""
    monkeypatch.setattr(train_tool, 'has_accelerator', lambda: False)
    monkeypatch.setattr(train_tool, 'cpu_has_bf16_path', lambda: bf16_path)
    cfg = train_tool.build_cfg(train_tool.parse_args([str(demo_config), '--amp']))
    assert cfg.optim_wrapper.type == ('pjepa3d.BF16AmpOptimWrapper' if bf16_path else 'OptimWrapper')
    cfg = train_tool.build_cfg(train_tool.parse_args([str(demo_config), '--amp', '--cfg-options',
                                                      'optim_wrapper.type=pjepa3d.BF16AmpOptimWrapper']))
    assert cfg.optim_wrapper.type == 'pjepa3d.BF16AmpOptimWrapper'


def test_train_default_work_dir_and_report(trained):
    work_dir = trained['work_dir']
    assert (work_dir / 'epoch_1.pth').is_file()
    assert (work_dir / 'last_checkpoint').read_text().strip() == str(work_dir / 'epoch_1.pth')
    out = trained['proc'].stdout
    assert f'work dir:        {work_dir}' in out
    assert f'last checkpoint: {work_dir / "epoch_1.pth"}' in out


def _no_epoch_1(stdout):
    return 'Epoch(train) [1]' not in stdout


def test_resume_auto(trained_copy):
    proc = check(run([sys.executable, TOOLS / 'train.py', DEMO_CONFIG, '--work-dir', trained_copy, '--resume',
                      *shrink(2)], cwd=trained_copy))
    assert f'Auto resumed from the latest checkpoint {trained_copy / "epoch_1.pth"}' in proc.stdout
    assert 'resumed epoch: 1, iter: 1' in proc.stdout
    assert _no_epoch_1(proc.stdout) and 'Epoch(train) [2][1/1]' in proc.stdout
    ck = torch.load(trained_copy / 'epoch_2.pth')
    assert (ck['meta']['epoch'], ck['meta']['iter']) == (2, 2)
    assert int(ck['optimizer']['state'][0]['step']) == 2  # AdamW continued, not restarted


def test_resume_from_path(trained, tmp_path):
    work_dir = tmp_path / 'resumed'
    proc = check(run([sys.executable, TOOLS / 'train.py', DEMO_CONFIG, '--work-dir', work_dir,
                      '--resume', trained['ckpt'], *shrink(2)], cwd=tmp_path))
    assert 'resumed epoch: 1, iter: 1' in proc.stdout
    assert _no_epoch_1(proc.stdout)
    assert not (work_dir / 'epoch_1.pth').exists() and (work_dir / 'epoch_2.pth').is_file()
    ck = torch.load(work_dir / 'epoch_2.pth')
    assert (ck['meta']['epoch'], ck['meta']['iter']) == (2, 2)


@pytest.mark.skipif(has_accelerator(), reason='checks the CPU behaviour of --amp')
def test_amp_on_cpu_trains_in_bfloat16_where_the_cpu_has_a_bf16_path(demo_config, tmp_path):
    """--amp on a CPU with a oneDNN bfloat16 path: bfloat16 autocast, no loss scaler, float32 weights saved, a
    finite loss; with --no-keep-heap the process is not restarted and, on glibc, the log points at --keep-heap. On a
    CPU without one (AVX2 only): float32, and the log says why and how to force bfloat16."""
    proc = check(run([sys.executable, TOOLS / 'train.py', demo_config, '--work-dir', tmp_path / 'amp', '--amp',
                      '--no-keep-heap', *shrink(1)], cwd=tmp_path, heap=False))
    out = proc.stdout + proc.stderr
    bf16 = cpu_has_bf16_path()
    assert ('--amp on a CPU: bfloat16 autocast (pjepa3d.BF16AmpOptimWrapper)' in out) == bf16
    assert ('this CPU has no oneDNN bfloat16 path' in out) == (not bf16)
    assert ('this run trains in float32. For bfloat16 anyway: --cfg-options '
            'optim_wrapper.type=pjepa3d.BF16AmpOptimWrapper' in out) == (not bf16)
    assert '--keep-heap: restarting' not in out
    hint = bf16 and platform.libc_ver()[0] == 'glibc'  # heap=False: the child has none of HEAP_ENV
    assert ('--keep-heap (Linux) makes a CPU step faster' in out) == hint
    ck = torch.load(tmp_path / 'amp' / 'epoch_1.pth')
    assert 'loss_scaler' not in ck['optimizer']  # bf16 needs none
    assert all(v.dtype == torch.float32 for v in ck['state_dict'].values() if v.is_floating_point())
    loss = float(out.split('Epoch(train) [1][1/1]')[1].split('loss: ')[1].split()[0])
    assert loss == loss and abs(loss) < 1e6  # finite


@pytest.mark.skipif(platform.libc_ver()[0] != 'glibc' or has_accelerator(),
                    reason='the heap is kept by default when training on a CPU with glibc')
def test_cpu_training_restarts_once_with_the_glibc_variables_by_default(demo_config, tmp_path):
    """By default (no --keep-heap flag) a CPU run re-executes the same command line with HEAP_ENV set (the restarted
    process reads them from its own environment and says so), exactly once, and then trains as without it (--amp
    included, without the hint); a value the user set is kept."""
    from pjepa3d.utils import HEAP_ENV
    env = {k: v for k, v in HEAP_ENV.items() if k != 'MALLOC_TOP_PAD_'}
    proc = check(run([sys.executable, TOOLS / 'train.py', demo_config, '--work-dir', tmp_path / 'heap', '--amp',
                      *shrink(1)], cwd=tmp_path, heap=False, MALLOC_TOP_PAD_='1048576'))
    out = proc.stdout + proc.stderr
    assert out.count('--keep-heap: restarting with') == 1
    assert '--keep-heap: restarting with ' + ' '.join(f'{k}={v}' for k, v in env.items()) in out
    on = '--keep-heap: on (' + ' '.join(f'{k}={env.get(k, "1048576")}' for k in HEAP_ENV) + ')'
    assert out.count(on) == 1 and out.index(on) > out.index('--keep-heap: restarting')
    assert (tmp_path / 'heap' / 'epoch_1.pth').is_file()
    assert '--keep-heap (Linux) makes a CPU step faster' not in out  # no hint once it is on


def test_keep_heap_flags_and_default(train_tool, demo_config, monkeypatch):
    """--keep-heap / --no-keep-heap decide; without them: on for a CPU run on glibc with a command line of its own,
    off with PJEPA3D_KEEP_HEAP=0, on an accelerator or off glibc (tools/train.py's and evidence.py's rule)."""
    import pjepa3d.engine.distributed as distributed
    from pjepa3d.utils import cpu_heap, wants_kept_heap

    def wants(*flags, restart=True):
        return wants_kept_heap(train_tool.parse_args([str(demo_config), *flags]).keep_heap, restart=restart)

    monkeypatch.delenv('PJEPA3D_KEEP_HEAP', raising=False)
    monkeypatch.setattr(cpu_heap, 'on_glibc', lambda: True)
    monkeypatch.setattr(distributed, 'has_accelerator', lambda: False)
    assert wants() is True and wants('--keep-heap') is True
    assert wants(restart=False) is False  # main(argv) from Python: another program's process
    assert wants('--no-keep-heap') is False
    monkeypatch.setenv('PJEPA3D_KEEP_HEAP', '0')
    assert wants() is False and wants('--keep-heap') is True
    monkeypatch.delenv('PJEPA3D_KEEP_HEAP')
    monkeypatch.setattr(distributed, 'has_accelerator', lambda: True)
    assert wants() is False and wants('--keep-heap') is True
    monkeypatch.setattr(distributed, 'has_accelerator', lambda: False)
    monkeypatch.setattr(cpu_heap, 'on_glibc', lambda: False)
    assert wants() is False


def test_keep_heap_called_from_python_or_off_glibc_does_not_restart(monkeypatch, capsys):
    """Inside another program's process (a script's main(argv) called from Python) it says what to set instead of
    re-executing that program; off glibc it says it does nothing; with every variable set it only reports them."""
    import platform as platform_module

    from pjepa3d.utils import HEAP_ENV, heap_would_help, keep_heap
    for k in HEAP_ENV:
        monkeypatch.delenv(k, raising=False)
    assert heap_would_help() == (platform_module.libc_ver()[0] == 'glibc')
    assert keep_heap('t', restart=False) is False
    out = capsys.readouterr().out
    assert 'not restarting a process started elsewhere; set ' + ' '.join(f'{k}={v}' for k, v in HEAP_ENV.items()) \
        + ' before starting Python' in out
    monkeypatch.setattr(platform_module, 'libc_ver', lambda *a, **k: ('', ''))
    assert keep_heap('t') is False and 'ignored on' in capsys.readouterr().out
    assert not heap_would_help()
    for k, v in HEAP_ENV.items():
        monkeypatch.setenv(k, v)
    assert not heap_would_help()
    assert keep_heap('t') is True and '--keep-heap: on (MALLOC_MMAP_MAX_=0 ' in capsys.readouterr().out


def test_benchmarks_keep_the_heap_as_training_does(monkeypatch, capsys):
    """bench_masker.py / bench_tokenizer.py: the same switch and default as tools/train.py; what the timings ran with
    is returned for the table's header and JSON (nothing when the heap is not kept); main(argv) is never restarted."""
    import argparse

    import pjepa3d.engine.distributed as distributed
    from pjepa3d.utils import HEAP_ENV, add_keep_heap_argument, cpu_heap, heap_note, keep_heap_as_training
    ap = argparse.ArgumentParser()
    add_keep_heap_argument(ap)
    assert [ap.parse_args(a).keep_heap for a in ([], ['--keep-heap'], ['--no-keep-heap'])] == [None, True, False]
    for k in HEAP_ENV:
        monkeypatch.delenv(k, raising=False)
    monkeypatch.delenv('PJEPA3D_KEEP_HEAP', raising=False)
    monkeypatch.setattr(cpu_heap, 'on_glibc', lambda: True)
    monkeypatch.setattr(distributed, 'has_accelerator', lambda: False)
    assert keep_heap_as_training(False, 'b', argv=[]) == {} and capsys.readouterr().out == ''
    assert keep_heap_as_training(True, 'b', argv=[]) == {}  # called from Python: says what to set, no restart
    assert '[b] --keep-heap: not restarting a process started elsewhere' in capsys.readouterr().out
    assert heap_note({}) == 'glibc heap not kept'
    for k, v in HEAP_ENV.items():
        monkeypatch.setenv(k, v)
    assert keep_heap_as_training(None, 'b', argv=[]) == HEAP_ENV
    assert heap_note(HEAP_ENV) == 'glibc heap kept (' + ' '.join(f'{k}={v}' for k, v in HEAP_ENV.items()) + ')'


@pytest.mark.skipif(platform.libc_ver()[0] != 'glibc', reason='--keep-heap sets glibc malloc variables')
def test_heap_shell_exports_reach_every_python_a_script_starts(monkeypatch):
    """tools/demo.sh's own heap line (`eval "$(python pjepa3d/utils/cpu_heap.py)"`, run as a file: no torch import):
    a Python started after it sees HEAP_ENV, with a value the user set kept; PJEPA3D_KEEP_HEAP=0 exports nothing;
    off glibc nothing is exported (it runs as before)."""
    import platform as platform_module

    from pjepa3d.utils.cpu_heap import HEAP_ENV, shell_exports
    (line,) = [ln for ln in (ROOT / 'tools' / 'demo.sh').read_text().splitlines() if 'cpu_heap.py' in ln
               and not ln.startswith('#')]
    show = 'import os; print(*(os.environ.get(k, "-") for k in os.environ["KEYS"].split()))'
    script = line.replace('python ', f'{sys.executable} ') + f'\n{sys.executable} -c \'{show}\''

    def seen(**extra):
        env = {k: v for k, v in os.environ.items() if k not in HEAP_ENV and k != 'PJEPA3D_KEEP_HEAP'}
        env.update(KEYS=' '.join(HEAP_ENV), **extra)
        return subprocess.run(['bash', '-c', script], env=env, cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.split()

    assert seen(MALLOC_TOP_PAD_='4096') == [HEAP_ENV['MALLOC_MMAP_MAX_'], HEAP_ENV['MALLOC_TRIM_THRESHOLD_'], '4096']
    assert seen(PJEPA3D_KEEP_HEAP='0') == ['-', '-', '-']
    monkeypatch.setattr(platform_module, 'libc_ver', lambda *a, **k: ('', ''))
    assert shell_exports() == ''


@pytest.mark.skipif(has_accelerator(), reason='checks the CPU behaviour of a config that selects AmpOptimWrapper')
def test_amp_optim_wrapper_config_on_cpu_fails_clearly(demo_config, tmp_path):
    proc = run([sys.executable, TOOLS / 'train.py', demo_config, '--work-dir', tmp_path / 'amp',
                *shrink(1, 'optim_wrapper.type=AmpOptimWrapper')], cwd=tmp_path)
    assert proc.returncode != 0
    assert 'the config selects AmpOptimWrapper, which needs a GPU' in proc.stderr
    assert 'optim_wrapper.type=pjepa3d.BF16AmpOptimWrapper' in proc.stderr
    assert 'Traceback' not in proc.stderr
    assert not (tmp_path / 'amp' / 'epoch_1.pth').exists()


@pytest.mark.skipif(not has_accelerator(), reason='AMP needs a GPU')
def test_amp_on_gpu_trains(demo_config, tmp_path):
    check(run([sys.executable, TOOLS / 'train.py', demo_config, '--work-dir', tmp_path / 'amp', '--amp',
               *shrink(1)], cwd=tmp_path))
    ck = torch.load(tmp_path / 'amp' / 'epoch_1.pth')
    assert 'loss_scaler' in ck['optimizer']


def test_no_validate_runs_no_validation_loop(tmp_path):
    # the ModelNet10 pretraining config validates (probe at iteration 0 and every val_interval, best checkpoint
    # on svm_acc_target); --no-validate trains without any of it
    from tests.conftest import write_toy_modelnet10
    root = write_toy_modelnet10(tmp_path / 'mn10', num_points=128, train=4, test=1)
    config = ROOT / 'configs' / 'point_jepa' / 'pointjepa_vit-t_1xb32-400i_modelnet10.py'
    options = ['--cfg-options', *[o for o in SHRINK if o.startswith('model.')], 'train_dataloader.batch_size=4',
               'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
               'train_dataloader.dataset.num_points=128', 'train_dataloader.dataset.cache_dir=False',
               'model.target_layers=1', 'train_cfg.max_iters=2', 'train_cfg.val_interval=1',
               'default_hooks.logger.interval=1',
               'default_hooks.checkpoint.interval=2']
    proc = check(run([sys.executable, TOOLS / 'train.py', config, '--work-dir', tmp_path / 'w', '--no-validate',
                      *options], cwd=tmp_path, MODELNET10_ROOT=str(root)))
    out = proc.stdout + proc.stderr
    assert '--no-validate: no validation loop; dropped ProbeAtStartHook, CollapseMonitorHook' in out
    assert 'Iter(val)' not in out and 'Iter(train) [2/2]' in out
    assert (tmp_path / 'w' / 'iter_2.pth').is_file() and not list((tmp_path / 'w').glob('best_*.pth'))
