"""Farthest point sampling, batched, pure PyTorch (CPU and GPU)."""
import torch


@torch.no_grad()
def furthest_point_sample(xyz, num_samples, random_start=False):
    """Pick ``num_samples`` points per cloud, each the farthest from those already picked.

    Args:
        xyz (Tensor): (B, N, 3) coordinates.
        num_samples (int): M, points to pick (M <= N).
        random_start (bool): start from a random point per cloud (training)
            instead of index 0 (evaluation, deterministic).
    Returns:
        LongTensor: (B, M) indices into N. Distinct while the cloud has at
        least M distinct points; ties pick the lowest index.
    """
    B, N, _ = xyz.shape
    if num_samples > N:
        raise ValueError(f'furthest_point_sample: cannot pick {num_samples} centres from {N} points')
    xyz = xyz.float()
    idx = torch.empty(B, num_samples, dtype=torch.long, device=xyz.device)
    if random_start:
        far = torch.randint(0, N, (B,), device=xyz.device)
    else:
        far = torch.zeros(B, dtype=torch.long, device=xyz.device)
    dist = torch.full((B, N), float('inf'), device=xyz.device)
    batch = torch.arange(B, device=xyz.device)
    diff = torch.empty_like(xyz)
    d = torch.empty(B, N, device=xyz.device)
    for i in range(num_samples):
        idx[:, i] = far
        centre = xyz[batch, far].unsqueeze(1)  # (B, 1, 3)
        torch.sub(xyz, centre, out=diff)
        diff.square_()
        torch.sum(diff, dim=-1, out=d)
        torch.minimum(dist, d, out=dist)
        far = dist.argmax(dim=-1)
    return idx
