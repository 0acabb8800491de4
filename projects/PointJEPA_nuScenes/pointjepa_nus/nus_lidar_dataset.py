"""nuScenes LiDAR scans for self-supervised pretraining (labels unused), read from mmdet3d 1.x infos.

No mmcv / mmdet3d needed: the infos are a pickled ``dict(metainfo=..., data_list=[...])`` and the scans
are raw float32 files, so pretraining runs with the core install alone.
"""
import os.path as osp

import numpy as np
from mmengine.fileio import load
from mmengine.registry import DefaultScope

from pjepa3d.datasets.base_point_dataset import BasePointDataset
from pjepa3d.registry import DATASETS
from pjepa3d.utils.checks import PointCloudError

#: mmdet3d's CenterPoint nuScenes detection range, metres: x_min, y_min, z_min, x_max, y_max, z_max.
NUS_POINT_CLOUD_RANGE = (-51.2, -51.2, -5.0, 51.2, 51.2, 3.0)


def read_scan(path, load_dim, source=None):
    """Read a ``.pcd.bin`` / ``.bin`` scan of float32 records -> (N, load_dim) float32.

    Raises PointCloudError naming the file when it is missing, empty, or not a whole number of
    ``load_dim``-float records (a truncated download or a wrong ``load_dim``).
    """
    source = source or path
    if not osp.isfile(path):
        raise FileNotFoundError(f'{source}: scan file not found: {path}')
    nbytes = osp.getsize(path)
    record = 4 * load_dim
    if nbytes == 0:
        raise PointCloudError(f'{source}: scan file {path} is empty (0 bytes)')
    if nbytes % record:
        raise PointCloudError(
            f'{source}: scan file {path} has {nbytes} bytes, not a whole number of {load_dim}-float32 points '
            f'({record} bytes each): it is shorter than its stated size ({nbytes // record} full points + '
            f'{nbytes % record} stray bytes), i.e. truncated, or load_dim={load_dim} is wrong for it')
    return np.fromfile(path, dtype=np.float32).reshape(-1, load_dim)


def crop_to_range(points, point_cloud_range):
    """Boolean mask (N,) of the points with min <= xyz < max in every axis (mmdet3d's convention)."""
    lo = np.asarray(point_cloud_range[:3], dtype=np.float32)
    hi = np.asarray(point_cloud_range[3:], dtype=np.float32)
    xyz = points[:, :3]
    return np.all((xyz >= lo) & (xyz < hi), axis=1)


