"""SyntheticShapes: labelled procedural point clouds, no download needed."""
import numpy as np

from pjepa3d.registry import DATASETS
from .base_point_dataset import BasePointDataset
from .synthetic import ROTATIONS, SHAPE_BUILDERS, generate_shape


@DATASETS.register_module()
class SyntheticShapes(BasePointDataset):
    """Point clouds sampled on the surfaces of random procedural objects (33 classes by default:
    7 parametric solids and 26 objects assembled from parts, e.g. table, chair, lamp, mug, airplane,
    car, shelf, person, toilet; see :data:`~pjepa3d.datasets.synthetic.SHAPE_BUILDERS`).

    Sample ``i`` has label ``i % num_classes`` and is generated from a generator seeded with
    ``(split, seed + i)``: the same index always gives the same cloud, and the 'train', 'val'
    and 'test' splits use different seed streams so they never share samples.
    With ``fresh=True`` (pretraining on unlimited data) every fetch of index ``i`` draws a new instance
    of the same class: the generator is seeded with ``(split, seed + i, d)``, ``d`` drawn from numpy's
    global stream, which mmengine seeds per dataloader worker and ``RNGStateHook`` per pass, so a
    seeded run still sees the same sequence of clouds (and a resumed one continues it).
    ``results['points']`` is float32 (num_points, 3), or (num_points, 6) with unit normals when
    ``use_normals=True``; xyz is centred and scaled to the unit sphere (y up before rotation).

    Args:
        num_samples (int): length of the dataset.
        num_points (int): points per cloud.
        split (str): 'train', 'val' or 'test'.
        seed (int): base seed.
        classes (sequence[str], optional): subset of :data:`SHAPE_BUILDERS` names, in label order.
        fresh (bool): a new instance on every fetch (see above) instead of a fixed cloud per index.
        up_axis (str): 'y' (as generated) or 'z' (turned +90 degrees about x, points and normals: the
            convention of ModelNet10's files, for pretraining that transfers to them).
        occlusion_prob, noise_std, rotation, scale_range: see
            :func:`pjepa3d.datasets.synthetic.generate_shape`.
        pipeline (list): transform configs, usually ending with ``PackPointInputs``.
    """

    SPLITS = ('train', 'val', 'test')

    def __init__(self, num_samples=1024, num_points=1024, split='train', seed=0, use_normals=False, classes=None,
                 occlusion_prob=0.3, noise_std=0.005, rotation='up', scale_range=(0.75, 1.25), fresh=False,
                 up_axis='y', pipeline=(), **kwargs):
        if split not in self.SPLITS:
            raise ValueError(f'SyntheticShapes: split must be one of {self.SPLITS}, got {split!r}')
        if rotation not in ROTATIONS:
            raise ValueError(f'SyntheticShapes: rotation must be one of {ROTATIONS}, got {rotation!r}')
        if up_axis not in ('y', 'z'):
            raise ValueError(f"SyntheticShapes: up_axis must be 'y' or 'z', got {up_axis!r}")
        if int(num_points) < 1 or int(num_samples) < 0:
            raise ValueError(f'SyntheticShapes: need num_points >= 1 and num_samples >= 0, '
                             f'got {num_points} and {num_samples}')
        self.class_names = tuple(classes) if classes else tuple(SHAPE_BUILDERS)
        unknown = sorted(set(self.class_names) - set(SHAPE_BUILDERS))
        if unknown:
            raise ValueError(f'SyntheticShapes: unknown classes {unknown}; available: {list(SHAPE_BUILDERS)}')
        self.num_samples, self.num_points = int(num_samples), int(num_points)
        self.split, self.seed, self.fresh, self.up_axis = split, int(seed), bool(fresh), up_axis
        self.shape_kwargs = dict(occlusion_prob=occlusion_prob, noise_std=noise_std, rotation=rotation,
                                 scale_range=tuple(scale_range))
        metainfo = dict(kwargs.pop('metainfo', None) or {}, classes=self.class_names)
        # the data list is tiny dicts; serialising it only costs mmengine's full gc.collect()
        kwargs.setdefault('serialize_data', False)
        super().__init__(pipeline=pipeline, use_normals=use_normals, metainfo=metainfo, **kwargs)

    def load_data_list(self):
        k = len(self.class_names)
        return [dict(label=i % k, shape_idx=i) for i in range(self.num_samples)]

    def load_points(self, info):
        key = [self.SPLITS.index(self.split), self.seed + info['shape_idx']]
        if self.fresh:
            key.append(int(np.random.randint(2 ** 31)))
        rng = np.random.default_rng(key)
        points = generate_shape(self.class_names[info['label']], rng, self.num_points, **self.shape_kwargs)
        if self.up_axis == 'z':  # (x, y, z) -> (x, -z, y) for xyz and for the normals
            points = points[:, [0, 2, 1, 3, 5, 4]] * np.array([1, -1, 1, 1, -1, 1], dtype=points.dtype)
        return self.check_points(points, info)
