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
    """The default region growth and the walk order are the old sequential algorithms (see their docstrings):
    their op count grows with M. Pinned so that the docstrings' claim is checked, and so is the counter."""
    small, large = _ops(MASKERS[name](), 2, 32), _ops(MASKERS[name](), 2, 256)
    assert large > small + 100


def test_ops_per_sequential_step():
    """The walk dispatches 5 ops a step (M - 1 steps) and the interleaved growth 2 a turn (n - K turns; it
    was 3): the per-step counts the docstrings state."""
    walk = (_ops(SequenceMasker(), 2, 256) - _ops(SequenceMasker(), 2, 64)) / (256 - 64)
    assert walk == 5, walk
    region = RegionMasker(num_targets=4, target_ratio=0.5)  # n - K turns: 124 at M = 256, 28 at M = 64
    turns = (_ops(region, 2, 256) - _ops(region, 2, 64)) / (124 - 28)
    assert turns == 2, turns
