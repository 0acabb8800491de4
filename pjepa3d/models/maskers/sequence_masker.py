"""Sequence masking (the authors' code): target blocks and context are contiguous runs of an ordering of the centres."""
import numpy as np
import torch

from pjepa3d.registry import MODELS
from .base import BaseMasker, MaskResult, check_choice, check_num_targets, check_ratio_range, complement

SEQUENCE_ORDERS = ('nn_walk', 'morton')


#: ``nn_walk_order(impl='auto')`` walks in numpy on CPU up to this many B x M entries a step: numpy's per-call
#: cost on a (B, M) row block is a fraction of torch's, but it runs on one thread, where torch spreads a large
#: step over its intra-op threads (benchmarks/README.md, session 45: the sweep of B and M)
NUMPY_WALK_MAX_NUMEL = 65536
WALK_IMPLS = ('auto', 'torch', 'numpy')


def nn_walk_order(centres, impl='auto'):
    """Greedy nearest-neighbour walk over centres (B, M, 3) from the min(x+y+z) one -> order (B, M).

    Step i + 1 is the unvisited centre nearest (``torch.cdist``) to step i; ties go to
    the lowest index. The authors' ``sort_iterative_nearest(min_start=True)``.

    This walk is inherently sequential (the nearest-neighbour tour heuristic is
    P-complete: Kindervater, Lenstra & Shmoys, J. Algorithms 10, 1989), so it is
    M - 1 dependent steps after one ``torch.cdist``. A step reads the row of the
    current centre, adds a penalty that is +inf on visited centres (0 elsewhere) and
    takes the argmin (first minimum: the lowest index), then marks the pick visited.
    Two implementations of those steps, the same order bit for bit (the same cdist
    values, the same float additions, both argmins take the first minimum):

    * ``'torch'``: five out= tensor ops a step, no allocation and no host read (as
      ``furthest_point_sample``): any device; the loop runs with torch's thread setting;
    * ``'numpy'`` (CPU only): the same four operations on numpy views of the same
      memory, whose per-call cost is a fraction of torch's: 0.44-0.66x the torch loop's
      time from B = 32, M = 64 to B = 16, M = 1,024 and 0.85x at B = 64, M = 1,024 on the
      2-core AVX2 EPYC (a scratch timing, 2026-12-06, glibc's heap kept), one thread.

    ``impl='auto'`` (default) takes numpy on CPU for float32 / float64 centres up to
    ``NUMPY_WALK_MAX_NUMEL`` B x M entries a step, else torch.
    """
    if impl not in WALK_IMPLS:
        raise ValueError(f'nn_walk_order: impl must be one of {WALK_IMPLS}, got {impl!r}')
    B, M, _ = centres.shape
    on_cpu = centres.device.type == 'cpu'
    if impl == 'numpy' and not on_cpu:
        raise ValueError(f"nn_walk_order: impl='numpy' runs on CPU only (got a {centres.device.type} tensor); "
                         "use 'auto' or 'torch'")
    if impl == 'auto':
        numpy_ok = on_cpu and centres.dtype in (torch.float32, torch.float64) and B * M <= NUMPY_WALK_MAX_NUMEL
        impl = 'numpy' if numpy_ok else 'torch'
    centres = centres.detach()
    dist = torch.cdist(centres, centres)  # (B, M, M)
    start = torch.argmin(centres.sum(dim=-1), dim=1)
    walk = _walk_numpy if impl == 'numpy' else _walk_torch
    return walk(dist, start)


def _walk_torch(dist, start):
    B, M, _ = dist.shape
    device = dist.device
    dist_rows = dist.view(B * M, M)
    base = torch.arange(B, device=device) * M
    penalty = torch.zeros(B, M, dtype=dist.dtype, device=device)  # +inf on visited centres
    penalty_flat = penalty.view(-1)
    order = torch.empty(M, B, dtype=torch.long, device=device)  # one row per step
    cur = torch.empty(B, dtype=torch.long, device=device)  # flat row index b * M + order[i, b]
    row = torch.empty(B, M, dtype=dist.dtype, device=device)
    steps = order.unbind(0)  # the per-step rows as views made once (indexing in the loop is an op per step)
    steps[0].copy_(start)
    for i in range(M - 1):
        torch.add(steps[i], base, out=cur)
        penalty_flat.index_fill_(0, cur, float('inf'))
        torch.index_select(dist_rows, 0, cur, out=row)
        row.add_(penalty)
        torch.argmin(row, dim=1, out=steps[i + 1])
    return order.t().contiguous()


