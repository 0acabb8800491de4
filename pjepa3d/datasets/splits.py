"""Seeded, stratified index lists: a validation split carved from train, and label-fraction subsets.

Both are plain lists of positions into a dataset's *source* list (e.g. the official ModelNet40
train list, in file order). They can be written to / read from a small JSON file, so that a run
can be repeated on exactly the same shapes::

    {"kind": "val", "seed": 0, "ratio": 0.1, "num_source": 9843, "indices": [...], "ids": [...]}

``ids`` (optional) name the samples (e.g. ``airplane_0001``); when present, reading checks them
against the dataset so an index file made for another list fails loudly.
"""
import json
from pathlib import Path

import numpy as np


def _by_class(labels):
    labels = np.asarray(labels).reshape(-1)
    return {int(c): np.flatnonzero(labels == c) for c in np.unique(labels)}


def carve_val_split(labels, val_ratio, seed=0):
    """Split positions ``0..n-1`` into (train, val), stratified by ``labels``.

    Exactly ``round(val_ratio * n)`` positions go to val, shared out over the classes by largest
    remainder (ties broken by the seeded generator); a class never gives away all its samples.

    Args:
        labels (array-like): (n,) integer class labels.
        val_ratio (float): fraction in (0, 1).
        seed (int): seed of the per-class shuffles.
    Returns:
        tuple[np.ndarray, np.ndarray]: sorted train and val positions (disjoint, union = all).
    """
    if not 0.0 < float(val_ratio) < 1.0:
        raise ValueError(f'val_ratio must be in (0, 1), got {val_ratio}')
    rng = np.random.RandomState(seed)
    groups = _by_class(labels)
    n = sum(len(g) for g in groups.values())
    target = int(round(val_ratio * n))
    exact = {c: val_ratio * len(g) for c, g in groups.items()}
    take = {c: min(int(np.floor(e)), len(groups[c]) - 1) for c, e in exact.items()}
    # hand out the remaining val slots by largest fractional part (random tie-break), keeping >= 1 in train
    order = sorted(groups, key=lambda c: (-(exact[c] - take[c]), rng.rand()))
    left = target - sum(take.values())
    while left > 0:
        progressed = False
        for c in order:
            if left > 0 and take[c] < len(groups[c]) - 1:
                take[c] += 1
                left -= 1
                progressed = True
        if not progressed:
            break
    val = []
    for c in sorted(groups):
        val.extend(rng.permutation(groups[c])[:take[c]].tolist())
    val = np.sort(np.asarray(val, dtype=np.int64))
    if target > 0 and not len(val):
        raise ValueError(f'carve_val_split: no validation sample can be taken ({n} samples, no class with 2 or more; '
                         'every class keeps one training sample)')
    train = np.setdiff1d(np.arange(n), val)
    return train, val


def label_fraction_indices(labels, fraction, seed=0):
    """Seeded, stratified subset of positions keeping ``fraction`` of each class (at least one).

    Args:
        labels (array-like): (n,) integer class labels.
        fraction (float): in (0, 1], e.g. 0.01 / 0.05 / 0.1.
    Returns:
        np.ndarray: sorted positions.
    """
    if not 0.0 < float(fraction) <= 1.0:
        raise ValueError(f'label fraction must be in (0, 1], got {fraction}')
    rng = np.random.RandomState(seed)
    keep = []
    for c, group in sorted(_by_class(labels).items()):
        k = max(1, int(round(fraction * len(group))))
        keep.extend(rng.permutation(group)[:k].tolist())
    return np.sort(np.asarray(keep, dtype=np.int64))


def fraction_of(num_samples, fraction, seed=0):
    """:func:`label_fraction_indices` over ``num_samples`` samples without class labels (e.g. detection
    scans): one stratum, so for one seed a smaller fraction is a subset of a larger one."""
    if int(num_samples) < 1:
        raise ValueError(f'cannot take a label fraction of {num_samples} samples')
    return label_fraction_indices(np.zeros(int(num_samples), dtype=np.int64), fraction, seed)


