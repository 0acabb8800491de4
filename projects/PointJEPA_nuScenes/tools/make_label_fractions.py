"""Write the seeded label-fraction index lists of a nuScenes training infos file.

    python projects/PointJEPA_nuScenes/tools/make_label_fractions.py data/nuscenes/nuscenes_infos_train.pkl \
        data/nuscenes/label_fractions --fractions 0.05 0.2 --seed 0

writes ``<out_dir>/nuscenes_infos_train_<pct>pct_seed<seed>.json`` (``{"indices": [...], ...}``, indices into
the infos' ``data_list``), the same lists ``NuScenesLabelFractionDataset`` draws from ``label_fraction`` and
``fraction_seed`` (``pjepa3d.datasets.splits``: the draw and the file format of the classification datasets);
pass one as ``index_file`` to pin a run to it. Needs no mmdet3d.
"""
import argparse
import os.path as osp
import pickle
import sys

from pjepa3d.datasets.splits import fraction_of, save_index_file


def main(argv=None):
    parser = argparse.ArgumentParser(description='Seeded label-fraction index lists of a nuScenes infos file')
    parser.add_argument('infos', help='mmdet3d 1.x infos pickle (nuscenes_infos_train.pkl)')
    parser.add_argument('out_dir', help='folder for the JSON index lists')
    parser.add_argument('--fractions', type=float, nargs='+', default=[0.05, 0.2])
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    with open(args.infos, 'rb') as f:
        infos = pickle.load(f)
    if not isinstance(infos, dict) or not isinstance(infos.get('data_list'), list):
        sys.exit(f'make_label_fractions.py: error: {args.infos} has no data_list (not mmdet3d 1.x infos)')
    n = len(infos['data_list'])
    stem = osp.splitext(osp.basename(args.infos))[0]
    for fraction in args.fractions:
        indices = fraction_of(n, fraction, args.seed)
        out = osp.join(args.out_dir, f'{stem}_{round(100 * fraction):g}pct_seed{args.seed}.json')
        save_index_file(out, indices, ann_file=osp.abspath(args.infos), num_infos=n, label_fraction=fraction,
                        fraction_seed=args.seed)
        print(f'{fraction:.0%} of {n} infos: {len(indices)} indices -> {osp.abspath(out)}')


if __name__ == '__main__':
    main()
