"""Helpers for the dataset tests: tiny layouts in tmp_path (the real-subset fixture is in tests/conftest.py)."""
import numpy as np


def write_resampled(root, shapes, names=('airplane', 'chair'), splits=None):
    """Write a resampled-layout ModelNet40 under ``root/modelnet40_normal_resampled``.

    ``shapes`` maps a shape id (e.g. 'chair_0001') to its file text or an (N, 6) array;
    ``splits`` maps 'train'/'test' to shape ids (default: all shapes in both).
    """
    folder = root / 'modelnet40_normal_resampled'
    folder.mkdir(parents=True)
    (folder / 'modelnet40_shape_names.txt').write_text('\n'.join(names) + '\n')
    for shape_id, content in shapes.items():
        cls = shape_id.rsplit('_', 1)[0]
        (folder / cls).mkdir(exist_ok=True)
        if not isinstance(content, str):
            content = '\n'.join(','.join(f'{v:.6f}' for v in row) for row in np.asarray(content)) + '\n'
        (folder / cls / f'{shape_id}.txt').write_text(content)
    splits = splits or {'train': list(shapes), 'test': list(shapes)}
    for split, ids in splits.items():
        (folder / f'modelnet40_{split}.txt').write_text('\n'.join(ids) + '\n')
    return folder


def random_rows(n, rng=None, cols=6):
    rng = rng or np.random.default_rng(0)
    rows = rng.normal(size=(n, cols))
    if cols >= 6:
        rows[:, 3:6] /= np.linalg.norm(rows[:, 3:6], axis=1, keepdims=True)
    return rows
