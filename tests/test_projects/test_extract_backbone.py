"""tools/model_converters/extract_backbone.py on a real pretraining checkpoint."""

import pytest
import torch

from pjepa3d.models.backbones import PointPatchTransformer  # noqa: F401  (registers the backbone)
from pjepa3d.models.utils import load_prefixed_weights
from tests.conftest import load_script

extract_backbone = load_script('tools/model_converters/extract_backbone.py')


def test_keeps_exactly_the_backbone(pretrain_run, tmp_path, capsys):
    out = tmp_path / 'backbone.pth'
    extract_backbone.main([pretrain_run['ckpt'], str(out)])
    printed = capsys.readouterr().out
    saved = torch.load(out, map_location='cpu', weights_only=True)
    keys = sorted(k[len('backbone.'):] for k in saved['state_dict'])
    assert keys == pretrain_run['backbone_keys']
    assert f"kept {len(keys)} of" in printed and str(out) in printed
    for k, v in saved['state_dict'].items():
        assert torch.equal(v, pretrain_run['backbone_state'][k[len('backbone.'):]])
    full = torch.load(pretrain_run['ckpt'], map_location='cpu', weights_only=True)['state_dict']
    assert len(keys) < len(full)  # target, predictor, ... dropped


def test_target_prefix_renames_to_backbone(pretrain_run, tmp_path):
    out = tmp_path / 'target.pth'
    extract_backbone.main([pretrain_run['ckpt'], str(out), '--prefix', 'target.'])
    saved = torch.load(out, map_location='cpu', weights_only=True)['state_dict']
    full = torch.load(pretrain_run['ckpt'], map_location='cpu', weights_only=True)['state_dict']
    assert all(k.startswith('backbone.') for k in saved)
    assert torch.equal(saved['backbone.encoder.norm.weight'], full['target.encoder.norm.weight'])


def test_wrong_prefix_fails_loudly(pretrain_run, tmp_path):
    with pytest.raises(SystemExit, match=r"no tensor under prefix 'student\.'.*'backbone\.'"):
        extract_backbone.main([pretrain_run['ckpt'], str(tmp_path / 'x.pth'), '--prefix', 'student.'])
    assert not (tmp_path / 'x.pth').exists()
    with pytest.raises(SystemExit, match='not found'):
        extract_backbone.main([str(tmp_path / 'missing.pth'), str(tmp_path / 'x.pth')])


def test_extracted_file_loads_with_the_downstream_prefix(pretrain_run, tmp_path):
    from mmengine.config import Config
    from pjepa3d.registry import MODELS
    out = tmp_path / 'backbone.pth'
    extract_backbone.main([pretrain_run['ckpt'], str(out)])
    backbone = MODELS.build(Config(pretrain_run['cfg'].model.backbone))
    report = load_prefixed_weights(backbone, str(out), prefix='backbone.')
    assert not report['missing'] and not report['unexpected']
    assert len(report['loaded']) == len(pretrain_run['backbone_keys'])
