"""t-SNE of frozen features, pretrained next to the same encoder at random init (BatchNorm calibrated),
coloured by class: a picture of what the linear-SVM table measures.

    python tools/analysis_tools/visualize_tsne.py CONFIG CHECKPOINT [--prefix target.] [--split test]
        [--calib-samples 512] [--init-seed 0] [--perplexity 30] [--max-samples 1000] [--out tsne.png]
        [--features SVM_EVAL_DIR/features.npz] [--cfg-options k=v ...]

CONFIG: a benchmark config with train / test dataloaders (e.g.
configs/point_jepa/benchmarks/pointjepa_vit-t-demo_modelnet10-svm.py). The features of --split are the SVM
protocol's (concat(max, mean) of the final-LN tokens), standardised per encoder; the random-init encoder is
built under torch.manual_seed(--init-seed) and its BatchNorm statistics are calibrated on --calib-samples
train clouds, as svm_eval.py's baseline. Each panel's title gives the 10-fold cross-validated 5-NN accuracy
in the 2-D embedding (how separated the classes look). sklearn's TSNE, seed 0.
--features: take both encoders' features from the file ``svm_eval.py --save-features`` wrote (the entries with
this --prefix and with the calibrated random init of this --init-seed; --split train or test) instead of
extracting them again; the checkpoint is then not read, and --calib-samples, if given, must match that run's.
"""
import argparse
import os
import os.path as osp

import numpy as np
import torch
from mmengine.config import DictAction

import pjepa3d  # noqa: F401
from pjepa3d.apis import init_model, load_config
from pjepa3d.evaluation.svm import extract_features, load_features
from pjepa3d.models.utils.bn_calibration import calibrate_on_dataset
from pjepa3d.registry import DATASETS, MODELS


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--prefix', default='target.', help="'target.' (EMA encoder) or 'backbone.' (online)")
    p.add_argument('--split', default='test', choices=('train', 'val', 'test'))
    p.add_argument('--calib-samples', type=int, default=None, help='default 512 (or, with --features, that run\'s)')
    p.add_argument('--init-seed', type=int, default=0)
    p.add_argument('--perplexity', type=float, default=30.0)
    p.add_argument('--max-samples', type=int, default=1000, help='first N samples of the split (t-SNE cost)')
    p.add_argument('--out', default=None, help='PNG (default: next to the checkpoint, tsne_<split>.png)')
    p.add_argument('--features', default=None, help="features.npz of svm_eval.py --save-features: no extraction")
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = p.parse_args(argv)
    if args.features and args.split == 'val':
        p.error('--features holds the train and test splits of svm_eval.py; --split val needs extraction')
    return args


def embed(features, perplexity, seed=0):
    """2-D t-SNE of standardised features."""
    from sklearn.manifold import TSNE
    from sklearn.preprocessing import StandardScaler
    x = StandardScaler().fit_transform(features)
    perplexity = min(perplexity, max(2.0, (len(x) - 1) / 3))
    return TSNE(n_components=2, perplexity=perplexity, init='pca', random_state=seed).fit_transform(x)


def knn_separation(points, labels, k=5):
    """10-fold (shuffled, seed 0) cross-validated k-NN accuracy (%) in the embedding."""
    from sklearn.model_selection import KFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier
    folds = KFold(n_splits=min(10, len(points)), shuffle=True, random_state=0)
    k = min(k, len(points) - len(points) // folds.n_splits - 1)
    return 100.0 * float(cross_val_score(KNeighborsClassifier(k), points, labels, cv=folds).mean())


def extracted(args, cfg):
    """(features, labels) of the pretrained and the calibrated random-init encoder on --split, and the class names."""
    data = DATASETS.build(cfg[f'{args.split}_dataloader'].dataset)
    train = DATASETS.build(cfg.train_dataloader.dataset)
    if len(data) > args.max_samples:
        data = torch.utils.data.Subset(data, range(args.max_samples))
    names = getattr(getattr(data, 'dataset', data), 'metainfo', {}).get('classes')
    pretrained = init_model(cfg, args.checkpoint, prefix=args.prefix)
    torch.manual_seed(args.init_seed)
    random_init = MODELS.build(dict(cfg.model.backbone, init_cfg=None)).eval()
    calib = 512 if args.calib_samples is None else args.calib_samples
    calibrate_on_dataset(random_init, train, calib, seed=args.init_seed)
    return [extract_features(encoder, data, desc=desc) for desc, encoder in
            (('pretrained', pretrained), ('random init', random_init))], names


def saved(args):
    """The same from ``svm_eval.py --save-features``'s file (first --max-samples of --split)."""
    pre = load_features(args.features, args.split, kind='pretrained', prefix=args.prefix)
    rnd = load_features(args.features, args.split, kind='calibrated', init_seed=args.init_seed)
    clouds = rnd[2]['bn_calibration_clouds']
    if args.calib_samples is not None and args.calib_samples != clouds:
        raise SystemExit(f'visualize_tsne.py: {args.features} holds the random init calibrated on {clouds} clouds, '
                         f'not --calib-samples {args.calib_samples}')
    print(f'features from {args.features} (not extracted again): pretrained {args.prefix!r}, random init seed '
          f'{args.init_seed} calibrated on {clouds} clouds')
    return [(x[:args.max_samples], y[:args.max_samples]) for x, y, _ in (pre, rnd)], pre[2].get('classes')


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    encoders, names = saved(args) if args.features else extracted(args, cfg)

    panels = []
    titles = (f'pretrained ({args.prefix.rstrip(".")})', f'random init (seed {args.init_seed}), BN calibrated')
    for title, (feats, labels) in zip(titles, encoders):
        points = embed(feats, args.perplexity)
        panels.append((title, points, labels, knn_separation(points, labels)))
        print(f'{title}: 5-NN accuracy in the t-SNE plane {panels[-1][3]:.1f} %')

    from matplotlib.figure import Figure
    fig = Figure(figsize=(13, 6.2))
    classes = np.unique(np.concatenate([p[2] for p in panels]))
    colours = {c: f'C{i % 10}' if len(classes) <= 10 else None for i, c in enumerate(classes)}
    for k, (title, points, labels, sep) in enumerate(panels):
        ax = fig.add_subplot(1, 2, k + 1)
        for c in classes:
            sel = labels == c
            name = names[c] if names is not None and c < len(names) else str(c)
            ax.scatter(points[sel, 0], points[sel, 1], s=6, c=colours[c], label=name)
        ax.set_title(f'{title}\n5-NN acc. in the plane: {sep:.1f} %', fontsize=10)
        ax.set_xticks([]), ax.set_yticks([])
    handles, labels_ = fig.axes[0].get_legend_handles_labels()
    fig.legend(handles, labels_, loc='lower center', ncol=min(len(classes), 10), markerscale=3, fontsize=8)
    fig.suptitle(f't-SNE of {args.split} features ({len(panels[0][2])} shapes): {osp.basename(args.config)}')
    out = args.out or osp.join(osp.dirname(osp.abspath(args.checkpoint)), f'tsne_{args.split}.png')
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    fig.savefig(out, dpi=110, bbox_inches='tight')
    print(f't-SNE picture written to {osp.abspath(out)}')
    return out, panels


if __name__ == '__main__':
    main()