def _walk_numpy(dist, start):
    B, M, _ = dist.shape
    rows = dist.contiguous().numpy().reshape(B * M, M)
    penalty = np.zeros((B, M), dtype=rows.dtype)  # +inf on visited centres
    penalty_flat = penalty.reshape(-1)
    order = np.empty((M, B), dtype=np.int64)  # one row per step
    order[0] = start.numpy()
    base = np.arange(B, dtype=np.int64) * M
    row = np.empty((B, M), dtype=rows.dtype)
    inf = rows.dtype.type(np.inf)
    for i in range(M - 1):
        cur = order[i] + base  # flat row index b * M + order[i, b]
        penalty_flat[cur] = inf
        np.take(rows, cur, axis=0, out=row)
        row += penalty
        row.argmin(axis=1, out=order[i + 1])
    return torch.from_numpy(order.T.copy())


def _spread_bits_by_3(x):
    """Insert two zero bits after each of the low 21 bits of int64 ``x`` (Morton-code magic numbers)."""
    x = x & 0x1fffff
    x = (x | (x << 32)) & 0x1f00000000ffff
    x = (x | (x << 16)) & 0x1f0000ff0000ff
    x = (x | (x << 8)) & 0x100f00f00f00f00f
    x = (x | (x << 4)) & 0x10c30c30c30c30c3
    x = (x | (x << 2)) & 0x1249249249249249
    return x


def morton_order(centres, bits=21):
    """Z-order (Morton) of centres (B, M, 3) -> order (B, M); fully batched, no loop.

    Each cloud's bounding box is scaled by its largest side onto a cube of 2**bits
    cells per axis (the same scale on every axis); the x, y, z cell numbers are
    bit-interleaved (x lowest) and the codes argsorted (stable: ties go to the lowest
    index). The authors' code has this order as its ``morton`` sequencer method; its
    default preset uses the nearest-neighbour walk instead.
    """
    if not 1 <= bits <= 21:
        raise ValueError(f'morton_order: bits must be in [1, 21] (3 x 21 bits fill an int64), got {bits}')
    lo = centres.amin(dim=1, keepdim=True)
    extent = (centres.amax(dim=1, keepdim=True) - lo).amax(dim=-1, keepdim=True).clamp_min(1e-12)
    cells = 1 << bits
    q = ((centres - lo) / extent * cells).long().clamp_(0, cells - 1)
    code = _spread_bits_by_3(q[..., 0]) | (_spread_bits_by_3(q[..., 1]) << 1) | (_spread_bits_by_3(q[..., 2]) << 2)
    return code.argsort(dim=1, stable=True)


def _union_length(starts, length):
    """Tokens covered by the runs [s, s + length) of each row of ``starts`` (B, K, 1) -> (B,) long."""
    s = starts.flatten(1).sort(dim=1).values
    return length + s.diff(dim=1).clamp_max(length).sum(dim=1)


