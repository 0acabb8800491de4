"""SequenceMasker: pinned element for element to the old loop (RegionMasker(mode='sequence') before the masker
split), the walk order with ties, the opt-in Morton order, and argument checks."""
import pytest
import torch

from pjepa3d.models import SequenceMasker
from pjepa3d.models.maskers.sequence_masker import morton_order, nn_walk_order
from pjepa3d.registry import MODELS
from pjepa3d.testing import LegacyRegionMasker


def _clouds(B=8, M=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(B, M, 3, generator=g) * 2 - 1


def _tied_clouds(B, M, seed):
    """Centres on a coarse grid: many exactly equal distances (and equal coordinate sums), so ties are exercised."""
    return (_clouds(B, M, seed) * 2).round() / 2


# the sequence strategy as it was before the masker split (RegionMasker.sequence_order and
# RegionMasker._mask_sequence of commit 42802b2, kept in pjepa3d.testing.LegacyRegionMasker; its order function
# is an argument so that the same code can be fed the Morton order)

_reference_sequence_order = LegacyRegionMasker.sequence_order  # greedy nearest-neighbour walk, (B, M, 3) -> (B, M)


def _reference_sequence_mask(centres, num_targets=4, target_block_ratio=(0.15, 0.2), context_ratio=(0.4, 0.75),
                             order_fn=_reference_sequence_order):
    """-> (context_idx, target_idx), drawing exactly what the old code drew."""
    context, target, _ = LegacyRegionMasker('sequence', num_targets=num_targets,
                                            target_block_ratio=target_block_ratio, context_ratio=context_ratio,
                                            order_fn=order_fn)(centres)
    return context, target


@pytest.mark.parametrize('seed', [0, 1, 2])
@pytest.mark.parametrize('B,M', [(1, 2), (3, 3), (2, 5), (4, 16), (8, 64), (2, 257)])
@pytest.mark.parametrize('clouds', [_clouds, _tied_clouds])
@pytest.mark.parametrize('impl', ['auto', 'torch', 'numpy'])
def test_walk_order_matches_the_old_loop_exactly(seed, B, M, clouds, impl):
    centres = clouds(B, M, seed)
    order = nn_walk_order(centres, impl=impl)
    assert order.shape == (B, M) and order.is_contiguous() and order.dtype == torch.long
    assert torch.equal(order, _reference_sequence_order(centres))
    assert torch.equal(SequenceMasker.sequence_order(centres), order)


@pytest.mark.parametrize('case', ['duplicates', 'float64', 'large', 'requires_grad'])
def test_walk_implementations_agree(case, monkeypatch):
    """The numpy walk (CPU default) and the torch loop (any device) give the same order bit for bit: on clouds
    with duplicated centres (zero distances, all ties), on float64 centres, on a step above the numpy path's
    size limit (where 'auto' takes torch) and on centres that require grad (the walk only reads them)."""
    from pjepa3d.models.maskers import sequence_masker
    if case == 'duplicates':
        centres = _clouds(3, 40, 5).repeat(1, 3, 1)  # every centre three times: its copies are its only ties
    elif case == 'float64':
        centres = _clouds(4, 100, 6).double()
    elif case == 'large':
        centres = _clouds(65, 1024, 7)
        assert 65 * 1024 > sequence_masker.NUMPY_WALK_MAX_NUMEL
    else:
        centres = _clouds(2, 50, 8).requires_grad_()
    by_numpy = nn_walk_order(centres, impl='numpy')
    by_torch = nn_walk_order(centres, impl='torch')
    assert torch.equal(by_numpy, by_torch)
    taken = []
    for name in ('_walk_numpy', '_walk_torch'):
        real = getattr(sequence_masker, name)
        monkeypatch.setattr(sequence_masker, name, lambda *a, real=real, name=name: taken.append(name) or real(*a))
    assert torch.equal(nn_walk_order(centres), by_torch)
    assert taken == ['_walk_torch' if case == 'large' else '_walk_numpy']  # what 'auto' chose
    assert (by_numpy.sort(dim=1).values == torch.arange(centres.shape[1])).all()  # a permutation per cloud
    if case == 'duplicates':  # the copies of a centre follow each other, lowest index first
        first = by_torch[:, 0]
        assert torch.equal(by_torch[:, 1], first + 40) and torch.equal(by_torch[:, 2], first + 80)


def test_walk_impl_is_checked():
    centres = _clouds(2, 8, 0)
    with pytest.raises(ValueError, match="impl must be one of"):
        nn_walk_order(centres, impl='numba')
    with pytest.raises(ValueError, match="runs on CPU only"):
        nn_walk_order(centres.to('meta'), impl='numpy')


@pytest.mark.parametrize('seed', [0, 1, 2])
@pytest.mark.parametrize('B,M', [(1, 2), (3, 3), (2, 5), (4, 16), (8, 64), (3, 100), (2, 257)])
@pytest.mark.parametrize('num_targets,target_block_ratio,context_ratio', [
    (4, (0.15, 0.2), (0.4, 0.75)), (1, (0.3, 0.3), (1.0, 1.0)), (6, (0.05, 0.5), (0.1, 0.9))])
@pytest.mark.parametrize('clouds', [_clouds, _tied_clouds])
def test_sequence_mask_matches_the_old_loop_exactly(seed, B, M, num_targets, target_block_ratio, context_ratio,
                                                    clouds):
    """Pinned (CPU): context_idx and target_idx equal element for element to the old code's, from the same
    global-generator state, and the generator ends in the same state (draws consumed identically)."""
    centres = clouds(B, M, seed + 10)
    torch.manual_seed(seed)
    context, target = _reference_sequence_mask(centres, num_targets, target_block_ratio, context_ratio)
    after_ref = torch.rand(4)
    torch.manual_seed(seed)
    res = SequenceMasker(num_targets, target_block_ratio, context_ratio)(centres)
    assert res.target_valid is None
    assert torch.equal(res.target_idx, target)
    assert torch.equal(res.context_idx, context)
    assert torch.equal(torch.rand(4), after_ref), 'the masker consumed the random stream differently'


def test_sequence_pin_can_fail():
    centres = _clouds(4, 64, 3)
    torch.manual_seed(0)
    context, target = _reference_sequence_mask(centres)
    torch.manual_seed(1)
    other = SequenceMasker()(centres)
    assert not (torch.equal(other.context_idx, context) and torch.equal(other.target_idx, target))
    torch.manual_seed(0)
    morton = SequenceMasker(order='morton')(centres)
    assert not torch.equal(morton.target_idx, target)


# --- order='morton' (opt-in, no loop) --------------------------------------------------------------------------

def _reference_morton_codes(centres, bits=21):
    """Cell numbers as the masker quantises them, then the bits interleaved one by one in plain Python."""
    lo = centres.amin(dim=1, keepdim=True)
    extent = (centres.amax(dim=1, keepdim=True) - lo).amax(dim=-1, keepdim=True).clamp_min(1e-12)
    q = ((centres - lo) / extent * (1 << bits)).long().clamp(0, (1 << bits) - 1).tolist()
    return [[sum(((xyz[a] >> i) & 1) << (3 * i + a) for i in range(bits) for a in range(3)) for xyz in cloud]
            for cloud in q]


@pytest.mark.parametrize('seed', [0, 1])
@pytest.mark.parametrize('clouds', [_clouds, _tied_clouds])
def test_morton_order_sorts_by_interleaved_bits(seed, clouds):
    centres = clouds(3, 100, seed)
    order = morton_order(centres)
    codes = _reference_morton_codes(centres)
    for b in range(3):
        expected = sorted(range(100), key=lambda j: (codes[b][j], j))
        assert order[b].tolist() == expected


def test_morton_order_of_a_grid_is_the_z_curve():
    """The 8 corners of a cube: x is the lowest bit, then y, then z."""
    corners = torch.tensor([[x, y, z] for z in (0., 1.) for y in (0., 1.) for x in (0., 1.)])
    perm = torch.randperm(8, generator=torch.Generator().manual_seed(0))
    order = morton_order(corners[perm].unsqueeze(0))[0]
    assert torch.equal(perm[order], torch.arange(8))
    with pytest.raises(ValueError, match='bits must be in'):
        morton_order(corners.unsqueeze(0), bits=22)


@pytest.mark.parametrize('seed', [0, 1])
@pytest.mark.parametrize('M', [5, 64, 257])
def test_morton_masks_are_the_same_runs_taken_from_the_morton_order(seed, M):
    """order='morton' changes only the order: the runs are drawn as the old code drew them."""
    centres = _clouds(4, M, seed)
    torch.manual_seed(seed)
    context, target = _reference_sequence_mask(centres, order_fn=morton_order)
    torch.manual_seed(seed)
    res = SequenceMasker(order='morton')(centres)
    assert torch.equal(res.target_idx, target) and torch.equal(res.context_idx, context)


def test_sequence_masker_from_the_registry_and_its_checks():
    masker = MODELS.build(dict(type='SequenceMasker', num_targets=3, target_block_ratio=(0.1, 0.2),
                               context_ratio=(0.5, 0.5), order='morton'))
    assert type(masker) is SequenceMasker and masker.mode == 'sequence'
    assert (masker.num_targets, masker.target_block_ratio, masker.context_ratio, masker.order) == (
        3, (0.1, 0.2), (0.5, 0.5), 'morton')
    with pytest.raises(ValueError, match="unknown order 'hilbert'"):
        SequenceMasker(order='hilbert')
    with pytest.raises(ValueError, match='context_ratio must satisfy'):
        SequenceMasker(context_ratio=(0.8, 0.2))
    with pytest.raises(ValueError, match='at least 2 patch tokens'):
        SequenceMasker()(_clouds(2, 1))
