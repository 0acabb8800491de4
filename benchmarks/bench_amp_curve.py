#!/usr/bin/env python
"""Does ``tools/train.py --amp`` (bfloat16 autocast on a CPU) track the float32 run? Loss curves and speed.

    MODELNET10_ROOT=data/ModelNet10 python benchmarks/bench_amp_curve.py [--iters 200] \
        [--config configs/point_jepa/pointjepa_vit-t_1xb32-400i_modelnet10.py] [--out-dir work_dirs/bench_amp_curve]

Runs ``tools/train.py CONFIG --no-validate --no-keep-heap`` twice from the same seed (the config's ``randomness``),
for ``--iters`` iterations: once in float32, once with ``--amp`` (``pjepa3d.BF16AmpOptimWrapper`` on a CPU, mmengine's
``AmpOptimWrapper`` on a GPU); with ``--keep-heap`` a third time with ``--amp --keep-heap`` (what ``tools/train.py
--amp`` does by default on a CPU), whose speed and loss are compared with the ``--amp`` run's. The runs are
sequential, never in parallel (run it on an idle machine). Reads both runs' json scalar logs and prints, at every
logged iteration, the two losses and their difference; then the mean / max absolute and relative differences, and the
mean seconds per iteration of each run (mmengine's ``time``, iterations after the first logging interval) with their
ratio. Writes ``<out-dir>/amp_curve.png`` (both loss curves and the difference) and ``<out-dir>/amp_curve.json``.
"""
import argparse
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)

DEFAULT_CONFIG = osp.join('configs', 'point_jepa', 'pointjepa_vit-t_1xb32-400i_modelnet10.py')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--config', default=DEFAULT_CONFIG)
    p.add_argument('--iters', type=int, default=200)
    p.add_argument('--log-interval', type=int, default=10)
    p.add_argument('--out-dir', default=osp.join(ROOT, 'work_dirs', 'bench_amp_curve'))
    p.add_argument('--cfg-options', nargs='*', default=[], help='extra --cfg-options for both runs')
    p.add_argument('--keep-heap', action='store_true',
                   help='a third run, --amp --keep-heap (glibc keeps freed memory): its speed against --amp, and '
                        'whether its loss equals --amp\'s (the allocator changes no maths)')
    return p.parse_args(argv)


