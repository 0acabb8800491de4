"""Fixtures for the tools tests: one real training run of the shrunk demo config, shared."""
import shutil
import sys

import pytest

from ._utils import DEMO_CONFIG, ROOT, STEM, TOOLS, check, run, shrink


@pytest.fixture(scope='session')
def demo_config():
    # a shipped config: its absence is a bug to report, not a reason to skip
    assert DEMO_CONFIG.is_file(), f'{DEMO_CONFIG.relative_to(ROOT)} is missing from the repo'
    return DEMO_CONFIG


@pytest.fixture(scope='session')
def trained(demo_config, tmp_path_factory):
    """One epoch of the shrunk demo config with ``tools/train.py`` and no --work-dir (cwd = a tmp dir)."""
    cwd = tmp_path_factory.mktemp('train')
    proc = check(run([sys.executable, TOOLS / 'train.py', demo_config, *shrink(1)], cwd=cwd))
    work_dir = cwd / 'work_dirs' / STEM
    return dict(cwd=cwd, work_dir=work_dir, ckpt=work_dir / 'epoch_1.pth', proc=proc)


@pytest.fixture
def trained_copy(trained, tmp_path):
    """A private copy of the trained work dir (tests that resume must not change the shared one)."""
    dst = tmp_path / 'work_dir'
    shutil.copytree(trained['work_dir'], dst)
    # last_checkpoint holds an absolute path: point it into the copy
    (dst / 'last_checkpoint').write_text(str(dst / 'epoch_1.pth'))
    return dst
