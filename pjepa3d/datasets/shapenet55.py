"""ShapeNet55 in the Point-BERT layout (pretraining set)."""
from pathlib import Path

import numpy as np

from pjepa3d.registry import DATASETS
from pjepa3d.utils.checks import PointCloudError
from .base_point_dataset import BasePointDataset, check_files_exist, read_list_file, require_dir


@DATASETS.register_module()
class ShapeNet55(BasePointDataset):
    """Point-BERT's ShapeNet55: ``<data_root>/shapenet_pc/<synset>-<id>.npy`` (8192, 3) float clouds,
    listed one file name a line in ``train.txt`` / ``test.txt``.

    The list file is ``ann_file`` when given (relative to ``data_root`` unless absolute), else
    ``<data_root>/<split>.txt``, else ``<data_root>/ShapeNet-55/<split>.txt``.
    Label = index of the sample's synset among the sorted synsets present in that list file
    (``metainfo['classes']``); pretraining does not use it. No normals.

    ``results['points']`` is float32 (N, 3), ``results['file']`` the .npy path.
    """

    SPLITS = ('train', 'test')

    def __init__(self, data_root, split='train', ann_file=None, pc_dir='shapenet_pc', pipeline=(), **kwargs):
        if split not in self.SPLITS:
            raise ValueError(f'ShapeNet55: split must be one of {self.SPLITS}, got {split!r}')
        if kwargs.pop('use_normals', False):
            raise ValueError('ShapeNet55 has no normals (use_normals must be False)')
        root = require_dir(data_root, 'ShapeNet55 data_root')
        if ann_file:
            ann = Path(ann_file) if Path(ann_file).is_absolute() else root / ann_file
        else:
            candidates = [root / f'{split}.txt', root / 'ShapeNet-55' / f'{split}.txt']
            ann = next((c for c in candidates if c.is_file()), candidates[0])
        self.names = read_list_file(ann, 'ShapeNet55 split file')
        self.pc_dir = require_dir(root / pc_dir, 'ShapeNet55 point-cloud folder')
        self.class_names = tuple(sorted({name.split('-')[0] for name in self.names}))
        metainfo = dict(kwargs.pop('metainfo', None) or {}, classes=self.class_names)
        super().__init__(data_root=str(root), ann_file=str(ann.absolute()), pipeline=pipeline, metainfo=metainfo,
                         **kwargs)

    def load_data_list(self):
        index = {synset: i for i, synset in enumerate(self.class_names)}
        data_list = [dict(file=str(self.pc_dir / name), label=index[name.split('-')[0]]) for name in self.names]
        check_files_exist(data_list, self.ann_file)
        return data_list

    def load_points(self, info):
        try:
            points = np.load(info['file'], allow_pickle=False)
        except (ValueError, OSError) as err:
            raise PointCloudError(f'{self.describe(info)}: cannot read the .npy file ({err})') from None
        return self.check_points(points, info, num_dims=3)
