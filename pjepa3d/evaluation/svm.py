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
    for start in tqdm(range(0, len(dataset), batch_size), desc=desc, leave=False, mininterval=5):
        batch = default_collate([dataset[i] for i in range(start, min(start + batch_size, len(dataset)))])
        feats.append(backbone.extract_feat(batch['inputs']['points'].to(device)).float().cpu())
        labels.append(batch['data_samples']['label'].reshape(-1))
    return torch.cat(feats).numpy(), torch.cat(labels).numpy()


def standardize_features(train_x, *others):
    """Standardise features with a ``StandardScaler`` fitted on ``train_x`` alone (zero mean, unit variance per
    dimension; constant dimensions are left unscaled) and applied to ``train_x`` and every array in ``others``.

    Returns:
        tuple: the transformed ``train_x`` and ``others``, float64 numpy arrays.
    """
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(train_x)
    return tuple(scaler.transform(x) for x in (train_x, *others))


def _linear_svc(C, seed=0, standardize=False):
    """sklearn's linear-kernel SVC, behind a StandardScaler in one Pipeline when ``standardize``: fitting the
    pipeline fits the scaler on the data the SVC is fitted on, and nothing else (no leak across CV folds)."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    svc = SVC(kernel='linear', C=C, random_state=seed)
    return make_pipeline(StandardScaler(), svc) if standardize else svc


def linear_svm_scores(train_x, train_y, test_x, test_y, C=0.012, seed=0, standardize=False, return_correct=False):
    """Overall and mean-class accuracy (%) of sklearn's linear-kernel SVC trained on (train_x, train_y).

    Args:
        standardize (bool): standardise the features first, with the mean / std of ``train_x`` only
            (:func:`standardize_features`).
        return_correct (bool): also return ``correct``, the (n,) bool array pred == test_y (for a paired test of
            two encoders on the same shapes: :func:`~pjepa3d.evaluation.mcnemar_test`).
    Returns:
        dict: ``overall`` = 100 * mean(pred == test_y); ``mean_class`` = 100 * mean over the classes present in
        ``test_y`` of that class's recall (:func:`~pjepa3d.evaluation.classification_accuracy`).
    """
    from .cls_accuracy import classification_accuracy

    clf = _linear_svc(C, seed=seed, standardize=standardize).fit(train_x, train_y)
    pred = clf.predict(test_x)
    scores = classification_accuracy(pred, test_y)
    if return_correct:
        scores['correct'] = np.asarray(pred).reshape(-1) == np.asarray(test_y).reshape(-1)
    return scores


def linear_svm_accuracy(train_x, train_y, test_x, test_y, C=0.012, seed=0, standardize=False):
    """Overall accuracy (%) of sklearn's linear-kernel SVC trained on (train_x, train_y) (see
    :func:`linear_svm_scores` for the mean-class accuracy as well)."""
    return linear_svm_scores(train_x, train_y, test_x, test_y, C=C, seed=seed, standardize=standardize)['overall']


SVM_C_GRID = (1e-3, 1e-2, 1e-1, 1.0, 1e1, 1e2)


def svm_cv_scores(x, y, grid=SVM_C_GRID, folds=5, seed=0, standardize=False, n_jobs=None):
    """Mean k-fold CV accuracy (fraction) of a linear SVC for every C of ``grid``, on (x, y) alone.

    With ``standardize`` the StandardScaler sits inside the CV pipeline, so each fold's scaler is fitted on
    that fold's training part only and never sees the held-out part. ``n_jobs``: processes for the
    len(grid) x folds fits (sklearn's GridSearchCV; libsvm fits one core each): the same scores, e.g. 15.7 s
    serial against 7.0 s with 2 processes for the demo encoder's 3,991 x 384 ModelNet10 features (a scratch timing
    on a 2-core AVX2 EPYC, 2026-12-06; not a command of the repo).
    """
    from sklearn.model_selection import GridSearchCV, KFold

    svc = _linear_svc(1.0, standardize=standardize)
    key = 'svc__C' if standardize else 'C'
    search = GridSearchCV(svc, {key: list(grid)}, cv=KFold(folds, shuffle=True, random_state=seed), n_jobs=n_jobs,
                          refit=False).fit(x, y)
    return [float(s) for s in search.cv_results_['mean_test_score']]


def select_svm_c(x, y, grid=SVM_C_GRID, folds=5, seed=0, standardize=False, n_jobs=None):
    """C of a linear SVC by k-fold cross-validation on the training set alone; ties go to the smaller C.

    On small training sets (e.g. 127 shapes over 39 classes) the published C=0.012 underfits
    unscaled features: SVC then predicts two or three classes for everything. ``standardize``: the
    features are standardised inside every fold (see :func:`svm_cv_scores`, also for ``n_jobs``).
    """
    scores = svm_cv_scores(x, y, grid=grid, folds=folds, seed=seed, standardize=standardize, n_jobs=n_jobs)
    return grid[int(np.argmax(scores))]  # argmax takes the first (smallest C) of equal scores


def loo_1nn_accuracy(x, y):
    """Leave-one-out 1-NN accuracy (%) with cosine similarity; x (n, F), y (n,)."""
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    sim = x @ x.T
    np.fill_diagonal(sim, -np.inf)
    return float(np.mean(y[sim.argmax(axis=1)] == y) * 100.0)


def save_features(path, entries):
    """Write frozen features to the ``.npz`` file ``path`` (atomically: a temporary file, then a rename).

    Args:
        entries (list[tuple[dict, dict]]): per encoder, ``(info, {split: (x (n, F), y (n,))})``; ``info`` is
            JSON-serialisable (what :func:`load_features` matches on, e.g. ``kind``, ``prefix``, ``init_seed``;
            ``svm_eval.py`` also stores the dataset's ``classes`` there).

    The file holds ``<i>_<split>`` and ``<i>_<split>_labels`` for entry i, and ``meta``: a JSON string with
    the entries' ``info`` (plus ``index`` and ``splits``). ``svm_eval.py --save-features``
    writes it; ``visualize_tsne.py --features`` reads it.
    """
    import io
    import json

    from pjepa3d.engine.atomic_backend import AtomicLocalBackend  # here: pjepa3d.engine imports this package

    arrays, meta = {}, []
    for i, (info, splits) in enumerate(entries):
        for split, (x, y) in splits.items():
            arrays[f'{i}_{split}'], arrays[f'{i}_{split}_labels'] = np.asarray(x), np.asarray(y)
        meta.append(dict(info, index=i, splits=sorted(splits)))
    buf = io.BytesIO()
    np.savez(buf, meta=np.array(json.dumps(dict(entries=meta))), **arrays)
    AtomicLocalBackend().put(buf.getvalue(), str(path))


def load_features(path, split, **match):
    """The entry of a :func:`save_features` file whose ``info`` has every item of ``match`` and holds ``split``.

    Returns:
        tuple: features (n, F), labels (n,) and the entry's ``info``.

    Raises:
        ValueError: no such entry, or more than one (the message names the file and lists its entries).
    """
    import json

    with np.load(path) as data:
        meta = json.loads(str(data['meta']))
        found = [e for e in meta['entries'] if split in e['splits'] and all(e.get(k) == v for k, v in match.items())]
        if len(found) != 1:
            held = '; '.join(', '.join(f'{k}={v!r}' for k, v in e.items() if k not in ('index', 'classes'))
                             for e in meta['entries'])
            want = ', '.join(f'{k}={v!r}' for k, v in dict(match, split=split).items())
            raise ValueError(f'{path}: {"no" if not found else len(found)} feature entries with {want}; it holds: '
                             f'{held or "nothing"}')
        i = found[0]['index']
        return data[f'{i}_{split}'], data[f'{i}_{split}_labels'], found[0]
