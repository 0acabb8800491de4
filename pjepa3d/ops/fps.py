"""Farthest point sampling, batched, pure PyTorch (CPU and GPU).

Two implementations with the same output (``impl=``): the dense loop below, batched over
the clouds, for any device; and, for large clouds on CPU (a LiDAR scan), ``_fps_pruned``
(further down), which makes several picks per pass and only touches the points a pick can
change: 2-4x faster on one 35k-point nuScenes scan at M = 1,024.

The dense loop is inherently sequential (M steps), so its cost is the number and size
of the tensor ops per step. Per step this implementation does:

* 3 x (sub, square / fused multiply-add) on planar (B, N) coordinate arrays and
  one in-place ``minimum`` into the running distance: the exact squared distance
  ``(x - cx)^2 + (y - cy)^2 + (z - cz)^2``, never the ``|a|^2 - 2ab + |b|^2`` form;
* the argmax in two levels: ``amax`` over blocks of S points (a vectorised
  reduction, far cheaper than ``argmax`` over N) and ``argmax`` over the G block
  maxima, then ``argmax`` inside the winning block. The first maximal block and
  the first maximal point in it = the lowest index among ties, as a flat argmax;
* index ops writing into preallocated buffers (``out=``): no allocation, no host
  synchronisation (nothing calls ``.item()``), so it also runs on GPU unchanged;
* torch's intra-op thread count is left alone by default: ``torch.set_num_threads``
  is process-wide, so changing it around every call would also change it for any
  other thread of the process while FPS runs. Each op touches at most a few
  hundred KB, so threads gain little; on an idle 2-core CPU one thread was 6-8 %
  faster for B=32, N=1024, M=64 (6.8 vs 7.3 ms) and 2 % for one 35k-point scan,
  M=1024 (89 vs 91 ms), i.e. about 0.1 % of a pretraining step. On a host where
  another process holds a core, every parallel region is a barrier that can cost
  milliseconds; ``num_threads=1`` opts in to running the loop with one thread
  (set for the call and restored afterwards).

Picked points get distance -1, so they are never picked again: the indices are
distinct even when the cloud has duplicated points (after the distinct points are
exhausted, the remaining duplicates are picked in index order).
"""
import math

import numpy as np
import torch

from .knn import box_lower_bound, check_order, morton_order, squared_distance


def _block_size(n):
    """Points per block for the two-level argmax: about sqrt(N), a power of two, >= 8."""
    return max(8, 1 << int(round(math.log2(math.sqrt(max(n, 1))))))


class _intra_op_threads:
    """Temporarily set torch's intra-op thread count (CPU only; restored on exit)."""

    def __init__(self, device, n=None):
        self.n = n if device.type == 'cpu' else None
        self.old = None

    def __enter__(self):
        if self.n is not None and torch.get_num_threads() != self.n:
            self.old = torch.get_num_threads()
            torch.set_num_threads(self.n)

    def __exit__(self, *exc):
        if self.old is not None:
            torch.set_num_threads(self.old)