@DATASETS.register_module()
class NuScenesLidarPretrain(BasePointDataset):
    """LiDAR keyframes (optionally with sweeps) of mmdet3d 1.x nuScenes infos, cropped to a range.

    Each sample is one scan: ``results['points']`` float32 (N, len(use_dims)) in the LiDAR frame,
    metres (x, y, z, intensity 0-255[, time lag s]); N varies, so put a ``PointSample`` in the
    pipeline before ``PackPointInputs``. Boxes and labels in the infos are ignored.

    Args:
        data_root (str): nuScenes root, e.g. ``data/nuscenes``.
        ann_file (str): infos pickle, relative to ``data_root`` unless absolute
            (``nuscenes_infos_train.pkl`` from mmdet3d's ``tools/create_data.py nuscenes``).
        data_prefix (dict): folders of keyframes (``pts``) and sweeps (``sweeps``) under ``data_root``,
            joined with the file names in the infos as mmdet3d's ``NuScenesDataset`` does.
        point_cloud_range (sequence[float]): crop box, metres; a scan with no point inside is an error.
        load_dim (int): float32 values per point in the files (5 for nuScenes).
        use_dims (sequence[int]): channels kept, in order (0-2 must be x, y, z). With sweeps, channel
            4 is the time lag in seconds (0 for the keyframe), as mmdet3d's ``LoadPointsFromMultiSweeps``.
        sweeps_num (int): sweeps merged into each keyframe (0 = keyframe only); the first
            ``sweeps_num`` listed in ``lidar_sweeps`` (newest first in mmdet3d's infos).
        remove_close (float): drop sweep points within this radius (m) of the sensor (the ego car); 0 keeps all.
        pipeline (list): pjepa3d transforms.
        indices (int | sequence, optional): mmengine's subset selection.
    """

    def __init__(self, data_root, ann_file='nuscenes_infos_train.pkl',
                 data_prefix=dict(pts='samples/LIDAR_TOP', sweeps='sweeps/LIDAR_TOP'),
                 point_cloud_range=NUS_POINT_CLOUD_RANGE, load_dim=5, use_dims=(0, 1, 2, 3), sweeps_num=0,
                 remove_close=1.0, pipeline=(), **kwargs):
        if kwargs.pop('use_normals', False):
            raise ValueError('NuScenesLidarPretrain: LiDAR scans have no normals (use_normals must be False)')
        if len(point_cloud_range) != 6 or any(point_cloud_range[i] >= point_cloud_range[i + 3] for i in range(3)):
            raise ValueError(f'NuScenesLidarPretrain: point_cloud_range must be [x_min, y_min, z_min, x_max, '
                             f'y_max, z_max] with min < max, got {list(point_cloud_range)}')
        use_dims = tuple(int(d) for d in use_dims)
        if use_dims[:3] != (0, 1, 2) or max(use_dims) >= load_dim:
            raise ValueError(f'NuScenesLidarPretrain: use_dims must start with 0, 1, 2 (x, y, z) and stay below '
                             f'load_dim={load_dim}, got {use_dims}')
        if sweeps_num and load_dim < 5:
            raise ValueError('NuScenesLidarPretrain: sweeps need load_dim >= 5 (channel 4 holds the time lag)')
        self.point_cloud_range = tuple(float(v) for v in point_cloud_range)
        self.load_dim = int(load_dim)
        self.use_dims = use_dims
        self.sweeps_num = int(sweeps_num)
        self.remove_close = float(remove_close)
        prefix = dict(pts='samples/LIDAR_TOP', sweeps='sweeps/LIDAR_TOP')
        prefix.update(data_prefix or {})
        # the pipeline holds pjepa3d transforms even when another scope (e.g. mmdet3d) is the current default
        with DefaultScope.overwrite_default_scope('pjepa3d'):
            super().__init__(data_root=data_root, ann_file=ann_file, data_prefix=prefix, pipeline=pipeline,
                             **kwargs)

    @property
    def num_channels(self):
        return len(self.use_dims)

    # ------------------------------------------------------------------ infos
    def load_data_list(self):
        """Parse the infos: one dict per keyframe with ``file``, ``token``, ``info_idx``, ``sweeps``."""
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(f'NuScenesLidarPretrain: infos file not found: {self.ann_file} (create it with '
                                    "mmdet3d's tools/create_data.py nuscenes)")
        try:
            infos = load(self.ann_file)
        except Exception as err:  # unpickling errors come in many types
            raise ValueError(f'{self.ann_file}: cannot read the infos file ({type(err).__name__}: {err})') from None
        if not isinstance(infos, dict) or not isinstance(infos.get('data_list'), list):
            found = sorted(infos) if isinstance(infos, dict) else type(infos).__name__
            raise ValueError(f'{self.ann_file}: not an mmdet3d 1.x infos file: it needs a "data_list" list '
                             f'(found {found}); infos from mmdet3d < 1.0 must be updated with mmdet3d\'s '
                             'tools/dataset_converters/update_infos_to_v2.py')
        for k, v in (infos.get('metainfo') or {}).items():
            self._metainfo.setdefault(k, v)
        if not infos['data_list']:
            raise ValueError(f'{self.ann_file}: data_list is empty')
        return [self._parse(i, raw) for i, raw in enumerate(infos['data_list'])]

    def _parse(self, idx, raw):
        where = f"{self.ann_file} data_list[{idx}] (token {raw.get('token', '?') if isinstance(raw, dict) else '?'})"
        try:
            name = raw['lidar_points']['lidar_path']
        except (KeyError, TypeError):
            raise ValueError(f'{where}: no lidar_points.lidar_path') from None
        stated = raw['lidar_points'].get('num_pts_feats', self.load_dim)
        if int(stated) != self.load_dim:
            raise ValueError(f'{where}: num_pts_feats={stated} but the dataset reads load_dim={self.load_dim}')
        info = dict(file=osp.join(self.data_prefix.get('pts', ''), name), token=raw.get('token'), info_idx=idx,
                    timestamp=raw.get('timestamp', 0.0), sweeps=[])
        for sweep in (raw.get('lidar_sweeps') or [])[:self.sweeps_num]:
            path = sweep['lidar_points']['lidar_path']
            # mmdet3d keeps sweeps that are keyframes under samples/, the rest under sweeps/
            folder = self.data_prefix['pts'] if 'samples' in path else self.data_prefix['sweeps']
            info['sweeps'].append(dict(file=osp.join(folder, osp.basename(path)), timestamp=sweep['timestamp'],
                                       lidar2sensor=np.asarray(sweep['lidar_points']['lidar2sensor'],
                                                               dtype=np.float32)))
        return info

    def describe(self, info):
        return f"{info['file']} (sample {info.get('info_idx', info.get('sample_idx'))}, token {info.get('token')})"

    # ----------------------------------------------------------------- points
    def load_points(self, info):
        """Keyframe (+ sweeps) -> cropped float32 (N, len(use_dims)); PointCloudError when nothing is in range."""
        source = self.describe(info)
        points = read_scan(info['file'], self.load_dim, source)
        if info['sweeps']:
            points = points.copy()
            points[:, 4] = 0.0  # keyframe time lag
            parts = [points]
            for sweep in info['sweeps']:
                sp = read_scan(sweep['file'], self.load_dim, f"{source} sweep {sweep['file']}").copy()
                if self.remove_close > 0:
                    sp = sp[np.hypot(sp[:, 0], sp[:, 1]) >= self.remove_close]
                rot, trans = sweep['lidar2sensor'][:3, :3], sweep['lidar2sensor'][:3, 3]
                sp[:, :3] = sp[:, :3] @ rot - trans  # into the keyframe's LiDAR frame (mmdet3d's convention)
                sp[:, 4] = info['timestamp'] - sweep['timestamp']
                parts.append(sp)
            points = np.concatenate(parts, axis=0)
        if not np.isfinite(points[:, :3]).all():
            raise PointCloudError(f'{source}: NaN or inf coordinates')
        inside = crop_to_range(points, self.point_cloud_range)
        if not inside.any():
            lo, hi = points[:, :3].min(0), points[:, :3].max(0)
            raise PointCloudError(
                f'{source}: none of its {len(points)} points lies inside point_cloud_range '
                f'{list(self.point_cloud_range)} (the scan spans {np.round(lo, 2).tolist()} to '
                f'{np.round(hi, 2).tolist()} m); wrong range, wrong frame or a corrupt file')
        return np.ascontiguousarray(points[inside][:, list(self.use_dims)], dtype=np.float32)
