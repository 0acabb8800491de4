"""Resample a cloud to a fixed number of points."""
import numpy as np
import torch

from pjepa3d.registry import TRANSFORMS
from pjepa3d.utils.checks import PointCloudError


@TRANSFORMS.register_module()
class PointSample:
    """Pick exactly ``num_points`` rows of ``results['points']`` (N, C) -> (num_points, C).

    Args:
        num_points (int): points to return.
        method (str): ``'fps'`` farthest point sampling on xyz (deterministic, starts at row 0),
            ``'random'`` a random subset without replacement, ``'first'`` the first rows.
        seed (int, optional): draw ``'random'`` subsets from a private generator seeded once
            (a reproducible sequence); default: numpy's global generator.

    A cloud with fewer than ``num_points`` points is padded by repetition: every point is used
    once, then the cloud is repeated cyclically (in the order chosen by ``method``) until it
    has ``num_points`` rows. The output never has another size.
    """

    METHODS = ('fps', 'random', 'first')

    def __init__(self, num_points, method='fps', seed=None):
        if method not in self.METHODS:
            raise ValueError(f'PointSample: method must be one of {self.METHODS}, got {method!r}')
        if int(num_points) < 1:
            raise ValueError(f'PointSample: num_points must be >= 1, got {num_points}')
        self.num_points = int(num_points)
        self.method = method
        self.seed = seed
        self._rng = np.random.RandomState(seed) if seed is not None else None

    def _order(self, points):
        """Indices of the chosen points, length min(N, num_points)."""
        n = len(points)
        if self.method == 'first':
            return np.arange(min(n, self.num_points))
        if self.method == 'random':
            return (self._rng or np.random).permutation(n)[:self.num_points]
        if n <= self.num_points:
            return np.arange(n)
        from pjepa3d.ops import furthest_point_sample  # lazy: ops may be built separately
        xyz = torch.from_numpy(np.ascontiguousarray(points[None, :, :3], dtype=np.float32))
        return furthest_point_sample(xyz, self.num_points)[0].numpy()

    def __call__(self, results):
        points = results['points']
        if len(points) == 0:
            raise PointCloudError(f"PointSample: empty point cloud in {results.get('file', 'input')} "
                                  f"(sample {results.get('sample_idx')})")
        order = self._order(points)
        if len(order) < self.num_points:  # pad by cyclic repetition
            order = order[np.arange(self.num_points) % len(order)]
        results['points'] = points[order]
        return results

    def __repr__(self):
        return f'{type(self).__name__}(num_points={self.num_points}, method={self.method!r}, seed={self.seed})'
