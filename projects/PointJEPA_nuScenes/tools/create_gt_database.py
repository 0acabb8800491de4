"""Create the GT database of the detector's ``ObjectSample`` from an mmdet3d 1.x nuScenes infos file.

    python projects/PointJEPA_nuScenes/tools/create_gt_database.py DATA_ROOT INFOS OUT_DIR [--sweeps-num 10]

writes ``OUT_DIR/nuscenes_dbinfos_train.pkl`` and ``OUT_DIR/nuscenes_gt_database/*.bin`` (the points inside each
annotated box, box-centred), the layout the detection configs read from ``$NUS_GT_DB_ROOT`` (default: the data
root). ``DATA_ROOT`` holds ``samples/LIDAR_TOP`` (and ``sweeps/LIDAR_TOP``); ``INFOS`` is the training infos file
(absolute, or relative to ``DATA_ROOT``). ``DATA_ROOT`` is only read: ``OUT_DIR`` may be anywhere.

The creator is mmdet3d's own ``create_groundtruth_database`` (``tools/dataset_converters/create_gt_database.py``
of mmdet3d 1.4), run unchanged: its dataset (``NuScenesDataset``), loading pipeline and box test
(``box_np_ops.points_in_rbbox``) are mmdet3d's, so the files are exactly what ``tools/create_data.py nuscenes``
writes. Why it is not simply mmdet3d's script:

* the wheel installs mmdet3d's ``tools/`` as data files (``mmdet3d/.mim/tools``), not as an importable module
  (``.mim`` is no package), so this CLI loads that file by path (or ``tools/`` of an editable checkout);
* mmdet3d's entry point, ``tools/create_data.py nuscenes``, first rebuilds the infos from the nuScenes devkit
  tables (``v1.0-*/*.json``), which infos-only data (such as the two-keyframe sample) do not have, and it always
  writes the database into the data root, which may be read-only;
* its nuScenes pipeline always loads 10 sweeps and, when an info lists none, pads with 10 copies of the keyframe;
  ``--sweeps-num`` (default 10, mmdet3d's) sets that number, e.g. 0 to match a detector trained without sweeps.
"""
import argparse
import copy
import importlib.util
import os
import os.path as osp
import sys

INFO_PREFIX = 'nuscenes'  # the detection configs read <prefix>_dbinfos_train.pkl and <prefix>_gt_database/


def mmdet3d_creator_file():
    """Path of mmdet3d's ``create_gt_database.py``: installed under ``mmdet3d/.mim/tools`` (wheel) or in the
    repository's ``tools/`` (editable install)."""
    import mmdet3d
    pkg = osp.dirname(osp.abspath(mmdet3d.__file__))
    rel = osp.join('tools', 'dataset_converters', 'create_gt_database.py')
    candidates = [osp.join(pkg, '.mim', rel), osp.join(osp.dirname(pkg), rel)]
    for path in candidates:
        if osp.isfile(path):
            return path
    raise FileNotFoundError(f'mmdet3d {mmdet3d.__version__} has no {rel} (looked in {candidates}); reinstall '
                            'mmdet3d 1.4 (pip install mmdet3d==1.4.0 installs its tools under mmdet3d/.mim)')


