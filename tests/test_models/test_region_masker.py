"""RegionMasker: disjointness, coverage, ratios, compactness, the walk order, per-sample masks, tiny M."""
import pytest
import torch

from pjepa3d.models import RegionMasker
from pjepa3d.registry import MODELS


def _clouds(B=8, M=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(B, M, 3, generator=g) * 2 - 1


def _sets(result, b):
    ctx = set(result.context_idx[b].tolist())
    valid = result.target_valid[b] if result.target_valid is not None else torch.ones_like(result.target_idx[b], dtype=torch.bool)
    tgt = result.target_idx[b][valid].tolist()
    return ctx, tgt


@pytest.mark.parametrize('mode', ['region', 'random'])
@pytest.mark.parametrize('M', [16, 64, 100])
def test_region_and_random_partition_all_tokens(mode, M):
    torch.manual_seed(0)
    masker = RegionMasker(mode=mode, target_ratio=0.65)
    res = masker(_clouds(M=M))
    for b in range(res.context_idx.shape[0]):
        ctx, tgt = _sets(res, b)
        assert len(tgt) == len(set(tgt)), 'a token is predicted twice'
        assert not ctx & set(tgt), 'context and targets overlap'
        assert ctx | set(tgt) == set(range(M)), 'context + targets must cover every token'
        assert abs(len(tgt) - 0.65 * M) <= 1.0, f'{len(tgt)} targets for ratio 0.65 of {M}'


def test_region_blocks_are_compact():
    torch.manual_seed(1)
    centres = _clouds(B=16, M=128)
    res = RegionMasker(mode='region', num_targets=4, target_ratio=0.65)(centres)
    cloud_mean = torch.cdist(centres, centres).mean()
    intra = []
    for b in range(16):
        for k in range(res.target_idx.shape[1]):
            idx = res.target_idx[b, k]
            if res.target_valid is not None:
                idx = idx[res.target_valid[b, k]]
            pts = centres[b, idx]
            intra.append(torch.cdist(pts, pts).mean())
    assert torch.stack(intra).mean() < 0.6 * cloud_mean


def test_sequence_order_is_nearest_neighbour_walk():
    centres = _clouds(B=4, M=40, seed=3)
    order = RegionMasker.sequence_order(centres)
    for b in range(4):
        o = order[b].tolist()
        assert sorted(o) == list(range(40))
        assert o[0] == int(centres[b].sum(-1).argmin())
        for i in range(1, 40):
            rest = o[i:]
            d = (centres[b, rest] - centres[b, o[i - 1]]).norm(dim=-1)
            assert d[0] == d.min(), f'step {i} is not the nearest unvisited centre'


def test_sequence_blocks_are_contiguous_runs_and_context_disjoint():
    torch.manual_seed(2)
    centres = _clouds(B=6, M=64)
    masker = RegionMasker(mode='sequence', num_targets=4, target_block_ratio=(0.15, 0.2), context_ratio=(0.4, 0.75))
    res = masker(centres)
    order = masker.sequence_order(centres)
    K, Nt = res.target_idx.shape[1:]
    assert K == 4 and int(0.15 * 64) <= Nt <= int(0.2 * 64)
    for b in range(6):
        pos_of = {t: i for i, t in enumerate(order[b].tolist())}
        covered = set()
        for k in range(K):
            pos = [pos_of[t] for t in res.target_idx[b, k].tolist()]
            assert pos == list(range(pos[0], pos[0] + Nt)), 'target block is not a run of the walk'
            covered |= set(res.target_idx[b, k].tolist())
        ctx = res.context_idx[b].tolist()
        assert not set(ctx) & covered
        free = [t for t in order[b].tolist() if t not in covered]
        start = free.index(ctx[0])
        assert free[start:start + len(ctx)] == ctx, 'context is not a contiguous run of the free tokens'
        assert len(ctx) <= 0.75 * len(free) + 1


@pytest.mark.parametrize('mode', ['region', 'sequence', 'random'])
def test_masks_differ_across_samples_and_batch_is_rectangular(mode):
    torch.manual_seed(4)
    centres = _clouds(B=1, M=64).repeat(8, 1, 1)  # identical clouds: only the sampling differs
    res = RegionMasker(mode=mode)(centres)
    assert res.context_idx.shape[0] == 8 and res.target_idx.shape[0] == 8
    masks = {tuple(sorted(res.context_idx[b].tolist())) for b in range(8)}
    assert len(masks) > 1, 'every sample got the same mask'


@pytest.mark.parametrize('mode', ['region', 'sequence', 'random'])
@pytest.mark.parametrize('M', [2, 3, 5])
def test_tiny_token_counts_do_not_hang_and_keep_context(mode, M):
    res = RegionMasker(mode=mode, num_targets=4)(_clouds(B=3, M=M))
    assert res.context_idx.shape[1] >= 1 and res.target_idx.numel() >= 3
    for b in range(3):
        ctx, tgt = _sets(res, b)
        assert not ctx & set(tgt)


def test_single_token_raises_clear_error():
    with pytest.raises(ValueError, match='at least 2 patch tokens'):
        RegionMasker()(_clouds(B=2, M=1))


def test_unknown_mode_in_config_is_rejected():
    with pytest.raises(ValueError, match="unknown mode 'blocks'"):
        MODELS.build(dict(type='RegionMasker', mode='blocks'))
