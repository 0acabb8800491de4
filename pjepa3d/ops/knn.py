"""k-nearest-neighbour search and grouping, batched, pure PyTorch.

Distances are always the direct squared differences ``(qx - rx)^2 + (qy - ry)^2 +
(qz - rz)^2`` in fp32 (never ``|a|^2 - 2ab + |b|^2``, whose cancellation error
reorders near neighbours far from the origin, e.g. 50 m out in a LiDAR scan), so
the result equals a brute-force reference up to the order of exact ties.

Two exact strategies:

* brute force (object-scale clouds): the (B, chunk, N) distance matrix from
  contiguous per-axis planes, then an exact two-level top-k (``_smallest_k``:
  ``topk`` over group minima, then over the k winning groups' entries);
* block pruning (scene-scale clouds, ``N >= BLOCK_MIN_POINTS``): the reference
  points are sorted along a Morton (Z-order) curve and cut into blocks of S points
  with an axis-aligned bounding box each. A query computes the exact distance to
  the points of the ``Gc`` blocks whose boxes are nearest, and the answer is
  accepted only when its k-th distance is <= the box distance of the nearest block
  left out (so no left-out point can be nearer). Rows that fail are retried with
  4x more blocks, and what still fails falls back to brute force: always exact;
* query blocking (many queries, few references: every point of a scan against its
  1,024 patch centres in ``three_interpolate``): the same proof with the roles
  swapped, the queries in Morton blocks with boxes and each block's candidates the
  references nearest to its box (``_knn_query_blocks``).
"""
import torch

#: clouds with at least this many reference points use block pruning.
BLOCK_MIN_POINTS = 8192
#: points per block and blocks per query (first pass) of the block-pruned search.
BLOCK_SIZE = 32
BLOCK_CANDIDATES = 16
#: many queries against fewer references (``M >= QUERY_BLOCK_MIN_QUERIES`` and ``M >= QUERY_BLOCK_RATIO * N``, N
#: below BLOCK_MIN_POINTS): the queries are blocked instead (``_knn_query_blocks``): queries per block, candidate
#: references per block, blocks per chunk.
QUERY_BLOCK_MIN_QUERIES = 16384
QUERY_BLOCK_RATIO = 8
QUERY_BLOCK_SIZE = 64
QUERY_BLOCK_CANDIDATES = 32
QUERY_BLOCK_CHUNK = 256


def gather_points(points, idx):
    """Index points per batch element.

    Args:
        points (Tensor): (B, N, C).
        idx (LongTensor): (B, ...) indices into N.
    Returns:
        Tensor: (B, ..., C).
    """
    B, N, C = points.shape
    flat = idx.reshape(B, -1)
    if B == 1 or flat.shape[1] == 0:
        out = points[0].index_select(0, flat[0].contiguous()).unsqueeze(0) if B == 1 else points.new_empty(B, 0, C)
    else:  # one index_select on (B*N, C) rows: cheaper than gather with an expanded index
        offs = (torch.arange(B, device=idx.device) * N).unsqueeze(1)
        out = points.reshape(B * N, C).index_select(0, (flat + offs).reshape(-1))
    return out.reshape(*idx.shape, C)


def squared_distance(p0, p1, p2, c0, c1, c2):
    """``(p0 - c0)^2 + (p1 - c1)^2 + (p2 - c2)^2`` from per-axis (broadcastable) tensors, in this exact op order.

    The brute force, both block searches and the pruned FPS compute their distances with it, and the dense FPS loop
    repeats the same op order into preallocated buffers, so the same pair of points always gets the same fp32 value
    (the fused multiply-add included): what lets the searches and the two FPS paths agree bit for bit."""
    d = torch.sub(p0, c0).square_()
    t = torch.sub(p1, c1)
    d.addcmul_(t, t)
    torch.sub(p2, c2, out=t)
    return d.addcmul_(t, t)


