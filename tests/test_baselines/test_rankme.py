"""RankMe effective rank on matrices whose answer is known."""
import pytest
import torch

from pjepa3d.models.utils import effective_rank


@pytest.mark.parametrize('n, d', [(16, 16), (64, 16), (32, 8)])
def test_identity_like_matrix_has_full_rank(n, d):
    q, _ = torch.linalg.qr(torch.randn(n, d, generator=torch.Generator().manual_seed(n + d)))  # orthonormal columns
    assert effective_rank(q).item() == pytest.approx(d, rel=1e-3)
    assert effective_rank(3.5 * q).item() == pytest.approx(d, rel=1e-3)  # scale-free
    if n == d:
        assert effective_rank(torch.eye(d)).item() == pytest.approx(d, rel=1e-3)


@pytest.mark.parametrize('n, d', [(16, 16), (64, 32), (8, 384)])
def test_rank_one_matrix_has_rank_one(n, d):
    g = torch.Generator().manual_seed(n * d)
    x = torch.outer(torch.randn(n, generator=g), torch.randn(d, generator=g))  # rank 1
    assert effective_rank(x).item() == pytest.approx(1.0, abs=1e-3)
    same_rows = torch.randn(1, d, generator=g).expand(n, d)  # collapsed features: every sample identical
    assert effective_rank(same_rows).item() == pytest.approx(1.0, abs=1e-3)


def test_rank_between_for_unequal_spectrum():
    x = torch.diag(torch.tensor([1.0, 1.0, 0.0, 0.0]))
    assert effective_rank(x).item() == pytest.approx(2.0, rel=1e-3)
    y = torch.diag(torch.tensor([1.0, 0.5, 0.25, 0.125]))
    assert 1.0 < effective_rank(y).item() < 4.0
