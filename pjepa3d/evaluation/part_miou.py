"""Part-segmentation mIoU as the ShapeNetPart community reports it (class mIoU and instance mIoU)."""
from collections import defaultdict

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from pjepa3d.registry import METRICS


def shape_part_iou(pred, gt, part_ids):
    """Mean IoU of one shape over its category's parts.

    Args:
        pred (array-like): (N,) predicted global part ids.
        gt (array-like): (N,) ground-truth global part ids.
        part_ids (list[int]): the global part ids of the shape's category.
    Returns:
        float: mean over ``part_ids`` of |pred==p & gt==p| / |pred==p | gt==p|, where a part absent from
        both the prediction and the ground truth counts as IoU 1 (the community convention).
    """
    pred = np.asarray(pred).reshape(-1)
    gt = np.asarray(gt).reshape(-1)
    if pred.shape != gt.shape:
        raise ValueError(f'shape_part_iou: prediction has {pred.size} points, ground truth {gt.size}')
    ious = []
    for part in part_ids:
        p, g = pred == part, gt == part
        union = np.logical_or(p, g).sum()
        ious.append(1.0 if union == 0 else np.logical_and(p, g).sum() / union)
    return float(np.mean(ious))


def _numpy(x):
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


@METRICS.register_module()
class PartMIoU(BaseMetric):
    """Class mIoU and instance mIoU of part segmentation, in percent.

    Per shape: the mean IoU over the parts of its category (:func:`shape_part_iou`). Instance mIoU =
    mean over all shapes; class mIoU = mean over the categories present of the mean of their shapes.
    Also reports ``<Category>_mIoU`` for every category present and ``num_shapes``.

    Each prediction is a dict with ``pred_pts_seg`` (N,), ``pts_semantic_mask`` (N,) (global part ids) and
    ``category`` (index), as ``PointPartSegmentor.predict`` returns.

    Args:
        category_parts (list[list[int]], optional): category index -> global part ids; default the
            ShapeNetPart table.
        category_names (list[str], optional): for the per-category keys; default ShapeNetPart's names.
        per_category (bool): also report and log the per-category mIoU.
        prefix (str): metric key prefix (default ``'partseg'``).
    """

    default_prefix = 'partseg'

    def __init__(self, category_parts=None, category_names=None, per_category=True, collect_device='cpu',
                 prefix=None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        if category_parts is None or category_names is None:
            from pjepa3d.datasets.shapenet_part import CATEGORY_NAMES, CATEGORY_PARTS
            category_parts = CATEGORY_PARTS if category_parts is None else category_parts
            category_names = CATEGORY_NAMES if category_names is None else category_names
        if len(category_parts) != len(category_names):
            raise ValueError(f'PartMIoU: {len(category_parts)} categories in category_parts but '
                             f'{len(category_names)} names')
        self.category_parts = [list(p) for p in category_parts]
        self.category_names = list(category_names)
        self.per_category = per_category

    def process(self, data_batch, data_samples):
        for sample in data_samples:
            for key in ('pred_pts_seg', 'pts_semantic_mask', 'category'):
                if key not in sample:
                    raise KeyError(f'PartMIoU: prediction of sample {sample.get("sample_idx")} has no {key!r} '
                                   f'(keys: {sorted(sample)})')
            cat = int(_numpy(sample['category']))
            if not 0 <= cat < len(self.category_parts):
                raise ValueError(f'PartMIoU: category {cat} of sample {sample.get("sample_idx")} outside '
                                 f'0..{len(self.category_parts) - 1}')
            iou = shape_part_iou(_numpy(sample['pred_pts_seg']), _numpy(sample['pts_semantic_mask']),
                                 self.category_parts[cat])
            self.results.append((cat, iou))

    def compute_metrics(self, results):
        if not results:
            raise ValueError('PartMIoU: no predictions to evaluate')
        per_cat = defaultdict(list)
        for cat, iou in results:
            per_cat[cat].append(iou)
        cat_miou = {c: float(np.mean(v)) for c, v in sorted(per_cat.items())}
        metrics = dict(class_mIoU=100 * float(np.mean(list(cat_miou.values()))),
                       instance_mIoU=100 * float(np.mean([iou for _, iou in results])),
                       num_shapes=len(results))
        if self.per_category:
            lines = []
            for c, v in cat_miou.items():
                metrics[f'{self.category_names[c]}_mIoU'] = 100 * v
                lines.append(f'  {self.category_names[c]:<12s} {len(per_cat[c]):6d} shapes  mIoU {100 * v:6.2f}')
            MMLogger.get_current_instance().info('part mIoU per category:\n' + '\n'.join(lines))
        return metrics
