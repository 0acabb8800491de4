"""ModelNet40 classification set: the Point-BERT/PointNet++ resampled layout, PointNet's HDF5 layout, or
the one-file npz cache written by ``tools/dataset_converters/modelnet40_to_npz.py``; with a seeded
validation split carved from train and seeded label-fraction subsets."""
import os
import re
import warnings
from pathlib import Path

import numpy as np

from pjepa3d.registry import DATASETS
from pjepa3d.utils.checks import PointCloudError
from .base_point_dataset import BasePointDataset, check_files_exist, read_list_file, require_dir
from .splits import SplitSelectionMixin

#: The 40 ModelNet40 class names in their usual (alphabetical) label order; used for the HDF5
#: layout when its folder has no ``shape_names.txt``.
MODELNET40_CLASSES = (
    'airplane', 'bathtub', 'bed', 'bench', 'bookshelf', 'bottle', 'bowl', 'car', 'chair', 'cone', 'cup', 'curtain',
    'desk', 'door', 'dresser', 'flower_pot', 'glass_box', 'guitar', 'keyboard', 'lamp', 'laptop', 'mantel',
    'monitor', 'night_stand', 'person', 'piano', 'plant', 'radio', 'range_hood', 'sink', 'sofa', 'stairs', 'stool',
    'table', 'tent', 'toilet', 'tv_stand', 'vase', 'wardrobe', 'xbox')

RESAMPLED_DIR = 'modelnet40_normal_resampled'
HDF5_DIR = 'modelnet40_ply_hdf5_2048'
NPZ_CACHE = 'modelnet40_cache.npz'

_H5_FILES = {}  # (pid, path) -> open h5py.File; per process, so dataloader workers open their own


def _h5_file(path):
    import h5py
    key = (os.getpid(), path)
    if key not in _H5_FILES:
        _H5_FILES[key] = h5py.File(path, 'r')
    return _H5_FILES[key]


