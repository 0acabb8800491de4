"""RegionMasker: disjointness, coverage, ratios, compactness, the walk order, per-sample masks, tiny M;
the batched rewrite pinned to the old loop, the ``blockwise`` growth, and the deprecated ``mode`` path.

The tests before the "rewrite" section are the old single-class tests, unchanged: they build the
sequence and random strategies through the deprecated ``RegionMasker(mode=...)`` path.
"""
import copy
import pickle
import warnings

import pytest
import torch

from pjepa3d.models import RandomMasker, RegionMasker, SequenceMasker
from pjepa3d.registry import MODELS
from pjepa3d.testing import LegacyRegionMasker

pytestmark = pytest.mark.filterwarnings(r'ignore:RegionMasker\(mode=:DeprecationWarning')


def _clouds(B=8, M=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(B, M, 3, generator=g) * 2 - 1


def _sets(result, b):
    ctx = set(result.context_idx[b].tolist())
    valid = (result.target_valid[b] if result.target_valid is not None
             else torch.ones_like(result.target_idx[b], dtype=torch.bool))
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


@pytest.mark.parametrize('growth', ['interleaved', 'blockwise'])
def test_region_blocks_are_compact(growth):
    torch.manual_seed(1)
    centres = _clouds(B=16, M=128)
    res = RegionMasker(mode='region', num_targets=4, target_ratio=0.65, growth=growth)(centres)
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


# ---------------------------------------------------------------------------------------------------------------
# the region strategy as it was before the masker split (RegionMasker._mask_region of commit 42802b2, kept in
# pjepa3d.testing.LegacyRegionMasker). It is the definition the default ``growth='interleaved'`` must keep.
# ---------------------------------------------------------------------------------------------------------------

def _reference_region_mask(centres, num_targets=4, target_ratio=0.65):
    """-> (context_idx, target_idx, target_valid or None), drawing exactly what the old code drew."""
    return LegacyRegionMasker('region', num_targets=num_targets, target_ratio=target_ratio)(centres)


def _assert_same(res, ref):
    context, target, valid = ref
    assert torch.equal(res.context_idx, context)
    assert torch.equal(res.target_idx, target)
    if valid is None:
        assert res.target_valid is None
    else:
        assert res.target_valid is not None and torch.equal(res.target_valid, valid)


def _tied_clouds(B, M, seed):
    """Centres on a coarse grid: many exactly equal distances, so every tie-break is exercised."""
    return (_clouds(B, M, seed) * 2).round() / 2


@pytest.mark.parametrize('seed', [0, 1, 2])
@pytest.mark.parametrize('B,M', [(1, 2), (3, 3), (2, 5), (4, 16), (8, 64), (3, 100), (2, 257)])
@pytest.mark.parametrize('num_targets,target_ratio', [(4, 0.65), (1, 0.5), (2, 0.3), (3, 0.8), (7, 0.65)])
@pytest.mark.parametrize('clouds', [_clouds, _tied_clouds])
def test_region_matches_the_old_loop_exactly(seed, B, M, num_targets, target_ratio, clouds):
    """Pinned: context_idx, target_idx (incl. padding slots) and target_valid (incl. None) are equal element for
    element to the old loop's, from the same global-generator state, and the generator ends in the same state."""
    centres = clouds(B, M, seed + 10)
    torch.manual_seed(seed)
    ref = _reference_region_mask(centres, num_targets, target_ratio)
    after_ref = torch.rand(4)
    torch.manual_seed(seed)
    res = RegionMasker(num_targets=num_targets, target_ratio=target_ratio)(centres)
    _assert_same(res, ref)
    assert torch.equal(torch.rand(4), after_ref), 'the masker consumed the random stream differently'


def test_region_pin_can_fail():
    """The reference is sensitive: a different seed, or the blockwise growth, gives different masks."""
    centres = _clouds(4, 64, 3)
    torch.manual_seed(0)
    ref = _reference_region_mask(centres)
    torch.manual_seed(1)
    other = RegionMasker()(centres)
    assert not torch.equal(other.target_idx, ref[1])
    torch.manual_seed(0)
    blockwise = RegionMasker(growth='blockwise')(centres)
    assert torch.equal(blockwise.target_idx[:, :, 0], ref[1][:, :, 0]), 'same seeds'
    assert not torch.equal(blockwise.target_idx, ref[1])


def test_region_target_valid_marks_the_short_blocks():
    torch.manual_seed(0)
    res = RegionMasker(num_targets=4, target_ratio=0.65)(_clouds(2, 64))  # n = 42 = 4 * 10 + 2
    assert res.target_idx.shape == (2, 4, 11)
    assert res.target_valid.sum(dim=(0, 2)).tolist() == [22, 22, 20, 20]
    assert not res.target_valid[:, 2:, 10].any() and torch.equal(res.target_idx[:, 2:, 10], res.target_idx[:, 2:, 0])
    res = RegionMasker(num_targets=4, target_ratio=0.5)(_clouds(2, 64))  # n = 32: every block full
    assert res.target_valid is None and res.target_idx.shape == (2, 4, 8)


# --- growth='blockwise' (opt-in, K-step loop) ---------------------------------------------------------------

def _reference_blockwise(centres, seeds, sizes):
    """Per sample, per block, per token, in plain Python: block k claims its sizes[k] - 1 nearest unclaimed tokens
    (distance from ``torch.cdist`` as the masker computes it, ties to the lowest index)."""
    out = []
    for b in range(centres.shape[0]):
        dist = torch.cdist(centres[b, seeds[b]], centres[b]).tolist()
        claimed = set(seeds[b].tolist())
        blocks = []
        for k, size in enumerate(sizes):
            free = sorted((d, j) for j, d in enumerate(dist[k]) if j not in claimed)
            block = [int(seeds[b, k])] + [j for _, j in free[:size - 1]]
            claimed |= set(block)
            blocks.append(block)
        out.append(blocks)
    return out


@pytest.mark.parametrize('seed', [0, 1])
@pytest.mark.parametrize('M,num_targets,target_ratio', [(16, 4, 0.65), (64, 4, 0.65), (100, 3, 0.8), (37, 5, 0.5)])
@pytest.mark.parametrize('clouds', [_clouds, _tied_clouds])
def test_blockwise_growth_claims_each_blocks_nearest_unclaimed_tokens(seed, M, num_targets, target_ratio, clouds):
    centres = clouds(3, M, seed)
    torch.manual_seed(seed)
    res = RegionMasker(num_targets=num_targets, target_ratio=target_ratio, growth='blockwise')(centres)
    torch.manual_seed(seed)
    interleaved = RegionMasker(num_targets=num_targets, target_ratio=target_ratio)(centres)
    n = min(max(round(target_ratio * M), 1), M - 1)
    K = min(num_targets, n)
    sizes = [n // K + (k < n % K) for k in range(K)]
    assert torch.equal(res.target_idx[:, :, 0], interleaved.target_idx[:, :, 0]), 'not the same seeds'
    expected = _reference_blockwise(centres, res.target_idx[:, :, 0], sizes)
    for b in range(3):
        got = [res.target_idx[b, k, :sizes[k]].tolist() for k in range(K)]
        assert got == expected[b]
        ctx, tgt = _sets(res, b)
        assert not ctx & set(tgt) and ctx | set(tgt) == set(range(M)) and len(tgt) == n
    valid = res.target_valid if res.target_valid is not None else torch.ones_like(res.target_idx, dtype=torch.bool)
    assert valid.sum(dim=2)[0].tolist() == sizes


# --- the deprecated RegionMasker(mode=...) path ------------------------------------------------------------

@pytest.mark.parametrize('mode,cls,kwargs', [
    ('random', RandomMasker, dict(target_ratio=0.6)),
    ('sequence', SequenceMasker, dict(num_targets=3, target_block_ratio=(0.1, 0.3), context_ratio=(0.5, 0.6))),
])
def test_legacy_modes_build_the_new_class_with_a_warning(mode, cls, kwargs):
    full = dict(num_targets=4, target_ratio=0.65, target_block_ratio=(0.15, 0.2), context_ratio=(0.4, 0.75))
    full.update(kwargs)  # as a config built on the region preset passes them: every key, used or not
    with pytest.warns(DeprecationWarning, match=f"RegionMasker\\(mode='{mode}'\\) is deprecated"):
        legacy = MODELS.build(dict(type='RegionMasker', mode=mode, **full))
    assert type(legacy) is cls and legacy.mode == mode
    for key, value in kwargs.items():
        assert getattr(legacy, key) == value
    centres = _clouds(4, 64, 5)
    torch.manual_seed(3)
    a = legacy(centres)
    torch.manual_seed(3)
    b = cls(**kwargs)(centres)
    assert torch.equal(a.context_idx, b.context_idx) and torch.equal(a.target_idx, b.target_idx)


def test_legacy_positional_arguments_still_work():
    with pytest.warns(DeprecationWarning):
        masker = RegionMasker('random', 4, 0.3)
    assert type(masker) is RandomMasker and masker.target_ratio == 0.3
    region = RegionMasker('region', 2, 0.5)
    assert type(region) is RegionMasker and (region.num_targets, region.target_ratio) == (2, 0.5)


def test_region_mode_does_not_warn_and_region_keeps_its_old_arguments():
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        masker = MODELS.build(dict(type='RegionMasker', mode='region', num_targets=4, target_ratio=0.65,
                                   target_block_ratio=(0.15, 0.2), context_ratio=(0.4, 0.75)))
    assert type(masker) is RegionMasker and masker.mode == 'region' and masker.growth == 'interleaved'


@pytest.mark.parametrize('mode', ['region', 'sequence', 'random'])
@pytest.mark.parametrize('bad,match', [(dict(target_ratio=1.0), 'target_ratio must be in'),
                                       (dict(context_ratio=(0.9, 0.1)), 'context_ratio must satisfy'),
                                       (dict(target_block_ratio=(0.0, 0.2)), 'target_block_ratio must satisfy'),
                                       (dict(num_targets=0), 'num_targets must be >= 1')])
def test_every_argument_is_still_checked_in_every_mode(mode, bad, match):
    with pytest.raises(ValueError, match=match):
        RegionMasker(mode=mode, **bad)


def test_unknown_growth_is_rejected():
    with pytest.raises(ValueError, match="unknown growth 'fast'"):
        RegionMasker(growth='fast')


def test_region_masker_copies_and_pickles():
    masker = RegionMasker(num_targets=3, target_ratio=0.5, growth='blockwise')
    for clone in (copy.deepcopy(masker), pickle.loads(pickle.dumps(masker))):
        assert type(clone) is RegionMasker
        assert (clone.num_targets, clone.target_ratio, clone.growth) == (3, 0.5, 'blockwise')


@pytest.mark.parametrize('num_targets,target_ratio', [(4, 0.65), (3, 0.8), (7, 0.65), (1, 0.5)])
@pytest.mark.parametrize('clouds', [_clouds, _tied_clouds])
def test_fixed_point_ablation_reproduces_the_interleaved_loop(num_targets, target_ratio, clouds):
    """benchmarks/ablations/region_growth_fixed_point.py (issue 10's batched attempt): its fixed point gives the
    loop's masks, as its 'same masks' column claims, within the proven bound of loop turns + 1 iterations; with
    several blocks the first iterate (every block taking its nearest tokens, blind to the others) is not the
    answer, so the iteration does the work."""
    from tests.conftest import load_script
    ablation = load_script('benchmarks/ablations/region_growth_fixed_point.py')
    masker = RegionMasker(num_targets=num_targets, target_ratio=target_ratio)
    M = 64
    n = round(target_ratio * M)
    for seed in range(3):
        centres = clouds(8, M, seed + 20)
        _, _, iterations, same, _ = ablation.loop_and_fixed_point(masker, centres, seed)
        assert same
        assert 1 <= iterations <= n - min(num_targets, n) + 1
        if num_targets > 1:
            assert iterations > 2


# --- the fixed-point form of the interleaved growth (RegionMasker._grow_interleaved_fixed_point) --------------

def _fixed_point_inputs(masker, centres, seed):
    """RegionMasker's draw and seed distances for ``centres`` from ``seed``, as its _mask makes them."""
    torch.manual_seed(seed)
    return masker._seeds(centres)


def _loop_only(**kwargs):
    """A RegionMasker that runs the interleaved loop at every size (never the fixed point): the reference."""
    masker = RegionMasker(**kwargs)
    masker.fixed_point_min_turns = float('inf')
    return masker


def _line(B, M, seed):
    x = torch.arange(M, dtype=torch.float32)
    return torch.stack([x, torch.zeros(M), torch.zeros(M)], -1).expand(B, M, 3).contiguous()


@pytest.mark.parametrize('num_targets,target_ratio', [(4, 0.65), (3, 0.8), (7, 0.65), (1, 0.5), (16, 0.95)])
@pytest.mark.parametrize('clouds', [_clouds, _tied_clouds, _line])
@pytest.mark.parametrize('M', [64, 300])
def test_fixed_point_growth_is_the_loop_bit_for_bit(num_targets, target_ratio, clouds, M):
    """Forced on (any turn count) the fixed point gives the loop's masks, and the old single-class loop's
    (LegacyRegionMasker), on random clouds, clouds with exact distance ties, and a line (blocks meeting along a
    1-D front: hundreds of iterations, so the 64-iteration cap hands over to the loop there)."""
    fixed = RegionMasker(num_targets=num_targets, target_ratio=target_ratio)
    fixed.fixed_point_min_turns = 1
    loop = _loop_only(num_targets=num_targets, target_ratio=target_ratio)
    legacy = LegacyRegionMasker(mode='region', num_targets=num_targets, target_ratio=target_ratio)
    for seed in range(2):
        centres = clouds(4, M, seed + 30)
        results = []
        for masker in (fixed, loop, legacy):
            torch.manual_seed(seed)
            res = masker(centres)  # LegacyRegionMasker returns a tuple
            results.append(res if isinstance(res, tuple) else (res.context_idx, res.target_idx, res.target_valid))
        for other in results[1:]:
            for a, b in zip(results[0], other):
                assert (a is None and b is None) or torch.equal(a, b)


def test_fixed_point_converges_in_few_iterations_on_clouds_and_gives_up_on_a_line():
    """What the docstring states: on uniform clouds at M = 1,024 (662 turns) it converges in well under the
    64-iteration cap, its first iterate (each block blind to the others) is not yet the answer, and its
    answer is the loop's; blocks on a line (a 1-D front) exhaust the cap and return None."""
    masker = RegionMasker()
    loop = _loop_only()
    for seed in range(2):
        centres = _clouds(8, 1024, seed)
        target, iterations = RegionMasker._grow_interleaved_fixed_point(
            *_fixed_point_inputs(masker, centres, seed), max_iters=64)
        assert target is not None and 2 < iterations < 64, iterations
        torch.manual_seed(seed)
        assert torch.equal(target, loop(centres).target_idx)
    target, iterations = RegionMasker._grow_interleaved_fixed_point(
        *_fixed_point_inputs(masker, _line(4, 512, 0), 0), max_iters=64)
    assert target is None and iterations == 64


def test_first_of_argsort_is_the_argsort_prefix_with_and_without_ties():
    """RegionMasker's seeds: the first K of the (unstable) argsort, taken by a top-k when no tie can reorder them.
    Ties among the smallest draws, between one of them and a larger-index entry, or none, at the sizes on both
    sides of ``min_numel``."""
    from pjepa3d.models.maskers.base import smallest
    from pjepa3d.models.maskers.region_masker import first_of_argsort
    g = torch.Generator().manual_seed(0)
    for B, M in ((16, 1024), (4, 64), (16, 512)):
        for trial in range(20):
            draw = torch.rand(B, M, generator=g)
            if trial % 4 == 1:  # few distinct values: ties everywhere
                draw = torch.randint(0, 40, (B, M), generator=g).float() / 40
            elif trial % 4 == 2:  # one of the smallest repeated at a larger index
                low = draw.argmin(1)
                draw[torch.arange(B), (low + 7) % M] = draw[torch.arange(B), low]
            for K in (1, 4, 7):
                assert torch.equal(first_of_argsort(draw, K), draw.argsort(dim=1)[:, :K]), (B, M, trial, K)
    draw = torch.rand(16, 1024, generator=g)
    assert torch.equal(first_of_argsort(draw, 4, min_numel=1), smallest(draw, 4))  # the top-k path itself


def test_fixed_point_hands_non_finite_distances_to_the_loop():
    """Its lists mark the seeds +inf, which a non-finite distance could tie: with an inf centre it returns None
    before iterating, and the masker gives the loop's masks."""
    masker = RegionMasker()
    masker.fixed_point_min_turns = 1
    centres = _clouds(2, 64, 3)
    centres[1, 5, 0] = float('inf')
    assert RegionMasker._grow_interleaved_fixed_point(*_fixed_point_inputs(masker, centres, 0), max_iters=64) == (
        None, 0)
    target, iterations = RegionMasker._grow_interleaved_fixed_point(
        *_fixed_point_inputs(masker, centres[:1], 0), max_iters=64)
    assert target is not None and iterations > 0  # the finite cloud alone iterates
    for seed in range(2):
        torch.manual_seed(seed)
        fixed = masker(centres)
        torch.manual_seed(seed)
        assert torch.equal(fixed.target_idx, _loop_only()(centres).target_idx)


def test_default_dispatch_uses_the_fixed_point_from_the_turn_threshold_on_cpu():
    """RegionMasker() takes the fixed point at M = 1,024 (662 turns >= fixed_point_min_turns) and the loop at
    M = 256 (162 turns): the loop dispatches 2 ops a turn, so its op count is far above the fixed point's."""
    from tests.test_models.test_masker_batching import _ops
    masker = RegionMasker()
    assert 162 < masker.fixed_point_min_turns <= 662
    assert _ops(masker, 2, 256) > 2 * 162
    loop = _loop_only()
    big_loop, big_fixed = _ops(loop, 2, 1024), _ops(masker, 2, 1024)
    assert big_loop > 2 * 662 and big_fixed < big_loop / 2, (big_loop, big_fixed)
