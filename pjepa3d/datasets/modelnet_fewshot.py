"""ModelNet40 few-shot folds in Point-BERT's pickle layout."""
import pickle

import numpy as np

from pjepa3d.registry import DATASETS
from .base_point_dataset import BasePointDataset, require_dir
from .modelnet40 import MODELNET40_CLASSES


@DATASETS.register_module()
class ModelNetFewShot(BasePointDataset):
    """One (way, shot, fold) episode: ``<data_root>/{way}way_{shot}shot/{fold}.pkl``.

    Each pickle holds ``dict(train=[...], test=[...])`` of ``(points, label, class_id)`` tuples: points
    float (N, 3 or 6) (xyz [+ normals], N = 8192 in the released files), ``label`` in ``0..way-1``
    (the episode's own label) and ``class_id`` the original ModelNet40 class index. ``train`` has
    ``way * shot`` samples, ``test`` (held-out shapes of the same classes) 20 per class in the release.

    ``results['points']`` float32 (N, 3) or (N, 6) with ``use_normals``; ``results['label']`` the episode
    label; ``metainfo['classes']`` the ModelNet40 names of labels ``0..way-1`` (from ``class_id``).

    Args:
        data_root (str): the folder holding ``5way_10shot/`` etc.
        way (int), shot (int), fold (int): which file.
        split (str): 'train' or 'test'.
    """

    SPLITS = ('train', 'test')

    def __init__(self, data_root, way=5, shot=10, fold=0, split='train', use_normals=False, pipeline=(), **kwargs):
        if split not in self.SPLITS:
            raise ValueError(f'ModelNetFewShot: split must be one of {self.SPLITS}, got {split!r}')
        root = require_dir(data_root, 'ModelNetFewShot data_root')
        self.way, self.shot, self.fold, self.split = int(way), int(shot), int(fold), split
        self.pkl_path = root / f'{self.way}way_{self.shot}shot' / f'{self.fold}.pkl'
        if not self.pkl_path.is_file():
            folder = self.pkl_path.parent
            have = sorted(p.name for p in folder.glob('*.pkl')) if folder.is_dir() else None
            raise FileNotFoundError(f'ModelNetFewShot: fold file missing: {self.pkl_path} ('
                                    + (f'{folder} holds {have}' if have is not None else f'no folder {folder}') + ')')
        self._episode = self._read_episode()
        metainfo = dict(kwargs.pop('metainfo', None) or {}, classes=self._class_names(), way=self.way,
                        shot=self.shot, fold=self.fold)
        super().__init__(data_root=str(root), pipeline=pipeline, use_normals=use_normals, metainfo=metainfo, **kwargs)

    def _read_episode(self):
        try:
            with open(self.pkl_path, 'rb') as f:
                record = pickle.load(f)
        except Exception as err:  # unpickling errors come in many types
            raise ValueError(f'{self.pkl_path}: cannot read the pickle ({type(err).__name__}: {err})') from None
        if not isinstance(record, dict) or self.split not in record:
            keys = list(record) if isinstance(record, dict) else type(record).__name__
            raise ValueError(f"{self.pkl_path}: expected a dict with 'train' and 'test', found {keys}")
        samples = []
        for i, item in enumerate(record[self.split]):
            if not isinstance(item, (tuple, list)) or len(item) < 2:
                raise ValueError(f'{self.pkl_path} [{self.split}][{i}]: expected (points, label, class_id), got '
                                 f'{type(item).__name__}')
            label = int(np.asarray(item[1]).reshape(-1)[0])
            if not 0 <= label < self.way:
                raise ValueError(f'{self.pkl_path} [{self.split}][{i}]: label {label} outside 0..{self.way - 1}')
            class_id = int(np.asarray(item[2]).reshape(-1)[0]) if len(item) > 2 else None
            samples.append((item[0], label, class_id))
        return samples

    def _class_names(self):
        names = [f'class_{i}' for i in range(self.way)]
        for _, label, class_id in self._episode:
            if class_id is not None and 0 <= class_id < len(MODELNET40_CLASSES):
                names[label] = MODELNET40_CLASSES[class_id]
        return tuple(names)

    def load_data_list(self):
        return [dict(file=str(self.pkl_path), row=i, label=label) for i, (_, label, _) in enumerate(self._episode)]

    def describe(self, info):
        return f"{info['file']} [{self.split}][{info['row']}] (sample {info['sample_idx']})"

    def load_points(self, info):
        points = np.asarray(self._episode[info['row']][0])
        if self.use_normals and (points.ndim != 2 or points.shape[1] < 6):
            raise ValueError(f'{self.describe(info)}: use_normals=True but the points have shape {points.shape}')
        return self.check_points(points, info, num_dims=points.shape[1] if points.ndim == 2 else None)