def _read_csv_points(path, source):
    """float32 (N, C) from a text file of comma-separated rows; PointCloudError if unparsable."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')  # numpy warns on empty files; the caller reports them
            return np.loadtxt(path, delimiter=',', dtype=np.float32, ndmin=2)
    except ValueError as err:
        raise PointCloudError(f'{source}: cannot parse the point rows ({err})') from None


@DATASETS.register_module()
class ModelNet40(SplitSelectionMixin, BasePointDataset):
    """ModelNet40 shapes with their class labels.

    Layouts (``layout='auto'`` takes the resampled one when both are present):

    * ``'resampled'``: ``modelnet40_normal_resampled/<class>/<class>_NNNN.txt`` with rows
      ``x,y,z,nx,ny,nz`` (unit-sphere scale), ``modelnet40_shape_names.txt`` (labels = line order)
      and ``modelnet40_{train,test}.txt`` listing shape ids such as ``airplane_0001``.
    * ``'hdf5'``: PointNet's ``modelnet40_ply_hdf5_2048/ply_data_{train,test}<k>.h5`` with ``data``
      (n, 2048, 3) and ``label`` (n, 1); class names from ``shape_names.txt`` if present, else
      :data:`MODELNET40_CLASSES`. No normals.
    * ``'npz'``: one cache file (``cache_file``, default ``<data_root>/modelnet40_cache.npz``) with
      ``{split}_xyz`` (n, N, 3) float32, optional ``{split}_normals`` (n, N, 3), ``{split}_labels`` (n,),
      ``{split}_ids`` (n,) and ``class_names``, written by ``tools/dataset_converters/modelnet40_to_npz.py``.

    ``results['points']`` is float32 (N, 3), or (N, 6) with ``use_normals=True``; ``results['label']``
    the class index and ``results['file']`` the source file.

    Splits: ``'train'`` / ``'test'`` are the official lists. ``val_ratio > 0`` carves a validation
    split out of the official train list (stratified, seeded by ``split_seed``, see
    :func:`~pjepa3d.datasets.splits.carve_val_split`): ``'val'`` is that part and ``'train'`` the rest,
    so both configs must use the same ``val_ratio`` / ``split_seed``. ``label_fraction`` (e.g. 0.01)
    then keeps a stratified, seeded (``fraction_seed``) subset of the training shapes.
    ``index_file`` replaces both rules by an explicit list of positions in the official list of the
    split's source (train for 'train'/'val'), as written by :meth:`save_indices`.
    ``self.subset_indices`` holds the chosen positions in the source list (all of them when nothing is carved).

    Args:
        data_root (str): the folder holding ``modelnet40_normal_resampled`` / ``modelnet40_ply_hdf5_2048``,
            or one of those folders itself, or the folder of the npz cache.
        split (str): 'train', 'val' or 'test'.
        layout (str): 'auto', 'resampled', 'hdf5' or 'npz'.
        use_normals (bool): keep the normals (resampled layout, or an npz cache with normals).
        val_ratio (float): fraction of the official train list held out as 'val' (0: no val split).
        split_seed (int): seed of the validation carve.
        label_fraction (float, optional): fraction of the training shapes kept ('train' only).
        fraction_seed (int): seed of the label-fraction subset.
        index_file (str, optional): explicit index list (JSON) for this split.
        cache_file (str, optional): the npz cache (``layout='npz'``).
        pipeline (list): transform configs.
    """

    SPLITS = ('train', 'val', 'test')
    LAYOUTS = ('auto', 'resampled', 'hdf5', 'npz')

    def __init__(self, data_root, split='train', layout='auto', use_normals=False, pipeline=(), val_ratio=0.0,
                 split_seed=0, label_fraction=None, fraction_seed=0, index_file=None, cache_file=None, **kwargs):
        if split not in self.SPLITS:
            raise ValueError(f'ModelNet40: split must be one of {self.SPLITS}, got {split!r}')
        if layout not in self.LAYOUTS:
            raise ValueError(f'ModelNet40: layout must be one of {self.LAYOUTS}, got {layout!r}')
        self.set_split_args('ModelNet40', split, val_ratio, split_seed, label_fraction, fraction_seed, index_file,
                            source='train list')
        root = require_dir(data_root, 'ModelNet40 data_root')
        if layout == 'npz':
            self.layout = 'npz'
            self.folder = root
            self.cache_file = Path(cache_file) if cache_file else root / NPZ_CACHE
            if not self.cache_file.is_file():
                raise FileNotFoundError(f'ModelNet40: npz cache not found: {self.cache_file} (write it with '
                                        'tools/dataset_converters/modelnet40_to_npz.py)')
        else:
            self.layout, self.folder = self._find_layout(root, layout)
        if use_normals and self.layout == 'npz':
            with np.load(self.cache_file) as cache:
                if f'{self.source_split}_normals' not in cache.files:
                    raise ValueError(f'ModelNet40: {self.cache_file} has no normals; rebuild it without '
                                     '--no-normals or use use_normals=False')
        if use_normals and self.layout == 'hdf5':
            raise ValueError(f'ModelNet40: the HDF5 layout ({self.folder}) has no normals; use the resampled '
                             f'layout or use_normals=False')
        if self.layout == 'resampled':
            self.class_names = tuple(read_list_file(self.folder / 'modelnet40_shape_names.txt',
                                                    'ModelNet40 shape-names file'))
            self.split_file = self.folder / f'modelnet40_{self.source_split}.txt'
            read_list_file(self.split_file, 'ModelNet40 split file')  # fail early, naming the path
        elif self.layout == 'npz':
            with np.load(self.cache_file) as cache:
                missing = [k for k in ('class_names', f'{self.source_split}_xyz', f'{self.source_split}_labels')
                           if k not in cache.files]
                if missing:
                    raise ValueError(f'ModelNet40: {self.cache_file} lacks {missing} (found {cache.files})')
                self.class_names = tuple(str(c) for c in cache['class_names'])
            self.split_file = self.cache_file
        else:
            names = self.folder / 'shape_names.txt'
            self.class_names = (tuple(read_list_file(names, 'ModelNet40 shape-names file')) if names.is_file()
                                else MODELNET40_CLASSES)
            self.split_file = None
        metainfo = dict(kwargs.pop('metainfo', None) or {}, classes=self.class_names)
        super().__init__(data_root=str(root), pipeline=pipeline, use_normals=use_normals, metainfo=metainfo,
                         **kwargs)

    def _h5_files(self, folder):
        def natural(path):  # ply_data_train2.h5 before ply_data_train10.h5
            return [int(t) if t.isdigit() else t for t in re.split(r'(\d+)', path.name)]
        return sorted(folder.glob(f'ply_data_{self.source_split}*.h5'), key=natural)

    def _find_layout(self, root, layout):
        resampled = root / RESAMPLED_DIR if (root / RESAMPLED_DIR).is_dir() else root
        hdf5 = root / HDF5_DIR if (root / HDF5_DIR).is_dir() else root
        if layout == 'auto':
            if resampled != root or any((root / f).is_file() for f in (
                    'modelnet40_shape_names.txt', 'modelnet40_train.txt', 'modelnet40_test.txt')):
                layout = 'resampled'
            elif hdf5 != root or any(root.glob('ply_data_*.h5')):
                layout = 'hdf5'
            else:
                raise FileNotFoundError(f'ModelNet40: no dataset found under {root}: expected {root / RESAMPLED_DIR} '
                                        f'or {root / HDF5_DIR} (or data_root pointing at one of them)')
        if layout == 'hdf5' and not self._h5_files(hdf5):
            raise FileNotFoundError(f'ModelNet40: no HDF5 files for split {self.split!r}: {hdf5}/ply_data_'
                                    f'{self.source_split}*.h5')
        return layout, (resampled if layout == 'resampled' else hdf5)

    def load_data_list(self):
        """The source list (official train or test), then the val carve / label fraction / index file."""
        full = self._load_source_list()
        self.source_ids = [self._sample_id(info) for info in full]
        self.subset_indices = self.select_positions([info['label'] for info in full])
        return [full[i] for i in self.subset_indices]

    def _sample_id(self, info):
        if 'id' in info:
            return info['id']
        if 'row' in info:
            return f"{os.path.basename(info['file'])}:{info['row']}"
        return os.path.splitext(os.path.basename(info['file']))[0]

    def _load_source_list(self):
        index = {name: i for i, name in enumerate(self.class_names)}
        data_list = []
        if self.layout == 'resampled':
            for shape_id in read_list_file(self.split_file, 'ModelNet40 split file'):
                cls = shape_id.rsplit('_', 1)[0]
                if cls not in index:
                    raise ValueError(f'{self.split_file}: shape {shape_id!r} has class {cls!r}, which is not in '
                                     f'{self.folder / "modelnet40_shape_names.txt"}')
                data_list.append(dict(file=str(self.folder / cls / f'{shape_id}.txt'), label=index[cls]))
            check_files_exist(data_list, self.split_file)
            return data_list
        if self.layout == 'npz':
            return self._load_npz()
        import h5py
        for path in self._h5_files(self.folder):
            with h5py.File(path, 'r') as f:
                if 'data' not in f or 'label' not in f:
                    raise ValueError(f"{path}: expected datasets 'data' and 'label', found {list(f.keys())}")
                labels = np.asarray(f['label']).reshape(-1).astype(int)
            bad = (labels < 0) | (labels >= len(self.class_names))
            if bad.any():
                raise ValueError(f'{path}: label {labels[bad][0]} outside the {len(self.class_names)} classes')
            data_list += [dict(file=str(path), row=row, label=int(lab)) for row, lab in enumerate(labels)]
        return data_list

    def _load_npz(self):
        """Read the cache's arrays for the source split into memory (shared by forked workers)."""
        key = self.source_split
        with np.load(self.cache_file) as cache:
            self._xyz = np.asarray(cache[f'{key}_xyz'], dtype=np.float32)
            self._normals = (np.asarray(cache[f'{key}_normals'], dtype=np.float32) if self.use_normals else None)
            labels = np.asarray(cache[f'{key}_labels']).reshape(-1).astype(int)
            ids = ([str(i) for i in cache[f'{key}_ids']] if f'{key}_ids' in cache.files
                   else [f'{key}_{i}' for i in range(len(labels))])
        if self._xyz.ndim != 3 or self._xyz.shape[-1] != 3 or len(self._xyz) != len(labels):
            raise ValueError(f'{self.cache_file}: {key}_xyz has shape {self._xyz.shape}, expected (n, N, 3) with '
                             f'n = {len(labels)} labels')
        bad = (labels < 0) | (labels >= len(self.class_names))
        if bad.any():
            raise ValueError(f'{self.cache_file}: label {labels[bad][0]} outside the {len(self.class_names)} classes')
        return [dict(file=str(self.cache_file), row=row, id=ids[row], label=int(lab))
                for row, lab in enumerate(labels)]

    def describe(self, info):
        row = f", row {info['row']}" if 'row' in info else ''
        name = f", shape {info['id']}" if 'id' in info else ''
        return f"{info['file']} (sample {info['sample_idx']}{row}{name})"

    def load_points(self, info):
        if self.layout == 'npz':
            points = self._xyz[info['row']]
            if self._normals is not None:
                points = np.concatenate([points, self._normals[info['row']]], axis=1)
            return self.check_points(points, info, num_dims=points.shape[1])
        if self.layout == 'hdf5':
            return self.check_points(_h5_file(info['file'])['data'][info['row']], info, num_dims=3)
        return self.check_points(_read_csv_points(info['file'], self.describe(info)), info, num_dims=6)
