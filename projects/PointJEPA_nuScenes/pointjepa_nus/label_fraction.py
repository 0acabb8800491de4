"""Seeded label-fraction subsets of a training info list (the 5 / 20 / 100 % fine-tuning runs)."""
import json
import os.path as osp

import numpy as np


def fraction_indices(num_samples, fraction, seed=0):
    """Sorted indices of round(``fraction`` * ``num_samples``) infos (at least 1), drawn without replacement.

    The same (num_samples, fraction, seed) always gives the same list, on every rank and machine
    (numpy's PCG64 ``default_rng(seed)``), and for one seed a smaller fraction is a subset of a larger
    one (both are prefixes of the same permutation), so 5 % of the labels is inside the 20 % run's.
    """
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f'label fraction must be in (0, 1], got {fraction}')
    if num_samples < 1:
        raise ValueError(f'cannot take a label fraction of {num_samples} samples')
    count = max(1, int(round(fraction * num_samples)))
    perm = np.random.default_rng(seed).permutation(num_samples)
    return np.sort(perm[:count]).tolist()


def save_index_list(path, indices, **meta):
    """Write ``{"indices": [...], **meta}`` as JSON (the record of which infos a run used)."""
    if osp.dirname(path):
        import os
        os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(dict(meta, num_selected=len(indices), indices=list(map(int, indices))), f)


def load_index_list(path, num_samples=None):
    """Read an index list written by :func:`save_index_list` (or a bare JSON list) and check its range."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'label-fraction index file not found: {path}')
    with open(path) as f:
        data = json.load(f)
    indices = data['indices'] if isinstance(data, dict) else data
    if not isinstance(indices, list) or not indices or not all(isinstance(i, int) for i in indices):
        raise ValueError(f'{path}: expected a non-empty JSON list of integer indices (or {{"indices": [...]}})')
    if num_samples is not None and (min(indices) < 0 or max(indices) >= num_samples):
        raise ValueError(f'{path}: indices must lie in [0, {num_samples}) for this infos file, got '
                         f'{min(indices)}..{max(indices)}')
    return sorted(set(indices))
