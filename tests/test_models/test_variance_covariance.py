"""VarianceCovarianceLoss (VICReg's variance and covariance terms) and PointJEPA(feat_reg=...)."""
import pytest
import torch

import pjepa3d  # noqa: F401
from pjepa3d.models.losses import VarianceCovarianceLoss
from tests.test_models.test_point_jepa import _tiny_jepa


def test_terms_on_known_feature_sets():
    reg = VarianceCovarianceLoss(var_weight=1.0, cov_weight=1.0, gamma=1.0, eps=0.0)
    # +-4 on one channel at a time: every channel has variance 32 / 15 (std 1.46 > 1); no two channels co-vary
    spread = torch.cat([4 * torch.eye(8), -4 * torch.eye(8)])
    out = reg(spread)
    assert out['loss_var'] == 0 and out['loss_cov'].abs() < 1e-6
    # collapsed to one point: std 0 everywhere, so the hinge is gamma; nothing co-varies
    out = reg(torch.ones(16, 8) * 3.0)
    assert out['loss_var'] == pytest.approx(1.0) and out['loss_cov'] == 0
    # one direction: x_j = t for every channel j. Var_j = Cov_ij = v, so the covariance term is d (d - 1) v^2 / d
    t = torch.linspace(-1, 1, 11)
    x = t[:, None].expand(11, 4)
    v = float(t.var())
    out = reg(x)
    assert out['loss_cov'] == pytest.approx(3 * v ** 2, rel=1e-5)
    assert out['loss_var'] == pytest.approx(1 - v ** 0.5, rel=1e-5)
    half = VarianceCovarianceLoss(var_weight=0.5, cov_weight=0.25, gamma=1.0, eps=0.0)(x)
    assert half['loss_var'] == pytest.approx(0.5 * out['loss_var']) and half['loss_cov'] == pytest.approx(
        0.25 * out['loss_cov'])


def test_bad_arguments_and_inputs_are_refused():
    with pytest.raises(ValueError, match='gamma'):
        VarianceCovarianceLoss(gamma=0)
    with pytest.raises(ValueError, match='n >= 2'):
        VarianceCovarianceLoss()(torch.ones(1, 4))


def test_point_jepa_adds_the_regulariser_on_pooled_context_features():
    torch.manual_seed(0)
    points = torch.rand(4, 64, 3)
    plain = _tiny_jepa()
    reg = _tiny_jepa(feat_reg=dict(type='VarianceCovarianceLoss', var_weight=1.0, cov_weight=0.04))
    reg.load_state_dict(plain.state_dict())
    plain.train()
    reg.train()
    torch.manual_seed(1)
    out_plain = plain.loss(points)
    torch.manual_seed(1)  # same masks
    out = reg.loss(points)
    torch.testing.assert_close(out['loss'], out_plain['loss'])  # the prediction loss itself is unchanged
    assert set(out) - set(out_plain) == {'loss_var', 'loss_cov'} and out['loss_var'] > 0
    # mmengine's parse_losses optimises the sum; its log keeps the prediction loss under 'loss'
    total, log_vars = reg.parse_losses(out)
    torch.testing.assert_close(total, out['loss'] + out['loss_var'] + out['loss_cov'])
    torch.testing.assert_close(log_vars['loss'], out['loss'])
    # the regulariser alone reaches the online encoder (and not the predictor)
    (out['loss_var'] + out['loss_cov']).backward()
    assert reg.backbone.encoder.norm.weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in reg.head.parameters())
