"""Print a config as the Runner will see it: _base_ files merged, --cfg-options applied, env variables filled.

    python tools/misc/print_config.py CONFIG [--cfg-options k=v ...] [--save-path resolved.py]

(mmdet3d's / mmpretrain's tool, same flags.)
"""
import argparse
import os.path as osp

from mmengine.config import Config, DictAction


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config', help='config file path')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='override settings, e.g. model.backbone.encoder.depth=6')
    p.add_argument('--save-path', default=None, help='also write the resolved config to this .py / .json / .yaml')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    print(f'Config:\n{cfg.pretty_text}')
    if args.save_path:
        cfg.dump(args.save_path)
        print(f'resolved config written to {osp.abspath(args.save_path)}')
    return cfg


if __name__ == '__main__':
    main()
