"""Frozen-feature evaluation: global features of a backbone + a linear SVM (SPEC sec. 2)."""
import numpy as np
import torch
from mmengine.dataset import default_collate
from tqdm import tqdm


@torch.no_grad()
def extract_features(backbone, dataset, batch_size=32, device='cpu', desc='features'):
    """Run ``backbone.extract_feat`` (eval mode) over a dataset of packed samples.

    Returns:
        tuple: features (n, F) float32 and labels (n,) int64, as numpy arrays.
    """
    backbone.eval()
    feats, labels = [], []
    for start in tqdm(range(0, len(dataset), batch_size), desc=desc, leave=False):
        batch = default_collate([dataset[i] for i in range(start, min(start + batch_size, len(dataset)))])
        feats.append(backbone.extract_feat(batch['inputs']['points'].to(device)).float().cpu())
        labels.append(batch['data_samples']['label'].reshape(-1))
    return torch.cat(feats).numpy(), torch.cat(labels).numpy()


def linear_svm_accuracy(train_x, train_y, test_x, test_y, C=0.012, seed=0):
    """Overall accuracy (%) of sklearn's linear-kernel SVC trained on (train_x, train_y)."""
    from sklearn.svm import SVC

    clf = SVC(kernel='linear', C=C, random_state=seed)
    clf.fit(train_x, train_y)
    return float(np.mean(clf.predict(test_x) == test_y) * 100.0)