def box_lower_bound(lo, hi, p):
    """Squared distance from points to axis-aligned boxes: per axis ``max(lo - p, p - hi, 0)`` (lo <= hi, so at most
    one of the two is positive), squared and summed over the axes, from tensors whose first dimension is the axis
    (x, y, z) and whose other dimensions broadcast: ``lo``, ``hi`` (3, ...), ``p`` (3, ...). One broadcast over the
    three axes (6 ops, not 16 per axis: the pruned FPS calls it once per batch of picks). fp32 rounding is monotone,
    so it never exceeds :func:`squared_distance` between the point and anything inside the box but for the rounding of
    the sum (the distance's fused multiply-add); it is shrunk by 1e-6 (relative) on top, which covers that."""
    gap = torch.maximum(lo - p, p - hi).clamp_min_(0)
    return gap.square_().sum(0).mul_(1 - 1e-6)


def _sqdist(query, ref_planar):
    """Exact squared distances (B, M, N) between query (B, M, 3) and planar ref (B, 3, N).

    Per axis ``(q_a - r_a)^2`` from contiguous planes: a broadcast of a (B, M, 1)
    column against a contiguous (B, 1, N) row vectorises, a strided one does not (10x)."""
    q = query.transpose(1, 2).contiguous().unsqueeze(-1)  # (B, 3, M, 1)
    r = ref_planar.unsqueeze(2)  # (B, 3, 1, N)
    return squared_distance(q[:, 0], q[:, 1], q[:, 2], r[:, 0], r[:, 1], r[:, 2])


#: group size of the two-level selection in the brute-force search.
SELECT_GROUP = 8


def _split(pos, S):
    """``(pos // S, pos % S)`` of non-negative ``pos``; by shift and mask when S is a power of two (int64 division
    does not vectorise: 230 us for 32k entries on the 2-core AVX2 EPYC)."""
    if S & (S - 1) == 0:
        return pos >> (S.bit_length() - 1), pos & (S - 1)
    return pos // S, pos % S


