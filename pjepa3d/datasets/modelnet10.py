"""ModelNet10 in its original folder layout: ``<root>/<class>/{train,test}/<class>_NNNN.off`` (triangle
meshes) or the same layout with ``.pcd`` point files; seeded validation carve and label fractions."""
import hashlib
import os
import os.path as osp
from pathlib import Path

import numpy as np

from pjepa3d.registry import DATASETS
from pjepa3d.utils.checks import PointCloudError
from .base_point_dataset import BasePointDataset, require_dir
from .splits import SplitSelectionMixin

#: The 10 classes in label order (alphabetical, as the folder names).
MODELNET10_CLASSES = ('bathtub', 'bed', 'chair', 'desk', 'dresser', 'monitor', 'night_stand', 'sofa', 'table',
                      'toilet')
POINT_SUFFIXES = ('.off', '.pcd')


def default_cache_dir():
    """Where sampled meshes are cached: ``$PJEPA3D_CACHE_DIR`` or ``~/.cache/pjepa3d``."""
    return os.environ.get('PJEPA3D_CACHE_DIR') or osp.join(osp.expanduser('~'), '.cache', 'pjepa3d')


def read_pcd_xyz(path):
    """float32 (N, 3) x, y, z of a PCD file (ascii / binary / binary_compressed) read with ``pypcd4``.

    Raises:
        PointCloudError: naming ``path`` when the file is truncated, malformed or has no x, y, z fields.
    """
    from pypcd4 import PointCloud  # a maintained PCD reader (all three DATA encodings)

    try:
        pc = PointCloud.from_path(path)
    except Exception as err:  # pypcd4 raises ValueError / struct / numpy errors on bad files
        raise PointCloudError(f'{path}: cannot read the PCD file ({type(err).__name__}: {err})') from None
    missing = [f for f in ('x', 'y', 'z') if f not in pc.fields]
    if missing:
        raise PointCloudError(f'{path}: the PCD file has no {missing} field(s) (fields: {list(pc.fields)})')
    xyz = pc.numpy(('x', 'y', 'z')).astype(np.float32)
    declared = int(pc.metadata.points)
    if len(xyz) != declared:
        raise PointCloudError(f'{path}: the header declares {declared} points but the file holds {len(xyz)} '
                              '(truncated?)')
    return xyz


def _off_counts(path):
    """(vertices, faces) declared by an OFF header, including ModelNet's 'OFF<nv> <nf> <ne>' first line."""
    with open(path, 'rb') as f:
        head = f.read(512).decode('ascii', errors='replace')
    lines = [ln.split('#')[0].strip() for ln in head.splitlines()]
    lines = [ln for ln in lines if ln]
    if not lines or not lines[0].upper().startswith(('OFF', 'COFF')):
        raise PointCloudError(f'{path}: not an OFF file (first line {lines[0][:40] if lines else "<empty>"!r})')
    rest = lines[0].upper().split('OFF', 1)[1].strip()
    counts = (rest or (lines[1] if len(lines) > 1 else '')).split()
    try:
        return int(counts[0]), int(counts[1])
    except (IndexError, ValueError):
        raise PointCloudError(f'{path}: malformed OFF header (no vertex / face counts)') from None


def sample_off_surface(path, num_points, seed):
    """float32 (num_points, 3) points sampled uniformly by area on an OFF mesh's surface (``trimesh``),
    seeded: the same file, count and seed always give the same points.

    Raises:
        PointCloudError: naming ``path`` for a malformed or truncated file or a mesh with no area.
    """
    import trimesh  # a maintained mesh reader; its area-weighted sampler takes a seed

    num_vertices, num_faces = _off_counts(path)
    try:
        mesh = trimesh.load(path, file_type='off', force='mesh', process=False)
    except Exception as err:
        raise PointCloudError(f'{path}: cannot read the OFF mesh ({type(err).__name__}: {err}); the header '
                              f'declares {num_vertices} vertices and {num_faces} faces') from None
    if len(mesh.vertices) != num_vertices or len(mesh.faces) < num_faces:
        raise PointCloudError(f'{path}: the header declares {num_vertices} vertices and {num_faces} faces, the file '
                              f'holds {len(mesh.vertices)} and {len(mesh.faces)} (truncated?)')
    if not len(mesh.faces) or not mesh.area > 0:
        raise PointCloudError(f'{path}: the mesh has no surface to sample ({len(mesh.faces)} faces, area '
                              f'{float(mesh.area) if len(mesh.faces) else 0.0:g})')
    points, _ = trimesh.sample.sample_surface(mesh, int(num_points), seed=int(seed))
    return np.asarray(points, dtype=np.float32)


def normalize_unit_sphere(xyz):
    """Centre on the mean and scale the farthest point to distance 1."""
    xyz = xyz - xyz.mean(axis=0)
    radius = float(np.sqrt((xyz ** 2).sum(axis=1).max()))
    return (xyz / radius if radius > 0 else xyz).astype(np.float32)


