"""Save a PNG of one cloud of the config's dataset with the context and target patches its masker draws,
from three viewpoints.

    python tools/analysis_tools/visualize_mask.py CONFIG [--split train|val|test] [--index 0] [--seed 0]
        [--out mask.png] [--up y|z] [--cfg-options k=v ...]

The cloud is ``<split>_dataloader.dataset[index]`` of the config (after its pipeline); configs without that
dataset (e.g. a dataset-less model config) fall back to a SyntheticShapes test cloud (index 8: a chair).
For many samples at once: tools/misc/browse_dataset.py.
"""
import argparse
import os
import os.path as osp

from mmengine.config import DictAction

import pjepa3d  # noqa: F401
from pjepa3d.visualization import plot_dataset_sample
from pjepa3d.visualization.browse import build_split_dataset, load_config_and_model


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config')
    p.add_argument('--split', default='train', choices=('train', 'val', 'test'))
    p.add_argument('--index', type=int, default=None, help='sample index (default 0; 8 for the synthetic fallback)')
    p.add_argument('--seed', type=int, default=0, help="the masker's seed")
    p.add_argument('--out', default='mask.png')
    p.add_argument('--up', choices=('y', 'z'), default=None, help='vertical axis (default: per dataset)')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = p.parse_args(argv)
    cfg, model = load_config_and_model(args.config, args.cfg_options)
    dataset = build_split_dataset(cfg, args.split)
    index = args.index if args.index is not None else (8 if type(dataset).__name__ == 'SyntheticShapes' else 0)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    path = plot_dataset_sample(model, dataset, index, args.out, seed=args.seed, up=args.up)
    print(f'mask picture written to {osp.abspath(path)}')
    return path


if __name__ == '__main__':
    main()