def _smallest_k(d, k):
    """(values, indices) of the k smallest entries of each row of d (R, N), ascending.

    ``topk`` costs about 14 ns per entry on CPU; it is run on far fewer entries:
    the row is cut into G groups of 8, and the k nearest entries are always inside
    the k groups with the smallest minima (if an entry e is among the k smallest,
    fewer than k groups can have a minimum below e). Exact, ties included. Group g
    is the entries g, G + g, 2G + g, ... (any partition works): the group minima are
    then a reduction across 8 contiguous (R, G) slices, which vectorises, where a
    reduction within 8 adjacent entries does not."""
    R, N = d.shape
    S = SELECT_GROUP
    G = -(-N // S)
    if G < 2 * k:
        return d.topk(k, dim=-1, largest=False, sorted=True)
    if N % S:  # pad the last group with +inf (never selected before a real entry)
        d = torch.cat([d, d.new_full((R, G * S - N), float('inf'))], dim=1)
    members = d.view(R, S, G)  # entry s * G + g is member s of group g
    groups = members.amin(1).topk(k, dim=-1, largest=False, sorted=False).indices  # (R, k)
    cand = members.gather(2, groups.unsqueeze(1).expand(R, S, k)).view(R, S * k)
    vals, pos = cand.topk(k, dim=-1, largest=False, sorted=True)
    member, slot = _split(pos, k)
    return vals, member * G + torch.gather(groups, 1, slot)


def _knn_brute(query, ref, k, chunk_size=None):
    """(values, indices) (B, M, k) of the k smallest squared distances, nearest first."""
    B, M, _ = query.shape
    N = ref.shape[1]
    if chunk_size is None:
        chunk_size = max(1, (1 << 24) // max(1, B * N))
    planar = ref.transpose(1, 2).contiguous()  # (B, 3, N)
    vals, idx = [], []
    for start in range(0, M, chunk_size):
        d = _sqdist(query[:, start:start + chunk_size], planar)
        Bc, Mc, _ = d.shape
        v, i = _smallest_k(d.view(Bc * Mc, N), k)
        vals.append(v.view(Bc, Mc, k))
        idx.append(i.view(Bc, Mc, k))
    if len(idx) == 1:
        return vals[0], idx[0]
    return torch.cat(vals, dim=1), torch.cat(idx, dim=1)


def _spread_bits(v):
    """Spread the low 10 bits of an int tensor to every third bit (Morton interleave)."""
    v = v & 0x3FF
    v = (v | (v << 16)) & 0x030000FF
    v = (v | (v << 8)) & 0x0300F00F
    v = (v | (v << 4)) & 0x030C30C3
    return (v | (v << 2)) & 0x09249249


_MORTON_TABLES = {}


def _morton_table(device):
    """(3 * 1024,) int32: ``_spread_bits(c) << a`` at ``a * 1024 + c`` (axis a, cell c), one per device (cached)."""
    table = _MORTON_TABLES.get(device)
    if table is None:
        cells = _spread_bits(torch.arange(1024, dtype=torch.int32, device=device))
        table = _MORTON_TABLES[device] = torch.cat([cells, cells << 1, cells << 2])
    return table


def check_order(order, B, N, what):
    """A caller's space-filling-curve order, if given, must be (B, N) int64 indices (a permutation per cloud)."""
    if order is None:
        return
    if tuple(order.shape) != (B, N) or order.dtype != torch.int64:
        raise ValueError(f'{what} must be a (B, N) = ({B}, {N}) int64 permutation per cloud (morton_order of the '
                         f'points), got {tuple(order.shape)} {order.dtype}')


def morton_order(xyz):
    """(B, N) permutation sorting each cloud along a 30-bit Z-order curve.

    The code of a point is its three 10-bit cell numbers bit-interleaved. Computed on axis-first planes (B, 3, N):
    a cloud's extent along contiguous rows, not down (B, N, 3)'s strided columns, and the spread cell numbers from
    a table (``_morton_table``: one lookup instead of 13 integer ops per axis), summed (their bits are disjoint, so
    the sum is their bitwise or). The same order as computing it point-major with ``_spread_bits``, in 3.8 instead
    of 4.9 ms at 34,752 points on the 2-core AVX2 EPYC, 2.8 of it the sort (scratch timings, 2026-12-06)."""
    planes = xyz.transpose(1, 2).contiguous()  # (B, 3, N)
    lo = planes.amin(-1, keepdim=True)
    scale = 1023.0 / (planes.amax(-1, keepdim=True) - lo).clamp_min(1e-12)
    q = ((planes - lo) * scale).to(torch.int32).clamp_(0, 1023)
    q += torch.tensor([0, 1024, 2048], dtype=torch.int32, device=xyz.device).view(1, 3, 1)  # each axis its table
    spread = _morton_table(xyz.device).take(q.long())  # (B, 3, N)
    code = spread[:, 0].add_(spread[:, 1]).add_(spread[:, 2])
    return code.argsort(dim=1)


def _block_candidates(qp, planes, last_block, pad, blocks, k, S):
    """Exact k nearest of the queries among the points of their candidate blocks.

    Args:
        qp (Tensor): (3, R, 1, 1) query coordinates, axis-first.
        planes (Tensor): (3, B*G, S) block points, axis-first (contiguous planes).
        last_block (LongTensor): (R, 1) flat id of the last block of each query's cloud, whose last ``pad`` slots
            are padding (their distances are set to +inf: never selected before a real point).
        blocks (LongTensor): (R, Gc) flat block ids per query.
    Returns:
        (values (R, k), flat positions (R, k) into the (B*G*S) block storage).
    """
    R, Gc = blocks.shape
    flat_blocks = blocks.reshape(-1)
    pts = planes.index_select(1, flat_blocks).view(3, R, Gc, S)
    d = squared_distance(pts[0], pts[1], pts[2], qp[0], qp[1], qp[2])
    if pad:
        d[:, :, S - pad:].masked_fill_((blocks == last_block).unsqueeze(-1), float('inf'))
    vals, pos = _smallest_k(d.view(R, Gc * S), k)
    block, member = _split(pos, S)
    return vals, torch.gather(blocks, 1, block) * S + member


#: ``_box_bounds`` works through the queries in chunks of about this many (query, box) entries, so that its
#: buffers stay in the cache between its ops.
BOX_BOUND_CHUNK = 1 << 18


def _box_bounds(qp, lo, hi):
    """:func:`box_lower_bound` from every query to every box, (B, M, G), for the block-pruned search: ``qp`` (3, B, M,
    1), ``lo`` / ``hi`` (3, B, 1, G). The queries go ``BOX_BOUND_CHUNK // (B * G)`` at a time through two reused
    buffers, axis by axis (fresh big buffers page-fault, and chunks that fit the cache run each op faster): 2.95
    against 5.6 ms unchunked for 1,024 queries and 1,086 boxes on the 2-core AVX2 EPYC, where calling
    ``box_lower_bound`` per chunk (its (3, ...) temporaries) took 3.9-6.6 ms (scratch timings, 2026-12-06). The same
    bound up to the rounding of the sum over the axes (here fused multiply-adds), which the 1e-6 shrink covers."""
    _, B, M, _ = qp.shape
    G = lo.shape[-1]
    lb = qp.new_empty(B, M, G)
    C = max(1, min(M, BOX_BOUND_CHUNK // max(1, B * G)))
    gap, tmp = qp.new_empty(B, C, G), qp.new_empty(B, C, G)
    for start in range(0, M, C):
        q = qp[:, :, start:start + C]
        out = lb[:, start:start + C]
        c = q.shape[2]
        g, t = gap[:, :c], tmp[:, :c]
        for a in range(3):
            torch.sub(lo[a], q[a], out=g)
            torch.sub(q[a], hi[a], out=t)
            torch.maximum(g, t, out=g).clamp_min_(0)
            if a == 0:
                torch.mul(g, g, out=out)
            else:
                out.addcmul_(g, g)
    return lb.mul_(1 - 1e-6)


def _knn_blocks(query, ref, k, chunk_size=None, block_size=BLOCK_SIZE, candidates=BLOCK_CANDIDATES, perm=None):
    """Block-pruned exact kNN, see the module docstring. ``perm``: the references' order (B, N), by default
    ``morton_order(ref)``."""
    B, M, _ = query.shape
    N = ref.shape[1]
    dev = ref.device
    S = block_size
    G = -(-N // S)
    Np = G * S
    if perm is None:
        perm = morton_order(ref)  # (B, N)
    if Np > N:  # pad the last block with copies of a point; _block_candidates makes them never win
        perm = torch.cat([perm, perm[:, -1:].expand(B, Np - N)], dim=1)
    perm_flat = (perm + (torch.arange(B, device=dev) * N).unsqueeze(1)).view(-1)
    planes = ref.reshape(B * N, 3).index_select(0, perm_flat).t().contiguous().view(3, B * G, S)
    lo = planes.amin(-1).view(3, B, 1, G)  # box corners, axis-first
    hi = planes.amax(-1).view(3, B, 1, G)
    qp = query.permute(2, 0, 1).contiguous().unsqueeze(-1)  # (3, B, M, 1)
    lb = _box_bounds(qp, lo, hi).view(B * M, G)
    qp = qp.view(3, B * M, 1, 1)
    row_block0 = (torch.arange(B, device=dev) * G).repeat_interleave(M).unsqueeze(1)
    vals = pos = None
    rows = None  # None = all rows still to do
    gc = candidates
    while gc < G:
        sub_lb = lb if rows is None else lb.index_select(0, rows)
        box, blk = _smallest_k(sub_lb, gc + 1)
        block0 = row_block0 if rows is None else row_block0.index_select(0, rows)
        v, p = _block_candidates(qp if rows is None else qp.index_select(1, rows), planes, block0 + (G - 1), Np - N,
                                 blk[:, :gc] + block0, k, S)
        bad = v[:, -1] > box[:, gc]
        if rows is None:
            vals, pos = v, p
        else:
            vals.index_copy_(0, rows, v)
            pos.index_copy_(0, rows, p)
        if not bool(bad.any()):
            rows = None
            break
        rows = bad.nonzero().view(-1) if rows is None else rows[bad]
        gc *= 4
    if vals is None:  # too few blocks to prune: plain brute force
        return _knn_brute(query, ref, k, chunk_size)
    idx = perm_flat.index_select(0, pos.view(-1)).view(B, M, k)
    idx -= (torch.arange(B, device=dev) * N).view(B, 1, 1)
    vals = vals.view(B, M, k)
    if rows is not None:  # still unproven: brute force those rows
        bi, mi = rows // M, rows % M
        for b in bi.unique().tolist():
            sel = mi[bi == b]
            v, i = _knn_brute(query[b:b + 1, sel], ref[b:b + 1], k, chunk_size)
            vals[b, sel] = v[0]
            idx[b, sel] = i[0]
    return vals, idx


def _query_block_pass(qplanes, qlo, qhi, block_cloud, rplanes, k, C, chunk_blocks):
    """One pass of ``_knn_query_blocks`` over the given query blocks with C candidate references each.

    Args: qplanes (3, R, Q) block queries, qlo / qhi (3, R) their boxes, block_cloud (R,) each block's cloud,
    rplanes (B, 3, N) references. Returns vals (R, Q, k), indices (R, Q, k) into N, and unproven (R, Q) bool.
    """
    _, R, Q = qplanes.shape
    vals = qplanes.new_empty(R, Q, k)
    idx = torch.empty(R, Q, k, dtype=torch.long, device=qplanes.device)
    bad = torch.empty(R, Q, dtype=torch.bool, device=qplanes.device)
    for start in range(0, R, chunk_blocks):
        rows = slice(start, min(start + chunk_blocks, R))
        r = rplanes.index_select(0, block_cloud[rows])  # (nb, 3, N)
        nb = r.shape[0]
        lo, hi = qlo[:, rows].unsqueeze(-1), qhi[:, rows].unsqueeze(-1)  # (3, nb, 1)
        lb = box_lower_bound(lo, hi, r.transpose(0, 1))  # (nb, N): each reference to each block's box
        box, cand = _smallest_k(lb, C + 1)  # (nb, C + 1), ascending
        cand = cand[:, :C].contiguous()
        cc = torch.gather(r, 2, cand.unsqueeze(1).expand(nb, 3, C)).unsqueeze(2)  # (nb, 3, 1, C)
        q = qplanes[:, rows].unsqueeze(-1)  # (3, nb, Q, 1)
        d = squared_distance(q[0], q[1], q[2], cc[:, 0], cc[:, 1], cc[:, 2])  # (nb, Q, C): query minus reference
        v, pos = d.topk(k, dim=-1, largest=False, sorted=True)
        vals[rows] = v
        idx[rows] = torch.gather(cand.unsqueeze(1).expand(nb, Q, C), 2, pos)
        bad[rows] = v[..., -1] > box[:, C].unsqueeze(1)
    return vals, idx, bad


def _knn_query_blocks(query, ref, k, block_size=None, candidates=None, chunk_blocks=None):
    """Exact kNN for many queries against few references (e.g. every point of a scan against its patch centres).

    The queries are sorted along a Morton curve and cut into blocks of ``block_size`` with a bounding box each. A
    block's candidates are the ``candidates`` references nearest to its box (lower-bound distance); a query's k
    nearest among them are accepted when its k-th distance is <= the box distance of the nearest reference left
    out, which no left-out reference can then beat. Blocks with an unproven query are searched again with 4x the
    candidates, and what is still unproven by brute force: always exact. Blocks are processed ``chunk_blocks`` at
    a time so every intermediate stays small enough for the cache.
    """
    B, M, _ = query.shape
    N = ref.shape[1]
    dev = query.device
    Q = block_size or QUERY_BLOCK_SIZE
    C = min(max(candidates or QUERY_BLOCK_CANDIDATES, k), N - 1)  # N > C + k: the dispatch in knn_with_dist
    chunk_blocks = chunk_blocks or QUERY_BLOCK_CHUNK
    G = -(-M // Q)
    Mp = G * Q
    qperm = morton_order(query)  # (B, M)
    if Mp > M:  # pad the last block with copies of its last query; their answers are dropped
        qperm = torch.cat([qperm, qperm[:, -1:].expand(B, Mp - M)], dim=1)
    qflat = (qperm + (torch.arange(B, device=dev) * M).unsqueeze(1)).view(-1)
    qplanes = query.reshape(B * M, 3).index_select(0, qflat).t().contiguous().view(3, B * G, Q)
    qlo, qhi = qplanes.amin(-1), qplanes.amax(-1)  # (3, B*G)
    rplanes = ref.transpose(1, 2).contiguous()  # (B, 3, N)
    block_cloud = torch.arange(B, device=dev).repeat_interleave(G)
    vals, idx, bad = _query_block_pass(qplanes, qlo, qhi, block_cloud, rplanes, k, C, chunk_blocks)
    retry = bad.any(1).nonzero().view(-1)
    if retry.numel() and 4 * C < N:  # a second pass with 4x the candidates on the blocks with an unproven query
        v, i, b = _query_block_pass(qplanes.index_select(1, retry), qlo.index_select(1, retry),
                                    qhi.index_select(1, retry), block_cloud.index_select(0, retry), rplanes, k,
                                    4 * C, max(1, chunk_blocks // 4))
        vals.index_copy_(0, retry, v)
        idx.index_copy_(0, retry, i)
        bad.index_copy_(0, retry, b)
    # back to the queries' own order (padding slots dropped)
    keep = (torch.arange(Mp, device=dev) < M).repeat(B)
    dst = qflat[keep]
    out_v = query.new_empty(B * M, k)
    out_i = torch.empty(B * M, k, dtype=torch.long, device=dev)
    out_v[dst] = vals.view(B * Mp, k)[keep]
    out_i[dst] = idx.view(B * Mp, k)[keep]
    out_v, out_i = out_v.view(B, M, k), out_i.view(B, M, k)
    redo = dst[bad.view(-1)[keep]]
    if redo.numel():  # still unproven: brute force those queries
        bi, mi = redo // M, redo % M
        for b in bi.unique().tolist():
            sel = mi[bi == b]
            v, i = _knn_brute(query[b:b + 1, sel], ref[b:b + 1], k)
            out_v[b, sel] = v[0]
            out_i[b, sel] = i[0]
    return out_v, out_i


def uses_block_search(N):
    """Whether a search among N reference points per cloud takes the block-pruned path (and so uses a Morton order
    of the references: ``ref_order``)."""
    return N >= BLOCK_MIN_POINTS and N >= 4 * BLOCK_SIZE * BLOCK_CANDIDATES


@torch.no_grad()
def knn_with_dist(query, ref, k, chunk_size=None, ref_order=None):
    """Like :func:`knn`, also returning the squared distances (B, M, k), ascending."""
    B, M, _ = query.shape
    N = ref.shape[1]
    if k > N:
        raise ValueError(f'knn: cannot take {k} neighbours from {N} points')
    check_order(ref_order, B, N, 'knn: ref_order')
    query = query[..., :3].float()
    ref = ref[..., :3].float()
    if M == 0 or k == 0:
        return query.new_empty(B, M, k), torch.empty(B, M, k, dtype=torch.long, device=query.device)
    if uses_block_search(N):
        return _knn_blocks(query, ref, k, chunk_size, perm=ref_order)
    if M >= QUERY_BLOCK_MIN_QUERIES and M >= QUERY_BLOCK_RATIO * N and N > QUERY_BLOCK_CANDIDATES + k:
        return _knn_query_blocks(query, ref, k)
    return _knn_brute(query, ref, k, chunk_size)


@torch.no_grad()
def knn(query, ref, k, chunk_size=None, ref_order=None):
    """Indices of the ``k`` nearest ``ref`` points of each query, nearest first.

    Exact: equal to a brute-force search up to the order of equidistant points.

    Args:
        query (Tensor): (B, M, 3).
        ref (Tensor): (B, N, 3).
        k (int): neighbours per query (k <= N).
        chunk_size (int, optional): queries per chunk of the brute-force
            (B, chunk, N) distance matrix; default: about 16M entries per chunk.
        ref_order (LongTensor, optional): (B, N) a permutation of each cloud's reference points along a
            space-filling curve, :func:`morton_order` of ``ref``, for the block-pruned search (scene-scale clouds)
            to reuse instead of sorting again (:func:`~pjepa3d.ops.sample_and_group` shares it with FPS). Any
            permutation gives the exact answer; the curve's locality gives the speed.
    Returns:
        LongTensor: (B, M, k).
    """
    return knn_with_dist(query, ref, k, chunk_size, ref_order)[1]


def group_points(points, centres, k, ref_order=None):
    """kNN groups around centres, with coordinates made relative to the centre.

    Args:
        points (Tensor): (B, N, C), xyz in the first 3 channels, extra features after.
        centres (Tensor): (B, M, 3).
        k (int): points per group.
        ref_order (LongTensor, optional): (B, N) :func:`morton_order` of the points, as for :func:`knn`.
    Returns:
        tuple: groups (B, M, k, C) with xyz - centre in the first 3 channels,
        and the neighbour indices (B, M, k).
    """
    idx = knn(centres, points[..., :3], k, ref_order=ref_order)
    groups = gather_points(points, idx)  # a fresh tensor: safe to edit in place
    groups[..., :3] -= centres.unsqueeze(2).to(groups.dtype)
    return groups, idx