@MODELS.register_module()
class SequenceMasker(BaseMasker):
    """Target blocks and context are contiguous runs of an ordering of the centres (authors' code).

    Centres are ordered (``order``); ``num_targets`` blocks, each a contiguous run of
    U(``target_block_ratio``) * M tokens of that order (blocks may overlap; fewer
    blocks when M is too small to leave a context token); context = a contiguous run
    of U(``context_ratio``) of the tokens no block covers (floored, minimum over the
    batch, at least 1). The two ratios are drawn once per batch, the run starts per
    sample, so the batch stays rectangular.

    Random draws, in this order: the target ratio (CPU generator), the block starts
    (``torch.randint`` on the CPU generator), the context ratio (CPU generator), the
    context start (``torch.rand(B)`` on the centres' device). The block starts are
    drawn on the CPU so that the context length (a tensor shape that depends on how
    the blocks overlap) is computed without reading the device; they are then copied
    to the device (non-blocking). On CPU the draws and output are identical to the
    old ``RegionMasker(mode='sequence')`` (which now builds this class); on CUDA the
    old code drew the starts from the CUDA generator, so the masks differ draw for
    draw (same distribution).

    Everything after the ordering is batched, no loop. The orders:

    * ``nn_walk`` (default; the authors' preset, and the old behaviour): greedy
      nearest-neighbour walk from the min(x+y+z) centre, :func:`nn_walk_order`.
      Inherently sequential: M - 1 loop steps (see its docstring).
    * ``morton``: Z-order curve, :func:`morton_order`; fully batched, no loop, but a
      different order (runs of a Z-curve jump between octants more often than runs
      of the walk), so different masks: opt-in, not used by any shipped config.

    Args:
        num_targets (int): target blocks (at most; fewer for tiny M).
        target_block_ratio (tuple[float, float]): range of each block's share of M.
        context_ratio (tuple[float, float]): range of the context's share of the
            uncovered tokens.
        order (str): ``'nn_walk'`` or ``'morton'``.
    """

    mode = 'sequence'
    walk_impl = 'auto'  # nn_walk_order's impl (tests and benchmarks set it on an instance)

    def __init__(self, num_targets=4, target_block_ratio=(0.15, 0.2), context_ratio=(0.4, 0.75), order='nn_walk'):
        super().__init__()
        who = type(self).__name__
        check_num_targets(who, num_targets)
        check_ratio_range(who, 'target_block_ratio', target_block_ratio)
        check_ratio_range(who, 'context_ratio', context_ratio)
        check_choice(who, 'order', order, SEQUENCE_ORDERS)
        self.num_targets = num_targets
        self.target_block_ratio = tuple(target_block_ratio)
        self.context_ratio = tuple(context_ratio)
        self.order = order

    def extra_repr(self):
        return (f'num_targets={self.num_targets}, target_block_ratio={self.target_block_ratio}, '
                f'context_ratio={self.context_ratio}, order={self.order}')

    sequence_order = staticmethod(nn_walk_order)
    morton_order = staticmethod(morton_order)

    def _mask(self, centres):
        B, M, _ = centres.shape
        device = centres.device
        order = nn_walk_order(centres, self.walk_impl) if self.order == 'nn_walk' else morton_order(centres)
        lo, hi = self.target_block_ratio
        Nt = min(max(int(M * (lo + (hi - lo) * float(torch.rand(())))), 1), M - 1)
        K = max(1, min(self.num_targets, (M - 1) // Nt))  # leave room for context
        starts_cpu = torch.randint(0, M - Nt + 1, (B, K, 1))
        avail_cpu = M - _union_length(starts_cpu, Nt)  # (B,) uncovered tokens, >= 1
        lo, hi = self.context_ratio
        ratio = lo + (hi - lo) * float(torch.rand(()))
        Nc = max(1, int((ratio * avail_cpu.float()).floor().min()))  # a CPU tensor: no device read
        starts = starts_cpu.to(device, non_blocking=True)
        avail = avail_cpu.to(device, non_blocking=True)
        pos = starts + torch.arange(Nt, device=device)  # (B, K, Nt) positions in walk order
        target = torch.gather(order, 1, pos.flatten(1)).view(B, K, Nt)
        covered = torch.zeros(B, M, dtype=torch.bool, device=device)
        covered.scatter_(1, pos.flatten(1), True)  # in walk-order positions
        free_pos = complement(covered, M)  # free walk positions first, in walk order
        start = (torch.rand(B, device=device) * (avail - Nc + 1).float()).long().unsqueeze(1)
        ctx_pos = torch.gather(free_pos, 1, start + torch.arange(Nc, device=device))
        context = torch.gather(order, 1, ctx_pos)
        return MaskResult(context, target)
