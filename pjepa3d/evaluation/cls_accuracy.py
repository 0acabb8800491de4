"""Classification accuracy: overall accuracy and mean per-class accuracy (the two numbers papers report)."""
import numpy as np
from mmengine.evaluator import BaseMetric

from pjepa3d.registry import METRICS


def classification_accuracy(pred, gt, num_classes=None):
    """Overall accuracy and mean class accuracy, both in %.

    Args:
        pred, gt (array-like): (n,) predicted / true class indices.
        num_classes (int, optional): only for the range check.
    Returns:
        dict: ``overall`` = 100 * mean(pred == gt); ``mean_class`` = 100 * mean over the classes present
        in ``gt`` of that class's recall (classes absent from ``gt`` are left out).
    """
    pred, gt = np.asarray(pred).reshape(-1), np.asarray(gt).reshape(-1)
    if pred.shape != gt.shape or not len(gt):
        raise ValueError(f'classification_accuracy: {len(pred)} predictions for {len(gt)} labels')
    if num_classes is not None and (gt.min() < 0 or gt.max() >= num_classes):
        raise ValueError(f'classification_accuracy: labels outside 0..{num_classes - 1}')
    correct = pred == gt
    per_class = [correct[gt == c].mean() for c in np.unique(gt)]
    return dict(overall=float(correct.mean() * 100.0), mean_class=float(np.mean(per_class) * 100.0))


@METRICS.register_module()
class Accuracy(BaseMetric):
    """Overall (``accuracy/overall``) and mean class (``accuracy/mean_class``) accuracy in %.

    Reads ``pred_label`` and ``gt_label`` from each prediction dict of ``PointClassifier.predict``.
    Use ``save_best='accuracy/overall'`` in the CheckpointHook (greater is better).
    """

    default_prefix = 'accuracy'

    def process(self, data_batch, data_samples):
        for sample in data_samples:
            if 'gt_label' not in sample:
                raise ValueError('Accuracy: a prediction has no gt_label (the dataset must provide labels)')
            self.results.append((int(sample['pred_label']), int(sample['gt_label'])))

    def compute_metrics(self, results):
        pred, gt = zip(*results)
        num_classes = len(self.dataset_meta['classes']) if self.dataset_meta and 'classes' in self.dataset_meta \
            else None
        return classification_accuracy(pred, gt, num_classes)
