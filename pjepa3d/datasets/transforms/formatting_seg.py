"""Pack a part-segmentation sample: points plus one part label per point and the shape's category."""
import numpy as np
import torch

from pjepa3d.registry import TRANSFORMS
from pjepa3d.utils.checks import PointCloudError


@TRANSFORMS.register_module()
class PackPartSegInputs:
    """Last transform of a part-segmentation pipeline.

    Returns ``dict(inputs=dict(points=FloatTensor (N, C)), data_samples=dict(pts_semantic_mask=LongTensor (N,),
    category=LongTensor (), label=LongTensor () (= category), sample_idx=int, **meta))``; ``default_collate``
    stacks a batch into (B, N, C), (B, N) and (B,) (put a ``PointSample`` before this so N is fixed).

    Args:
        meta_keys (tuple[str]): extra keys of ``results`` copied into ``data_samples`` when present.
    """

    def __init__(self, meta_keys=()):
        self.meta_keys = tuple(meta_keys)

    def __call__(self, results):
        where = f"{results.get('file', 'input')} (sample {results.get('sample_idx')})"
        if 'pts_semantic_mask' not in results:
            raise KeyError(f'PackPartSegInputs: no pts_semantic_mask (per-point part labels) for {where}')
        points = np.ascontiguousarray(results['points'], dtype=np.float32)
        mask = np.asarray(results['pts_semantic_mask'], dtype=np.int64)
        if mask.shape != (len(points),):
            raise PointCloudError(f'PackPartSegInputs: {len(points)} points but pts_semantic_mask has shape '
                                  f'{mask.shape} for {where}')
        category = torch.tensor(int(results.get('category', results.get('label', -1))), dtype=torch.long)
        data_samples = dict(pts_semantic_mask=torch.from_numpy(mask), category=category, label=category.clone(),
                            sample_idx=int(results.get('sample_idx', -1)))
        data_samples.update({k: results[k] for k in self.meta_keys if k in results})
        return dict(inputs=dict(points=torch.from_numpy(points)), data_samples=data_samples)

    def __repr__(self):
        return f'{type(self).__name__}(meta_keys={self.meta_keys})'
