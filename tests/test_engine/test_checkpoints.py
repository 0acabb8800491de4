"""Atomic checkpoint writes and prefix-checked backbone loading."""
import os

import pytest
import torch
from mmengine.fileio import get_file_backend

import pjepa3d  # noqa: F401
from pjepa3d.models.utils import CheckpointKeyError, load_prefixed_weights
from pjepa3d.registry import MODELS


def test_atomic_backend_replaces_whole_file_and_leaves_no_temp(tmp_path):
    backend = get_file_backend(str(tmp_path), backend_args=dict(backend='atomic_local'))
    target = tmp_path / 'sub' / 'epoch_1.pth'
    backend.put(b'old contents', str(target))
    backend.put(b'new', str(target))
    assert target.read_bytes() == b'new'
    backend.put_text('epoch_1.pth', str(tmp_path / 'last_checkpoint'))
    assert (tmp_path / 'last_checkpoint').read_text() == 'epoch_1.pth'
    assert sorted(os.listdir(tmp_path / 'sub')) == ['epoch_1.pth']


@pytest.mark.parametrize('umask', [0o022, 0o077])
def test_atomic_backend_gives_the_permissions_of_a_plain_write(tmp_path, umask):
    """Not the temporary file's owner-only 0o600: 0o666 less the umask, as open(path, 'wb') creates."""
    backend = get_file_backend(str(tmp_path), backend_args=dict(backend='atomic_local'))
    old = os.umask(umask)
    try:
        backend.put(b'weights', str(tmp_path / 'iter_1.pth'))
        with open(tmp_path / 'plain.pth', 'wb') as f:
            f.write(b'weights')
    finally:
        os.umask(old)
    mode = (tmp_path / 'iter_1.pth').stat().st_mode & 0o777
    assert mode == 0o666 & ~umask == (tmp_path / 'plain.pth').stat().st_mode & 0o777, oct(mode)


def test_failed_write_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    backend = get_file_backend(str(tmp_path), backend_args=dict(backend='atomic_local'))
    target = tmp_path / 'epoch_1.pth'
    backend.put(b'complete checkpoint', str(target))

    def disk_full(fd):
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(os, 'fsync', disk_full)  # the write fails after part of the bytes went out
    with pytest.raises(OSError, match='No space left'):
        backend.put(b'partial new checkpoint', str(target))
    assert target.read_bytes() == b'complete checkpoint'
    assert os.listdir(tmp_path) == ['epoch_1.pth'], 'the temporary file was left behind'


def test_prefixed_loading_reports_and_refuses_wrong_prefix(tmp_path, tiny_model_cfg):
    model = MODELS.build(tiny_model_cfg)
    path = tmp_path / 'pretrain.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), path)
    fresh = MODELS.build(tiny_model_cfg['backbone'])
    report = load_prefixed_weights(fresh, str(path), prefix='backbone.')
    assert report['missing'] == [] and report['unexpected'] == []
    for k, v in fresh.state_dict().items():
        assert torch.equal(v, model.backbone.state_dict()[k])
    with pytest.raises(CheckpointKeyError, match=r"prefix 'encoder\.' matches none.*\['backbone\.', 'head\.'"):
        load_prefixed_weights(fresh, str(path), prefix='encoder.')


def test_partial_match_lists_missing_keys(tmp_path, tiny_model_cfg):
    model = MODELS.build(tiny_model_cfg)
    state = {k: v for k, v in model.state_dict().items() if not k.startswith('backbone.tokenizer.')}
    report = load_prefixed_weights(MODELS.build(tiny_model_cfg['backbone']), dict(state_dict=state))
    assert report['missing'] and all(k.startswith('tokenizer.') for k in report['missing'])
    assert 'MISSING' in report['report']


def test_pretrained_init_cfg_loads_or_fails_loudly(tmp_path, tiny_model_cfg):
    model = MODELS.build(tiny_model_cfg)
    path = tmp_path / 'pretrain.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), path)
    cfg = dict(tiny_model_cfg['backbone'], init_cfg=dict(type='Pretrained', checkpoint=str(path), prefix='backbone.'))
    backbone = MODELS.build(cfg)
    before = {k: v.clone() for k, v in backbone.state_dict().items()}
    backbone.init_weights()
    changed = [k for k, v in backbone.state_dict().items() if not torch.equal(v, before[k])]
    assert changed, 'init_weights loaded nothing'
    for k, v in backbone.state_dict().items():
        assert torch.equal(v, model.backbone.state_dict()[k]), k
    with pytest.raises(CheckpointKeyError, match="prefix 'target_encoder.' matches none"):
        MODELS.build(dict(cfg, init_cfg=dict(cfg['init_cfg'], prefix='target_encoder.'))).init_weights()
    with pytest.raises(ValueError, match='checkpoint is empty.*init_cfg.checkpoint='):
        MODELS.build(dict(cfg, init_cfg=dict(cfg['init_cfg'], checkpoint=''))).init_weights()


def test_pretrained_init_is_strict_unless_the_init_cfg_says_otherwise(tmp_path, tiny_model_cfg):
    model = MODELS.build(tiny_model_cfg)
    state = {k: v for k, v in model.state_dict().items() if k != 'backbone.encoder.norm.bias'}
    path = tmp_path / 'partial.pth'
    torch.save(dict(state_dict=state, meta=dict()), path)
    cfg = dict(tiny_model_cfg['backbone'], init_cfg=dict(type='Pretrained', checkpoint=str(path), prefix='backbone.'))
    with pytest.raises(CheckpointKeyError, match=r'does not fit the backbone.*MISSING.*encoder\.norm\.bias'):
        MODELS.build(cfg).init_weights()
    lenient = MODELS.build(dict(cfg, init_cfg=dict(cfg['init_cfg'], strict=False)))
    lenient.init_weights()
    assert torch.equal(lenient.encoder.norm.weight, model.backbone.encoder.norm.weight)
