from .svm import extract_features, linear_svm_accuracy

__all__ = ['extract_features', 'linear_svm_accuracy']
