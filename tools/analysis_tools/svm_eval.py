"""Linear-SVM accuracy of a pretrained backbone's frozen features over several seeds (mean +- std), next to
the same backbone at random init.

    python tools/analysis_tools/svm_eval.py CONFIG CHECKPOINT [--C cv|0.012] [--num-seeds 10] [--out-dir DIR]

Features: concat(max, mean) of final-LN tokens (SPEC sec. 2), sklearn SVC(kernel='linear').
Data:
* a benchmark config with ``svm_cfg`` (e.g. configs/point_jepa/benchmarks/pointjepa_vit-s_modelnet40-svm.py):
  its ``train_dataloader.dataset`` fits the SVM, its ``test_dataloader.dataset`` scores it; ``svm_cfg``
  gives the default C (0.012 ModelNet40, 0.042 ScanObjectNN, as published) and number of seeds;
* any other config (e.g. the pretraining config): SyntheticShapes train / test (held-out seeds), plus
  ModelNet40 (official train / test lists, FPS to ``--num-points``) when ``--modelnet40-root`` is given.
C: a number, or ``cv`` = 5-fold cross-validation on the training split only (the test split is never
looked at); the default without ``svm_cfg`` is ``cv``.
Seeds: seed s seeds numpy / torch / random before extracting features (so random transforms of the
config's pipeline, e.g. PointSample 'random', draw a different subset per seed), the CV folds and the
SVC. Features of a deterministic pipeline are extracted once and only the SVM side varies. The
random-init encoder is one fixed draw (``--init-seed``), like the pretrained one.
"""
import argparse
import json
import os
import os.path as osp
import random
import time

import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope

import pjepa3d  # noqa: F401
from pjepa3d.evaluation import SVM_C_GRID, extract_features, linear_svm_accuracy, select_svm_c
from pjepa3d.models.utils import load_prefixed_weights
from pjepa3d.registry import DATASETS, MODELS


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--prefix', nargs='+', default=['backbone.'],
                   help="'backbone.' (online encoder) and / or 'target.' (EMA encoder of a Point-JEPA checkpoint); "
                        "each prefix is evaluated as its own encoder")
    p.add_argument('--modelnet40-root', default=None, help='folder holding modelnet40_normal_resampled '
                   '(configs without svm_cfg)')
    p.add_argument('--synthetic-train', type=int, default=1024, help='SyntheticShapes train samples')
    p.add_argument('--synthetic-test', type=int, default=512, help='SyntheticShapes test samples')
    p.add_argument('--num-points', type=int, default=1024)
    p.add_argument('--C', default=None, help=f"'cv' (5-fold CV on train over {SVM_C_GRID}) or a number; default: "
                   "svm_cfg.C of the config, else 'cv'")
    p.add_argument('--num-seeds', type=int, default=None, help='seeds 0..n-1 (default: svm_cfg.num_seeds, else 10)')
    p.add_argument('--init-seed', '--seed', type=int, default=0, dest='init_seed',
                   help='seed of the random-init baseline')
    p.add_argument('--no-random-init', action='store_true', help='skip the random-init baseline')
    p.add_argument('--out-dir', default=None, help='default: <checkpoint folder>/svm_eval')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config settings')
    return p.parse_args(argv)


def _is_random(pipeline):
    """Whether a pipeline config draws random numbers (Random* transforms, PointSample 'random')."""
    for t in pipeline or []:
        kind = t.get('type', '') if isinstance(t, dict) else type(t).__name__
        if kind.startswith('Random') or (kind == 'PointSample' and t.get('method') == 'random'):
            return True
    return False


def eval_sets(args, cfg):
    """name -> (train dataset cfg, test dataset cfg); dataset configs, built per seed."""
    if cfg.get('svm_cfg') is not None:
        name = cfg.svm_cfg.get('name', cfg.train_dataloader.dataset.type)
        return {name: (cfg.train_dataloader.dataset, cfg.test_dataloader.dataset)}
    pack = [dict(type='PackPointInputs')]
    sets = {'SyntheticShapes': tuple(dict(type='SyntheticShapes', split=split, num_samples=n,
                                          num_points=args.num_points, pipeline=pack)
                                     for split, n in (('train', args.synthetic_train), ('test', args.synthetic_test)))}
    if args.modelnet40_root:
        pipeline = [dict(type='PointSample', num_points=args.num_points, method='fps'),
                    dict(type='NormalizeUnitSphere'), dict(type='PackPointInputs')]
        sets['ModelNet40'] = tuple(dict(type='ModelNet40', data_root=args.modelnet40_root, split=split,
                                        pipeline=pipeline) for split in ('train', 'test'))
    return sets


