"""Pack a sample into the tensors the model and mmengine's ``default_collate`` expect."""
import numpy as np
import torch

from pjepa3d.registry import TRANSFORMS


@TRANSFORMS.register_module()
class PackPointInputs:
    """Last transform of every pipeline.

    Returns ``dict(inputs=dict(points=FloatTensor (N, C)), data_samples=dict(label=LongTensor (),
    sample_idx=int, **meta))``; ``default_collate`` stacks a batch into ``inputs['points']`` (B, N, C)
    (all samples of a batch need the same N: put a ``PointSample`` before this).

    Args:
        meta_keys (tuple[str]): extra keys of ``results`` copied into ``data_samples`` when present.
    """

    def __init__(self, meta_keys=()):
        self.meta_keys = tuple(meta_keys)

    def __call__(self, results):
        points = torch.from_numpy(np.ascontiguousarray(results['points'], dtype=np.float32))
        data_samples = dict(label=torch.tensor(int(results.get('label', -1)), dtype=torch.long),
                            sample_idx=int(results.get('sample_idx', -1)))
        data_samples.update({k: results[k] for k in self.meta_keys if k in results})
        return dict(inputs=dict(points=points), data_samples=data_samples)

    def __repr__(self):
        return f'{type(self).__name__}(meta_keys={self.meta_keys})'
