"""Geometric transforms of ``results['points']`` (N, C): xyz in columns 0-2, normals (if any) in 3-5.

Random transforms draw from numpy's global generator (mmengine seeds it per dataloader worker).
"""
import numpy as np

from pjepa3d.registry import TRANSFORMS


def _has_normals(points):
    return points.shape[1] >= 6


@TRANSFORMS.register_module()
class NormalizeUnitSphere:
    """Centre xyz on their mean and scale so the farthest point is at distance 1 (normals untouched)."""

    def __call__(self, results):
        points = results['points'].astype(np.float32, copy=True)
        xyz = points[:, :3] - points[:, :3].mean(axis=0)
        radius = np.sqrt((xyz ** 2).sum(axis=1).max())
        points[:, :3] = xyz / radius if radius > 0 else xyz
        results['points'] = points
        return results

    def __repr__(self):
        return f'{type(self).__name__}()'


@TRANSFORMS.register_module()
class RandomScale:
    """Scale each axis by its own factor drawn from ``scale_range``; flip the sign of the
    ``mirror_axes`` (indices 0-2) each with probability 0.5.

    Normals get the inverse-transpose (divide by the factors) and are re-normalised.
    """

    def __init__(self, scale_range=(0.8, 1.2), mirror_axes=()):
        self.scale_range = tuple(scale_range)
        self.mirror_axes = tuple(mirror_axes)

    def __call__(self, results):
        points = results['points'].astype(np.float32, copy=True)
        scale = np.random.uniform(*self.scale_range, size=3)
        for axis in self.mirror_axes:
            if np.random.rand() < 0.5:
                scale[axis] = -scale[axis]
        points[:, :3] *= scale
        if _has_normals(points):
            normals = points[:, 3:6] / scale
            points[:, 3:6] = normals / np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)
        results['points'] = points
        return results

    def __repr__(self):
        return f'{type(self).__name__}(scale_range={self.scale_range}, mirror_axes={self.mirror_axes})'


def rotation_matrix(axis, angle):
    """3x3 rotation by ``angle`` radians about ``axis`` ('x', 'y' or 'z'), right-handed."""
    c, s = np.cos(angle), np.sin(angle)
    i, j = {'x': (1, 2), 'y': (2, 0), 'z': (0, 1)}[axis]
    rot = np.eye(3)
    rot[i, i], rot[i, j], rot[j, i], rot[j, j] = c, -s, s, c
    return rot


@TRANSFORMS.register_module()
class RandomRotate:
    """Rotate xyz (and normals) about ``axis`` by an angle in degrees drawn from ``angle_range``."""

    def __init__(self, axis='y', angle_range=(-180, 180)):
        if axis not in ('x', 'y', 'z'):
            raise ValueError(f"RandomRotate: axis must be 'x', 'y' or 'z', got {axis!r}")
        self.axis = axis
        self.angle_range = tuple(angle_range)

    def __call__(self, results):
        points = results['points'].astype(np.float32, copy=True)
        rot = rotation_matrix(self.axis, np.deg2rad(np.random.uniform(*self.angle_range))).astype(np.float32)
        points[:, :3] = points[:, :3] @ rot.T
        if _has_normals(points):
            points[:, 3:6] = points[:, 3:6] @ rot.T
        results['points'] = points
        return results

    def __repr__(self):
        return f'{type(self).__name__}(axis={self.axis!r}, angle_range={self.angle_range})'


@TRANSFORMS.register_module()
class RandomJitter:
    """Add Gaussian noise N(0, sigma) clipped to [-clip, clip] to xyz (same units as the cloud)."""

    def __init__(self, sigma=0.01, clip=0.05):
        self.sigma = sigma
        self.clip = clip

    def __call__(self, results):
        points = results['points'].astype(np.float32, copy=True)
        noise = np.clip(self.sigma * np.random.randn(len(points), 3), -self.clip, self.clip)
        points[:, :3] += noise.astype(np.float32)
        results['points'] = points
        return results

    def __repr__(self):
        return f'{type(self).__name__}(sigma={self.sigma}, clip={self.clip})'
