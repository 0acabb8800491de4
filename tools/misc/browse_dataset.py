"""Pictures of a config's dataset after its pipeline (augmentation included), each with the tokenizer's
patches and the masker's context / target blocks, from three viewpoints (mmdet3d's tool name and flags).

    python tools/misc/browse_dataset.py CONFIG [--split train|val|test] [--num-samples 8] [--start 0]
        [--output-dir DIR] [--seed 0] [--up y|z] [--cfg-options k=v ...]

Writes DIR/<split>_<index>.png (default DIR: work_dirs/browse_dataset/<config name>) and prints each path.
Pictures are saved, never shown (no display needed); mmdet3d's --not-show is accepted for compatibility.
"""
import argparse
import os
import os.path as osp

from mmengine.config import DictAction
from tqdm import tqdm

import pjepa3d  # noqa: F401
from pjepa3d.visualization import plot_dataset_sample
from pjepa3d.visualization.browse import build_split_dataset, load_config_and_model


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config')
    p.add_argument('--split', default='train', choices=('train', 'val', 'test'))
    p.add_argument('--num-samples', type=int, default=8)
    p.add_argument('--start', type=int, default=0, help='first sample index')
    p.add_argument('--output-dir', default=None)
    p.add_argument('--seed', type=int, default=0, help="the masker's seed (sample k uses seed + k)")
    p.add_argument('--up', choices=('y', 'z'), default=None, help='vertical axis (default: per dataset)')
    p.add_argument('--not-show', action='store_true', help='accepted for mmdet3d compatibility (never shows)')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = p.parse_args(argv)
    cfg, model = load_config_and_model(args.config, args.cfg_options)
    dataset = build_split_dataset(cfg, args.split)
    out_dir = args.output_dir or osp.join('work_dirs', 'browse_dataset', osp.splitext(osp.basename(args.config))[0])
    os.makedirs(out_dir, exist_ok=True)
    stop = min(len(dataset), args.start + args.num_samples)
    paths = []
    for k, index in enumerate(tqdm(range(args.start, stop), desc='browse', unit='sample')):
        path = osp.join(out_dir, f'{args.split}_{index:05d}.png')
        paths.append(plot_dataset_sample(model, dataset, index, path, seed=args.seed + k, up=args.up))
    print('\n'.join(osp.abspath(q) for q in paths))
    print(f'{len(paths)} picture(s) of {type(dataset).__name__} ({args.split}) written to {osp.abspath(out_dir)}')
    return paths


if __name__ == '__main__':
    main()
