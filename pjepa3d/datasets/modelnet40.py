"""ModelNet40 classification set, in the Point-BERT/PointNet++ resampled layout or PointNet's HDF5 layout."""
import os
import re
import warnings

import numpy as np

from pjepa3d.registry import DATASETS
from pjepa3d.utils.checks import PointCloudError
from .base_point_dataset import BasePointDataset, check_files_exist, read_list_file, require_dir

#: The 40 ModelNet40 class names in their usual (alphabetical) label order; used for the HDF5
#: layout when its folder has no ``shape_names.txt``.
MODELNET40_CLASSES = (
    'airplane', 'bathtub', 'bed', 'bench', 'bookshelf', 'bottle', 'bowl', 'car', 'chair', 'cone', 'cup', 'curtain',
    'desk', 'door', 'dresser', 'flower_pot', 'glass_box', 'guitar', 'keyboard', 'lamp', 'laptop', 'mantel',
    'monitor', 'night_stand', 'person', 'piano', 'plant', 'radio', 'range_hood', 'sink', 'sofa', 'stairs', 'stool',
    'table', 'tent', 'toilet', 'tv_stand', 'vase', 'wardrobe', 'xbox')

RESAMPLED_DIR = 'modelnet40_normal_resampled'
HDF5_DIR = 'modelnet40_ply_hdf5_2048'

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
class ModelNet40(BasePointDataset):
    """ModelNet40 shapes with their class labels.

    Layouts (``layout='auto'`` takes the resampled one when both are present):

    * ``'resampled'``: ``modelnet40_normal_resampled/<class>/<class>_NNNN.txt`` with rows
      ``x,y,z,nx,ny,nz`` (unit-sphere scale), ``modelnet40_shape_names.txt`` (labels = line order)
      and ``modelnet40_{train,test}.txt`` listing shape ids such as ``airplane_0001``.
    * ``'hdf5'``: PointNet's ``modelnet40_ply_hdf5_2048/ply_data_{train,test}<k>.h5`` with ``data``
      (n, 2048, 3) and ``label`` (n, 1); class names from ``shape_names.txt`` if present, else
      :data:`MODELNET40_CLASSES`. No normals.

    ``results['points']`` is float32 (N, 3), or (N, 6) with ``use_normals=True``; ``results['label']``
    the class index and ``results['file']`` the source file.

    Args:
        data_root (str): the folder holding ``modelnet40_normal_resampled`` / ``modelnet40_ply_hdf5_2048``,
            or one of those folders itself.
        split (str): 'train' or 'test'.
        layout (str): 'auto', 'resampled' or 'hdf5'.
        use_normals (bool): keep the normals (resampled layout only).
        pipeline (list): transform configs.
    """

    SPLITS = ('train', 'test')
    LAYOUTS = ('auto', 'resampled', 'hdf5')

    def __init__(self, data_root, split='train', layout='auto', use_normals=False, pipeline=(), **kwargs):
        if split not in self.SPLITS:
            raise ValueError(f'ModelNet40: split must be one of {self.SPLITS}, got {split!r}')
        if layout not in self.LAYOUTS:
            raise ValueError(f'ModelNet40: layout must be one of {self.LAYOUTS}, got {layout!r}')
        root = require_dir(data_root, 'ModelNet40 data_root')
        self.split = split
        self.layout, self.folder = self._find_layout(root, layout)
        if use_normals and self.layout == 'hdf5':
            raise ValueError(f'ModelNet40: the HDF5 layout ({self.folder}) has no normals; use the resampled '
                             f'layout or use_normals=False')
        if self.layout == 'resampled':
            self.class_names = tuple(read_list_file(self.folder / 'modelnet40_shape_names.txt',
                                                    'ModelNet40 shape-names file'))
            self.split_file = self.folder / f'modelnet40_{split}.txt'
            read_list_file(self.split_file, 'ModelNet40 split file')  # fail early, naming the path
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
        return sorted(folder.glob(f'ply_data_{self.split}*.h5'), key=natural)

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
                                    f'{self.split}*.h5')
        return layout, (resampled if layout == 'resampled' else hdf5)

    def load_data_list(self):
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

    def describe(self, info):
        row = f", row {info['row']}" if 'row' in info else ''
        return f"{info['file']} (sample {info['sample_idx']}{row})"

    def load_points(self, info):
        if self.layout == 'hdf5':
            return self.check_points(_h5_file(info['file'])['data'][info['row']], info, num_dims=3)
        return self.check_points(_read_csv_points(info['file'], self.describe(info)), info, num_dims=6)
