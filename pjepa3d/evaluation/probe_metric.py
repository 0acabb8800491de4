"""Representation quality during pretraining: a linear-SVM probe and the centred effective rank, as a metric
of mmengine's validation loop over a ``ProbeDataset``."""
import math
import numbers
import warnings

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from pjepa3d.models.utils import centred_effective_rank
from pjepa3d.registry import METRICS
from .svm import select_svm_c


class ProbeWarning(UserWarning):
    """Issued by :class:`SVMProbeMetric` when its numbers are unreliable (too few clouds, non-finite features)."""


def metric_suffix(feat_key):
    """``'feat'`` -> ``''``, ``'feat_target'`` -> ``'_target'``."""
    return feat_key[len('feat'):]


def svm_probe_accuracy(fit_x, fit_y, score_x, score_y, C=0.01, standardize=True):
    """Overall accuracy (%) on the score part of a linear-kernel SVC fitted on the fit part.

    With ``standardize`` every feature is scaled to zero mean and unit variance with the statistics of
    the fit part alone (the score part never informs the classifier).
    """
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    if standardize:
        scaler = StandardScaler().fit(fit_x)
        fit_x, score_x = scaler.transform(fit_x), scaler.transform(score_x)
    clf = SVC(kernel='linear', C=C)
    clf.fit(fit_x, fit_y)
    return float(np.mean(clf.predict(score_x) == score_y) * 100.0)


def c_grid(C):
    """``C`` (a number or a sequence of them) as a tuple of floats > 0; ValueError otherwise."""
    grid = tuple(C) if isinstance(C, (list, tuple)) else (C,)
    if not grid or not all(isinstance(c, numbers.Real) and not isinstance(c, bool) and c > 0 for c in grid):
        raise ValueError(f'C must be a number > 0 or a non-empty sequence of them, got {C}')
    return tuple(float(c) for c in grid)


def svm_probe(fit_x, fit_y, score_x, score_y, grid, cv_folds=5, standardize=True):
    """(accuracy %, C) of :func:`svm_probe_accuracy`, with C the single value of ``grid`` or, for a longer grid,
    the one chosen by ``cv_folds``-fold cross-validation on the fit part alone."""
    C = grid[0] if len(grid) == 1 else select_svm_c(fit_x, fit_y, grid=grid, folds=cv_folds, standardize=standardize)
    return svm_probe_accuracy(fit_x, fit_y, score_x, score_y, C=C, standardize=standardize), C


