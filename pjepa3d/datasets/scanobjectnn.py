"""ScanObjectNN (real scanned objects, 15 classes) in its released HDF5 layout."""

import numpy as np

from pjepa3d.registry import DATASETS
from .base_point_dataset import BasePointDataset, require_dir
from .modelnet40 import _h5_file
from .splits import carve_val_split, load_index_file

#: ScanObjectNN's 15 classes in label order.
SCANOBJECTNN_CLASSES = ('bag', 'bin', 'box', 'cabinet', 'chair', 'desk', 'display', 'door', 'shelf', 'table', 'bed',
                        'pillow', 'sink', 'sofa', 'toilet')

#: variant -> (sub-folder of ``h5_files``, file-name suffix after ``{training,test}_objectdataset``)
SCANOBJECTNN_VARIANTS = {
    'OBJ_BG': ('main_split', ''),
    'OBJ_ONLY': ('main_split_nobg', ''),
    'PB_T50_RS': ('main_split', '_augmentedrot_scale75'),
}


@DATASETS.register_module()
class ScanObjectNN(BasePointDataset):
    """One of the three ScanObjectNN benchmark variants.

    Files (``data_root`` may be the folder holding ``h5_files``, ``h5_files`` itself, or the variant's
    sub-folder):

    * OBJ_BG: ``h5_files/main_split/{training,test}_objectdataset.h5``
    * OBJ_ONLY: ``h5_files/main_split_nobg/{training,test}_objectdataset.h5``
    * PB_T50_RS: ``h5_files/main_split/{training,test}_objectdataset_augmentedrot_scale75.h5``

    each with ``data`` (n, 2048, 3) float and ``label`` (n,) int in 0..14 (:data:`SCANOBJECTNN_CLASSES`).
    ``results['points']`` is float32 (2048, 3) (the scans' own units, not normalised), ``results['label']``
    the class index, ``results['file']`` the h5 file.

    Args:
        data_root (str): see above.
        variant (str): 'OBJ_BG', 'OBJ_ONLY' or 'PB_T50_RS'.
        split (str): 'train', 'val' (carved from training by ``val_ratio`` / ``split_seed``) or 'test'.
        val_ratio (float): fraction of the training file held out as 'val' (0: none).
        split_seed (int): seed of the stratified carve.
        index_file (str, optional): explicit positions in the source file (JSON, see ``splits``).
    """

    SPLITS = ('train', 'val', 'test')

    def __init__(self, data_root, variant='OBJ_BG', split='train', val_ratio=0.0, split_seed=0, index_file=None,
                 pipeline=(), **kwargs):
        if variant not in SCANOBJECTNN_VARIANTS:
            raise ValueError(f'ScanObjectNN: variant must be one of {tuple(SCANOBJECTNN_VARIANTS)}, got {variant!r}')
        if split not in self.SPLITS:
            raise ValueError(f'ScanObjectNN: split must be one of {self.SPLITS}, got {split!r}')
        if split == 'val' and not val_ratio and index_file is None:
            raise ValueError("ScanObjectNN: split='val' is carved from the training file; set val_ratio (and the "
                             "same val_ratio / split_seed for split='train')")
        if kwargs.pop('use_normals', False):
            raise ValueError('ScanObjectNN has no normals (use_normals must be False)')
        self.variant, self.split = variant, split
        self.val_ratio, self.split_seed, self.index_file = float(val_ratio or 0.0), int(split_seed), index_file
        self.h5_path = self._find_file(require_dir(data_root, 'ScanObjectNN data_root'))
        metainfo = dict(kwargs.pop('metainfo', None) or {}, classes=SCANOBJECTNN_CLASSES)
        super().__init__(data_root=str(data_root), pipeline=pipeline, metainfo=metainfo, **kwargs)

    def _find_file(self, root):
        sub, suffix = SCANOBJECTNN_VARIANTS[self.variant]
        name = f"{'test' if self.split == 'test' else 'training'}_objectdataset{suffix}.h5"
        candidates = [root / 'h5_files' / sub / name, root / sub / name, root / name]
        for path in candidates:
            if path.is_file():
                return path
        raise FileNotFoundError(f'ScanObjectNN {self.variant} {self.split}: {name} not found; looked for '
                                + ', '.join(str(c) for c in candidates))

    def load_data_list(self):
        import h5py
        with h5py.File(self.h5_path, 'r') as f:
            if 'data' not in f or 'label' not in f:
                raise ValueError(f"{self.h5_path}: expected datasets 'data' and 'label', found {list(f.keys())}")
            shape = f['data'].shape
            labels = np.asarray(f['label']).reshape(-1).astype(int)
        if len(shape) != 3 or shape[2] < 3 or shape[0] != len(labels):
            raise ValueError(f"{self.h5_path}: 'data' has shape {shape}, expected (n, N, 3) with n = {len(labels)} "
                             "labels")
        bad = (labels < 0) | (labels >= len(SCANOBJECTNN_CLASSES))
        if bad.any():
            raise ValueError(f'{self.h5_path}: label {labels[bad][0]} (row {np.flatnonzero(bad)[0]}) outside 0..14')
        if self.index_file is not None:
            rows = load_index_file(self.index_file, num_source=len(labels))
        elif self.split != 'test' and self.val_ratio > 0:
            train, val = carve_val_split(labels, self.val_ratio, seed=self.split_seed)
            rows = val if self.split == 'val' else train
        else:
            rows = np.arange(len(labels))
        self.subset_indices = rows
        return [dict(file=str(self.h5_path), row=int(r), label=int(labels[r])) for r in rows]

    def describe(self, info):
        return f"{info['file']} (sample {info['sample_idx']}, row {info['row']})"

    def load_points(self, info):
        return self.check_points(_h5_file(info['file'])['data'][info['row']][:, :3], info, num_dims=3)
