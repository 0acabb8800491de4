"""Linear-SVM accuracy of a pretrained backbone's frozen features, next to the same backbone at random init.

    python tools/analysis_tools/svm_eval.py CONFIG CHECKPOINT \
        [--modelnet40-root ../shared/data/modelnet40_subset] [--out-dir DIR]

Features: concat(max, mean) of final-LN tokens (SPEC sec. 2), sklearn SVC(kernel='linear').
Data: SyntheticShapes train / test splits (held-out seeds), and ModelNet40 (official
train / test lists) when a root is given. C is chosen per encoder by 5-fold cross-validation
on the training split only (``--C cv``, default; the test split is never looked at), or fixed
with ``--C 0.012`` (the published ModelNet40 value, meant for the full 9,843-shape train set).
"""
import argparse
import json
import os
import os.path as osp
import time

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import pjepa3d  # noqa: F401
from pjepa3d.evaluation import SVM_C_GRID, extract_features, linear_svm_accuracy, select_svm_c
from pjepa3d.models.utils import load_prefixed_weights
from pjepa3d.registry import DATASETS, MODELS


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--prefix', default='backbone.', help="'backbone.' (online encoder) or 'target.' (EMA)")
    p.add_argument('--modelnet40-root', default=None, help='folder holding modelnet40_normal_resampled')
    p.add_argument('--synthetic-train', type=int, default=1024, help='SyntheticShapes train samples')
    p.add_argument('--synthetic-test', type=int, default=512, help='SyntheticShapes test samples')
    p.add_argument('--num-points', type=int, default=1024)
    p.add_argument('--C', default='cv', help=f"'cv' (5-fold CV on train over {SVM_C_GRID}) or a number")
    p.add_argument('--seed', type=int, default=0, help='seed of the random-init baseline')
    p.add_argument('--out-dir', default=None, help='default: next to the checkpoint')
    return p.parse_args()


def eval_sets(args):
    pack = [dict(type='PackPointInputs')]
    sets = {'SyntheticShapes': [DATASETS.build(dict(type='SyntheticShapes', split=split, num_samples=n,
                                                    num_points=args.num_points, pipeline=pack))
                                for split, n in (('train', args.synthetic_train), ('test', args.synthetic_test))]}
    if args.modelnet40_root:
        pipeline = [dict(type='PointSample', num_points=args.num_points, method='fps'),
                    dict(type='NormalizeUnitSphere'), dict(type='PackPointInputs')]
        sets['ModelNet40'] = [DATASETS.build(dict(type='ModelNet40', data_root=args.modelnet40_root, split=split,
                                                  pipeline=pipeline)) for split in ('train', 'test')]
    return sets


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'pjepa3d'))
    out_dir = args.out_dir or osp.join(osp.dirname(osp.abspath(args.checkpoint)), 'svm_eval')
    os.makedirs(out_dir, exist_ok=True)

    torch.manual_seed(args.seed)
    random_init = MODELS.build(cfg.model.backbone)
    pretrained = MODELS.build(cfg.model.backbone)
    pretrained.load_state_dict(random_init.state_dict())
    print(load_prefixed_weights(pretrained, args.checkpoint, prefix=args.prefix)['report'])

    rows = []
    for name, (train_set, test_set) in eval_sets(args).items():
        for label, backbone in (('pretrained', pretrained), ('random init', random_init)):
            t0 = time.time()
            xtr, ytr = extract_features(backbone, train_set, desc=f'{name} train ({label})')
            xte, yte = extract_features(backbone, test_set, desc=f'{name} test ({label})')
            C = select_svm_c(xtr, ytr) if args.C == 'cv' else float(args.C)
            acc = linear_svm_accuracy(xtr, ytr, xte, yte, C=C)
            rows.append(dict(dataset=name, encoder=label, train=len(ytr), test=len(yte), C=C, svm_acc=round(acc, 2),
                             seconds=round(time.time() - t0, 1)))
            print(f'{name:16s} {label:12s} train {len(ytr):5d} test {len(yte):5d}  C {C:g}  SVM acc {acc:6.2f} %',
                  flush=True)

    print('\n| dataset | encoder | train | test | C | linear-SVM acc (%) |\n|---|---|---|---|---|---|')
    for r in rows:
        print(f"| {r['dataset']} | {r['encoder']} | {r['train']} | {r['test']} | {r['C']:g} | {r['svm_acc']:.2f} |")
    out = osp.join(out_dir, 'svm_eval.json')
    with open(out, 'w') as f:
        json.dump(dict(config=args.config, checkpoint=args.checkpoint, prefix=args.prefix, C_rule=args.C,
                       random_init_seed=args.seed, results=rows), f, indent=2)
    print(f'\nresults written to {out}')


if __name__ == '__main__':
    main()
