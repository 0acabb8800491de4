"""Common base of the point-cloud datasets: raw loading in the dataset, augmentation in the pipeline."""
from pathlib import Path

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.registry import DefaultScope

from pjepa3d.registry import TRANSFORMS
from pjepa3d.utils.checks import PointCloudError, validate_points


def build_pipeline(pipeline):
    """Build transform configs with pjepa3d's TRANSFORMS, whatever the current default scope (none, or
    e.g. 'mmdet3d' in a detection config, whose registry also has a ``PointSample``)."""
    with DefaultScope.overwrite_default_scope('pjepa3d'):
        return [TRANSFORMS.build(t) if isinstance(t, dict) else t for t in (pipeline or [])]


def read_list_file(path, what):
    """Non-empty stripped lines of a text file; FileNotFoundError naming ``path`` when it is absent."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'{what} not found: {path}')
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def require_dir(path, what, hint=None):
    """``path`` as a Path; FileNotFoundError naming it (and ``hint``: how to get the data) when it is no folder."""
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f'{what} does not exist: {path}' + (f' ({hint})' if hint else ''))
    return path


def check_files_exist(data_list, listed_in):
    """FileNotFoundError if any ``info['file']`` is missing (names the first and the count)."""
    missing = [info['file'] for info in data_list if not Path(info['file']).is_file()]
    if missing:
        raise FileNotFoundError(f'{len(missing)} point file(s) listed in {listed_in} are missing, '
                                f'e.g. {missing[0]}')


class BasePointDataset(BaseDataset):
    """Loads one cloud per ``data_list`` entry and runs the pipeline on

    ``results = dict(points=float32 (N, C), label=int (-1 if unknown), sample_idx=int, file=str?)``,
    where C is 3 (xyz) or 6 (xyz + unit normals) when ``use_normals=True``.
    Subclasses implement :meth:`load_points` (one info dict -> raw array).
    """

    def __init__(self, pipeline=(), use_normals=False, **kwargs):
        self.use_normals = bool(use_normals)
        super().__init__(pipeline=build_pipeline(pipeline), **kwargs)

    @property
    def num_channels(self):
        return 6 if self.use_normals else 3

    def load_points(self, info):
        """Return the raw (N, C') array of one sample (C' >= ``num_channels``)."""
        raise NotImplementedError

    def describe(self, info):
        """How to name a sample in error messages."""
        return f"{info.get('file', type(self).__name__)} (sample {info['sample_idx']})"

    def check_points(self, points, info, num_dims=None):
        """Validate a raw array, naming the file and sample index; return it as float32 (N, num_channels)."""
        source = self.describe(info)
        points = np.asarray(points)
        if points.size == 0:
            raise PointCloudError(f'{source}: the point cloud is empty (shape {points.shape})')
        if points.ndim != 2:
            raise PointCloudError(f'{source}: expected points of shape (N, C), got {points.shape}')
        validate_points(points, source, num_dims=num_dims)
        return np.ascontiguousarray(points[:, :self.num_channels], dtype=np.float32)

    def prepare_data(self, idx):
        results = self.get_data_info(idx)
        results['points'] = self.load_points(results)
        results.setdefault('label', -1)
        return self.pipeline(results)
