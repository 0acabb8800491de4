"""Triangle meshes for procedural shapes, y up, and area-weighted surface sampling.

Every part is a small triangle mesh (lathe = surface of revolution, box/hexahedron, ...);
a :class:`MeshBuilder` concatenates the parts of one object and :func:`sample_surface`
draws points uniformly over the total area, as ModelNet's point sets were drawn from meshes.
Faces are wound so that their normals point out of the solid.
"""
import functools

import numpy as np

TWO_PI = 2 * np.pi


def rot_x(a):
    c, s = np.cos(a), np.sin(a)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


def rot_y(a):
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def rot_z(a):
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def align_y(direction):
    """Rotation matrix taking +y onto ``direction``."""
    d = np.asarray(direction, float)
    norm = np.linalg.norm(d)
    if norm == 0:
        return np.eye(3)
    d = d / norm
    c = d[1]
    if c < -1 + 1e-9:
        return rot_x(np.pi)
    v = np.array([d[2], 0.0, -d[0]])  # y x d
    k = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + k + k @ k / (1 + c)


@functools.lru_cache(maxsize=None)
def _grid_faces(rows, cols, wrap):
    """Triangles of a (rows, cols) vertex grid, columns wrapping around when ``wrap``."""
    i, j = np.meshgrid(np.arange(rows - 1), np.arange(cols if wrap else cols - 1), indexing='ij')
    j1 = (j + 1) % cols
    a, b, c, d = i * cols + j, (i + 1) * cols + j, (i + 1) * cols + j1, i * cols + j1
    return np.concatenate([np.stack([a, b, c], -1), np.stack([a, c, d], -1)]).reshape(-1, 3)


def lathe_mesh(r, y, segments=20, arc=TWO_PI, phase=0.0):
    """Revolve the profile (r_i, y_i) about the y axis.

    Walk the profile counter-clockwise in the (r, y) half-plane (e.g. up the outside)
    so the normals point outwards; a point with r=0 closes the surface on the axis.
    """
    r, y = np.asarray(r, float), np.asarray(y, float)
    wrap = arc >= TWO_PI - 1e-9
    cols = segments if wrap else segments + 1
    phi = phase + np.arange(cols) * (arc / segments)
    v = np.empty((len(r), cols, 3))
    v[..., 0] = r[:, None] * np.cos(phi)
    v[..., 1] = y[:, None]
    v[..., 2] = r[:, None] * np.sin(phi)
    return v.reshape(-1, 3), _grid_faces(len(r), cols, wrap)


@functools.lru_cache(maxsize=None)
def _box_template():
    """Unit cube corners (index = x_bit + 2 y_bit + 4 z_bit) and 12 outward triangles."""
    corners = np.array([[x, y, z] for z in (-.5, .5) for y in (-.5, .5) for x in (-.5, .5)])
    quads = [(0, 2, 6, 4), (1, 3, 7, 5), (0, 1, 5, 4), (2, 3, 7, 6), (0, 1, 3, 2), (4, 5, 7, 6)]
    tris = np.array([t for a, b, c, d in quads for t in ((a, b, c), (a, c, d))])
    normal = np.cross(corners[tris[:, 1]] - corners[tris[:, 0]], corners[tris[:, 2]] - corners[tris[:, 0]])
    inward = (normal * corners[tris].mean(1)).sum(1) < 0
    tris[inward] = tris[inward][:, ::-1]
    return corners, tris


@functools.lru_cache(maxsize=None)
def _quarter_arc(rings):
    t = np.linspace(0, np.pi / 2, rings + 1)
    return np.sin(t), np.cos(t)


@functools.lru_cache(maxsize=None)
def _sphere_template(rings=10, segments=20):
    theta = np.linspace(0, np.pi, rings + 1)
    return lathe_mesh(np.sin(theta), -np.cos(theta), segments)


def sample_surface(verts, faces, n, rng):
    """Draw ``n`` points uniformly over the mesh area: (points (n, 3), unit face normals (n, 3))."""
    v0 = verts[faces[:, 0]]
    e1, e2 = verts[faces[:, 1]] - v0, verts[faces[:, 2]] - v0
    cross = e1[:, [1, 2, 0]] * e2[:, [2, 0, 1]] - e1[:, [2, 0, 1]] * e2[:, [1, 2, 0]]
    area2 = np.sqrt(np.einsum('ij,ij->i', cross, cross))
    cdf = np.cumsum(area2)
    idx = np.minimum(np.searchsorted(cdf, rng.random(n) * cdf[-1], side='right'), len(faces) - 1)
    a, b = rng.random((2, n, 1))
    flip = (a + b) > 1
    a, b = np.where(flip, 1 - a, a), np.where(flip, 1 - b, b)
    points = v0[idx] + a * e1[idx] + b * e2[idx]
    normals = cross[idx] / area2[idx, None]
    return points, normals


