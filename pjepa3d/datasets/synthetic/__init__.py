"""Procedural shapes for download-free pretraining: a catalogue of builders and a point sampler."""
import numpy as np

from . import bathroom, devices, figures, furniture, household, primitives, structures, vehicles
from .mesh import MeshBuilder, rot_x, rot_y, rot_z, sample_surface

#: class name -> builder(mesh_builder, rng); the order defines the labels.
SHAPE_BUILDERS = {
    'ellipsoid': primitives.ellipsoid, 'box': primitives.box, 'cylinder': primitives.cylinder,
    'cone': primitives.cone, 'torus': primitives.torus, 'pyramid': primitives.pyramid,
    'capsule': primitives.capsule,
    'table': furniture.table, 'chair': furniture.chair, 'stool': furniture.stool, 'shelf': furniture.shelf,
    'bed': furniture.bed, 'sofa': furniture.sofa,
    'lamp': household.lamp, 'mug': household.mug, 'bottle': household.bottle, 'vase': household.vase,
    'bowl': household.bowl, 'monitor': devices.monitor,
    'airplane': vehicles.airplane, 'car': vehicles.car,
    'person': figures.person,
    'bench': furniture.bench, 'cabinet': furniture.cabinet, 'stairs': structures.stairs, 'door': structures.door,
    'tent': structures.tent, 'curtain': structures.curtain, 'laptop': devices.laptop, 'keyboard': devices.keyboard,
    'guitar': devices.guitar, 'toilet': bathroom.toilet, 'bathtub': bathroom.bathtub,
}

ROTATIONS = ('none', 'up', 'so3')


def random_rotation(rng, mode):
    """'none'; 'up': any yaw about y plus a tilt of a few degrees; 'so3': uniform over all rotations."""
    if mode == 'none':
        return np.eye(3)
    if mode == 'up':
        return rot_y(rng.uniform(0, 2 * np.pi)) @ rot_x(rng.normal(0, 0.05)) @ rot_z(rng.normal(0, 0.05))
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def _to_unit_sphere(xyz):
    xyz = xyz - xyz.mean(0)
    radius = np.sqrt((xyz ** 2).sum(1).max())
    return xyz / radius if radius > 0 else xyz


def generate_shape(name, rng, num_points, occlusion_prob=0.3, noise_std=0.005, rotation='up',
                   scale_range=(0.75, 1.25)):
    """Sample one random instance of class ``name``.

    Steps: build the part meshes with random proportions, scale each axis by a factor from
    ``scale_range``, rotate (``rotation``), draw points uniformly over the surface area; with
    probability ``occlusion_prob`` cut away 10-40 % of the surface behind a random plane (points are
    drawn twice over, so ``num_points`` remain); centre and scale to the unit sphere, add Gaussian
    noise of std ``noise_std`` (unit-sphere units) and normalise again.

    Returns:
        np.ndarray: float32 (num_points, 6): xyz (unit sphere) and unit outward normals.
    """
    mb = MeshBuilder()
    SHAPE_BUILDERS[name](mb, rng)
    verts, faces = mb.mesh()
    verts = (verts * rng.uniform(*scale_range, 3)) @ random_rotation(rng, rotation).T
    occlude = rng.random() < occlusion_prob
    points, normals = sample_surface(verts, faces, 2 * num_points if occlude else num_points, rng)
    if occlude:
        direction = rng.normal(size=3)
        depth = (points - points.mean(0)) @ direction
        kept = int(len(points) * (1 - rng.uniform(0.1, 0.4)))
        keep = rng.permutation(np.argpartition(depth, kept - 1)[:kept])[:num_points]
        points, normals = points[keep], normals[keep]
    points = _to_unit_sphere(points)
    if noise_std > 0:
        points = _to_unit_sphere(points + rng.normal(0, noise_std, points.shape))
    return np.concatenate([points, normals], 1).astype(np.float32)


__all__ = ['SHAPE_BUILDERS', 'ROTATIONS', 'generate_shape', 'random_rotation', 'MeshBuilder', 'sample_surface']