def save_index_file(path, indices, ids=None, **meta):
    """Write an index list (and optional sample ids, any metadata) as JSON; return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = dict(meta, num_indices=len(indices), indices=[int(i) for i in indices])
    if ids is not None:
        record['ids'] = [str(i) for i in ids]
    path.write_text(json.dumps(record, indent=1))
    return path


def load_index_file(path, num_source=None, ids=None):
    """Read an index list written by :func:`save_index_file`.

    Args:
        path (str): the JSON file.
        num_source (int, optional): length of the list the indices point into (range check).
        ids (list[str], optional): the source list's sample ids; checked against the file's ``ids``.
    Returns:
        np.ndarray: the indices (int64), in file order.
    Raises:
        FileNotFoundError / ValueError naming the file and the problem.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'index file not found: {path}')
    try:
        record = json.loads(path.read_text())
        indices = np.asarray(record['indices'], dtype=np.int64)
    except (ValueError, KeyError, TypeError) as err:
        raise ValueError(f'{path}: not an index file (expected JSON with an "indices" list): {err}') from None
    if num_source is not None and len(indices) and (indices.min() < 0 or indices.max() >= num_source):
        raise ValueError(f'{path}: index {int(indices.max())} out of range for a source list of {num_source} '
                         f'samples (was the file made for another dataset or split?)')
    if len(np.unique(indices)) != len(indices):
        raise ValueError(f'{path}: repeated indices')
    if ids is not None and 'ids' in record:
        expected = [str(ids[i]) for i in indices]
        bad = [(i, a, b) for i, a, b in zip(indices, record['ids'], expected) if a != b]
        if bad or len(record['ids']) != len(expected):
            i, a, b = bad[0] if bad else (None, None, None)
            raise ValueError(f'{path}: sample ids do not match the dataset (index {i}: file says {a!r}, dataset '
                             f'has {b!r}); the file was made for another list')
    return indices


class SplitSelectionMixin:
    """The 'train' / 'val' / 'test' selection shared by the classification datasets.

    The dataset sets ``split``, ``source_split`` ('test' for 'test', else 'train'), ``val_ratio``,
    ``split_seed``, ``label_fraction``, ``fraction_seed`` and ``index_file``, and its
    ``load_data_list`` calls :meth:`select_positions` with the labels of the official source list
    and the sample ids (``self.source_ids``). ``self.subset_indices`` then holds the chosen positions.
    """

    def set_split_args(self, name, split, val_ratio, split_seed, label_fraction, fraction_seed, index_file,
                       source='train split'):
        """Check the split arguments (ValueError for a 'val' split with no carve rule, or a label fraction
        outside 'train') and set the attributes :meth:`select_positions` reads."""
        if split == 'val' and not val_ratio and index_file is None:
            raise ValueError(f"{name}: split='val' is carved from the official {source}; set val_ratio "
                             "(e.g. 0.1) and the same val_ratio / split_seed for the 'train' split")
        if label_fraction is not None and split != 'train':
            raise ValueError(f"{name}: label_fraction applies to split='train' only, got split={split!r}")
        self.split = split
        self.source_split = 'test' if split == 'test' else 'train'
        self.val_ratio = float(val_ratio or 0.0)
        self.split_seed = int(split_seed)
        self.label_fraction = label_fraction
        self.fraction_seed = int(fraction_seed)
        self.index_file = index_file

    def select_positions(self, labels):
        """Positions in the source list that make up this split: an index file, else the seeded
        stratified val carve (``val_ratio``), then the seeded label fraction."""
        labels = np.asarray(labels, dtype=np.int64)
        if self.index_file is not None:
            return load_index_file(self.index_file, num_source=len(labels), ids=self.source_ids)
        positions = np.arange(len(labels))
        if self.split != 'test' and self.val_ratio > 0:
            train, val = carve_val_split(labels, self.val_ratio, seed=self.split_seed)
            positions = val if self.split == 'val' else train
        if self.label_fraction is not None:
            keep = label_fraction_indices(labels[positions], self.label_fraction, seed=self.fraction_seed)
            positions = positions[keep]
        return positions

    def save_indices(self, path):
        """Write this split's positions in the source list (with sample ids) to ``path`` (JSON); return it."""
        self.full_init()
        return save_index_file(path, self.subset_indices, ids=[self.source_ids[i] for i in self.subset_indices],
                               dataset=type(self).__name__, split=self.split, source_split=self.source_split,
                               num_source=len(self.source_ids), val_ratio=self.val_ratio, split_seed=self.split_seed,
                               label_fraction=self.label_fraction, fraction_seed=self.fraction_seed)
