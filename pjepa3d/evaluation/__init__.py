from .svm import SVM_C_GRID, extract_features, linear_svm_accuracy, loo_1nn_accuracy, select_svm_c

__all__ = ['SVM_C_GRID', 'extract_features', 'linear_svm_accuracy', 'loo_1nn_accuracy', 'select_svm_c']
from .part_miou import PartMIoU, shape_part_iou

__all__ += ['PartMIoU', 'shape_part_iou']
from .cls_accuracy import Accuracy, classification_accuracy, correct_string, format_p, mcnemar_test

__all__ += ['Accuracy', 'classification_accuracy', 'correct_string', 'format_p', 'mcnemar_test']
from .probe_metric import ProbeWarning, SVMProbeMetric, svm_probe_accuracy

__all__ += ['ProbeWarning', 'SVMProbeMetric', 'svm_probe_accuracy']
