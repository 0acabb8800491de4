"""RandomMasker: pinned element for element to the old RegionMasker(mode='random'), and its checks."""
import pytest
import torch

from pjepa3d.models import RandomMasker
from pjepa3d.registry import MODELS


def _clouds(B=8, M=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(B, M, 3, generator=g) * 2 - 1


def _reference_random_mask(centres, target_ratio=0.65):
    """RegionMasker._mask_random of commit 42802b2, copied verbatim (self.* became arguments)."""
    B, M, _ = centres.shape
    n = min(max(round(target_ratio * M), 1), M - 1)
    perm = torch.rand(B, M, device=centres.device).argsort(dim=1)
    target = perm[:, :n].sort(dim=1).values
    context = perm[:, n:].sort(dim=1).values
    return context, target.unsqueeze(1)


@pytest.mark.parametrize('seed', [0, 1, 2])
@pytest.mark.parametrize('B,M', [(1, 2), (3, 3), (4, 16), (8, 64), (2, 1024)])
@pytest.mark.parametrize('target_ratio', [0.01, 0.3, 0.6, 0.65, 0.99])
def test_random_mask_matches_the_old_code_exactly(seed, B, M, target_ratio):
    centres = _clouds(B, M, seed + 10)
    torch.manual_seed(seed)
    context, target = _reference_random_mask(centres, target_ratio)
    after_ref = torch.rand(4)
    torch.manual_seed(seed)
    res = RandomMasker(target_ratio)(centres)
    assert res.target_valid is None
    assert torch.equal(res.target_idx, target) and torch.equal(res.context_idx, context)
    assert torch.equal(torch.rand(4), after_ref), 'the masker consumed the random stream differently'


def test_random_pin_can_fail_and_partitions():
    centres = _clouds(4, 64, 3)
    torch.manual_seed(0)
    context, target = _reference_random_mask(centres, 0.6)
    torch.manual_seed(1)
    res = RandomMasker(0.6)(centres)
    assert not torch.equal(res.target_idx, target)
    for b in range(4):
        tgt, ctx = res.target_idx[b, 0].tolist(), res.context_idx[b].tolist()
        assert len(tgt) == round(0.6 * 64) and sorted(tgt + ctx) == list(range(64))


def test_random_masker_from_the_registry_and_its_checks():
    masker = MODELS.build(dict(type='RandomMasker', target_ratio=0.6))
    assert type(masker) is RandomMasker and masker.mode == 'random' and masker.target_ratio == 0.6
    with pytest.raises(ValueError, match='target_ratio must be in'):
        RandomMasker(target_ratio=0.0)
    with pytest.raises(ValueError, match='at least 2 patch tokens'):
        RandomMasker()(_clouds(2, 1))