def seed_all(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def evaluate(backbone, train_cfg, test_cfg, seeds, C, label, name):
    """Per-seed SVM accuracies (%) and the C used per seed."""
    deterministic = not (_is_random(train_cfg.get('pipeline')) or _is_random(test_cfg.get('pipeline')))
    train_set, test_set = DATASETS.build(train_cfg), DATASETS.build(test_cfg)
    accs, cs, feats = [], [], None
    for seed in seeds:
        seed_all(seed)
        if feats is None or not deterministic:
            xtr, ytr = extract_features(backbone, train_set, desc=f'{name} train ({label}, seed {seed})')
            xte, yte = extract_features(backbone, test_set, desc=f'{name} test ({label}, seed {seed})')
            feats = (xtr, ytr, xte, yte)
        xtr, ytr, xte, yte = feats
        c = select_svm_c(xtr, ytr, seed=seed) if C == 'cv' else float(C)
        accs.append(linear_svm_accuracy(xtr, ytr, xte, yte, C=c, seed=seed))
        cs.append(c)
    return accs, cs, len(ytr), len(yte), deterministic


def main(argv=None):
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'pjepa3d'))
    svm_cfg = cfg.get('svm_cfg') or {}
    C = args.C if args.C is not None else svm_cfg.get('C', 'cv')
    if C != 'cv':
        C = float(C)
    seeds = list(range(args.num_seeds if args.num_seeds is not None else svm_cfg.get('num_seeds', 10)))
    out_dir = args.out_dir or osp.join(osp.dirname(osp.abspath(args.checkpoint)), 'svm_eval')
    os.makedirs(out_dir, exist_ok=True)

    backbone_cfg = dict(cfg.model.backbone)
    backbone_cfg['init_cfg'] = None  # weights are loaded below, with a report
    torch.manual_seed(args.init_seed)
    random_init = MODELS.build(backbone_cfg)
    encoders = []
    for prefix in args.prefix:
        pretrained = MODELS.build(backbone_cfg)
        pretrained.load_state_dict(random_init.state_dict())
        print(load_prefixed_weights(pretrained, args.checkpoint, prefix=prefix)['report'])
        label = 'pretrained' if len(args.prefix) == 1 else f'pretrained {prefix.rstrip(".")}'
        encoders.append((label, pretrained))
    encoders += [] if args.no_random_init else [('random init', random_init)]

    rows = []
    for name, (train_cfg, test_cfg) in eval_sets(args, cfg).items():
        for label, backbone in encoders:
            t0 = time.time()
            accs, cs, ntr, nte, deterministic = evaluate(backbone, train_cfg, test_cfg, seeds, C, label, name)
            rows.append(dict(dataset=name, encoder=label, train=ntr, test=nte, C=C, C_per_seed=cs,
                             svm_acc=round(float(np.mean(accs)), 2), svm_acc_std=round(float(np.std(accs)), 2),
                             per_seed=[round(a, 2) for a in accs], seeds=seeds,
                             features_per_seed=not deterministic, seconds=round(time.time() - t0, 1)))
            print(f'{name:18s} {label:12s} train {ntr:5d} test {nte:5d}  C {C}  SVM acc {np.mean(accs):6.2f} +- '
                  f'{np.std(accs):.2f} % over {len(seeds)} seeds', flush=True)

    print(f'\n| dataset | encoder | train | test | C | linear-SVM acc (%), mean +- std over {len(seeds)} seeds |\n'
          '|---|---|---|---|---|---|')
    for r in rows:
        print(f"| {r['dataset']} | {r['encoder']} | {r['train']} | {r['test']} | {r['C']} | "
              f"{r['svm_acc']:.2f} +- {r['svm_acc_std']:.2f} |")
    if any(not r['features_per_seed'] for r in rows):
        print('(deterministic pipelines: features extracted once; the seeds vary only the CV folds / SVC)')
    out = osp.join(out_dir, 'svm_eval.json')
    with open(out, 'w') as f:
        json.dump(dict(config=args.config, checkpoint=args.checkpoint, prefix=args.prefix, C_rule=C,
                       random_init_seed=args.init_seed, seeds=seeds, results=rows), f, indent=2)
    print(f'\nresults written to {out}')
    return rows


if __name__ == '__main__':
    main()
