"""Every masker: no host read of a device tensor (they run on the ``meta`` device, where any such read raises),
and which strategies dispatch a number of tensor ops that does not grow with M (no loop over tokens)."""
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from pjepa3d.models import RandomMasker, RegionMasker, SequenceMasker

MASKERS = {
    'region': lambda: RegionMasker(),
    'region/blockwise': lambda: RegionMasker(growth='blockwise'),
    'sequence': lambda: SequenceMasker(),
    'sequence/morton': lambda: SequenceMasker(order='morton'),
    'random': lambda: RandomMasker(),
}


class _OpCounter(TorchDispatchMode):

    def __init__(self):
        super().__init__()
        self.count = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.count += 1
        return func(*args, **(kwargs or {}))


def _ops(masker, B, M):
    centres = torch.rand(B, M, 3)
    torch.manual_seed(0)
    with _OpCounter() as counter:
        masker(centres)
    return counter.count


@pytest.mark.parametrize('name', sorted(MASKERS))
def test_runs_on_the_meta_device_without_reading_it(name):
    """Shapes come from Python numbers and CPU draws only: ``.item()`` / ``bool()`` of a meta tensor raises."""
    with pytest.raises(RuntimeError):  # the check has teeth: the old context-length read fails on meta
        int(torch.empty((), device='meta').floor().min())
    res = MASKERS[name]()(torch.empty(4, 64, 3, device='meta'))
    assert res.context_idx.device.type == 'meta' and res.target_idx.device.type == 'meta'
    assert res.context_idx.shape[0] == 4 and res.target_idx.shape[0] == 4


@pytest.mark.parametrize('name', ['region/blockwise', 'sequence/morton', 'random'])
def test_batched_strategies_dispatch_the_same_ops_at_every_M(name):
    counts = {M: _ops(MASKERS[name](), 2, M) for M in (32, 128, 1024)}  # M > 25: one torch.cdist path
    assert len(set(counts.values())) == 1, counts


@pytest.mark.parametrize('name', ['region', 'sequence'])
def test_the_exact_sequential_strategies_grow_with_M(name):
    """The default region growth (below ``RegionMasker.fixed_point_min_turns`` turns, or off the CPU) and the walk
    order are the old sequential algorithms (see their docstrings): their op count grows with M. Pinned so that
    the docstrings' claim is checked, and so is the counter. (From the threshold on, the region growth runs a
    fixed-point iteration on CPU: test_region_masker.py checks that dispatch.)"""
    masker = MASKERS[name]()
    if name == 'sequence':
        masker.walk_impl = 'torch'  # the walk's torch loop (on CPU it walks in numpy by default: no torch op a step)
    small, large = _ops(masker, 2, 32), _ops(masker, 2, 256)
    assert large > small + 100


def _walk_masker(impl):
    masker = SequenceMasker()
    masker.walk_impl = impl
    return masker


def test_ops_per_sequential_step():
    """The walk's torch loop dispatches 5 ops a step (M - 1 steps), its numpy loop none (numpy on the host, the
    CPU default), and the interleaved growth 2 a turn (n - K turns; it was 3): the per-step counts the
    docstrings state."""
    walk = (_ops(_walk_masker('torch'), 2, 256) - _ops(_walk_masker('torch'), 2, 64)) / (256 - 64)
    assert walk == 5, walk
    assert _ops(_walk_masker('numpy'), 2, 256) == _ops(_walk_masker('numpy'), 2, 64)
    assert _ops(_walk_masker('auto'), 2, 256) == _ops(_walk_masker('numpy'), 2, 256)
    region = RegionMasker(num_targets=4, target_ratio=0.5)  # n - K turns: 124 at M = 256, 28 at M = 64
    turns = (_ops(region, 2, 256) - _ops(region, 2, 64)) / (124 - 28)
    assert turns == 2, turns


# --- the two index helpers the batched maskers use in place of sorts -----------------------------------------

@pytest.mark.parametrize('M', [2, 7, 64, 1024])
def test_complement_is_the_stable_argsort_of_the_mask(M):
    """``complement`` (a cumsum partition) returns exactly what the stable argsort of the bool mask returns, for
    every count up to M (past the False entries it continues with the True ones, ascending)."""
    from pjepa3d.models.maskers.base import complement
    g = torch.Generator().manual_seed(M)
    for share in (0.0, 0.3, 0.65, 1.0):
        taken = torch.rand(5, M, generator=g) < share
        ref = torch.argsort(taken.to(torch.int8), dim=1, stable=True)
        for count in sorted({1, M // 2, M}):
            assert torch.equal(complement(taken, count), ref[:, :count])


@pytest.mark.parametrize('M', [3, 64, 1024])
def test_smallest_is_the_stable_argsort_with_ties_inf_and_negative_zero(M):
    """``smallest`` (a top-k of (float bits, index) keys) returns what the stable argsort returns: ties to the
    lowest index, +inf last, -0.0 equal to +0.0 (its raw bits would sort it after +inf)."""
    from pjepa3d.models.maskers.base import smallest
    g = torch.Generator().manual_seed(M)
    values = torch.randint(0, 5, (6, M), generator=g).float() / 5  # many exact ties
    values[torch.rand(6, M, generator=g) < 0.2] = float('inf')
    values[torch.rand(6, M, generator=g) < 0.1] = -0.0
    assert (values == 0).any() and torch.signbit(values).any()
    ref = values.argsort(dim=1, stable=True)
    for count in sorted({1, M // 3 or 1, M}):
        assert torch.equal(smallest(values, count), ref[:, :count])
    assert torch.equal(smallest(values[:, ::2], 2), values[:, ::2].argsort(dim=1, stable=True)[:, :2])  # strided
    with pytest.raises(TypeError, match='float32'):
        smallest(values.double(), 1)
