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
        per_sample_seed (bool): with ``seed``, reseed the ``'random'`` draw from
            ``(seed, results['sample_idx'])`` on every call, so a sample always gets the same subset
            whatever the worker, epoch or loading order (for validation / test).
        per_point_keys (tuple[str]): keys of ``results`` holding one row per point (e.g. the
            part labels ``pts_semantic_mask`` (N,)); when present they are indexed with the same
            rows as the points, so labels stay aligned.

    A cloud with fewer than ``num_points`` points is padded by repetition: every point is used
    once, then the cloud is repeated cyclically (in the order chosen by ``method``) until it
    has ``num_points`` rows. The output never has another size.
    """

    METHODS = ('fps', 'random', 'first')

    def __init__(self, num_points, method='fps', seed=None, per_sample_seed=False,
                 per_point_keys=('pts_semantic_mask',)):
        if method not in self.METHODS:
            raise ValueError(f'PointSample: method must be one of {self.METHODS}, got {method!r}')
        if int(num_points) < 1:
            raise ValueError(f'PointSample: num_points must be >= 1, got {num_points}')
        self.num_points = int(num_points)
        self.method = method
        self.seed = seed
        self._rng = np.random.RandomState(seed) if seed is not None else None
        if per_sample_seed and seed is None:
            raise ValueError('PointSample: per_sample_seed=True needs a seed')
        self.per_sample_seed = bool(per_sample_seed)
        self.per_point_keys = tuple(per_point_keys)

    def _order(self, points, sample_idx=None):
        """Indices of the chosen points, length min(N, num_points)."""
        n = len(points)
        if self.method == 'first':
            return np.arange(min(n, self.num_points))
        if self.method == 'random':
            rng = self._rng or np.random
            if self.per_sample_seed:
                rng = np.random.RandomState([self.seed, int(sample_idx or 0) & 0xFFFFFFFF])
            return rng.permutation(n)[:self.num_points]
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
        order = self._order(points, results.get('sample_idx'))
        if len(order) < self.num_points:  # pad by cyclic repetition
            order = order[np.arange(self.num_points) % len(order)]
        for key in self.per_point_keys:
            if key in results:
                if len(results[key]) != len(points):
                    raise PointCloudError(f"PointSample: {key} has {len(results[key])} rows but the cloud has "
                                          f"{len(points)} points in {results.get('file', 'input')} "
                                          f"(sample {results.get('sample_idx')})")
                results[key] = results[key][order]
        results['points'] = points[order]
        return results

    def __repr__(self):
        return (f'{type(self).__name__}(num_points={self.num_points}, method={self.method!r}, seed={self.seed}, '
                f'per_sample_seed={self.per_sample_seed}, per_point_keys={self.per_point_keys})')