@torch.no_grad()
def furthest_point_sample(xyz, num_samples, random_start=False, num_threads=None, impl='auto', order=None):
    """Pick ``num_samples`` points per cloud, each the farthest from those already picked.

    Args:
        xyz (Tensor): (B, N, 3) coordinates.
        num_samples (int): M, points to pick (M <= N).
        random_start (bool): start from a random point per cloud (training)
            instead of index 0 (evaluation, deterministic).
        num_threads (int, optional): on CPU, torch's intra-op threads for the
            loop (set for the call, then restored; process-wide while it runs).
            None (default) leaves torch's setting alone.
        impl (str): ``'dense'`` (the batched loop over all points, any device), ``'pruned'`` (CPU only:
            per cloud, several picks per pass and only the points a pick can change; see ``_fps_pruned``)
            or ``'auto'``: pruned on CPU for at least ``PRUNED_MIN_SAMPLES`` picks from at least
            ``PRUNED_MIN_POINTS_PER_CLOUD`` x B points (where it measured faster), else dense. Both give the
            same indices.
        order (LongTensor, optional): (B, N) :func:`~pjepa3d.ops.knn.morton_order` of ``xyz``, for the pruned path
            to reuse instead of sorting again (:func:`~pjepa3d.ops.sample_and_group` shares it with the kNN); the
            dense loop ignores it. Any permutation gives the same picks; the curve's locality gives the speed.
    Returns:
        LongTensor: (B, M) indices into N, always distinct. Step i picks, among
        the points not yet picked, one whose squared distance to the nearest
        picked point is maximal (exact fp32 arithmetic, no approximation); ties
        pick the lowest index.
    """
    B, N, _ = xyz.shape
    M = int(num_samples)
    if M > N:
        raise ValueError(f'furthest_point_sample: cannot pick {M} centres from {N} points')
    check_order(order, B, N, 'furthest_point_sample: order')
    if impl not in ('auto', 'dense', 'pruned'):
        raise ValueError(f"furthest_point_sample: impl must be 'auto', 'dense' or 'pruned', got {impl!r}")
    dev = xyz.device
    if impl == 'pruned' and dev.type != 'cpu':
        raise ValueError(f"furthest_point_sample: impl='pruned' runs on CPU only (got a {dev.type} tensor); "
                         "use 'auto' or 'dense'")
    if impl == 'auto':
        pruned = dev.type == 'cpu' and B > 0 and M >= PRUNED_MIN_SAMPLES and N >= PRUNED_MIN_POINTS_PER_CLOUD * B
        impl = 'pruned' if pruned else 'dense'
    out = torch.empty(M, B, dtype=torch.long, device=dev)
    if M == 0:
        return out.t()
    xyz = xyz[..., :3].float()
    if impl == 'pruned':
        starts = torch.randint(0, N, (B,)).tolist() if random_start else [0] * B
        with _intra_op_threads(dev, num_threads):
            perms = [None] * B if order is None else order.unbind(0)
            return torch.stack([_fps_pruned(xyz[b].contiguous(), M, starts[b], perm=perms[b]) for b in range(B)])
    S = _block_size(N)
    G = -(-N // S)
    Np = G * S
    pts = xyz.new_zeros(B, Np, 3)  # padded copy; padding never wins (distance -1)
    pts[:, :N] = xyz
    planar = pts.permute(2, 0, 1).contiguous()  # (3, B, Np): each axis a contiguous (B, Np) plane
    x0, x1, x2 = planar.unbind(0)
    flat = planar.view(3, B * Np)
    dist = xyz.new_full((B, Np), float('inf'))
    dist[:, N:] = -1.0
    dist_flat = dist.view(-1)
    dist_blocks = dist.view(B, G, S)
    dist_rows = dist.view(B * G, S)
    d = xyz.new_empty(B, Np)
    t = xyz.new_empty(B, Np)
    block_max = xyz.new_empty(B, G)
    row = xyz.new_empty(B, S)
    centre = xyz.new_empty(3, B)
    c0, c1, c2 = (c.unsqueeze(1) for c in centre.unbind(0))  # (B, 1) contiguous columns
    g = torch.empty(B, dtype=torch.long, device=dev)
    j = torch.empty(B, dtype=torch.long, device=dev)
    rows_g = torch.arange(B, device=dev) * G  # first block row of each cloud
    picks = out.unbind(0)  # flat indices into the padded (B * Np) storage, one row per step
    if random_start:
        start = torch.randint(0, N, (B,), device=dev)
    else:
        start = torch.zeros(B, dtype=torch.long, device=dev)
    torch.add(start, rows_g, alpha=S, out=picks[0])
    with _intra_op_threads(dev, num_threads):
        _fps_loop(M, S, picks, flat, centre, dist, dist_flat, dist_blocks, dist_rows, d, t, block_max, row, g, j,
                  rows_g, x0, x1, x2, c0, c1, c2)
    out.sub_((rows_g * S).unsqueeze(0))
    return out.t()


def _fps_loop(M, S, picks, flat, centre, dist, dist_flat, dist_blocks, dist_rows, d, t, block_max, row, g, j, rows_g,
              x0, x1, x2, c0, c1, c2):
    for i in range(M):
        far = picks[i]
        torch.index_select(flat, 1, far, out=centre)
        dist_flat.index_fill_(0, far, -1.0)
        if i == M - 1:
            break
        torch.sub(x0, c0, out=d)
        d.square_()
        torch.sub(x1, c1, out=t)
        d.addcmul_(t, t)
        torch.sub(x2, c2, out=t)
        d.addcmul_(t, t)
        torch.minimum(dist, d, out=dist)
        torch.amax(dist_blocks, -1, out=block_max)
        torch.argmax(block_max, 1, out=g)
        g.add_(rows_g)
        torch.index_select(dist_rows, 0, g, out=row)
        torch.argmax(row, 1, out=j)
        torch.add(j, g, alpha=S, out=picks[i + 1])


# ---------------------------------------------------------------------------------------------------------
# Large clouds on CPU: several picks per pass over the points, and only the points a pick can change.
#
# The dense loop above touches all N points with ~15 tensor ops per pick. For one 35k-point LiDAR scan that is
# per-op dispatch over arrays that mostly do not change: late in FPS a new centre only lowers the distance of
# points near it. ``_fps_pruned`` gets the same picks (bit for bit: the same fp32 expression for every distance,
# the same lowest-index tie rule) with two ideas:
#
# * candidates: after a refresh, the L points with the largest distance are the candidates and t, the largest
#   distance among the rest, is a threshold no other point can exceed (distances only decrease). Among the
#   candidates FPS runs on its own, on an (L, L) table of their pairwise distances, while the best candidate
#   stays strictly above t: then it is the global farthest point. Each such step is a few numpy ops on L
#   values (numpy on the host: the path is CPU-only, and numpy's per-call cost on 128 values is lower than torch's;
#   the same loop with torch ops took 20.5-21.1 ms against 15.5-17.1 ms on the 35k-point scan, a scratch A/B of
#   2026-12-03); the points are refreshed once per batch of picks (about 30 picks for L = 128 on a LiDAR scan,
#   more for the default L = PRUNED_CANDIDATES below);
# * blocks: points are sorted along a Morton curve into blocks of S with a bounding box each; a refresh
#   updates a block with a pending pick only when the box's lower-bound distance to that pick is below the
#   block's largest distance (otherwise no point of it can change).
#
# Written by hand because no maintained library offers batched, exact, device-agnostic FPS in PyTorch (fpsample
# is CPU numpy-only, one cloud at a time, and is what benchmarks/bench_tokenizer.py compares against).
# It runs on CPU only (it synchronises with the host after every pick); ``furthest_point_sample`` keeps the
# dense loop on GPUs and for small clouds.
# 'auto' takes the pruned path on CPU for at least PRUNED_MIN_SAMPLES picks from clouds of at least
# PRUNED_MIN_POINTS_PER_CLOUD x B points: the pruned path runs one cloud at a time, while the dense loop shares each
# op's dispatch across the batch. Measured on the 2-core AVX2 EPYC after the numpy bookkeeping and the one-broadcast
# box bound (2026-12-06, a scratch timing, uniform-ball clouds, median ms dense / pruned, the same picks): B 1, N 2048,
# M 512: 45.5 / 14.9; B 1, N 4096, M 512: 50.1 / 17.9; B 2, N 4096, M 1024: 107.7 / 47.9; B 2, N 8192, M 1024:
# 118.4 / 61.2; B 4, N 8192, M 1024: 153.0 / 114.3; B 4, N 16384, M 1024: 189.2 / 147.1; B 4, N 4096, M 512:
# 75.0 / 69.9; B 8, N 16384, M 1024: 237.8 / 264.0; B 16, N 16384, M 1024: 536.3 / 548.7; B 8, N 4096, M 512:
# 92.0 / 133.7; B 8, N 8192, M 1024: 228.1 / 255.1. N >= 2,048 x B takes the pruned path in every row where it
# was faster but B 4 x 4,096 (7 %), and in one where it was slower (B 8 x 16,384, 10 %); the rule was N >= 4,096 x B
# before, which left B 1-4 clouds of 2-8k points on the dense loop, 1.3-3x slower. The 34,752-point nuScenes
# scan, M 1024: 147.5 / 43.4 (benchmarks/bench_tokenizer.py --split, same day). These were measured with 128
# candidates per pass; with 320 (below) the pruned path is 5-14 % faster again, so the rule stays on the safe side.
PRUNED_MIN_SAMPLES = 512
PRUNED_MIN_POINTS_PER_CLOUD = 2048
# L, the candidates per pass: 320 since 2026-12-06 (was 128). A sweep on the same AVX2 EPYC, interleaved, median ms,
# the same picks: the 34,752-point scan at M = 1,024: L 128 / 256 / 320 / 384 / 512: 44.83 / 43.82 / 41.10 / 41.68 /
# 43.00 (another run: 38.21 / 35.81 / 34.87 for 128 / 256 / 320); uniform balls, L 128 / 256 / 320 / 384: N 2,048 M
# 512 10.99 / 9.63 / 9.49 / 10.45; N 4,096 M 512 13.86 / 12.47 / 12.16 / 13.20; N 8,192 M 1,024 27.07 / 23.34 / 23.20
# / 22.95; N 16,384 M 1,024 34.34 / 33.27 / 32.94 / 29.97; N 16,384 M 2,048 49.85 / 46.91 / 47.24 / 47.03. More
# candidates mean fewer passes (each a fixed cost of some 40 tensor ops) against a larger table and per-pick minimum.
PRUNED_CANDIDATES = 320
PRUNED_BLOCK = 128


@torch.no_grad()
def _fps_pruned(xyz, M, start, num_candidates=PRUNED_CANDIDATES, block_size=PRUNED_BLOCK, perm=None):
    """Exact FPS of one cloud (N, 3) float32 on CPU, starting at index ``start``; (M,) LongTensor. ``perm``: the
    points' order (N,), by default their ``morton_order``."""
    N = xyz.shape[0]
    S = int(block_size)
    G = -(-N // S)
    Np = G * S
    if perm is None:
        perm = morton_order(xyz[None])[0]
    if Np > N:  # pad the last block with copies of its last point: the box is unchanged, the slot never wins
        perm = torch.cat([perm, perm[-1:].expand(Np - N)])
    planes = xyz.index_select(0, perm).t().contiguous().view(3, G, S)  # block points, axis-first
    lo, hi = planes.amin(-1).unsqueeze(2), planes.amax(-1).unsqueeze(2)  # (3, G, 1) boxes
    dist = xyz.new_full((G, S), float('inf'))
    dist_flat = dist.view(-1)
    dist_flat[N:] = -1.0
    # numpy views of the same memory for the host-side bookkeeping (numpy's per-call cost on small arrays is a
    # fraction of torch's); every distance is still computed by torch with ``squared_distance``
    dist_np = dist_flat.numpy()
    orig = perm.clone()
    orig[N:] = N  # padding sorts after every real index
    orig_np = orig.numpy()
    coords = planes.view(3, Np)
    coords_np = coords.numpy()
    out = [int(start)]
    pending = (perm[:N] == start).nonzero()[0].numpy()  # the start's slot in Morton order
    while len(out) < M:
        # refresh: apply the pending picks to every block they can change
        dist_np[pending] = -1.0
        c = torch.from_numpy(coords_np[:, pending])  # (3, P)
        block_max = dist.amax(1)  # (G,)
        lb = box_lower_bound(lo, hi, c.unsqueeze(1))  # (G, P)
        gi, pi = torch.nonzero(lb < block_max.unsqueeze(1), as_tuple=True)
        if gi.numel():
            pts = planes.index_select(1, gi)  # (3, A, S)
            cp = c.index_select(1, pi).unsqueeze(2)  # (3, A, 1)
            d = squared_distance(*pts.unbind(0), *cp.unbind(0))  # the dense loop's expression
            dist.scatter_reduce_(0, gi.unsqueeze(1).expand(-1, S), d, 'amin')  # include_self: a running minimum
        # candidates: the values strictly above the largest value left out (grow k past exact ties)
        k = min(int(num_candidates) + 1, Np)
        while True:
            vals, pos = torch.topk(dist_flat, k)
            vals = vals.numpy()
            if vals[0] <= 0:
                break
            t = float(vals[-1])
            keep = vals > t
            if keep.any() or k == Np:  # k == Np: vals[-1] is a picked point's -1, so keep is not empty
                break
            k = min(4 * k, Np)
        if vals[0] <= 0:
            # only zero distances left (duplicated points): the rest in index order, as the dense loop picks them
            out.extend(np.sort(orig_np[dist_np == 0])[:M - len(out)].tolist())
            break
        cpos = pos.numpy()[keep]
        order = orig_np[cpos].argsort()  # by original index (distinct): the first maximum is the lowest index
        cpos = cpos[order]
        cv = dist_np[cpos]  # a copy (fancy indexing)
        cx = coords.index_select(1, torch.from_numpy(cpos))  # (3, L)
        table = squared_distance(*cx.unsqueeze(1).unbind(0), *cx.unsqueeze(2).unbind(0)).numpy()  # (L, L)
        picked = []
        room = M - len(out)
        argmax, value = cv.argmax, cv.item  # bound methods: a fraction of np.argmax's and of a numpy scalar's cost
        while len(picked) < room:
            j = argmax()  # first maximum = lowest original index among ties
            if not value(j) > t:
                break
            picked.append(j)
            np.minimum(cv, table[j], out=cv)
            cv[j] = -1.0
        pending = cpos[picked]
        out.extend(orig_np[pending].tolist())
    return torch.tensor(out[:M], dtype=torch.long)
