"""Curves and timings from mmengine's json scalar logs (mmdet3d's / mmpretrain's ``analyze_logs.py``).

    python tools/analysis_tools/analyze_logs.py plot_curve LOG.json [LOG2.json ...] \
        [--keys loss svm_acc svm_acc_target] [--legend ...] [--baseline-from-first] [--out curve.png]
    python tools/analysis_tools/analyze_logs.py cal_train_time LOG.json [...]

``LOG.json`` is ``<work_dir>/<timestamp>/vis_data/<timestamp>.json`` (one json dict per line, written by
mmengine's ``LocalVisBackend``): training lines carry ``loss``, ``lr``, ``ema_tau``, the monitors and
``iter``; validation lines carry the metrics (``svm_acc``, ``svm_acc_target``, ``feat_rank`` ...) and
``step`` (the iteration they were measured at). Every key is plotted against the iteration, one panel
per key; with ``--baseline-from-first`` the first validation value (iteration 0: the BN-calibrated
random-init encoder, see ``ProbeAtStartHook``) is drawn as a dashed line across the panel.
"""
import argparse
import json
import os
import os.path as osp

import numpy as np


def load_json_log(path):
    """(train rows, val rows) of one mmengine scalar log; each row a dict with an ``iter`` key."""
    train, val = [], []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f'{path}:{n}: not a json line ({err})') from None
            if 'loss' in row or 'lr' in row:
                row.setdefault('iter', row.get('step'))
                train.append(row)
            else:
                row['iter'] = row.get('step', row.get('iter'))
                val.append(row)
    if not train and not val:
        raise ValueError(f'{path}: no scalar rows (is it an mmengine vis_data json log?)')
    return train, val


def series(rows, key):
    """(iterations, values) of ``key`` over the rows that have it."""
    pts = [(r['iter'], r[key]) for r in rows if key in r and r.get('iter') is not None]
    return np.array([p[0] for p in pts], dtype=float), np.array([p[1] for p in pts], dtype=float)


def plot_curve(logs, keys, legend=None, out='curve.png', title=None, baseline_from_first=False):
    """One panel per key, one line per log; returns the path written."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    legend = legend or [osp.basename(p) for p in logs]
    if len(legend) != len(logs):
        raise ValueError(f'--legend has {len(legend)} names for {len(logs)} logs')
    loaded = [load_json_log(p) for p in logs]
    fig, axes = plt.subplots(1, len(keys), figsize=(4.6 * len(keys), 3.6), squeeze=False)
    for ax, key in zip(axes[0], keys):
        found = False
        for i, ((train, val), name) in enumerate(zip(loaded, legend)):
            for rows, style in ((train, '-'), (val, 'o-')):
                it, v = series(rows, key)
                if not len(it):
                    continue
                found = True
                ax.plot(it, v, style, color=f'C{i}', label=name, markersize=4, linewidth=1.4)
                if baseline_from_first and rows is val:
                    ax.axhline(v[0], color=f'C{i}', linestyle='--', linewidth=0.9, alpha=0.7)
        if not found:
            raise KeyError(f'no log has the key {key!r}; keys seen: {sorted(_keys(loaded))}')
        ax.set_xlabel('iteration')
        ax.set_title(key, fontsize=10)
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def _keys(loaded):
    return {k for train, val in loaded for rows in (train, val) for r in rows for k in r}


def cal_train_time(logs):
    """Per log: mean / slowest / fastest seconds per iteration (``time`` of the training rows)."""
    out = []
    for path in logs:
        train, _ = load_json_log(path)
        t = np.array([r['time'] for r in train if 'time' in r], dtype=float)
        if not len(t):
            raise ValueError(f'{path}: no training row has a time')
        out.append(dict(log=path, rows=len(t), mean=float(t.mean()), slowest=float(t.max()), fastest=float(t.min())))
        print(f'{path}\n  {len(t)} logged iterations: average {t.mean():.3f} s/iter, slowest {t.max():.3f}, '
              f'fastest {t.min():.3f}')
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest='task', required=True)
    pc = sub.add_parser('plot_curve', help='plot keys against the iteration')
    pc.add_argument('json_logs', nargs='+')
    pc.add_argument('--keys', nargs='+', default=['loss'])
    pc.add_argument('--legend', nargs='+', default=None)
    pc.add_argument('--title', default=None)
    pc.add_argument('--baseline-from-first', action='store_true',
                    help='dashed line at the first validation value (iteration 0)')
    pc.add_argument('--out', default='curve.png')
    ct = sub.add_parser('cal_train_time', help='seconds per iteration')
    ct.add_argument('json_logs', nargs='+')
    args = p.parse_args(argv)
    if args.task == 'plot_curve':
        path = plot_curve(args.json_logs, args.keys, args.legend, args.out, args.title, args.baseline_from_first)
        print(f'curve written to {path}')
        return path
    return cal_train_time(args.json_logs)


if __name__ == '__main__':
    main()