def train(args, name, amp, heap=False):
    work_dir = osp.join(args.out_dir, name)
    cmd = [sys.executable, osp.join(ROOT, 'tools', 'train.py'), args.config, '--work-dir', work_dir, '--no-validate',
           '--cfg-options', f'train_cfg.max_iters={args.iters}', f'default_hooks.logger.interval={args.log_interval}',
           f'default_hooks.checkpoint.interval={args.iters}', *args.cfg_options]
    cmd += (['--amp'] if amp else []) + (['--keep-heap'] if heap else ['--no-keep-heap'])
    print(f'[bench_amp_curve] {name}: {" ".join(cmd)}', flush=True)
    t0 = time.perf_counter()
    with open(osp.join(args.out_dir, f'{name}.log'), 'w') as log:
        proc = subprocess.run(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    if proc.returncode:
        sys.exit(f'bench_amp_curve.py: the {name} run failed (exit {proc.returncode}); see '
                 f'{osp.join(args.out_dir, name + ".log")}')
    print(f'[bench_amp_curve] {name}: {time.perf_counter() - t0:.0f} s', flush=True)
    logs = sorted(glob.glob(osp.join(work_dir, '2*', 'vis_data', '2*.json')))
    from tools.analysis_tools.analyze_logs import load_json_log
    rows, _ = load_json_log(logs[-1])
    return {int(r['iter']): r for r in rows if 'loss' in r}


def main(argv=None):
    args = parse_args(argv)
    from pjepa3d.engine.distributed import has_accelerator
    from pjepa3d.engine.optimizers import cpu_bf16_slow_reason, cpu_has_bf16_path
    if not has_accelerator() and not cpu_has_bf16_path():  # --amp would train in float32: nothing to compare
        sys.exit(f'bench_amp_curve.py: {cpu_bf16_slow_reason()}; tools/train.py --amp trains in float32 on such a '
                 'CPU, so there is no bfloat16 run to compare; nothing was run')
    os.makedirs(args.out_dir, exist_ok=True)
    plan = (('fp32', False, False), ('amp', True, False)) + ((('amp_heap', True, True),) if args.keep_heap else ())
    runs = {name: train(args, name, amp, heap) for name, amp, heap in plan}
    iters = sorted(set(runs['fp32']) & set(runs['amp']))
    if not iters:
        sys.exit('bench_amp_curve.py: no logged iteration in common')
    print(f'\nloss of the two runs ({args.config}, {args.iters} iterations, same seed)\n')
    print('| iteration | float32 loss | --amp loss | difference | relative |')
    print('| --: | --: | --: | --: | --: |')
    diffs = []
    for it in iters:
        a, b = runs['fp32'][it]['loss'], runs['amp'][it]['loss']
        diffs.append((it, a, b, b - a, (b - a) / abs(a)))
        print(f'| {it} | {a:.4f} | {b:.4f} | {b - a:+.4f} | {100 * (b - a) / abs(a):+.2f} % |')
    absd = [abs(d[3]) for d in diffs]
    reld = [abs(d[4]) for d in diffs]
    speed = {name: [r['time'] for it, r in rows.items() if it > args.log_interval] for name, rows in runs.items()}
    mean_t = {name: sum(v) / len(v) for name, v in speed.items() if v}
    summary = dict(config=args.config, iters=args.iters, mean_abs_diff=sum(absd) / len(absd), max_abs_diff=max(absd),
                   mean_rel_diff=sum(reld) / len(reld), max_rel_diff=max(reld), s_per_iter=mean_t,
                   speedup=mean_t['fp32'] / mean_t['amp'] if 'fp32' in mean_t and 'amp' in mean_t else None,
                   rows=[dict(iter=d[0], fp32=d[1], amp=d[2]) for d in diffs])
    print(f"\n|loss difference|: mean {summary['mean_abs_diff']:.4f}, max {summary['max_abs_diff']:.4f}; relative: "
          f"mean {100 * summary['mean_rel_diff']:.2f} %, max {100 * summary['max_rel_diff']:.2f} %")
    if summary['speedup']:
        print(f"s / iteration (mmengine 'time', after iteration {args.log_interval}): float32 {mean_t['fp32']:.3f}, "
              f"--amp {mean_t['amp']:.3f}: {summary['speedup']:.2f}x")
    if 'amp_heap' in runs:
        both = sorted(set(runs['amp']) & set(runs['amp_heap']))
        heap_diff = max(abs(runs['amp_heap'][it]['loss'] - runs['amp'][it]['loss']) for it in both)
        summary.update(heap_speedup=mean_t['amp'] / mean_t['amp_heap'] if 'amp_heap' in mean_t else None,
                       heap_max_abs_diff=heap_diff)
        print(f"--amp --keep-heap: {mean_t.get('amp_heap', float('nan')):.3f} s / iteration, "
              f"{summary['heap_speedup'] or float('nan'):.2f}x --amp; largest |loss difference| from --amp over "
              f"{len(both)} logged iterations: {heap_diff:.6f}")

    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    ax1.plot(iters, [d[1] for d in diffs], label='float32')
    ax1.plot(iters, [d[2] for d in diffs], '--', label='--amp (bfloat16 autocast)')
    ax1.set_xlabel('iteration'), ax1.set_ylabel('loss'), ax1.legend(), ax1.set_title('training loss')
    ax2.plot(iters, [100 * d[4] for d in diffs], 'k.-')
    ax2.axhline(0, color='grey', lw=0.5)
    ax2.set_xlabel('iteration'), ax2.set_ylabel('(amp - fp32) / fp32, %'), ax2.set_title('relative difference')
    fig.suptitle(f'{osp.basename(args.config)}: float32 vs --amp, same seed')
    fig.tight_layout()
    png = osp.join(args.out_dir, 'amp_curve.png')
    fig.savefig(png, dpi=100)
    with open(osp.join(args.out_dir, 'amp_curve.json'), 'w') as f:
        json.dump(summary, f, indent=2)
    print(f'\nwrote {png} and {osp.join(args.out_dir, "amp_curve.json")}')


if __name__ == '__main__':
    main()