def load_mmdet3d_creator():
    """mmdet3d's ``create_gt_database`` module, loaded from its file under a private name."""
    path = mmdet3d_creator_file()
    spec = importlib.util.spec_from_file_location('_mmdet3d_create_gt_database', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _SweepsNum:
    """Stands in for the creator's ``DATASETS``: builds its dataset with ``sweeps_num`` sweeps loaded."""

    def __init__(self, registry, sweeps_num):
        self.registry = registry
        self.sweeps_num = sweeps_num

    def build(self, cfg, *args, **kwargs):
        cfg = copy.deepcopy(cfg)
        for transform in cfg.get('pipeline', []):
            if transform.get('type') == 'LoadPointsFromMultiSweeps':
                transform['sweeps_num'] = self.sweeps_num
        return self.registry.build(cfg, *args, **kwargs)


def subset_infos(ann_file, out_dir, label_fraction, fraction_seed=0):
    """Write the ``label_fraction`` subset of an infos file (the scans ``NuScenesLabelFractionDataset`` keeps
    with the same fraction and seed) into ``out_dir``; return its path."""
    import pickle

    from pjepa3d.datasets.splits import fraction_of

    with open(ann_file, 'rb') as f:
        infos = pickle.load(f)
    if not isinstance(infos, dict) or not isinstance(infos.get('data_list'), list):
        raise ValueError(f'{ann_file}: no data_list (not mmdet3d 1.x infos)')
    keep = fraction_of(len(infos['data_list']), label_fraction, fraction_seed)
    subset = dict(infos, data_list=[infos['data_list'][i] for i in keep])
    os.makedirs(out_dir, exist_ok=True)
    stem = osp.splitext(osp.basename(ann_file))[0]
    path = osp.join(out_dir, f'{stem}_{100 * label_fraction:g}pct_seed{fraction_seed}.pkl')
    with open(path, 'wb') as f:
        pickle.dump(subset, f)
    return path


def create_gt_database(data_root, infos, out_dir, sweeps_num=10, label_fraction=1.0, fraction_seed=0):
    """Run mmdet3d's ``create_groundtruth_database('NuScenesDataset', ...)`` writing under ``out_dir``; with
    ``label_fraction`` < 1, on that seeded subset of the infos only (the database of a label-fraction run).

    Returns:
        tuple[str, str]: paths of the db infos pickle and of the ``.bin`` folder.
    """
    from mmengine.registry import DefaultScope
    from mmdet3d.utils import register_all_modules

    if not osp.isdir(data_root):
        raise FileNotFoundError(f'data root not found: {data_root}')
    # absolute: the dataset would prefix a relative one with data_root again
    ann_file = osp.abspath(infos if osp.isabs(infos) else osp.join(data_root, infos))
    if not osp.isfile(ann_file):
        raise FileNotFoundError(f'infos file not found: {ann_file}')
    if sweeps_num < 0:
        raise ValueError(f'--sweeps-num must be >= 0, got {sweeps_num}')
    if not 0.0 < label_fraction <= 1.0:
        raise ValueError(f'--label-fraction must be in (0, 1], got {label_fraction}')
    if label_fraction < 1.0:
        ann_file = subset_infos(ann_file, out_dir, label_fraction, fraction_seed)
    register_all_modules(init_default_scope=False)
    creator = load_mmdet3d_creator()
    if sweeps_num != 10:
        creator.DATASETS = _SweepsNum(creator.DATASETS, sweeps_num)
    db_info_path = osp.join(out_dir, f'{INFO_PREFIX}_dbinfos_train.pkl')
    # the db infos name files relative to OUT_DIR as '<prefix>_gt_database/<name>.bin': keep that folder name
    database_path = osp.join(out_dir, f'{INFO_PREFIX}_gt_database')
    with DefaultScope.overwrite_default_scope('mmdet3d'):
        creator.create_groundtruth_database('NuScenesDataset', data_root, INFO_PREFIX, info_path=ann_file,
                                            database_save_path=database_path, db_info_save_path=db_info_path)
    # which scans the objects come from: NuScenesLabelFractionDataset checks them against its label subset
    import json
    import pickle
    with open(ann_file, 'rb') as f:
        tokens = [info.get('token') for info in pickle.load(f)['data_list']]
    with open(f'{osp.splitext(db_info_path)[0]}.tokens.json', 'w') as f:
        json.dump(dict(infos=ann_file, label_fraction=label_fraction, fraction_seed=fraction_seed, tokens=tokens), f)
    return db_info_path, database_path


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Create the GT database of ObjectSample with mmdet3d's creator")
    parser.add_argument('data_root', help='nuScenes root with samples/LIDAR_TOP (only read)')
    parser.add_argument('infos', help='mmdet3d 1.x training infos (absolute, or relative to data_root)')
    parser.add_argument('out_dir', help=f'folder for {INFO_PREFIX}_dbinfos_train.pkl and {INFO_PREFIX}_gt_database/')
    parser.add_argument('--sweeps-num', type=int, default=10,
                        help="sweeps merged into each keyframe before cropping the boxes (mmdet3d's 10; an info "
                             'without sweeps is padded with copies of the keyframe)')
    parser.add_argument('--label-fraction', type=float, default=1.0,
                        help='build the database of a label-fraction run from that seeded subset of the infos only '
                             '(the scans NuScenesLabelFractionDataset keeps with the same fraction and seed)')
    parser.add_argument('--fraction-seed', type=int, default=0)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        db_info_path, database_path = create_gt_database(args.data_root, args.infos, args.out_dir, args.sweeps_num,
                                                         args.label_fraction, args.fraction_seed)
    except (FileNotFoundError, ValueError) as err:
        sys.exit(f'create_gt_database.py: error: {err}')
    import pickle
    with open(db_info_path, 'rb') as f:
        db_infos = pickle.load(f)
    counts = ', '.join(f'{name} {len(v)}' for name, v in sorted(db_infos.items()))
    print(f'{sum(len(v) for v in db_infos.values())} objects ({counts})\n'
          f'  db infos: {osp.abspath(db_info_path)}\n  points:   {osp.abspath(database_path)}/\n'
          f'point the detection configs at them with NUS_GT_DB_ROOT={osp.abspath(args.out_dir)}')


if __name__ == '__main__':
    main()
