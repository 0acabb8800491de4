"""mmdet3d's GT-database sampler (``ObjectSample``), usable on databases that lack classes and on numpy 1.24-1.26."""
import numpy as np
from mmengine.logging import print_log

from mmdet3d.datasets.transforms import DataBaseSampler
from mmdet3d.registry import TRANSFORMS

# mmdet3d 1.4's DataBaseSampler.sample_all builds its labels with dtype=np.long, which numpy 1.24-1.26 removed
# (numpy 2 restored it as the 64-bit integer): every scan that gets an object pasted raised AttributeError
# (mmdetection3d issue #2821). The same alias as numpy < 1.24 and numpy 2 on 64-bit Linux.
if 'long' not in np.__dict__:
    np.long = np.int64


@TRANSFORMS.register_module()
class TolerantDataBaseSampler(DataBaseSampler):
    """``DataBaseSampler`` of mmdet3d that samples nothing for the classes its database has no object of.

    mmdet3d's sampler assumes every class of ``prepare`` and ``sample_groups`` has database objects, as in the
    full nuScenes train split: otherwise ``filter_by_min_points`` raises ``KeyError`` and ``sample_class_v2``
    fails on an empty stack. Small databases (the two-keyframe sample, subsets) miss classes; here those
    classes are logged and skipped. Everything else (files, filters, collision test, pasting) is mmdet3d's.
    Arguments: those of ``DataBaseSampler``.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        missing = [name for name in self.sample_classes if not self.db_infos.get(name)]
        if missing:
            print_log(f'{type(self).__name__}: no database object of {missing} in {self.info_path} (after the '
                      'filters): none of them is pasted', logger='current')
            kept = [(c, n) for c, n in zip(self.sample_classes, self.sample_max_nums) if c not in missing]
            self.sample_classes = [c for c, _ in kept]
            self.sample_max_nums = [n for _, n in kept]

    @staticmethod
    def filter_by_min_points(db_infos, min_gt_points_dict):
        for name in min_gt_points_dict:
            db_infos.setdefault(name, [])
        return DataBaseSampler.filter_by_min_points(db_infos, min_gt_points_dict)
