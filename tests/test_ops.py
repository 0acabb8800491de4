"""pjepa3d.ops against brute-force references: FPS, kNN (brute and block-pruned), grouping, interpolation."""
import pytest
import torch

from pjepa3d.ops import (furthest_point_sample, gather_points, group_points, knn, knn_with_dist, sample_and_group,
                         three_interpolate)
import importlib

knn_mod = importlib.import_module('pjepa3d.ops.knn')  # the module (pjepa3d.ops.knn is the function)


def _check_fps(xyz, idx, start=None):
    """Every step picks a not-yet-picked point whose distance to the picked set is maximal (fp64 check)."""
    B, N, _ = xyz.shape
    M = idx.shape[1]
    x = xyz.double()
    for b in range(B):
        picked = idx[b].tolist()
        assert len(set(picked)) == M, 'FPS returned repeated indices'
        assert all(0 <= i < N for i in picked)
        if start is not None:
            assert picked[0] == start
        dist = torch.full((N,), float('inf'), dtype=torch.float64)
        chosen = torch.zeros(N, dtype=torch.bool)
        for i, p in enumerate(picked):
            if i > 0:
                cand = dist.masked_fill(chosen, -1.0)
                best = cand.max().item()
                # exact up to fp32 rounding of the squared distances
                assert cand[p].item() >= best - 1e-5 * max(best, 1e-12) - 1e-12, (b, i, cand[p].item(), best)
            chosen[p] = True
            dist = torch.minimum(dist, ((x[b] - x[b, p]) ** 2).sum(-1))


@pytest.mark.parametrize('B,N,M', [(3, 200, 32), (2, 1000, 64), (1, 37, 37), (4, 64, 64), (1, 5000, 128)])
def test_fps_matches_brute_force(B, N, M):
    g = torch.Generator().manual_seed(N + M)
    xyz = torch.randn(B, N, 3, generator=g) * torch.tensor([3.0, 1.0, 0.2])
    idx = furthest_point_sample(xyz, M)
    assert idx.shape == (B, M) and idx.dtype == torch.long
    _check_fps(xyz, idx, start=0)


def test_fps_duplicated_points_and_n_equals_m():
    g = torch.Generator().manual_seed(1)
    base = torch.randn(2, 10, 3, generator=g)
    xyz = torch.cat([base, base, base[:, :5]], dim=1)  # 25 points, only 10 distinct
    idx = furthest_point_sample(xyz, 25)  # N == M: a permutation, duplicates last
    _check_fps(xyz, idx)
    for row in idx:
        assert sorted(row.tolist()) == list(range(25))
    # the first 10 picks cover the 10 distinct positions
    for b in range(2):
        pos = {tuple(p) for p in xyz[b, idx[b, :10]].tolist()}
        assert len(pos) == 10
    # all points identical: still distinct indices, in index order after the start
    same = torch.ones(1, 8, 3)
    assert furthest_point_sample(same, 8).tolist() == [list(range(8))]


def test_fps_deterministic_and_random_start():
    xyz = torch.rand(4, 300, 3)
    a = furthest_point_sample(xyz, 50)
    b = furthest_point_sample(xyz.clone(), 50, random_start=False)
    assert torch.equal(a, b)
    assert (a[:, 0] == 0).all()
    torch.manual_seed(0)
    r = furthest_point_sample(xyz, 50, random_start=True)
    _check_fps(xyz, r)
    assert (r[:, 0] != 0).any()


def test_fps_rejects_too_many_samples():
    with pytest.raises(ValueError, match='cannot pick'):
        furthest_point_sample(torch.rand(1, 10, 3), 11)


