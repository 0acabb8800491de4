"""Classification accuracy: overall accuracy and mean per-class accuracy (the two numbers papers report), and the
paired test of two classifiers scored on the same shapes."""
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


def mcnemar_test(correct_a, correct_b):
    """Exact McNemar test of two classifiers scored on the same shapes: is a's accuracy different from b's?

    Only the shapes on which they disagree carry evidence; under "equally accurate" each of them is a's with
    probability 1/2, so the two-sided p-value is the binomial one (scipy's ``binomtest``). Two accuracies from
    the same 908 ModelNet10 test shapes are paired: a gain of 1 point is 9 shapes, and whether that is signal
    depends on how many shapes the two get right differently.

    Args:
        correct_a, correct_b (array-like or str): (n,) per-shape correctness of a and b, same order: bools,
            0 / 1, or a string of '0' / '1' (as tools store it in JSON).
    Returns:
        dict: ``only_a`` / ``only_b`` = shapes only a / only b gets right, ``p_value`` (1.0 when they never
        disagree) and ``n`` = shapes.
    """
    from scipy.stats import binomtest

    a, b = (np.asarray([c == '1' for c in x] if isinstance(x, str) else x).astype(bool).reshape(-1)
            for x in (correct_a, correct_b))
    if a.shape != b.shape or not len(a):
        raise ValueError(f'mcnemar_test: {len(a)} and {len(b)} shapes; the test needs the same shapes, in order')
    only_a, only_b = int((a & ~b).sum()), int((b & ~a).sum())
    p = binomtest(min(only_a, only_b), only_a + only_b, 0.5).pvalue if only_a + only_b else 1.0
    return dict(only_a=only_a, only_b=only_b, p_value=float(min(1.0, p)), n=int(len(a)))


def correct_string(correct):
    """Per-sample correctness (bools) as a '0' / '1' string: how the tools keep it in JSON for :func:`mcnemar_test`."""
    return ''.join('1' if v else '0' for v in correct)


def format_p(p_value):
    """'p = 0.382' or, below 0.001, 'p = 1.4e-11' (never a bare 0.000)."""
    return f'p = {p_value:.3f}' if p_value >= 1e-3 else f'p = {p_value:.1e}'


@METRICS.register_module()
class Accuracy(BaseMetric):
    """Overall (``accuracy/overall``) and mean class (``accuracy/mean_class``) accuracy in %.

    Reads ``pred_label`` and ``gt_label`` from each prediction dict of ``PointClassifier.predict``.
    Use ``save_best='accuracy/overall'`` in the CheckpointHook (greater is better).

    After each evaluation, ``last_correct`` holds which samples were right, a '0' / '1' string in dataset order
    (on the rank that computes the metrics), for a paired test of two models on the same samples
    (:func:`mcnemar_test`; ``TestBestAndLastHook`` saves it). It is not logged.
    """

    default_prefix = 'accuracy'
    last_correct = None

    def process(self, data_batch, data_samples):
        for sample in data_samples:
            if 'gt_label' not in sample:
                raise ValueError('Accuracy: a prediction has no gt_label (the dataset must provide labels)')
            self.results.append((int(sample['pred_label']), int(sample['gt_label'])))

    def compute_metrics(self, results):
        pred, gt = zip(*results)
        self.last_correct = correct_string(p == g for p, g in results)
        num_classes = len(self.dataset_meta['classes']) if self.dataset_meta and 'classes' in self.dataset_meta \
            else None
        return classification_accuracy(pred, gt, num_classes)
