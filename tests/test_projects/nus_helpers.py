"""Shared helpers of the nuScenes project tests: paths of the real sample and small config overrides."""
import copy
import pickle
from pathlib import Path

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PROJECT_CONFIGS = PROJECT_ROOT / 'projects' / 'PointJEPA_nuScenes' / 'configs'
PRETRAIN_CONFIG = PROJECT_CONFIGS / 'pointjepa_vit-s_8xb16-100e_nus-lidar.py'
DET_CONFIG = PROJECT_CONFIGS / 'centerpoint_pointjepa-pillar02_secfpn_8xb4-cyclic-20e_nus-3d.py'
SCRATCH_CONFIG = PROJECT_CONFIGS / 'centerpoint_pointjepa-pillar02-scratch_secfpn_8xb4-cyclic-20e_nus-3d.py'
RANGE = np.array([-51.2, -51.2, -5.0, 51.2, 51.2, 3.0], dtype=np.float32)

# a small backbone for CPU tests (the configs' ViT-S shrunk: 64 patches of 16 points, 2 blocks of 48 dims)
TINY_BACKBONE = dict(
    tokenizer=dict(num_groups=64, group_size=16, embed_dims=48, hidden_dims=(16, 32, 64)),
    encoder=dict(embed_dims=48, depth=2, num_heads=2, drop_path_rate=0.0))


def nus_root(shared_data):
    return shared_data / 'nuscenes_sample'


def demo_infos(shared_data):
    with open(nus_root(shared_data) / 'nuscenes_infos_demo.pkl', 'rb') as f:
        return pickle.load(f)


def scan_files(shared_data):
    return sorted((nus_root(shared_data) / 'samples' / 'LIDAR_TOP').glob('*.pcd.bin'))


def write_infos(path, infos):
    with open(path, 'wb') as f:
        pickle.dump(infos, f)
    return path


def two_scan_infos(shared_data):
    """The demo infos plus a second keyframe entry for the other real scan (labels dropped)."""
    infos = copy.deepcopy(demo_infos(shared_data))
    first = infos['data_list'][0]
    other = next(p.name for p in scan_files(shared_data) if p.name != first['lidar_points']['lidar_path'])
    second = copy.deepcopy(first)
    second.update(sample_idx=1, token='second-scan', instances=[])
    second['lidar_points']['lidar_path'] = other
    infos['data_list'].append(second)
    return infos


def raw_in_range(path, dims=(0, 1, 2, 3)):
    """Independent reference: the file's points inside RANGE, as numpy."""
    pts = np.fromfile(path, dtype=np.float32).reshape(-1, 5)
    keep = np.all((pts[:, :3] >= RANGE[:3]) & (pts[:, :3] < RANGE[3:]), axis=1)
    return pts[keep][:, list(dims)]


