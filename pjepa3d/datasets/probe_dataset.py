"""A labelled 'fit' set and a 'score' set in one dataset, for a linear probe run as a validation loop."""
import copy

from mmengine.dataset import BaseDataset
from mmengine.registry import DefaultScope

from pjepa3d.registry import DATASETS

#: ``data_samples['probe_split']`` values.
PROBE_FIT, PROBE_SCORE = 0, 1


def _build(cfg, what):
    if isinstance(cfg, dict):
        with DefaultScope.overwrite_default_scope('pjepa3d'):
            dataset = DATASETS.build(copy.deepcopy(cfg))
    else:
        dataset = cfg
    if not hasattr(dataset, '__getitem__') or not hasattr(dataset, '__len__'):
        raise TypeError(f'ProbeDataset: {what} must be a dataset or a dataset config, got {type(dataset).__name__}')
    return dataset


@DATASETS.register_module()
class ProbeDataset:
    """``fit`` samples (indices ``0 .. len(fit) - 1``) followed by ``score`` samples, each packed sample's
    ``data_samples`` tagged with ``probe_split``: 0 (fit) or 1 (score).

    ``SVMProbeMetric`` fits its classifier on the fit part and scores it on the score part, so a whole
    probe is one pass of mmengine's ``ValLoop`` over this dataset. Both datasets must give labelled,
    packed samples (a pipeline ending in ``PackPointInputs``) with the same class list.

    Args:
        fit (dict | Dataset): the labelled set the probe is fitted on (e.g. a label fraction of train).
        score (dict | Dataset): the set it is scored on (e.g. a validation carve of train; never test
            when the probe selects checkpoints).
    """

    def __init__(self, fit, score, lazy_init=False):
        self.fit = _build(fit, 'fit')
        self.score = _build(score, 'score')
        self._fully_initialized = False
        if not lazy_init:
            self.full_init()

    def full_init(self):
        if self._fully_initialized:
            return
        for part in (self.fit, self.score):
            if isinstance(part, BaseDataset) or hasattr(part, 'full_init'):
                part.full_init()
        fit_classes = self._classes(self.fit)
        score_classes = self._classes(self.score)
        if fit_classes is not None and score_classes is not None and tuple(fit_classes) != tuple(score_classes):
            raise ValueError(f'ProbeDataset: the fit and score sets have different classes: {tuple(fit_classes)} '
                             f'vs {tuple(score_classes)}')
        self._fully_initialized = True

    @staticmethod
    def _classes(dataset):
        return (getattr(dataset, 'metainfo', None) or {}).get('classes')

    @property
    def metainfo(self):
        meta = copy.deepcopy(dict(getattr(self.fit, 'metainfo', None) or {}))
        meta.update(probe_fit_size=len(self.fit), probe_score_size=len(self.score))
        return meta

    @property
    def num_fit(self):
        return len(self.fit)

    def __len__(self):
        return len(self.fit) + len(self.score)

    def __getitem__(self, idx):
        n = len(self)
        if not -n <= idx < n:
            raise IndexError(f'ProbeDataset: index {idx} out of range for {n} samples')
        idx = idx % n
        split = PROBE_FIT if idx < len(self.fit) else PROBE_SCORE
        sample = self.fit[idx] if split == PROBE_FIT else self.score[idx - len(self.fit)]
        if not isinstance(sample, dict) or not isinstance(sample.get('data_samples'), dict):
            raise TypeError(f"ProbeDataset: the {'fit' if split == PROBE_FIT else 'score'} dataset must give "
                            f"packed samples (dict with a 'data_samples' dict: end its pipeline with "
                            f"PackPointInputs), got {type(sample).__name__}"
                            + (f' with keys {sorted(sample)}' if isinstance(sample, dict) else ''))
        sample['data_samples']['probe_split'] = split
        return sample

    def __repr__(self):
        return (f'{type(self).__name__}(fit={type(self.fit).__name__} x {len(self.fit)}, '
                f'score={type(self.score).__name__} x {len(self.score)})')