def _lidar_like(n, seed):
    """A synthetic LiDAR-like scan: rings on the ground plus a few box-shaped objects."""
    g = torch.Generator().manual_seed(seed)
    az = torch.rand(n, generator=g) * 6.2832
    r = 2.0 + torch.randint(0, 32, (n,), generator=g).float() ** 1.6 * 0.5
    pts = torch.stack([r * az.cos(), r * az.sin(), -1.8 + 0.02 * torch.randn(n, generator=g)], -1)
    obj = torch.rand(n // 5, 3, generator=g) * torch.tensor([4.0, 2.0, 1.5]) + torch.tensor([8.0, -3.0, -1.8])
    return torch.cat([pts, obj])


def _grid(n_side):
    """Integer grid points: thousands of exactly tied distances at every step."""
    r = torch.arange(n_side, dtype=torch.float32)
    return torch.stack(torch.meshgrid(r, r, r, indexing='ij'), -1).reshape(-1, 3)


@pytest.mark.parametrize('cloud,M', [
    ('gaussian', 600), ('lidar', 1024), ('grid', 700), ('duplicates', 3000), ('tiny_scale', 512)])
def test_fps_pruned_gives_the_dense_indices(cloud, M):
    """The CPU path for large clouds (candidates + Morton blocks) picks exactly what the dense loop picks: the same
    fp32 distances and the lowest-index tie rule, also on a grid (ties everywhere) and with duplicated points (the
    zero-distance tail in index order)."""
    g = torch.Generator().manual_seed(M)
    if cloud == 'gaussian':
        xyz = torch.randn(2, 5000, 3, generator=g) * torch.tensor([3.0, 1.0, 0.2])
    elif cloud == 'lidar':
        xyz = _lidar_like(9000, seed=1)[None]
    elif cloud == 'grid':
        xyz = _grid(20)[None]  # 8,000 points
    elif cloud == 'duplicates':
        base = torch.randn(1, 1000, 3, generator=g)
        xyz = torch.cat([base, base, base], 1)[:, torch.randperm(3000, generator=g)]  # 1,000 distinct; M = N
    else:  # a cloud a million times smaller: no absolute epsilon anywhere
        xyz = torch.rand(1, 4000, 3, generator=g) * 1e-6
    dense = furthest_point_sample(xyz, M, impl='dense')
    pruned = furthest_point_sample(xyz, M, impl='pruned')
    assert torch.equal(pruned, dense)
    if cloud == 'duplicates':
        assert sorted(pruned[0].tolist()) == list(range(3000))
    torch.manual_seed(7)
    r_dense = furthest_point_sample(xyz, M, random_start=True, impl='dense')
    torch.manual_seed(7)
    r_pruned = furthest_point_sample(xyz, M, random_start=True, impl='pruned')
    assert torch.equal(r_pruned, r_dense) and (r_dense[:, 0] != 0).all()


@pytest.mark.parametrize('num_candidates', [16, 128, 320, 1000])
@pytest.mark.parametrize('cloud', ['lidar', 'grid'])
def test_fps_pruned_candidate_counts_give_the_same_picks(cloud, num_candidates):
    """The number of candidates per pass (``PRUNED_CANDIDATES``, a speed setting) never changes the picks: few
    (many passes, ties beyond the candidates on the grid) or many, against the dense loop, from two starts."""
    fps_mod = importlib.import_module('pjepa3d.ops.fps')
    xyz = _lidar_like(6000, seed=3) if cloud == 'lidar' else _grid(16)  # 7,200 / 4,096 points
    for seed in (None, 5):  # start 0, and a random start
        if seed is not None:
            torch.manual_seed(seed)
        dense = furthest_point_sample(xyz[None], 700, random_start=seed is not None, impl='dense')[0]
        pruned = fps_mod._fps_pruned(xyz.contiguous(), 700, int(dense[0]), num_candidates=num_candidates)
        assert torch.equal(pruned, dense), (seed, num_candidates)


def test_fps_pruned_against_brute_force_fp64():
    xyz = _lidar_like(4000, seed=2)[None]
    idx = furthest_point_sample(xyz, 600, impl='pruned')
    _check_fps(xyz, idx, start=0)


def test_fps_auto_takes_the_pruned_path_for_large_cpu_clouds(monkeypatch):
    import pjepa3d.ops.fps as fps_mod
    calls = []
    real = fps_mod._fps_pruned
    monkeypatch.setattr(fps_mod, '_fps_pruned', lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    xyz = torch.rand(1, fps_mod.PRUNED_MIN_POINTS_PER_CLOUD, 3)
    fps_mod.furthest_point_sample(xyz, 64)  # few picks: dense
    fps_mod.furthest_point_sample(xyz.expand(2, -1, -1), fps_mod.PRUNED_MIN_SAMPLES)  # a batch of small clouds: dense
    assert calls == []
    idx = fps_mod.furthest_point_sample(xyz, fps_mod.PRUNED_MIN_SAMPLES)
    assert calls == [fps_mod.PRUNED_MIN_SAMPLES]
    assert torch.equal(idx, fps_mod.furthest_point_sample(xyz, fps_mod.PRUNED_MIN_SAMPLES, impl='dense'))


def test_fps_impl_errors():
    with pytest.raises(ValueError, match="impl must be"):
        furthest_point_sample(torch.rand(1, 10, 3), 4, impl='bucket')
    with pytest.raises(ValueError, match='CPU only'):
        furthest_point_sample(torch.empty(1, 10, 3, device='meta'), 4, impl='pruned')


def _ref_knn_dist(query, ref, k):
    d = torch.cdist(query.double(), ref.double()) ** 2
    return d.sort(dim=-1).values[..., :k]


def _dist_of(query, ref, idx):
    return ((gather_points(ref.double(), idx) - query.double().unsqueeze(2)) ** 2).sum(-1)


@pytest.mark.parametrize('B,M,N,k', [(3, 17, 300, 8), (2, 64, 1024, 32), (1, 5, 32, 32), (2, 40, 100, 1)])
def test_knn_matches_brute_force(B, M, N, k):
    g = torch.Generator().manual_seed(B * M + N)
    ref = torch.randn(B, N, 3, generator=g) * 2 + 40.0  # far from the origin: no |a|^2-2ab+|b|^2 cancellation
    query = ref[:, :M] + 0.01 * torch.randn(B, M, 3, generator=g)
    idx = knn(query, ref, k)
    assert idx.shape == (B, M, k)
    for row in idx.reshape(-1, k):
        assert len(set(row.tolist())) == k
    got = _dist_of(query, ref, idx)
    assert (got[..., 1:] >= got[..., :-1] - 1e-9).all(), 'not nearest first'
    torch.testing.assert_close(got, _ref_knn_dist(query, ref, k), rtol=1e-5, atol=1e-6)


def test_knn_ties_and_duplicates():
    grid = torch.stack(torch.meshgrid(*[torch.arange(4.0)] * 3, indexing='ij'), -1).reshape(1, -1, 3)
    ref = torch.cat([grid, grid], 1)  # every point twice, many equidistant neighbours
    query = grid[:, ::7] + 0.5
    idx = knn(query, ref, 12)
    torch.testing.assert_close(_dist_of(query, ref, idx), _ref_knn_dist(query, ref, 12))


@pytest.mark.parametrize('R,N,k', [(5, 1086, 17), (4, 512, 32), (3, 2048, 32), (6, 100, 3), (2, 64, 10)])
def test_smallest_k_is_the_sorted_prefix(R, N, k):
    """``_smallest_k`` (the two-level selection over strided groups; plain topk when there are fewer than 2k
    groups): the k smallest values of each row ascending, as a full sort gives them, at indices holding them, with
    ties (a coarse grid of values) and a row length that is not a multiple of the group size."""
    g = torch.Generator().manual_seed(R * N + k)
    for d in (torch.rand(R, N, generator=g), (torch.rand(R, N, generator=g) * 50).round()):
        vals, idx = knn_mod._smallest_k(d, k)
        assert torch.equal(vals, d.sort(dim=1).values[:, :k])
        assert torch.equal(d.gather(1, idx), vals)
        assert all(len(set(row)) == k for row in idx.tolist())  # distinct entries


def test_split_is_divmod():
    pos = torch.arange(0, 5000, 7)
    for S in (1, 8, 17, 32, 100):
        q, r = knn_mod._split(pos, S)
        assert torch.equal(q, pos // S) and torch.equal(r, pos % S)


@pytest.mark.parametrize('bound_chunk', [1 << 18, 1000])
def test_knn_block_path_is_exact(monkeypatch, bound_chunk):
    """The block-pruned search (scene scale) equals brute force, incl. fallbacks and padding; with its box bounds
    computed in one chunk of queries and in many uneven ones (the last chunk shorter)."""
    monkeypatch.setattr(knn_mod, 'BLOCK_MIN_POINTS', 1000)
    monkeypatch.setattr(knn_mod, 'BOX_BOUND_CHUNK', bound_chunk)  # 1000 // (2 * 85 boxes): 5 queries a chunk
    g = torch.Generator().manual_seed(3)
    # clustered scene: dense blobs + sparse background, plus duplicates
    blobs = torch.randn(2, 1500, 3, generator=g) * 0.3 + torch.randn(2, 1, 3, generator=g) * 10
    sparse = torch.rand(2, 1003, 3, generator=g) * 60 - 30
    ref = torch.cat([blobs, sparse, blobs[:, :200]], 1)  # N = 2703, not a multiple of the block size
    query = torch.cat([ref[:, :100], sparse[:, :60] + 1.0], 1)
    d, idx = knn_with_dist(query, ref, 32)
    want = _ref_knn_dist(query, ref, 32)
    torch.testing.assert_close(_dist_of(query, ref, idx), want, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(d.double(), want, rtol=1e-5, atol=1e-5)
    assert (idx < ref.shape[1]).all()
    # the 17 padding slots copy each cloud's last point in Morton order: a query there must not get them back
    last = knn_mod.morton_order(ref)[:, -1]
    at_pad = torch.stack([ref[b, last[b]] for b in range(2)]).unsqueeze(1)  # (2, 1, 3)
    d, idx = knn_with_dist(at_pad, ref, 32)
    assert all(len(set(row)) == 32 for row in idx.view(2, 32).tolist())
    torch.testing.assert_close(d.double(), _ref_knn_dist(at_pad, ref, 32), rtol=1e-5, atol=1e-5)


def test_box_bounds_never_exceed_the_distance_to_a_point_in_the_box(monkeypatch):
    """``_box_bounds`` (chunked, reused buffers): for every query and box, at most the computed squared distance to
    each point of the box, 0 for a query inside its box, and the same values whatever the chunk size."""
    g = torch.Generator().manual_seed(4)
    B, G, S, M = 2, 40, 16, 37
    pts = torch.randn(3, B, G, S, generator=g) * 5 + torch.randn(3, B, G, 1, generator=g) * 20  # (3, B, G, S)
    lo, hi = pts.amin(-1).unsqueeze(2), pts.amax(-1).unsqueeze(2)  # (3, B, 1, G)
    qp = torch.cat([torch.randn(3, B, M - 1, 1, generator=g) * 30, pts[:, :, :1, :1]], 2)  # the last: in box 0
    lb = knn_mod._box_bounds(qp, lo, hi)
    assert lb.shape == (B, M, G)
    d = knn_mod.squared_distance(pts[0].unsqueeze(1), pts[1].unsqueeze(1), pts[2].unsqueeze(1),
                                 qp[0].unsqueeze(-1), qp[1].unsqueeze(-1), qp[2].unsqueeze(-1))  # (B, M, G, S)
    assert (lb <= d.amin(-1)).all()
    assert (lb[:, -1, 0] == 0).all()
    assert (lb > 0).float().mean() > 0.9  # a bound with teeth: most queries lie outside most boxes
    monkeypatch.setattr(knn_mod, 'BOX_BOUND_CHUNK', 3 * B * G)  # 3 queries a chunk, the last one short
    assert torch.equal(knn_mod._box_bounds(qp, lo, hi), lb)


@pytest.mark.parametrize('candidates', [32, 2])
def test_knn_query_block_path_equals_brute_force(monkeypatch, candidates):
    """Many queries against few references (a scan's points against its patch centres, as three_interpolate does
    in the detector's pillar encoder) take the query-blocked search; it returns the brute-force distances and
    indices, also when most candidate sets fail to prove their answer (candidates=2: the brute-force fallback)."""
    monkeypatch.setattr(knn_mod, 'QUERY_BLOCK_MIN_QUERIES', 2000)
    monkeypatch.setattr(knn_mod, 'QUERY_BLOCK_CANDIDATES', candidates)
    calls = []
    real = knn_mod._knn_query_blocks
    monkeypatch.setattr(knn_mod, '_knn_query_blocks', lambda *a, **kw: calls.append(1) or real(*a, **kw))
    g = torch.Generator().manual_seed(5)
    scan = torch.stack([_lidar_like(3000, seed=3), _lidar_like(3000, seed=4)])  # B = 2, N = 3,600 each
    query = torch.cat([scan, scan[:, :101] + 0.01 * torch.randn(2, 101, 3, generator=g)], 1)  # not a block multiple
    centres = gather_points(scan, furthest_point_sample(scan, 256))
    brute = knn_mod._knn_brute
    fallback_rows = []
    monkeypatch.setattr(knn_mod, '_knn_brute', lambda q, *a, **kw: fallback_rows.append(q.shape[1]) or brute(q, *a,
                                                                                                             **kw))
    for k in (3, 1):
        d, idx = knn_with_dist(query, centres, k)
        d_brute, idx_brute = brute(query, centres, k)
        assert torch.equal(d, d_brute)  # the same fp32 expression: bit-identical distances
        torch.testing.assert_close(_dist_of(query, centres, idx), _dist_of(query, centres, idx_brute))
        torch.testing.assert_close(d.double(), _ref_knn_dist(query, centres, k), rtol=1e-5, atol=1e-5)
    assert len(calls) == 2
    if candidates == 2:  # some queries stay unproven after the 4x retry and go to brute force, alone
        assert fallback_rows and all(0 < n < query.shape[1] for n in fallback_rows)
    else:  # 32 candidates, then 128 for the blocks that need them, prove (almost) every query
        assert sum(fallback_rows) < 0.01 * 2 * query.shape[1]


def test_knn_query_blocks_on_a_real_scan(shared_data, monkeypatch):
    """The real nuScenes scan's points against 1,024 FPS centres (the pillar encoder's interpolation): brute-force
    distances, and the candidates prove almost every query (the brute-force fallback stays rare)."""
    import numpy as np
    path = sorted((shared_data / 'nuscenes_sample' / 'samples' / 'LIDAR_TOP').glob('*.pcd.bin'))[0]
    scan = torch.from_numpy(np.fromfile(path, dtype=np.float32).reshape(-1, 5)[:, :3].copy())[None]
    centres = gather_points(scan, furthest_point_sample(scan, 1024))
    brute = knn_mod._knn_brute
    want_d, want_i = brute(scan, centres, 3)
    fallback_rows = []
    monkeypatch.setattr(knn_mod, '_knn_brute', lambda q, *a, **kw: fallback_rows.append(q.shape[1]) or brute(q, *a,
                                                                                                             **kw))
    d, idx = knn_with_dist(scan, centres, 3)  # 34,752 queries >= 8 x 1,024: the query-blocked path
    assert torch.equal(d, want_d)
    torch.testing.assert_close(_dist_of(scan, centres, idx), _dist_of(scan, centres, want_i))
    assert sum(fallback_rows) < 0.05 * scan.shape[1], sum(fallback_rows)


def _morton_reference(xyz):
    """The Z-order as first written: each axis's 10-bit cell number spread by ``_spread_bits``, point-major."""
    lo = xyz.amin(1, keepdim=True)
    scale = 1023.0 / (xyz.amax(1, keepdim=True) - lo).clamp_min(1e-12)
    q = ((xyz - lo) * scale).to(torch.int32).clamp_(0, 1023)
    spread = knn_mod._spread_bits
    return spread(q[..., 0]) | (spread(q[..., 1]) << 1) | (spread(q[..., 2]) << 2)


def test_morton_order_sorts_by_the_interleaved_code():
    """``morton_order`` (table lookups on axis-first planes) sorts every cloud by the point-major reference code; on
    the 8 corners of a cube it is the Z-order with x the lowest bit; one point or a flat cloud works."""
    g = torch.Generator().manual_seed(0)
    clouds = [torch.randn(3, 5000, 3, generator=g) * 40, torch.rand(2, 300, 3, generator=g),
              torch.arange(1024.).view(1, -1, 1).expand(1, 1024, 3).contiguous(),  # every cell number once per axis
              torch.rand(1, 1, 3, generator=g), torch.rand(2, 64, 3, generator=g) * torch.tensor([1., 1., 0.])]
    for xyz in clouds:
        order = knn_mod.morton_order(xyz)
        assert order.shape == xyz.shape[:2] and order.dtype == torch.long
        assert (order.sort(dim=1).values == torch.arange(xyz.shape[1])).all()
        code = _morton_reference(xyz)
        assert (code.gather(1, order).diff(dim=1) >= 0).all()
    corners = torch.tensor([[x, y, z] for z in (0., 1.) for y in (0., 1.) for x in (0., 1.)])
    shuffled = torch.randperm(8, generator=g)
    order = knn_mod.morton_order(corners[shuffled].unsqueeze(0))[0]
    assert torch.equal(shuffled[order], torch.arange(8))


def test_knn_rejects_k_above_n():
    with pytest.raises(ValueError, match='cannot take'):
        knn(torch.rand(1, 2, 3), torch.rand(1, 5, 3), 6)


def test_knn_chunking_is_equivalent():
    ref = torch.rand(2, 500, 3)
    q = torch.rand(2, 33, 3)
    torch.testing.assert_close(_dist_of(q, ref, knn(q, ref, 10, chunk_size=4)), _dist_of(q, ref, knn(q, ref, 10)))


def test_group_points_are_centre_relative_and_carry_features():
    torch.manual_seed(0)
    pts = torch.cat([torch.rand(3, 400, 3), torch.randn(3, 400, 2)], -1)
    centres = gather_points(pts[..., :3], furthest_point_sample(pts[..., :3], 16))
    groups, idx = group_points(pts, centres, 8)
    assert groups.shape == (3, 16, 8, 5) and idx.shape == (3, 16, 8)
    orig = gather_points(pts, idx)
    torch.testing.assert_close(groups[..., :3] + centres.unsqueeze(2), orig[..., :3])
    assert torch.equal(groups[..., 3:], orig[..., 3:])
    # each centre is its own nearest neighbour (it is an input point)
    torch.testing.assert_close(groups[:, :, 0, :3], torch.zeros(3, 16, 3))


def test_gather_points_shapes():
    pts = torch.arange(2 * 5 * 2.0).view(2, 5, 2)
    idx = torch.tensor([[[4, 0]], [[1, 1]]])
    out = gather_points(pts, idx)
    assert out.shape == (2, 1, 2, 2)
    assert out[0, 0, 0].tolist() == pts[0, 4].tolist() and out[1, 0, 1].tolist() == pts[1, 1].tolist()
    assert gather_points(pts[:1], idx[:1]).shape == (1, 1, 2, 2)


def test_three_interpolate_weights_and_linear_field():
    torch.manual_seed(0)
    centres = torch.rand(2, 20, 3)
    a = torch.tensor([1.5, -2.0, 0.5])
    feats = torch.stack([centres @ a + 3.0, -(centres @ a)], -1)  # (B, M, 2) linear fields
    # a point that coincides with a centre gets that centre's (linear-field) value
    out = three_interpolate(centres, centres, feats)
    torch.testing.assert_close(out, feats, atol=1e-5, rtol=0)
    # constant features are reproduced anywhere: weights sum to 1
    pts = torch.rand(2, 50, 3)
    const = torch.full((2, 20, 4), 7.0)
    torch.testing.assert_close(three_interpolate(pts, centres, const), torch.full((2, 50, 4), 7.0))
    # the result is a convex combination of the 3 nearest centres' features
    res = three_interpolate(pts, centres, feats)
    near = gather_points(feats, knn(pts, centres, 3))
    assert (res >= near.amin(2) - 1e-5).all() and (res <= near.amax(2) + 1e-5).all()
    # k=1: nearest centre
    torch.testing.assert_close(three_interpolate(pts, centres, feats, k=1),
                               gather_points(feats, knn(pts, centres, 1))[:, :, 0])


def test_fps_leaves_torch_threads_alone_unless_asked(monkeypatch):
    import pjepa3d.ops.fps as fps_mod
    calls = []
    real = torch.set_num_threads

    def spy(n):  # records, then really sets
        calls.append(n)
        real(n)

    monkeypatch.setattr(fps_mod.torch, 'set_num_threads', spy)
    before = torch.get_num_threads()
    xyz = torch.rand(2, 256, 3)
    idx = fps_mod.furthest_point_sample(xyz, 32)
    assert calls == [] and torch.get_num_threads() == before  # the process-wide setting is never touched
    assert torch.equal(fps_mod.furthest_point_sample(xyz, 32, num_threads=1), idx)  # same picks either way
    if before != 1:
        assert calls == [1, before]  # opted in: one thread for the call, then restored
    assert torch.get_num_threads() == before


@pytest.mark.parametrize('random_start', [False, True])
def test_sample_and_group_shares_one_order_and_changes_nothing(monkeypatch, random_start):
    """A scene-scale cloud (>= BLOCK_MIN_POINTS points): one Morton sort for FPS and kNN, and the same centres,
    indices and groups as calling FPS, gather and group_points alone; a small cloud sorts nothing."""
    g = torch.Generator().manual_seed(11)
    points = torch.cat([_lidar_like(8000, seed=4)[None], torch.rand(1, 9600, 1, generator=g)], -1)  # xyz + intensity
    calls = []
    real = knn_mod.morton_order
    monkeypatch.setattr(knn_mod, 'morton_order', lambda x: calls.append(x.shape) or real(x))
    for name in ('pjepa3d.ops.sample_and_group', 'pjepa3d.ops.fps'):  # the modules that imported it by name
        monkeypatch.setattr(importlib.import_module(name), 'morton_order', knn_mod.morton_order)
    torch.manual_seed(3)
    groups, centres, idx = sample_and_group(points, 1024, 32, random_start=random_start)
    assert calls == [(1, 9600, 3)]  # once, in sample_and_group; neither FPS nor the kNN sorted again
    calls.clear()
    torch.manual_seed(3)
    ref_idx = furthest_point_sample(points[..., :3], 1024, random_start=random_start)
    ref_groups, _ = group_points(points, gather_points(points[..., :3], ref_idx), 32)
    assert len(calls) == 2  # alone: FPS (pruned path) and the kNN (block path) each sort
    assert torch.equal(idx, ref_idx) and torch.equal(centres, gather_points(points[..., :3], ref_idx))
    assert torch.equal(groups, ref_groups) and groups.shape == (1, 1024, 32, 4)
    calls.clear()
    sample_and_group(points[:, :2000], 64, 32)
    assert calls == []


def test_any_order_gives_the_same_answers_and_a_bad_one_is_refused():
    """``order`` / ``ref_order`` only decide how the scene-scale searches block the points: a random permutation
    gives the same FPS picks and kNN distances as the Morton order; a wrong shape or dtype raises."""
    xyz = _lidar_like(8000, seed=5)[None]  # 9,600 points
    N = xyz.shape[1]
    shuffled = torch.randperm(N, generator=torch.Generator().manual_seed(0))[None]
    idx = furthest_point_sample(xyz, 600)
    assert torch.equal(furthest_point_sample(xyz, 600, order=shuffled), idx)
    centres = gather_points(xyz, idx)
    d, _ = knn_with_dist(centres, xyz, 16)
    d2, i2 = knn_with_dist(centres, xyz, 16, ref_order=shuffled)
    assert torch.equal(d2, d)
    torch.testing.assert_close(_dist_of(centres, xyz, i2), d2.double(), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match=r'order must be a \(B, N\) = \(1, 9600\) int64 permutation'):
        furthest_point_sample(xyz, 600, order=shuffled[:, :-1])
    with pytest.raises(ValueError, match='ref_order must be'):
        knn(centres, xyz, 16, ref_order=shuffled.int())
