"""Chamfer-L2: brute-force reference, zero on identical sets, masked averaging, gradients."""
import itertools

import pytest
import torch

from pjepa3d.models.losses import ChamferL2Loss, chamfer_l2


def brute_force_chamfer(a, b):
    """Python loops over one pair of sets (P, 3), (Q, 3)."""
    def one_way(x, y):
        return sum(min(sum((float(p[c]) - float(q[c])) ** 2 for c in range(3)) for q in y) for p in x) / len(x)
    return one_way(a, b) + one_way(b, a)


@pytest.mark.parametrize('P, Q', [(7, 7), (5, 11), (12, 3)])
def test_matches_brute_force(P, Q):
    g = torch.Generator().manual_seed(P * 100 + Q)
    a, b = torch.randn(2, 3, P, 3, generator=g), torch.randn(2, 3, Q, 3, generator=g)
    out = chamfer_l2(a, b)
    assert out.shape == (2, 3)
    for i, j in itertools.product(range(2), range(3)):
        assert out[i, j].item() == pytest.approx(brute_force_chamfer(a[i, j], b[i, j]), rel=1e-5, abs=1e-7)


def test_zero_for_identical_and_permuted_sets():
    a = torch.randn(4, 32, 3) * 10 + 50  # far from the origin: direct differences, no cancellation
    assert torch.equal(chamfer_l2(a, a.clone()), torch.zeros(4))
    assert torch.equal(chamfer_l2(a, a[:, torch.randperm(32)]), torch.zeros(4))
    assert (chamfer_l2(a, a + 0.01) > 0).all()


def test_loss_module_weights_and_gradient():
    pred = torch.randn(2, 4, 8, 3, requires_grad=True)
    target = torch.randn(2, 4, 8, 3)
    per_set = chamfer_l2(pred, target)
    valid = torch.tensor([[True, True, False, True], [False, True, True, True]])
    loss = ChamferL2Loss()(pred, target, valid)
    assert loss.item() == pytest.approx(per_set[valid].mean().item(), rel=1e-6)
    assert ChamferL2Loss(loss_weight=2.0)(pred, target).item() == pytest.approx(2 * per_set.mean().item(), rel=1e-6)
    loss.backward()
    assert pred.grad[0, 2].abs().sum() == 0 and pred.grad[0, 0].abs().sum() > 0  # padding gets no gradient


def test_shape_mismatch_raises():
    with pytest.raises(ValueError, match='incompatible shapes'):
        chamfer_l2(torch.rand(2, 5, 3), torch.rand(3, 5, 3))
