"""Write ModelNet40's seeded index lists (val carve, label fraction) as JSON files, so a run can pin them.

    python tools/dataset_converters/modelnet40_splits.py data/ModelNet40 --val-ratio 0.1 --split-seed 0 \
        [--label-fraction 0.01 --fraction-seed 0] [--out-dir DIR]

Writes (positions in the official train list, with shape ids, see pjepa3d.datasets.splits):
  DIR/modelnet40_val{ratio}_seed{s}_train.json and ..._val.json
  DIR/modelnet40_val{ratio}_seed{s}_train_label{pct}pct_seed{fs}.json   (with --label-fraction)
Use one with ``--cfg-options train_dataloader.dataset.index_file=FILE`` (or val_dataloader...).
The lists equal what the dataset draws itself from the same (val_ratio, split_seed, label_fraction,
fraction_seed); the files make them explicit and checkable.
"""
import argparse
import os.path as osp

from pjepa3d.datasets import ModelNet40


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('data_root')
    p.add_argument('--layout', default='auto')
    p.add_argument('--val-ratio', type=float, default=0.1)
    p.add_argument('--split-seed', type=int, default=0)
    p.add_argument('--label-fraction', type=float, nargs='*', default=(), help='e.g. 0.01 0.05 0.1')
    p.add_argument('--fraction-seed', type=int, default=0)
    p.add_argument('--out-dir', default=None, help='default: data_root')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    out_dir = args.out_dir or args.data_root
    stem = f'modelnet40_val{args.val_ratio:g}_seed{args.split_seed}'
    common = dict(data_root=args.data_root, layout=args.layout, val_ratio=args.val_ratio, split_seed=args.split_seed)
    written = []
    for split in ('train', 'val'):
        ds = ModelNet40(split=split, **common)
        written.append((ds.save_indices(osp.join(out_dir, f'{stem}_{split}.json')), len(ds)))
    for frac in args.label_fraction:
        ds = ModelNet40(split='train', label_fraction=frac, fraction_seed=args.fraction_seed, **common)
        name = f'{stem}_train_label{frac * 100:g}pct_seed{args.fraction_seed}.json'
        written.append((ds.save_indices(osp.join(out_dir, name)), len(ds)))
    for path, n in written:
        print(f'wrote {osp.abspath(path)} ({n} shapes)')
    return [p for p, _ in written]


if __name__ == '__main__':
    main()
