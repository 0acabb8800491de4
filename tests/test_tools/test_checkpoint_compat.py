"""Checkpoints written by mmengine's CheckpointHook load with torch.load's weights_only default."""
import io
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.utils import digit_version

import pjepa3d  # noqa: F401  registers the safe globals

WEIGHTS_ONLY_DEFAULT = digit_version(torch.__version__) >= digit_version('2.6.0')


@pytest.mark.skipif(not WEIGHTS_ONLY_DEFAULT, reason='torch < 2.6 does not default to weights_only=True')
def test_plain_torch_load_fails_without_pjepa3d(trained):
    """The problem being fixed: a fresh interpreter without pjepa3d cannot read the checkpoint."""
    code = 'import sys, torch; torch.load(sys.argv[1])'
    proc = subprocess.run([sys.executable, '-c', code, str(trained['ckpt'])], capture_output=True, text=True)
    assert proc.returncode != 0
    assert 'Unsupported global' in proc.stderr


def test_runner_checkpoint_loads_weights_only(trained):
    ckpt = trained['ckpt']
    assert torch.serialization.get_unsafe_globals_in_checkpoint(str(ckpt)) == []
    ck = torch.load(ckpt)  # weights_only default, nothing turned off
    assert ck['meta']['epoch'] == 1 and ck['meta']['iter'] == 1
    assert ck['meta']['ema_hook']  # pjepa3d's EMAHook state rides in meta
    assert any(k.startswith('backbone.') for k in ck['state_dict'])
    assert ck['optimizer']['state'], 'optimizer state missing'
    assert len(ck['param_schedulers']) == 2
    loss = ck['message_hub']['log_scalars']['train/loss']
    assert isinstance(loss, HistoryBuffer)
    assert np.isfinite(loss.mean()) and loss.statistics('current') == loss.current()


def test_numpy2_module_paths_load(trained, tmp_path):
    """numpy 2 writes numpy._core.multiarray.* where numpy 1.x writes numpy.core.multiarray.*."""
    src, dst = trained['ckpt'], tmp_path / 'np2.pth'
    replaced = 0
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, 'w', zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename.endswith('data.pkl'):
                for old, new in ((b'numpy.core.multiarray\n', b'numpy._core.multiarray\n'),
                                 (b'numpy._core.multiarray\n', b'numpy.core.multiarray\n')):
                    if old in data:
                        replaced += data.count(old)
                        data = data.replace(old, new)
                        break
            zout.writestr(info, data)
    assert replaced > 0
    ck = torch.load(dst)
    assert np.isfinite(ck['message_hub']['log_scalars']['train/loss'].mean())


def test_numpy_values_and_dtypes_round_trip():
    obj = dict(best=np.float64(0.5), f32=np.float32(1.5), i=np.int64(3), b=np.bool_(True),
               arr=np.arange(4, dtype=np.int32), f16=np.ones(2, dtype=np.float16), s=np.array(['a']),
               rec=np.zeros(2, dtype=[('a', 'f4'), ('b', 'i8')]), dt=np.dtype('float64'))
    buf = io.BytesIO()
    torch.save(obj, buf)
    buf.seek(0)
    out = torch.load(buf)
    assert out['best'] == 0.5 and out['i'] == 3 and out['dt'] == np.dtype('float64')
    assert out['rec'].dtype == obj['rec'].dtype and out['f16'].dtype == np.float16


def test_one_cycle_scheduler_state_loads():
    from mmengine.optim.scheduler import OneCycleLR
    opt = torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=0.1, momentum=0.9)
    buf = io.BytesIO()
    torch.save(OneCycleLR(opt, eta_max=0.1, total_steps=10).state_dict(), buf)
    buf.seek(0)
    state = torch.load(buf)
    OneCycleLR(opt, eta_max=0.1, total_steps=10).load_state_dict(state)
    assert callable(state['anneal_func'])


class _Sneaky:
    def __reduce__(self):
        return getattr, (torch.Tensor, 'add')


def test_other_getattr_still_refused():
    buf = io.BytesIO()
    torch.save({'x': _Sneaky()}, buf)
    buf.seek(0)
    with pytest.raises(Exception, match='refusing getattr'):
        torch.load(buf)