@DATASETS.register_module()
class ModelNet10(SplitSelectionMixin, BasePointDataset):
    """ModelNet10 shapes with their class labels, read from the official folder layout.

    ``<data_root>/<class>/{train,test}/<class>_NNNN.{off,pcd}`` (``data_root`` may also be a folder
    holding ``ModelNet10/``). Meshes (``.off``) are sampled on their surface, area-weighted, with
    ``num_points`` points seeded by ``(sample_seed, file name)``; the samples are cached as ``.npy``
    under ``cache_dir`` (default ``$PJEPA3D_CACHE_DIR`` or ``~/.cache/pjepa3d``), so only the first read
    pays for the sampling. Point files (``.pcd``, e.g. 1,024 Poisson-disk points per shape) are read as
    they are. Every cloud is centred and scaled to the unit sphere (the raw files are in mesh units, up
    to ~1e5). z is up.

    ``results['points']`` is float32 (N, 3), ``results['label']`` the class index (alphabetical order,
    :data:`MODELNET10_CLASSES`) and ``results['file']`` the source file. Loaded clouds are kept in
    memory (``cache_in_memory``; about 12 KB a shape), so later epochs read no file.

    Splits: 'train' / 'test' are the official folders; ``val_ratio`` carves a seeded, stratified 'val'
    split out of train ('train' is then the rest; both configs need the same ``val_ratio`` /
    ``split_seed``); ``label_fraction`` keeps a seeded, stratified fraction of the training shapes;
    ``index_file`` gives an explicit list (see :meth:`save_indices`).

    Args:
        data_root (str): the ModelNet10 folder (or its parent).
        split (str): 'train', 'val' or 'test'.
        num_points (int): points sampled per mesh (``.off`` only).
        sample_seed (int): seed of the mesh sampling.
        cache_dir (str, optional): where mesh samples are cached; ``False`` disables the disk cache.
        cache_in_memory (bool): keep loaded clouds in memory.
        val_ratio, split_seed, label_fraction, fraction_seed, index_file: see above.
        pipeline (list): transform configs.
    """

    SPLITS = ('train', 'val', 'test')

    def __init__(self, data_root, split='train', num_points=1024, sample_seed=0, cache_dir=None,
                 cache_in_memory=True, val_ratio=0.0, split_seed=0, label_fraction=None, fraction_seed=0,
                 index_file=None, pipeline=(), **kwargs):
        if split not in self.SPLITS:
            raise ValueError(f'ModelNet10: split must be one of {self.SPLITS}, got {split!r}')
        self.set_split_args('ModelNet10', split, val_ratio, split_seed, label_fraction, fraction_seed, index_file,
                            source='train split')
        root = require_dir(data_root, 'ModelNet10 data_root', hint=(
            'unzip ModelNet10.zip from the Princeton ModelNet page so that data/ModelNet10/<class>/{train,test}/'
            '<class>_NNNN.off exist, or set MODELNET10_ROOT to such a folder (configs read it); README "Data"'))
        if (root / 'ModelNet10').is_dir():
            root = root / 'ModelNet10'
        classes = sorted(p.name for p in root.iterdir() if p.is_dir() and (p / 'train').is_dir())
        if not classes:
            raise FileNotFoundError(f'ModelNet10: no <class>/train folders under {root}; expected the official '
                                    'layout <root>/<class>/{train,test}/<class>_NNNN.off (or .pcd)')
        self.class_names = tuple(classes)
        self.folder = root
        self.num_points = int(num_points)
        self.sample_seed = int(sample_seed)
        self.cache_dir = None if cache_dir is False else Path(cache_dir or default_cache_dir()) / 'modelnet10'
        self._memory = {} if cache_in_memory else None
        metainfo = dict(kwargs.pop('metainfo', None) or {}, classes=self.class_names)
        kwargs.setdefault('serialize_data', False)  # small dicts; keeps the in-memory cache per dataset
        super().__init__(data_root=str(root), pipeline=pipeline, metainfo=metainfo, **kwargs)

    def load_data_list(self):
        full = []
        for label, cls in enumerate(self.class_names):
            folder = self.folder / cls / self.source_split
            if not folder.is_dir():
                raise FileNotFoundError(f'ModelNet10: missing folder {folder}')
            files = sorted(p for p in folder.iterdir() if p.suffix.lower() in POINT_SUFFIXES)
            if not files:
                raise FileNotFoundError(f'ModelNet10: no .off or .pcd files in {folder}')
            full += [dict(file=str(p), id=p.stem, label=label) for p in files]
        self.source_ids = [info['id'] for info in full]
        self.subset_indices = self.select_positions([info['label'] for info in full])
        return [full[i] for i in self.subset_indices]

    def describe(self, info):
        return f"{info['file']} (sample {info['sample_idx']}, shape {info['id']})"

    def _mesh_cache_path(self, path):
        stat = os.stat(path)
        key = hashlib.sha1(f'{osp.abspath(path)}:{stat.st_size}:{stat.st_mtime_ns}'.encode()).hexdigest()[:12]
        return self.cache_dir / f'{Path(path).stem}-{key}-n{self.num_points}-s{self.sample_seed}.npy'

    def _read_mesh(self, path):
        cached = self._mesh_cache_path(path) if self.cache_dir is not None else None
        if cached is not None and cached.is_file():
            return np.load(cached)
        seed = int.from_bytes(hashlib.sha1(f'{self.sample_seed}:{Path(path).name}'.encode()).digest()[:4], 'little')
        xyz = sample_off_surface(path, self.num_points, seed)
        if cached is not None:  # write to a temp file and rename: a killed run leaves no half file
            cached.parent.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_name(f'{cached.name}.{os.getpid()}.tmp.npy')
            np.save(tmp, xyz)
            os.replace(tmp, cached)
        return xyz

    def load_points(self, info):
        key = info['file']
        if self._memory is not None and key in self._memory:
            return self._memory[key].copy()
        try:
            xyz = self._read_mesh(key) if key.lower().endswith('.off') else read_pcd_xyz(key)
        except PointCloudError as err:
            raise PointCloudError(f'{err} [{self.describe(info)}]') from None
        points = normalize_unit_sphere(self.check_points(xyz, info, num_dims=3))
        if self._memory is not None:
            self._memory[key] = points
        return points.copy()