class MeshBuilder:
    """Collects the parts of one object (units arbitrary, y up) into a single triangle mesh.

    The part methods take ``at`` (translation of the part's centre or origin) and ``rot`` (3x3),
    applied after any ``scale``; they return the builder so calls can be chained.
    """

    def __init__(self):
        self._verts, self._faces, self._count = [], [], 0

    def add(self, verts, faces, at=(0, 0, 0), rot=None, scale=None):
        if scale is not None:
            scale = np.asarray(scale, float)
            verts = verts * scale
            if scale.size == 3 and scale[0] * scale[1] * scale[2] < 0:  # a mirror flips the winding
                faces = faces[:, ::-1]
        if rot is not None:
            verts = verts @ np.asarray(rot).T
        self._verts.append(verts + np.asarray(at, float))
        self._faces.append(faces + self._count)
        self._count += len(verts)
        return self

    def sheet(self, verts):
        """Open surface from a (rows, cols, 3) grid of vertices (one-sided, e.g. a curtain)."""
        rows, cols, _ = verts.shape
        return self.add(verts.reshape(-1, 3), _grid_faces(rows, cols, False))

    def mesh(self):
        """(vertices (V, 3) float64, faces (F, 3) int)."""
        return np.concatenate(self._verts), np.concatenate(self._faces)

    # --- parts -------------------------------------------------------------------------------
    def box(self, size, at=(0, 0, 0), rot=None):
        """Axis-aligned box of edge lengths ``size`` centred at ``at``."""
        corners, tris = _box_template()
        return self.add(corners, tris, at, rot, scale=size)

    def boxes(self, sizes, centres):
        """Many axis-aligned boxes at once: ``sizes`` and ``centres`` shaped (K, 3)."""
        corners, tris = _box_template()
        sizes, centres = np.asarray(sizes, float), np.asarray(centres, float)
        verts = (corners[None] * sizes[:, None] + centres[:, None]).reshape(-1, 3)
        faces = (tris[None] + 8 * np.arange(len(sizes))[:, None, None]).reshape(-1, 3)
        return self.add(verts, faces)

    def hexahedron(self, corners, at=(0, 0, 0), rot=None, scale=None):
        """Deformed box from 8 corners shaped (2, 2, 2, 3) and indexed [z_bit, y_bit, x_bit]
        (keep the order of the unit cube so the faces stay outward)."""
        return self.add(np.asarray(corners, float).reshape(8, 3), _box_template()[1], at, rot, scale)

    def lathe(self, r, y, segments=20, arc=TWO_PI, phase=0.0, at=(0, 0, 0), rot=None, scale=None):
        v, f = lathe_mesh(r, y, segments, arc, phase)
        return self.add(v, f, at, rot, scale)

    def cylinder(self, radius, height, at=(0, 0, 0), rot=None, segments=20, r_top=None, caps=True):
        """Closed cylinder (or frustum with ``r_top``) along y, centred at ``at``."""
        r_top = radius if r_top is None else r_top
        h = height / 2
        r, y = [radius, r_top], [-h, h]
        if caps:
            r, y = [0] + r + [0], [-h] + y + [h]
        return self.lathe(r, y, segments, at=at, rot=rot)

    def tube(self, p0, p1, radius, segments=10, r_end=None, caps=True):
        """Cylinder (frustum with ``r_end``) from point ``p0`` to point ``p1``; 4 segments = square section."""
        p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
        phase = np.pi / 4 if segments == 4 else 0.0
        r_end = radius if r_end is None else r_end
        length = np.linalg.norm(p1 - p0)
        r, y = [radius, r_end], [0, length]
        if caps:
            r, y = [0] + r + [0], [0] + y + [length]
        return self.lathe(r, y, segments, phase=phase, at=p0, rot=align_y(p1 - p0))

    def ellipsoid(self, radii, at=(0, 0, 0), rot=None, rings=10, segments=20):
        v, f = _sphere_template(rings, segments)
        return self.add(v, f, at, rot, scale=radii)

    def capsule(self, p0, p1, radius, segments=12, rings=3):
        """Cylinder with hemispherical ends between points ``p0`` and ``p1``."""
        p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
        length = np.linalg.norm(p1 - p0)
        sin, cos = _quarter_arc(rings)
        r = np.concatenate([sin, cos]) * radius
        y = np.concatenate([-cos * radius, length + sin * radius])
        return self.lathe(r, y, segments, at=p0, rot=align_y(p1 - p0))

    def torus(self, major, minor, at=(0, 0, 0), rot=None, arc=TWO_PI, phase=0.0, segments=24, sides=10, scale=None):
        """Ring about the y axis (tube radius ``minor``), optionally only an ``arc`` of it."""
        t = np.linspace(0, TWO_PI, sides + 1)
        return self.lathe(major + minor * np.cos(t), minor * np.sin(t), segments, arc, phase, at, rot, scale)

    def vessel(self, r, y, wall, segments=20, at=(0, 0, 0), rot=None, scale=None):
        """Open-topped container: outer profile ``(r_i, y_i)`` from the bottom edge to the rim,
        closed by a bottom, with an inner wall ``wall`` thick."""
        r, y = np.asarray(r, float), np.asarray(y, float)
        r_in = np.maximum(r - wall, 0.2 * wall)[::-1]
        y_in = np.maximum(y, y[0] + wall)[::-1]
        profile_r = np.concatenate([[0], r, r_in, [0]])
        profile_y = np.concatenate([[y[0]], y, y_in, [y[0] + wall]])
        return self.lathe(profile_r, profile_y, segments, at=at, rot=rot, scale=scale)


def slab(half_width, y, z_bottom, z_top, top_width_ratio=1.0):
    """Corners (2, 2, 2, 3) of a box-like solid from y[0] to y[1], symmetric in x: its bottom spans
    ``z_bottom`` (z0, z1) and x +-half_width, its top spans ``z_top`` and x +-half_width*ratio."""
    c = np.empty((2, 2, 2, 3))
    for yb, (zs, hw) in enumerate(((z_bottom, half_width), (z_top, half_width * top_width_ratio))):
        for zb in (0, 1):
            for xb in (0, 1):
                c[zb, yb, xb] = ((2 * xb - 1) * hw, y[yb], zs[zb])
    return c
