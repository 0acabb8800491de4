"""Read one point cloud from any of the file formats users bring, with maintained readers.

==============================  =====================================================================
suffix                          reader
==============================  =====================================================================
``.pcd``                        ``pypcd4`` (ascii / binary / binary_compressed)
``.off`` ``.ply`` ``.obj``      ``trimesh``: meshes are sampled uniformly by area (seeded); a ``.ply``
``.stl`` ``.glb``               without faces is read as its vertices
``.npy`` ``.npz``               numpy (``.npz``: the array named ``points``, else the only array)
``.txt`` ``.xyz`` ``.pts``      numpy ``loadtxt`` (comma- or whitespace-separated rows, ``#`` comments)
``.csv``
``.bin``                        KITTI (4 float32 per point: x, y, z, intensity) or nuScenes (5: ... ring)
                                raw scans; the width comes from ``bin_dims``, else from the path
                                (``LIDAR_TOP`` -> 5, ``velodyne`` -> 4), else from the file size when only
                                one width divides it
==============================  =====================================================================

Every error is a :class:`~pjepa3d.utils.checks.PointCloudError` (or ``FileNotFoundError``) naming the file.
"""
import os
import os.path as osp

import numpy as np

from pjepa3d.utils.checks import PointCloudError

MESH_SUFFIXES = ('.off', '.ply', '.obj', '.stl', '.glb')
TEXT_SUFFIXES = ('.txt', '.xyz', '.pts', '.csv')
POINT_FILE_SUFFIXES = ('.pcd', '.npy', '.npz', '.bin') + MESH_SUFFIXES + TEXT_SUFFIXES


def _bin_dims(path, nbytes, bin_dims):
    if bin_dims is not None:
        return int(bin_dims)
    parts = set(osp.normpath(osp.abspath(path)).split(os.sep))
    if 'LIDAR_TOP' in parts or osp.basename(path).count('LIDAR_TOP'):
        return 5
    if 'velodyne' in parts or 'velodyne_reduced' in parts:
        return 4
    fits = [d for d in (4, 5) if nbytes % (4 * d) == 0]
    if len(fits) == 1:
        return fits[0]
    raise PointCloudError(f'{path}: cannot tell whether this .bin scan holds 4 float32 per point (KITTI) or 5 '
                          f'(nuScenes): {nbytes} bytes fit {"both" if fits else "neither"}; pass bin_dims=4 or 5')


def _read_bin(path, bin_dims):
    nbytes = osp.getsize(path)
    dims = _bin_dims(path, nbytes, bin_dims)
    if nbytes == 0:
        raise PointCloudError(f'{path}: the scan file is empty (0 bytes)')
    if nbytes % (4 * dims):
        raise PointCloudError(f'{path}: {nbytes} bytes is not a whole number of {dims}-float32 points '
                              f'({nbytes // (4 * dims)} full points + {nbytes % (4 * dims)} stray bytes): truncated, '
                              f'or the scan holds another number of values per point (bin_dims)')
    return np.fromfile(path, dtype=np.float32).reshape(-1, dims)


def _read_text(path):
    with open(path, 'r', errors='replace') as f:
        first = next((ln for ln in f if ln.strip() and not ln.lstrip().startswith('#')), '')
    try:
        return np.loadtxt(path, delimiter=',' if ',' in first else None, dtype=np.float32, ndmin=2, comments='#')
    except ValueError as err:
        raise PointCloudError(f'{path}: cannot parse the point rows ({err})') from None


def _read_numpy(path):
    try:
        data = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as err:
        raise PointCloudError(f'{path}: cannot read the numpy file ({err})') from None
    if isinstance(data, np.lib.npyio.NpzFile):
        with data:
            names = list(data.files)
            if 'points' in names:
                return np.asarray(data['points'])
            if len(names) == 1:
                return np.asarray(data[names[0]])
        raise PointCloudError(f'{path}: the .npz holds {names}; name the point array "points"')
    return np.asarray(data)


def _read_mesh(path, num_points, seed):
    import trimesh  # a maintained mesh reader (OFF, PLY, OBJ, STL, GLB) with a seeded area-weighted sampler

    suffix = osp.splitext(path)[1].lower()
    if suffix == '.off':  # ModelNet's quirky headers ('OFF8 12 0') and truncation checks
        from .modelnet10 import sample_off_surface
        return sample_off_surface(path, num_points, seed)
    try:
        geom = trimesh.load(path, process=False)
    except Exception as err:
        raise PointCloudError(f'{path}: cannot read the file ({type(err).__name__}: {err})') from None
    if isinstance(geom, trimesh.Scene):
        geom = geom.to_geometry() if hasattr(geom, 'to_geometry') else geom.dump(concatenate=True)
    faces = getattr(geom, 'faces', None)
    if faces is not None and len(faces):
        if not geom.area > 0:
            raise PointCloudError(f'{path}: the mesh has no surface to sample ({len(faces)} faces, area 0)')
        points, _ = trimesh.sample.sample_surface(geom, int(num_points), seed=int(seed))
        return np.asarray(points, dtype=np.float32)
    vertices = getattr(geom, 'vertices', None)
    if vertices is None or not len(vertices):
        raise PointCloudError(f'{path}: the file holds neither faces nor vertices')
    return np.asarray(vertices, dtype=np.float32)


def read_points(path, num_points=1024, seed=0, bin_dims=None):
    """float32 (N, C >= 3) points of one file (module docstring for the formats).

    Args:
        path (str): the file.
        num_points (int): how many points to sample on a mesh's surface (point files keep their own count).
        seed (int): the mesh sampler's seed: the same file, count and seed always give the same points.
        bin_dims (int, optional): float32 values per point of a ``.bin`` scan (4 KITTI, 5 nuScenes).
    Returns:
        np.ndarray: (N, C); x, y, z in the first three columns.
    """
    path = os.fspath(path)
    if not osp.isfile(path):
        raise FileNotFoundError(f'point file not found: {path}')
    suffix = osp.splitext(path)[1].lower()
    if suffix == '.pcd':
        from .modelnet10 import read_pcd_xyz
        points = read_pcd_xyz(path)
    elif suffix in MESH_SUFFIXES:
        points = _read_mesh(path, num_points, seed)
    elif suffix in ('.npy', '.npz'):
        points = _read_numpy(path)
    elif suffix in TEXT_SUFFIXES:
        points = _read_text(path)
    elif suffix == '.bin':
        points = _read_bin(path, bin_dims)
    else:
        raise PointCloudError(f'{path}: unknown point file type {suffix!r}; '
                              f'supported: {", ".join(POINT_FILE_SUFFIXES)}')
    points = np.asarray(points, dtype=np.float32)
    if points.ndim != 2 or points.shape[1] < 3:
        raise PointCloudError(f'{path}: expected an (N, >=3) array of points, got shape {points.shape}')
    if not len(points):
        raise PointCloudError(f'{path}: the file holds no points')
    if not np.isfinite(points[:, :3]).all():
        bad = int((~np.isfinite(points[:, :3]).all(axis=1)).sum())
        raise PointCloudError(f'{path}: {bad} point(s) with NaN or inf coordinates')
    return points
