"""Linear-SVM accuracy of a pretrained backbone's frozen features over several seeds (mean +- std), next to
the same backbone at random init (as initialised, and with its BatchNorm statistics calibrated on data).

    python tools/analysis_tools/svm_eval.py CONFIG CHECKPOINT [--C cv|0.012] [--num-seeds 10] [--out-dir DIR]
        [--standardize] [--init-seeds 0 1 2] [--calib-samples 512]
    python tools/analysis_tools/svm_eval.py CONFIG --random-init-only      # the random-init baselines alone

Features: concat(max, mean) of final-LN tokens (SPEC sec. 2), sklearn SVC(kernel='linear'); optionally
standardised (``--standardize``: a StandardScaler fitted on the train features only, applied to both; inside
the C cross-validation it is refitted on each fold's training part). Scores: overall accuracy and mean-class
accuracy (mean over the test classes of the per-class recall), in %.
Data:
* a benchmark config with ``svm_cfg`` (e.g. configs/point_jepa/benchmarks/pointjepa_vit-s_modelnet40-svm.py):
  its ``train_dataloader.dataset`` fits the SVM, its ``test_dataloader.dataset`` scores it; ``svm_cfg``
  gives the default C (0.012 ModelNet40, 0.042 ScanObjectNN, as published), number of seeds,
  ``standardize`` and ``calib_samples``;
* any other config (e.g. the pretraining config): SyntheticShapes train / test (held-out seeds), plus
  ModelNet40 (official train / test lists, FPS to ``--num-points``) when ``--modelnet40-root`` is given.
C: a number, or ``cv`` = 5-fold cross-validation on the training split only (the test split is never
looked at); the default without ``svm_cfg`` is ``cv``.
Seeds: seed s seeds numpy / torch / random before extracting features (so random transforms of the
config's pipeline, e.g. PointSample 'random', draw a different subset per seed), the CV folds and the
SVC. Features of a deterministic pipeline are extracted once and only the SVM side varies.
Random-init baselines, one row per init seed (``--init-seeds``, default 0 1 2) and a 'mean over init seeds'
row (mean +- std over the init seeds of the per-init-seed means):
* 'random init': the encoder as initialised; its BatchNorm layers keep the running statistics they start
  with (mean 0, var 1), which they never measured;
* 'random init, BN calibrated': the same encoder with every BatchNorm's running mean / var re-estimated
  (``calibrate_batchnorm``, no weight changes) on ``--calib-samples`` clouds of the protocol's TRAIN split,
  drawn without replacement by a generator seeded with the init seed, in batches of 32.
The pretrained encoders start from the first init seed's draw before the checkpoint is loaded.
``--baselines calibrated`` evaluates the calibrated baseline alone; ``--deadline T`` (a Unix time) keeps a run
within a time budget (``tools/demo.sh``): every baseline gets its first init seed, the next ones only while they
are expected to end before T (expected: as long as the previous init seed's row took).
Paired test: below the table, each pretrained encoder against each BN-calibrated random init on the same test
shapes (first SVM seed): how many shapes only one of the two gets right, and the exact McNemar p-value.
``--save-features`` also writes every evaluated encoder's train and test features (the first SVM seed's) with
their labels to ``<out-dir>/features.npz``; ``visualize_tsne.py --features`` draws from it without extracting
them again.
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
from pjepa3d.evaluation import correct_string, format_p, mcnemar_test
from pjepa3d.evaluation.svm import SVM_C_GRID, extract_features, linear_svm_scores, save_features, select_svm_c
from pjepa3d.models.utils import load_prefixed_weights
from pjepa3d.models.utils.bn_calibration import calibrate_on_dataset
from pjepa3d.registry import DATASETS, MODELS

RANDOM_INIT = 'random init'
RANDOM_INIT_BN = 'random init, BN calibrated'
BASELINES = {'uncalibrated': RANDOM_INIT, 'calibrated': RANDOM_INIT_BN}  # --baselines name -> row label
SUMMARY = 'mean over init seeds'
CALIB_BATCH_SIZE = 32
DEFAULT_CALIB_SAMPLES = 512


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config')
    p.add_argument('checkpoint', nargs='?', default=None,
                   help='the pretrained checkpoint (optional with --random-init-only, and then not read)')
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
    p.add_argument('--standardize', action=argparse.BooleanOptionalAction, default=None,
                   help='standardise the features (StandardScaler fitted on the train features only); default: '
                        'svm_cfg.standardize, else off')
    p.add_argument('--init-seeds', type=int, nargs='+', default=None,
                   help='seeds of the random-init baselines, one row each (default: 0 1 2)')
    p.add_argument('--init-seed', '--seed', type=int, default=None, dest='init_seed',
                   help='a single random-init seed (same as --init-seeds S)')
    p.add_argument('--calib-samples', type=int, default=None,
                   help='clouds of the train split that calibrate BatchNorm for the "random init, BN calibrated" '
                        f'baseline (default: svm_cfg.calib_samples, else {DEFAULT_CALIB_SAMPLES}; 0 skips that '
                        'baseline)')
    p.add_argument('--no-random-init', action='store_true', help='skip the random-init baselines')
    p.add_argument('--baselines', nargs='+', choices=tuple(BASELINES), default=None,
                   help="which random-init baselines: 'uncalibrated' (BatchNorm statistics as initialised) and / or "
                        "'calibrated' (default: both; 'calibrated' needs --calib-samples > 0)")
    p.add_argument('--deadline', type=float, default=None,
                   help='a Unix time (as `date +%%s` prints): each baseline evaluates its first init seed, and a '
                        'further one only while the time its previous row took still ends before the deadline '
                        '(the seeds left out are printed and saved); default: every init seed')
    p.add_argument('--random-init-only', action='store_true',
                   help='evaluate the random-init baselines only (no checkpoint needed)')
    p.add_argument('--save-features', action='store_true',
                   help="also write each encoder's train / test features (the first SVM seed's) and labels to "
                        '<out-dir>/features.npz (read by visualize_tsne.py --features)')
    p.add_argument('--out-dir', default=None, help='default: <checkpoint folder>/svm_eval, or with '
                   '--random-init-only and no checkpoint work_dirs/svm_eval/<config name>')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config settings')
    args = p.parse_args(argv)
    if args.random_init_only and args.no_random_init:
        p.error('--random-init-only and --no-random-init leave nothing to evaluate')
    if args.checkpoint is None and not args.random_init_only:
        p.error('a CHECKPOINT is required (or --random-init-only for the random-init baselines alone)')
    if args.init_seed is not None and args.init_seeds is not None:
        p.error('give --init-seeds or its single-seed alias --init-seed / --seed, not both')
    if args.calib_samples is not None and args.calib_samples < 0:
        p.error('--calib-samples must be >= 0')
    if args.baselines is not None and args.no_random_init:
        p.error('--baselines chooses among the random-init baselines that --no-random-init skips: give one of them')
    return args


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


def build_random_init(backbone_cfg, init_seed):
    """The backbone as ``MODELS.build`` initialises it under ``torch.manual_seed(init_seed)`` (eval mode)."""
    torch.manual_seed(init_seed)
    backbone = MODELS.build(dict(backbone_cfg, init_cfg=None))
    return backbone.eval()


def evaluate(backbone, train_set, test_set, seeds, C, label, name, deterministic, standardize=False):
    """Per-seed SVM scores of one encoder.

    Returns:
        dict: ``overall`` / ``mean_class`` (lists of %, one per seed), ``C`` (the C used per seed), ``train`` /
        ``test`` (sizes), ``features`` (the first seed's (train x, train y, test x, test y)).
    """
    out, feats = dict(overall=[], mean_class=[], C=[]), None
    for k, seed in enumerate(seeds):
        seed_all(seed)
        if feats is None or not deterministic:
            xtr, ytr = extract_features(backbone, train_set, desc=f'{name} train ({label}, seed {seed})')
            xte, yte = extract_features(backbone, test_set, desc=f'{name} test ({label}, seed {seed})')
            feats = (xtr, ytr, xte, yte)
        xtr, ytr, xte, yte = feats
        c = select_svm_c(xtr, ytr, seed=seed, standardize=standardize, n_jobs=-1) if C == 'cv' else float(C)
        scores = linear_svm_scores(xtr, ytr, xte, yte, C=c, seed=seed, standardize=standardize,
                                   return_correct=k == 0)
        if k == 0:  # the first seed's per-shape results: what the paired test compares
            out['correct'] = scores['correct']
            out['features'] = feats
        out['overall'].append(scores['overall'])
        out['mean_class'].append(scores['mean_class'])
        out['C'].append(c)
    out.update(train=len(ytr), test=len(yte))
    return out


def _row(name, label, init_seed, calib_clouds, scores, seeds, C, standardize, deterministic, seconds):
    return dict(dataset=name, encoder=label, init_seed=init_seed, bn_calibration_clouds=calib_clouds,
                correct_seed0=correct_string(scores['correct']),
                train=scores['train'], test=scores['test'], C=C, C_per_seed=scores['C'], standardize=standardize,
                svm_acc=round(float(np.mean(scores['overall'])), 2),
                svm_acc_std=round(float(np.std(scores['overall'])), 2),
                per_seed=[round(a, 2) for a in scores['overall']],
                mean_class_acc=round(float(np.mean(scores['mean_class'])), 2),
                mean_class_acc_std=round(float(np.std(scores['mean_class'])), 2),
                mean_class_per_seed=[round(a, 2) for a in scores['mean_class']],
                seeds=seeds, std_over='SVM seeds', features_per_seed=not deterministic, seconds=round(seconds, 1))


def _summary_row(rows):
    """'mean over init seeds': mean +- std over the init seeds of the per-init-seed means (``per_seed``: each SVM
    seed's accuracy averaged over the init seeds, so ``svm_acc`` is their mean as in the other rows)."""
    first = rows[0]
    acc = [r['svm_acc'] for r in rows]
    mca = [r['mean_class_acc'] for r in rows]
    per_seed = np.mean([r['per_seed'] for r in rows], axis=0)
    mc_per_seed = np.mean([r['mean_class_per_seed'] for r in rows], axis=0)
    return dict(dataset=first['dataset'], encoder=first['encoder'], init_seed=SUMMARY,
                init_seeds=[r['init_seed'] for r in rows],
                bn_calibration_clouds=first['bn_calibration_clouds'], train=first['train'], test=first['test'],
                C=first['C'], C_per_seed=[c for r in rows for c in r['C_per_seed']], standardize=first['standardize'],
                svm_acc=round(float(np.mean(acc)), 2), svm_acc_std=round(float(np.std(acc)), 2), per_init_seed=acc,
                mean_class_acc=round(float(np.mean(mca)), 2), mean_class_acc_std=round(float(np.std(mca)), 2),
                mean_class_per_init_seed=mca, per_seed=[round(float(a), 2) for a in per_seed],
                mean_class_per_seed=[round(float(a), 2) for a in mc_per_seed], seeds=first['seeds'],
                std_over='init seeds',
                features_per_seed=first['features_per_seed'], seconds=round(sum(r['seconds'] for r in rows), 1))


def paired_rows(rows):
    """Each pretrained encoder against each BN-calibrated random init, on the same test shapes with the first SVM
    seed (``mcnemar_test``): the shapes only one of the two gets right and the exact McNemar p-value."""
    out = []
    for p in rows:
        if p['init_seed'] is not None:
            continue
        for r in rows:
            if r['encoder'] != RANDOM_INIT_BN or r['dataset'] != p['dataset'] or r['init_seed'] == SUMMARY:
                continue
            test = mcnemar_test(p['correct_seed0'], r['correct_seed0'])
            out.append(dict(dataset=p['dataset'], encoder=p['encoder'], init_seed=r['init_seed'],
                            gain=round(p['per_seed'][0] - r['per_seed'][0], 2), **test))
    return out


def print_paired(paired, seed):
    if not paired:
        return
    print(f'\nPaired on the same test shapes (SVM seed {seed}): shapes only the pretrained / only the random init '
          'gets right, exact McNemar p (a difference with p > 0.05 is within what chance gives):')
    for t in paired:
        print(f"  {t['dataset']}: {t['encoder']} vs {RANDOM_INIT_BN} (init seed {t['init_seed']}): {t['gain']:+.2f} "
              f"points, {t['only_a']} / {t['only_b']} shapes, {format_p(t['p_value'])}")


def _fmt_c(row):
    if row['C'] != 'cv':
        return f"{row['C']:g}"
    return 'cv: ' + '/'.join(f'{c:g}' for c in sorted(set(row['C_per_seed'])))


def _fmt_calib(row):
    if row['encoder'] != RANDOM_INIT_BN:
        return "checkpoint's" if row['init_seed'] is None else 'none (initial 0 / 1)'
    return f"{row['bn_calibration_clouds']} train clouds"


def print_table(rows, seeds):
    print('\n| dataset | encoder | init seed | BN running stats | train | test | C | standardized | '
          'overall acc (%) | mean-class acc (%) |\n|---|---|---|---|---|---|---|---|---|---|')
    for r in rows:
        init = '-' if r['init_seed'] is None else r['init_seed']
        print(f"| {r['dataset']} | {r['encoder']} | {init} | {_fmt_calib(r)} | {r['train']} | {r['test']} | "
              f"{_fmt_c(r)} | {'yes' if r['standardize'] else 'no'} | {r['svm_acc']:.2f} +- {r['svm_acc_std']:.2f} | "
              f"{r['mean_class_acc']:.2f} +- {r['mean_class_acc_std']:.2f} |")
    print(f'(mean +- std over {len(seeds)} SVM seed(s) {seeds}; rows "{SUMMARY}": mean +- std over the init seeds '
          'of the per-init-seed means)')
    calibrated = sorted({r['bn_calibration_clouds'] for r in rows if r['encoder'] == RANDOM_INIT_BN})
    if calibrated:
        print(f'("{RANDOM_INIT_BN}": BatchNorm running mean / var re-estimated on {"/".join(map(str, calibrated))} '
              f'clouds of the train split (seeded draw, batches of {CALIB_BATCH_SIZE}), weights unchanged; '
              f'"{RANDOM_INIT}": the initial running statistics, never updated)')
    if any(not r['features_per_seed'] for r in rows):
        print('(deterministic pipelines: features extracted once; the seeds vary only the CV folds / SVC)')


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
    standardize = bool(args.standardize if args.standardize is not None else svm_cfg.get('standardize', False))
    init_seeds = (args.init_seeds if args.init_seeds is not None
                  else [args.init_seed] if args.init_seed is not None else [0, 1, 2])
    calib_samples = int(args.calib_samples if args.calib_samples is not None
                        else svm_cfg.get('calib_samples', DEFAULT_CALIB_SAMPLES))
    if args.out_dir:
        out_dir = args.out_dir
    elif args.checkpoint and not args.random_init_only:
        out_dir = osp.join(osp.dirname(osp.abspath(args.checkpoint)), 'svm_eval')
    else:
        out_dir = osp.join('work_dirs', 'svm_eval', osp.splitext(osp.basename(args.config))[0])
    os.makedirs(out_dir, exist_ok=True)

    backbone_cfg = dict(cfg.model.backbone)
    backbone_cfg['init_cfg'] = None  # weights are loaded below, with a report
    pretrained = []
    if not args.random_init_only:
        start = build_random_init(backbone_cfg, init_seeds[0])
        for prefix in args.prefix:
            encoder = MODELS.build(backbone_cfg)
            encoder.load_state_dict(start.state_dict())
            print(load_prefixed_weights(encoder, args.checkpoint, prefix=prefix)['report'])
            label = 'pretrained' if len(args.prefix) == 1 else f'pretrained {prefix.rstrip(".")}'
            pretrained.append((label, encoder, prefix))
    elif args.checkpoint:
        print(f'--random-init-only: the checkpoint {args.checkpoint} is not read')
    wanted = args.baselines or tuple(BASELINES)
    baselines = [] if args.no_random_init else [  # --baselines names, in the table's order
        kind for kind in BASELINES if kind in wanted and (kind != 'calibrated' or calib_samples > 0)]
    if args.baselines and 'calibrated' in args.baselines and calib_samples == 0:
        raise SystemExit('svm_eval.py: --baselines calibrated needs --calib-samples > 0 (0 skips that baseline)')
    skipped = {}  # '<dataset>: <baseline>' -> the init seeds --deadline left out

    rows, features = [], []

    def run(backbone, label, init_seed, calib_clouds, name, train_set, test_set, deterministic, t0, info):
        """Evaluate one encoder -> its row; with --save-features keep its features with ``info``."""
        scores = evaluate(backbone, train_set, test_set, seeds, C, label, name, deterministic, standardize)
        row = _row(name, label, init_seed, calib_clouds, scores, seeds, C, standardize, deterministic,
                   time.time() - t0)
        if args.save_features:
            xtr, ytr, xte, yte = scores['features']
            classes = getattr(train_set, 'metainfo', {}).get('classes')
            entry = dict(info, dataset=name, encoder=label, init_seed=init_seed, bn_calibration_clouds=calib_clouds,
                         classes=None if classes is None else list(classes))
            features.append((entry, dict(train=(xtr, ytr), test=(xte, yte))))
        seed_txt = '' if init_seed is None else f' (init seed {init_seed})'
        print(f'{name:18s} {label + seed_txt:40s} train {row["train"]:5d} test {row["test"]:5d}  C {_fmt_c(row)}  '
              f'SVM acc {row["svm_acc"]:6.2f} +- {row["svm_acc_std"]:.2f} %, mean-class {row["mean_class_acc"]:6.2f} '
              f'+- {row["mean_class_acc_std"]:.2f} % over {len(seeds)} seeds', flush=True)
        return row

    for name, (train_cfg, test_cfg) in eval_sets(args, cfg).items():
        deterministic = not (_is_random(train_cfg.get('pipeline')) or _is_random(test_cfg.get('pipeline')))
        train_set, test_set = DATASETS.build(train_cfg), DATASETS.build(test_cfg)
        for label, backbone, prefix in pretrained:
            rows.append(run(backbone, label, None, None, name, train_set, test_set, deterministic, time.time(),
                            dict(kind='pretrained', prefix=prefix)))
        for kind in baselines:
            label, per_init = BASELINES[kind], []
            for init_seed in init_seeds:
                t0 = time.time()
                if per_init and args.deadline is not None and t0 + per_init[-1]['seconds'] > args.deadline:
                    left = skipped[f'{name}: {label}'] = init_seeds[len(per_init):]
                    print(f'{name:18s} {label}: init seed(s) {" ".join(map(str, left))} left out: one more '
                          f'takes ~{per_init[-1]["seconds"]:.0f} s and would end '
                          f'{t0 + per_init[-1]["seconds"] - args.deadline:.0f} s after --deadline', flush=True)
                    break
                backbone = build_random_init(backbone_cfg, init_seed)
                clouds = 0
                if label == RANDOM_INIT_BN:
                    clouds = calibrate_on_dataset(backbone, train_set, calib_samples, seed=init_seed)
                per_init.append(run(backbone, label, init_seed, clouds, name, train_set, test_set, deterministic, t0,
                                    dict(kind=kind, prefix=None)))
            rows += per_init + [_summary_row(per_init)]

    print_table(rows, seeds)
    paired = paired_rows(rows)
    print_paired(paired, seeds[0])
    if args.deadline is not None and baselines:
        print(f'\n--deadline {args.deadline:.0f} ({time.strftime("%H:%M:%S", time.localtime(args.deadline))}): '
              'init seeds evaluated, of ' + ' '.join(map(str, init_seeds)) + ': ' + '; '.join(
                  f"{r['dataset']}: {r['encoder']} {' '.join(map(str, r['init_seeds']))}"
                  for r in rows if r['init_seed'] == SUMMARY))
    out = osp.join(out_dir, 'svm_eval.json')
    with open(out, 'w') as f:
        json.dump(dict(config=args.config, checkpoint=None if args.random_init_only else args.checkpoint,
                       prefix=[] if args.random_init_only else args.prefix, C_rule=C, standardize=standardize,
                       seeds=seeds, random_init_seeds=init_seeds, deadline=args.deadline,
                       init_seeds_left_out=skipped,
                       bn_calibration=dict(clouds_requested=calib_samples, split='train',
                                           batch_size=CALIB_BATCH_SIZE, draw='np.random.default_rng(init seed), '
                                           'without replacement', clouds_used=sorted(
                                               {r['bn_calibration_clouds'] for r in rows
                                                if r['encoder'] == RANDOM_INIT_BN})),
                       results=rows, paired=paired), f, indent=2)
    print(f'\nresults written to {out}')
    if args.save_features:
        path = osp.join(out_dir, 'features.npz')
        save_features(path, features)
        print(f'features (train / test, first SVM seed) of {len(features)} encoders written to {path}')
    return rows


if __name__ == '__main__':
    main()