@METRICS.register_module()
class SVMProbeMetric(BaseMetric):
    """Linear-SVM probe of frozen features plus their centred effective rank, over a ``ProbeDataset``.

    ``process()`` keeps, for every prediction, each feature the model returns (``feat``, and
    ``feat_target`` for ``PointJEPA``; or the keys in ``feat_keys``), ``gt_label`` and ``probe_split``
    (0 fit / 1 score). ``compute_metrics()`` then, for each feature key ``feat<suffix>``:

    * ``svm_acc<suffix>``: overall accuracy (%) on the score part of sklearn's ``SVC(kernel='linear', C)``
      fitted on the fit part (``StandardScaler`` fitted on the fit part only, when ``standardize``);
    * ``svm_c<suffix>`` (when ``C`` is a grid): the C chosen for it by ``cv_folds``-fold cross-validation on
      the fit part alone, as ``tools/analysis_tools/svm_eval.py`` chooses C on the train split;
    * ``feat_rank<suffix>``: the centred effective rank (RankMe of the features minus their mean) of
      the score-part features.

    So ``PointJEPA`` gives ``svm_acc``, ``svm_acc_target``, ``feat_rank`` and ``feat_rank_target``.
    ``CheckpointHook(save_best='svm_acc', rule='greater')`` and ``CollapseMonitorHook(key='feat_rank',
    source='val')`` read them. Non-finite features give NaN with a :class:`ProbeWarning`.

    Args:
        C (float | sequence[float]): SVC regularisation, or a grid to choose it from per probe and feature key.
            A fixed C misjudges features whose scale or spread changes during training: at the end of a
            30-minute Point-JEPA run on ModelNet10 the probe with C=0.01 read 77.9 % on the validation carve,
            while the benchmark SVM, whose cross-validation chose C=0.1, scored 89.8 % on test (see
            docs/research_log.md). Choosing C costs ``cv_folds`` x len(grid) extra SVM fits on the fit part.
        cv_folds (int): folds of that cross-validation.
        standardize (bool): standardise the features with the fit part's statistics.
        rank_min_samples (int): warn when the score part has fewer clouds (the effective rank is at
            most the number of clouds minus one, so a small score part under-reports it).
        feat_keys (sequence[str], optional): the feature keys to probe (default: every key of the
            predictions that is ``'feat'`` or starts with ``'feat_'``).
    """

    default_prefix = ''  # metric names as they are ('svm_acc' for save_best), without mmengine's no-prefix warning

    def __init__(self, C=0.01, standardize=True, rank_min_samples=256, feat_keys=None, cv_folds=5,
                 collect_device='cpu', prefix=None, collect_dir=None):
        super().__init__(collect_device=collect_device, prefix=prefix, collect_dir=collect_dir)
        try:
            self.C_grid = c_grid(C)
        except ValueError as err:
            raise ValueError(f'SVMProbeMetric: {err}') from None
        if int(cv_folds) < 2:
            raise ValueError(f'SVMProbeMetric: cv_folds must be >= 2, got {cv_folds}')
        self.cv_folds = int(cv_folds)
        self.standardize = bool(standardize)
        self.rank_min_samples = int(rank_min_samples)
        self.feat_keys = None if feat_keys is None else tuple(feat_keys)
        if self.feat_keys is not None and not all(k == 'feat' or k.startswith('feat_') for k in self.feat_keys):
            raise ValueError(f"SVMProbeMetric: feature keys must be 'feat' or start with 'feat_', got {self.feat_keys}")

    def _keys_of(self, sample):
        if self.feat_keys is not None:
            missing = [k for k in self.feat_keys if k not in sample]
            if missing:
                raise KeyError(f'SVMProbeMetric: the predictions have no {missing} (keys: {sorted(sample)})')
            return self.feat_keys
        return tuple(k for k in sample if k == 'feat' or k.startswith('feat_'))

    def process(self, data_batch, data_samples):
        for sample in data_samples:
            for key in ('gt_label', 'probe_split'):
                if key not in sample:
                    raise KeyError(f'SVMProbeMetric: a prediction has no {key!r} (keys: {sorted(sample)}); '
                                   'validate on a ProbeDataset of labelled sets with a model whose predict '
                                   'passes them through')
            keys = self._keys_of(sample)
            if not keys:
                raise KeyError(f"SVMProbeMetric: a prediction has no feature ('feat...') key (keys: {sorted(sample)})")
            self.results.append(dict(
                feats={k: torch.as_tensor(sample[k]).detach().float().cpu().numpy().reshape(-1) for k in keys},
                label=int(sample['gt_label']), split=int(sample['probe_split'])))

    def compute_metrics(self, results):
        split = np.array([r['split'] for r in results], dtype=np.int64)
        labels = np.array([r['label'] for r in results], dtype=np.int64)
        fit, score = split == 0, split == 1
        n_fit, n_score = int(fit.sum()), int(score.sum())
        if not n_fit or not n_score:
            raise ValueError(f'SVMProbeMetric: the probe needs both parts, got {n_fit} fit and {n_score} score '
                             f'clouds (probe_split 0 / 1); validate on a ProbeDataset(fit=..., score=...) with '
                             f'two non-empty sets')
        if (labels < 0).any():
            raise ValueError(f'SVMProbeMetric: {int((labels < 0).sum())} clouds have no label (-1); the probe sets '
                             'must be labelled')
        if len(np.unique(labels[fit])) < 2:
            raise ValueError(f'SVMProbeMetric: the fit part holds a single class ({np.unique(labels[fit])}); an SVM '
                             'needs at least two')
        if n_score < self.rank_min_samples:
            self._warn(f'SVMProbeMetric: the score part has {n_score} clouds (< rank_min_samples = '
                       f'{self.rank_min_samples}): the effective rank is at most {n_score - 1} and under-reports the '
                       f'features\' rank; use a larger score set for a meaningful feat_rank')
        keys = [k for k in results[0]['feats'] if all(k in r['feats'] for r in results)]
        metrics = {}
        for key in keys:
            x = np.stack([r['feats'][key] for r in results]).astype(np.float64)
            suffix = metric_suffix(key)
            if not np.isfinite(x).all():
                self._warn(f'SVMProbeMetric: {int((~np.isfinite(x)).any(1).sum())} clouds have non-finite {key!r} '
                           f'features (diverged?); svm_acc{suffix} and feat_rank{suffix} are NaN')
                metrics[f'svm_acc{suffix}'] = math.nan
                metrics[f'feat_rank{suffix}'] = math.nan
                continue
            acc, C = svm_probe(x[fit], labels[fit], x[score], labels[score], self.C_grid, self.cv_folds,
                               self.standardize)
            if len(self.C_grid) > 1:
                metrics[f'svm_c{suffix}'] = C
            metrics[f'svm_acc{suffix}'] = acc
            metrics[f'feat_rank{suffix}'] = float(centred_effective_rank(torch.from_numpy(x[score])))
        return metrics

    @staticmethod
    def _warn(msg):
        print_log(msg, logger='current', level=30)
        warnings.warn(msg, ProbeWarning, stacklevel=3)
