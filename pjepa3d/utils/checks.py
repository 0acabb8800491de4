"""Input validation that names the offending file / sample instead of failing deep inside an op."""
import numpy as np
import torch


class PointCloudError(ValueError):
    """A point cloud that cannot be used: empty, non-finite, wrong shape or too small."""


def validate_points(points, source='points', min_points=1, num_dims=None, why='group size'):
    """Check one cloud (N, C) or a batch (B, N, C); raise :class:`PointCloudError` naming ``source``.

    Args:
        points (np.ndarray | torch.Tensor): coordinates in the first 3 channels.
        source (str): what to name in the message, e.g. ``'file a.txt (sample 12)'``.
        min_points (int): fewest points allowed per cloud (e.g. the kNN group size).
        why (str): what ``min_points`` is, for the message.
        num_dims (int, optional): required trailing dimension; default: at least 3.
    Returns:
        The input, unchanged.
    """
    shape = tuple(points.shape)
    if len(shape) not in (2, 3):
        raise PointCloudError(f'{source}: expected points of shape (N, C) or (B, N, C), got {shape}')
    if num_dims is not None and shape[-1] != num_dims:
        raise PointCloudError(f'{source}: expected {num_dims} values per point, got shape {shape}')
    if shape[-1] < 3:
        raise PointCloudError(f'{source}: points need at least x, y, z; got shape {shape}')
    if shape[-2] == 0:
        raise PointCloudError(f'{source}: the point cloud is empty (shape {shape})')
    if shape[-2] < min_points:
        raise PointCloudError(f'{source}: {shape[-2]} points, fewer than the {min_points} needed '
                              f'({why}); resample with PointSample, which pads by repetition')
    if isinstance(points, torch.Tensor):
        finite = torch.isfinite(points).reshape(-1, shape[-2] * shape[-1]).all(dim=1)
        if not bool(finite.all()):
            bad = torch.nonzero(~finite).flatten().tolist()
            where = f' (batch index {bad})' if len(shape) == 3 else ''
            raise PointCloudError(f'{source}{where}: NaN or inf coordinates')
    else:
        if not np.isfinite(points).all():
            raise PointCloudError(f'{source}: NaN or inf coordinates')
    return points
