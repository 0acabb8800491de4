"""Patch centres by FPS and their kNN groups in one call: the tokenizer's grouping."""
from .fps import furthest_point_sample
from .knn import gather_points, group_points, morton_order, uses_block_search


def sample_and_group(points, num_groups, group_size, random_start=False):
    """``num_groups`` centres by farthest point sampling and the ``group_size`` nearest points of each.

    Scene-scale clouds (where the kNN takes its block-pruned search, ``uses_block_search``, and FPS on
    CPU its pruned path) sort each cloud along a Z-order curve in both searches: the order is computed once here
    and passed to both (``furthest_point_sample(order=...)``, ``group_points(ref_order=...)``). The same centres
    and groups as calling the two alone, one sort fewer: on a 34,752-point nuScenes scan at M = 1,024 on the 2-core
    AVX2 EPYC, 58.25 against 60.70 ms (a scratch A/B, 2026-12-06; ``benchmarks/bench_tokenizer.py`` times it).

    Args:
        points (Tensor): (B, N, C), xyz in the first 3 channels, extra features after.
        num_groups (int): M, centres per cloud.
        group_size (int): k, points per group.
        random_start (bool): FPS from a random point per cloud (training) instead of index 0.
    Returns:
        tuple: groups (B, M, k, C) centre-relative in xyz, centres (B, M, 3), centre indices (B, M).
    """
    xyz = points[..., :3].contiguous()
    order = morton_order(xyz.float()) if uses_block_search(xyz.shape[1]) else None
    idx = furthest_point_sample(xyz, num_groups, random_start=random_start, order=order)
    centres = gather_points(xyz, idx)
    groups, _ = group_points(points, centres, group_size, ref_order=order)
    return groups, centres, idx
