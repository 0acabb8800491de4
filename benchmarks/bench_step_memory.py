#!/usr/bin/env python
"""Where the memory of one Point-JEPA pretraining step goes (ViT-S preset of bench_pretrain_step.py).

Prints two tables for one step (after two untimed ones), fp32 or ``--amp`` (bf16 autocast):

1. bytes kept for backward per component (``torch.autograd.graph.saved_tensors_hooks``; each storage counted
   once, by the component that saved it first): tokenizer (mini-PointNet), context encoder, predictor + loss;
2. the step's tensor-memory peak from ``torch.profiler`` (``profile_memory=True``) split into the profiler's
   categories (parameters, optimizer state, gradients, activations, temporaries), and the highest points of
   the step with the operator running at each, a few apart.

This counts tensors only; ``bench_pretrain_step.py`` prints the process's peak RSS (tensors + Python + torch
+ the allocator's slack). The profiler's memory timeline is a private torch API (``torch.profiler.
_memory_profiler``, torch 2.13); if it changes, table 2 says so and table 1 still prints.
``--root DIR`` imports pjepa3d from another source tree (compare two commits).

    python benchmarks/bench_step_memory.py --amp
    python benchmarks/bench_step_memory.py --amp --root /path/to/old/checkout
"""
import argparse
import collections
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
MIB = 2 ** 20


def build(args):
    """bench_pretrain_step.py's step (same model, clouds, optimizer and optim wrapper) plus the EMA update."""
    import bench_pretrain_step as bench
    import pjepa3d
    cfg = argparse.Namespace(preset='vit-s', tokenizer_impl='fused', batch=args.batch, amp=args.amp)
    model, _, x, _, wrapper, train_step = bench.build_step(cfg)

    def step():
        train_step()
        model.update_target(0.99)
    return model, x, lambda: wrapper.optim_context(model), step, os.path.dirname(pjepa3d.__file__)


def saved_per_component(model, x, amp):
    """MiB kept for backward by each component of ``PointJEPA.loss``."""
    import torch
    phase, seen, per = ['other'], set(), collections.Counter()

    def pack(t):
        key = t.untyped_storage().data_ptr()
        if key not in seen:
            seen.add(key)
            per[phase[0]] += t.untyped_storage().nbytes()
        return t

    originals = []
    for obj, attr, name in ((model.backbone, 'tokenize', 'tokenizer (mini-PointNet)'),
                            (model.backbone, 'encode', 'context encoder'),
                            (model.head, 'loss', 'predictor + loss')):
        fn = getattr(obj, attr)

        def wrapped(*a, _fn=fn, _name=name, **k):
            outer, phase[0] = phase[0], _name
            try:
                return _fn(*a, **k)
            finally:
                phase[0] = outer
        originals.append((obj, attr))
        setattr(obj, attr, wrapped)
    try:
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t), amp():
            model.loss(dict(points=x))
    finally:
        for obj, attr in originals:
            delattr(obj, attr)  # back to the class's method
    return {k: v / MIB for k, v in per.items()}


def profiled_peak(step, top=5):
    """(peak MiB, {category: MiB} at the peak, [(MiB, seconds into the step, operator)] highest points)."""
    import numpy as np
    import torch
    from torch.profiler import ProfilerActivity, profile
    from torch.profiler._memory_profiler import _CATEGORY_TO_INDEX, Action, MemoryProfileTimeline
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True, record_shapes=True,
                 with_stack=True) as prof:
        step()
    mp = prof._memory_profile()
    tl = MemoryProfileTimeline(mp)
    times, sizes = tl._coalesce_timeline(torch.device('cpu'))
    sizes = np.asarray(sizes, dtype=float)
    i = int(sizes.sum(1).argmax())
    labels = ['unknown'] + [('uncategorised' if c is None else c.name.lower()) for c in _CATEGORY_TO_INDEX]
    split = {lab: v / MIB for lab, v in zip(labels, sizes[i]) if v}
    # highest points of the running total (tensor creations / destructions), with the innermost operators
    cur, ts, cs = 0, [], []
    for t, action, _, n in mp.timeline:
        cur += n if action in (Action.PREEXISTING, Action.CREATE) else -n if action == Action.DESTROY else 0
        ts.append(t)
        cs.append(cur)
    ts, cs = np.asarray(ts), np.asarray(cs, dtype=float)
    during = ts >= 0  # tensors alive before the profile (parameters, optimizer state) are listed at t = -1
    ts, cs = ts[during], cs[during]
    start = prof.profiler.kineto_results.trace_start_ns()
    ops = [e for e in prof.events() if e.name.startswith('aten::') or e.name.startswith('<built-in')
           or 'backward' in e.name.lower()]
    span = (ts[-1] - ts[0]) if len(ts) > 1 else 1
    points = []
    for j in np.argsort(-cs):
        if len(points) == top:
            break
        if any(abs(ts[j] - t) < 0.02 * span for _, t, _ in points):
            continue
        t_us = (ts[j] - start) / 1e3
        inside = sorted((e for e in ops if e.time_range.start <= t_us <= e.time_range.end),
                        key=lambda e: e.time_range.end - e.time_range.start)
        op = ' < '.join(f'{e.name}{list(e.input_shapes[0]) if e.input_shapes and e.input_shapes[0] else ""}'
                        for e in inside[:2]) or '?'
        points.append((cs[j] / MIB, ts[j], op))
    return sizes[i].sum() / MIB, split, [(m, (t - ts[0]) / 1e9, op) for m, t, op in points]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--amp', action='store_true', help='bf16 autocast (what tools/train.py --amp runs on a CPU)')
    ap.add_argument('--batch', type=int, default=32)
    ap.add_argument('--root', default=None, help='import pjepa3d from this source tree')
    args = ap.parse_args(argv)
    if args.root:
        sys.path.insert(0, args.root)
    sys.path.insert(0, HERE)
    model, x, amp, step, where = build(args)
    print(f"ViT-S step, batch {args.batch}, {'bf16 autocast' if args.amp else 'fp32'}; pjepa3d from {where}")
    step()
    step()
    saved = saved_per_component(model, x, amp)
    print('\nkept for backward (MiB):')
    for k, v in saved.items():
        print(f'  {k:28s} {v:8.1f}')
    print(f"  {'total':28s} {sum(saved.values()):8.1f}")
    try:
        peak, split, points = profiled_peak(step)
    except Exception as e:  # private API: report, do not fail the first table
        print(f'\nprofiler memory timeline unavailable ({type(e).__name__}: {e})')
        return
    print(f'\ntensor-memory peak of the step: {peak:.1f} MiB')
    for k, v in sorted(split.items(), key=lambda kv: -kv[1]):
        print(f'  {k:28s} {v:8.1f}')
    print('\nhighest points (MiB, s into the profiled step, operator):')
    for m, t, op in points:
        print(f'  {m:7.1f}  {t:6.2f} s  {op[:150]}')


if __name__ == '__main__':
    main()
