"""k-nearest-neighbour search and grouping, batched, pure PyTorch."""
import torch


def gather_points(points, idx):
    """Index points per batch element.

    Args:
        points (Tensor): (B, N, C).
        idx (LongTensor): (B, ...) indices into N.
    Returns:
        Tensor: (B, ..., C).
    """
    B, _, C = points.shape
    flat = idx.reshape(B, -1)
    out = torch.gather(points, 1, flat.unsqueeze(-1).expand(-1, -1, C))
    return out.reshape(*idx.shape, C)


@torch.no_grad()
def knn(query, ref, k, chunk_size=None):
    """Indices of the ``k`` nearest ``ref`` points of each query, nearest first.

    Args:
        query (Tensor): (B, M, 3).
        ref (Tensor): (B, N, 3).
        k (int): neighbours per query (k <= N).
        chunk_size (int, optional): queries per chunk, to bound the (B, chunk, N)
            distance matrix on large scans; default: all at once when it fits
            in about 64M entries.
    Returns:
        LongTensor: (B, M, k).
    """
    B, M, _ = query.shape
    N = ref.shape[1]
    if k > N:
        raise ValueError(f'knn: cannot take {k} neighbours from {N} points')
    if chunk_size is None:
        chunk_size = max(1, (1 << 26) // max(1, B * N))
    out = []
    for start in range(0, M, chunk_size):
        d = torch.cdist(query[:, start:start + chunk_size].float(), ref.float())
        out.append(d.topk(k, dim=-1, largest=False, sorted=True).indices)
    return torch.cat(out, dim=1) if len(out) > 1 else out[0]


def group_points(points, centres, k):
    """kNN groups around centres, with coordinates made relative to the centre.

    Args:
        points (Tensor): (B, N, C), xyz in the first 3 channels, extra features after.
        centres (Tensor): (B, M, 3).
        k (int): points per group.
    Returns:
        tuple: groups (B, M, k, C) with xyz - centre in the first 3 channels,
        and the neighbour indices (B, M, k).
    """
    idx = knn(centres, points[..., :3], k)
    groups = gather_points(points, idx)
    rel = groups[..., :3] - centres.unsqueeze(2)
    groups = torch.cat([rel, groups[..., 3:]], dim=-1) if points.shape[-1] > 3 else rel
    return groups, idx
