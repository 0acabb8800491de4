"""PartMIoU against hand-computed values (community convention: a part absent from both prediction and
ground truth counts as IoU 1; class mIoU averages categories, instance mIoU averages shapes)."""
import pytest
import torch

from pjepa3d.evaluation import PartMIoU, shape_part_iou
from pjepa3d.registry import METRICS

CAP, AIRPLANE = 2, 0

# (category, ground truth, prediction) and each shape's IoU worked out by hand
SHAPES = [
    # Cap parts 6, 7: IoU6 = |{0,1}| / |{0,1,2}| = 2/3, IoU7 = |{3}| / |{2,3}| = 1/2 -> 7/12
    (CAP, [6, 6, 6, 7], [6, 6, 7, 7], 7 / 12),
    # Cap, part 7 absent in both: IoU6 = 1, IoU7 = 1 (absent in both) -> 1
    (CAP, [6, 6, 6, 6], [6, 6, 6, 6], 1.0),
    # Airplane parts 0-3: IoU0 = 2/6, IoU1 = 0, IoU2 = 0, IoU3 = 1 (absent in both) -> (1/3 + 1) / 4 = 1/3
    (AIRPLANE, [0, 0, 1, 1, 2, 2], [0, 0, 0, 0, 0, 0], 1 / 3),
]


def test_shape_iou_by_hand():
    for cat, gt, pred, expected in SHAPES:
        parts = (6, 7) if cat == CAP else (0, 1, 2, 3)
        assert shape_part_iou(pred, gt, parts) == pytest.approx(expected, abs=1e-12)
    # without the 'absent in both = 1' rule the second Cap would score 1/2, not 1
    assert shape_part_iou([6, 6], [6, 6], (6, 7)) == 1.0
    # a part predicted but absent from the ground truth scores 0 for that part
    assert shape_part_iou([7, 6], [6, 6], (6, 7)) == pytest.approx((1 / 2 + 0) / 2)


def test_class_and_instance_miou_by_hand():
    metric = METRICS.build(dict(type='PartMIoU'))
    preds = [dict(pred_pts_seg=torch.tensor(pred), pts_semantic_mask=torch.tensor(gt), category=torch.tensor(cat),
                  sample_idx=i) for i, (cat, gt, pred, _) in enumerate(SHAPES)]
    metric.process({}, preds[:2])
    metric.process({}, preds[2:])
    out = metric.evaluate(size=3)
    instance = (7 / 12 + 1 + 1 / 3) / 3  # mean over shapes = 23/36
    cap = (7 / 12 + 1) / 2  # 19/24
    klass = (cap + 1 / 3) / 2  # mean over categories = 27/48
    assert out['partseg/instance_mIoU'] == pytest.approx(100 * instance)
    assert out['partseg/class_mIoU'] == pytest.approx(100 * klass)
    assert out['partseg/instance_mIoU'] != pytest.approx(out['partseg/class_mIoU'])  # 63.9 vs 56.25
    assert out['partseg/Cap_mIoU'] == pytest.approx(100 * cap)
    assert out['partseg/Airplane_mIoU'] == pytest.approx(100 / 3)
    assert out['partseg/num_shapes'] == 3
    assert 'partseg/Chair_mIoU' not in out  # categories without shapes are not averaged in


def test_class_miou_weights_categories_equally():
    """Ten perfect Caps and one bad Airplane: instance mIoU is near 100, class mIoU near the middle."""
    metric = PartMIoU(per_category=False)
    metric.process({}, [dict(pred_pts_seg=[6, 7], pts_semantic_mask=[6, 7], category=CAP)] * 10)
    metric.process({}, [dict(pred_pts_seg=[0, 0, 0, 0], pts_semantic_mask=[0, 1, 2, 3], category=AIRPLANE)])
    out = metric.compute_metrics(metric.results)
    airplane = (1 / 4) / 4
    assert out['instance_mIoU'] == pytest.approx(100 * (10 + airplane) / 11)
    assert out['class_mIoU'] == pytest.approx(100 * (1 + airplane) / 2)
    assert 'Cap_mIoU' not in out


def test_bad_predictions_fail_clearly():
    metric = PartMIoU()
    with pytest.raises(KeyError, match="sample 5 has no 'category'"):
        metric.process({}, [dict(pred_pts_seg=[6], pts_semantic_mask=[6], sample_idx=5)])
    with pytest.raises(ValueError, match='category 16 of sample 1 outside 0..15'):
        metric.process({}, [dict(pred_pts_seg=[6], pts_semantic_mask=[6], category=16, sample_idx=1)])
    with pytest.raises(ValueError, match='prediction has 2 points, ground truth 3'):
        shape_part_iou([6, 6], [6, 6, 7], (6, 7))
    with pytest.raises(ValueError, match='no predictions'):
        metric.compute_metrics([])
