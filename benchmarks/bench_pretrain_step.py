#!/usr/bin/env python
"""One Point-JEPA pretraining step (ViT-S preset): samples/s, peak memory, breakdown, FLOPs.

The step is the real one: ``model.loss(dict(points=x))``, ``loss.backward()``, an
AdamW step and ``model.update_target(0.99)`` (the EMA), on random (B, 1024, 3)
clouds, 64 groups x 32 points, encoder 384 x 12 (6 heads, drop-path 0.1),
predictor 192 x 6, ``region`` masking.

The step goes through the optim wrapper ``tools/train.py`` builds: mmengine's ``OptimWrapper`` in fp32,
pjepa3d's ``BF16AmpOptimWrapper`` (what ``tools/train.py --amp`` selects on a CPU) with ``--amp``:
``with wrapper.optim_context(model): loss = model.loss(...)``, ``wrapper.update_params(loss)``.
``--tokenizer-impl fused fused-dense reference`` adds rows for the mini-PointNet's implementations (``fused-dense``:
the fused path with its max-pool gradients multiplied as dense matrices, as it did before 2026-12-05);
``--compile`` adds rows with that step compiled by ``torch.compile`` (what mmengine's ``compile=True``
does to ``train_step``), timed after its compilation warm-up (compile time printed separately).

Each configuration (fp32, and bf16 autocast with ``--amp``) runs in a FRESH
subprocess, so its peak RSS (``ru_maxrss``, the high-water mark of the whole
process: Python + torch + model + activations) is its own. In that process:

1. warm-up steps, then ``--steps`` timed steps: median step time -> samples/s;
2. a per-component breakdown from instrumented steps (the same calls as
   ``PointJEPA.loss``, with timestamps, and autograd hooks marking where the
   backward leaves the predictor, the context encoder and the mini-PointNet);
3. the FLOPs of one step (``torch.utils.flop_counter.FlopCounterMode``: matmuls
   and attention, forward + backward; elementwise ops not counted) and the
   achieved GFLOP/s, next to a 2048^3 fp32 matmul measured in the same process.
   Matrix products are counted at their real cost (``flop_counter``): the mini-PointNet's
   sparse backward products (``fused`` in float32 on a CPU) by their stored entries (torch's
   own counter takes their shapes, as if dense: about 32x their work), the in-place
   ``addmm_`` and the CPU attention kernels (not counted by torch's).

``--preset nus-lidar`` times the LiDAR pretraining step of
``projects/PointJEPA_nuScenes/configs/pointjepa_vit-s_8xb16-100e_nus-lidar.py`` instead (its model: ViT-S,
M = 1,024 patches of k = 32 points, 4 channels) on random (B, 16384, 4) scans in a 100 m x 100 m x 8 m box
(default batch 2 on a CPU; the config trains 16 per GPU).

``--authors-root DIR`` (ViT-S preset) adds the authors' own step as a row, run in the same way (a fresh process,
the same clouds, warm-up and median): their ``PointJepa`` from a checkout DIR of their repository, built from
their pretraining config, fp32 (``authors_reference.py`` says what stands in for Lightning and pytorch3d). The
"vs authors" column then divides by that row's samples/s from the same run (``--rounds N`` repeats every row N
times, interleaved, each round against its own authors row). Without it, the column divides by the constant
7.15 samples/s (4.47 s a step: SPEC sec. 7, the figure issue 10 measured side by side on 2026-11-30), printed as
a row marked as not run here. With ``--malloc`` their step also runs with glibc's heap kept ("authors ... +heap"):
"vs authors" stays against their step as they run it (what a user of either code gets), and the "same heap" column
divides each row by their step under the row's own heap setting (code against code: how much of the ratio the heap
setting alone explains).
"""
import argparse
import json
import logging
import os
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

AUTHORS = dict(step_s=4.47, samples_per_s=7.15, peak_rss_gb=2.9)  # SPEC sec. 7, batch 32, fp32, same host kind


def cpu_description():
    """The CPU the table was measured on: its model name, PyTorch's dispatch capability and whether oneDNN has a
    bfloat16 path (without one, the bf16 rows are many times slower than fp32: see BF16AmpOptimWrapper)."""
    import platform

    import torch

    from pjepa3d.engine.optimizers import cpu_has_bf16_path
    name = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            name = next((ln.split(':', 1)[1].strip() for ln in f if ln.startswith('model name')), name)
    except OSError:
        pass
    return (f'CPU: {name}, {os.cpu_count()} logical cores; torch {torch.__version__}, CPU capability '
            f'{torch.backends.cpu.get_cpu_capability()}, oneDNN bfloat16 path: '
            f'{"yes" if cpu_has_bf16_path() else "no"}')


def model_cfg(tokenizer_impl='fused'):
    tokenizer = dict(type='PointPatchTokenizer', num_groups=64, group_size=32, embed_dims=384)
    if tokenizer_impl != 'fused':  # older checkouts (--root) have no switch; 'fused' is their only path
        tokenizer['embed_impl'] = tokenizer_impl
    return dict(
        type='PointJEPA',
        backbone=dict(type='PointPatchTransformer',
                      tokenizer=tokenizer,
                      encoder=dict(type='PointTransformerEncoder', embed_dims=384, depth=12, num_heads=6,
                                   drop_path_rate=0.1)),
        masker=dict(type='RegionMasker', mode='region'),
        head=dict(type='JEPAHead', predictor=dict(type='JEPAPredictor', in_dims=384, embed_dims=192, depth=6,
                                                  num_heads=6)))


NUS_LIDAR_CONFIG = os.path.join(os.path.dirname(HERE), 'projects', 'PointJEPA_nuScenes', 'configs',
                                'pointjepa_vit-s_8xb16-100e_nus-lidar.py')
PRESETS = {  # model config, points per cloud, channels, default batch
    'vit-s': dict(points=1024, channels=3, batch=32),
    'nus-lidar': dict(points=16384, channels=4, batch=2),
}


def preset_model_cfg(args):
    if args.preset == 'vit-s':
        return model_cfg(args.tokenizer_impl)
    from mmengine.config import Config
    if os.path.dirname(HERE) not in sys.path:  # the config imports projects.PointJEPA_nuScenes.pointjepa_nus
        sys.path.append(os.path.dirname(HERE))
    cfg = Config.fromfile(NUS_LIDAR_CONFIG).model.to_dict()
    if args.tokenizer_impl != 'fused':
        cfg['backbone']['tokenizer']['embed_impl'] = args.tokenizer_impl
    return cfg


def random_clouds(args):
    import torch
    p = PRESETS[args.preset]
    if args.preset == 'vit-s':
        return torch.rand(args.batch, p['points'], 3) * 2 - 1
    xyz = (torch.rand(args.batch, p['points'], 3) * 2 - 1) * torch.tensor([51.2, 51.2, 4.0])
    return torch.cat([xyz, torch.rand(args.batch, p['points'], 1) * 255], dim=-1)  # + intensity


def matmul_gflops(n=2048, repeats=5):
    import torch
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        ts.append(time.perf_counter() - t0)
    return 2 * n ** 3 / statistics.median(ts) / 1e9


def _instrumented_step(model, opt, x, amp):
    """One step with the calls of PointJEPA.loss timed; backward split by autograd hooks."""
    import torch
    from pjepa3d.ops import gather_points
    T = {}
    now = time.perf_counter
    ctx_mgr = amp if amp is not None else torch.autocast('cpu', enabled=False)
    t0 = now()
    with ctx_mgr:
        tok = model.backbone.tokenizer
        groups, centres = tok.group(x)
        t1 = now()
        tokens = tok.embed_groups(groups)
        t2 = now()
        pos = model.backbone.pos_embed(centres)
        mask = model.masker(centres)
        t3 = now()
        target_all = model._target_features(groups, tokens, pos, centres)
        targets = gather_points(target_all, mask.target_idx)
        t4 = now()
        ctx_in = gather_points(tokens, mask.context_idx)
        ctx = model.backbone.encoder(ctx_in, gather_points(pos, mask.context_idx))
        t5 = now()
        loss, _ = model.head.loss(ctx, gather_points(centres, mask.context_idx),
                                  gather_points(centres, mask.target_idx), targets, mask.target_valid)
        t6 = now()
    marks = {}

    def mark(name):
        def hook(grad):
            marks.setdefault(name, now())  # returns None: the gradient is left unchanged
        return hook
    ctx.register_hook(mark('pred_done'))
    tokens.register_hook(mark('ctx_done'))
    opt.zero_grad(set_to_none=True)
    t7 = now()
    loss.backward()
    t8 = now()
    opt.step()
    t9 = now()
    model.update_target(0.99)
    t10 = now()
    T['grouping (FPS+kNN+gather)'] = t1 - t0
    T['mini-PointNet fwd+bwd'] = (t2 - t1) + (t8 - marks['ctx_done'])
    T['masker + pos. encoding'] = t3 - t2
    T['target encoder (fwd, no grad)'] = t4 - t3
    T['context encoder fwd+bwd'] = (t5 - t4) + (marks['ctx_done'] - marks['pred_done'])
    T['predictor + loss fwd+bwd'] = (t6 - t5) + (marks['pred_done'] - t7)
    T['optimizer (AdamW)'] = t9 - t8
    T['EMA update'] = t10 - t9
    T['total (instrumented)'] = t10 - t0
    return T


def _mm_flops(a, b):
    """Multiply-add FLOPs (2 per multiply-add) of ``a @ b``; a sparse operand costs its stored entries only."""
    import torch
    if a.layout != torch.strided:
        return 2 * a._nnz() * b.shape[1]
    if b.layout != torch.strided:
        return 2 * b._nnz() * a.shape[0]
    return 2 * a.shape[0] * a.shape[1] * b.shape[1]


def _counted_mm(a, b, *args, out_val=None, **kwargs):
    return _mm_flops(a, b)


def _counted_addmm(self, a, b, *args, out_val=None, **kwargs):
    return _mm_flops(a, b)


def _as_raw(formula):
    """``formula`` as a FlopCounterMode entry that gets the op's tensors, not their shapes (torch's own registered
    formulas under their module names are already the shape-reading wrappers, so they want the tensors too)."""
    def counted(*args, **kwargs):
        return formula(*args, **kwargs)
    counted._get_raw = True
    return counted


def flop_counter():
    """torch's FlopCounterMode, with matrix products counted at their real cost: a sparse (CSR) x dense product
    (the mini-PointNet's float32 backward on a CPU) by its stored entries, where torch counts its shapes as if
    dense (about 32x its work here); the in-place ``addmm_`` and the CPU kernels of ``scaled_dot_product_attention``
    (forward and backward, with torch's formulas for the GPU kernels) too, which torch does not count at all."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode, sdpa_backward_flop, sdpa_flop
    aten = torch.ops.aten
    return FlopCounterMode(display=False, custom_mapping={
        aten.mm: _as_raw(_counted_mm), aten.addmm: _as_raw(_counted_addmm), aten.addmm_: _as_raw(_counted_addmm),
        aten._scaled_dot_product_flash_attention_for_cpu: _as_raw(sdpa_flop),
        aten._scaled_dot_product_flash_attention_for_cpu_backward: _as_raw(sdpa_backward_flop)})


def _step_flops(model, opt, x, amp):
    """FLOPs of one step (forward + backward), counted by :func:`flop_counter`."""
    counter = flop_counter()
    with counter:
        if amp is not None:
            with amp:
                out = model.loss(dict(points=x))
        else:
            out = model.loss(dict(points=x))
        opt.zero_grad(set_to_none=True)
        out['loss'].backward()
    opt.zero_grad(set_to_none=True)
    return counter.get_total_flops()


def build_step(args):
    """The preset's model, AdamW, clouds and optim wrapper, and ``train_step()`` (one forward + backward +
    optimizer step through the wrapper, as ``tools/train.py`` runs it; the EMA update is the caller's).

    Returns ``(model, opt, x, amp, wrapper, train_step)``; ``amp`` is the bf16 autocast context with ``args.amp``,
    else None. Also used by ``bench_step_memory.py``, so both measure the same step."""
    import torch
    import pjepa3d.models  # noqa: F401
    from mmengine.optim import OptimWrapper
    from pjepa3d.registry import MODELS
    torch.manual_seed(0)
    model = MODELS.build(preset_model_cfg(args))
    model.update_target(0.0)
    model.train()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4, weight_decay=0.05)
    x = random_clouds(args)
    amp = torch.autocast('cpu', dtype=torch.bfloat16) if args.amp else None
    if args.amp:
        try:
            from pjepa3d.engine.optimizers import BF16AmpOptimWrapper
            wrapper = BF16AmpOptimWrapper(optimizer=opt)
        except ImportError:  # a checkout (--root) from before the wrapper: the same autocast by hand
            wrapper = OptimWrapper(optimizer=opt)
            wrapper.optim_context = lambda model: amp
    else:
        wrapper = OptimWrapper(optimizer=opt)

    def train_step():  # mmengine's BaseModel.train_step minus the data preprocessor
        with wrapper.optim_context(model):
            out = model.loss(dict(points=x))
        wrapper.update_params(out['loss'])
        return out['loss']
    return model, opt, x, amp, wrapper, train_step


def time_steps(step, args):
    """``args.warmup`` untimed calls, then ``args.steps`` timed ones: (median s, all times, peak RSS GiB so far)."""
    for _ in range(args.warmup):
        step()
    times = []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2  # KiB


def authors_worker(args):
    """The authors' step in a fresh process (``--authors-root``); print one JSON line like ``worker``."""
    import torch
    sys.path.insert(0, HERE)
    from authors_reference import build_authors_step
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x = random_clouds(args)
    model, step = build_authors_step(args.authors_root, x)
    step_s, times, rss_gb = time_steps(step, args)
    flops, flops_error = None, None
    if not args.no_breakdown:
        try:
            counter = flop_counter()
            with counter:
                model.training_step((x, None), 0).backward()
            flops = counter.get_total_flops()
        except Exception as e:
            flops_error = f'{type(e).__name__}: {e}'
    res = dict(config='authors', batch=args.batch, threads=torch.get_num_threads(), step_s=step_s, step_times=times,
               samples_per_s=args.batch / step_s, peak_rss_gb=rss_gb, breakdown=None, breakdown_error=None,
               flops=flops, flops_error=flops_error, matmul_gflops=matmul_gflops(),
               authors_root=os.path.abspath(args.authors_root))
    print('RESULT ' + json.dumps(res))


def worker(args):
    """Run in a fresh process; print one JSON line."""
    if args.authors_root:
        return authors_worker(args)
    if args.root:
        sys.path.insert(0, args.root)
    import torch
    logging.getLogger('mmengine').setLevel(logging.WARNING)
    from mmengine.logging import MMLogger
    MMLogger.get_instance('mmengine').setLevel(logging.WARNING)
    import pjepa3d

    if args.threads:
        torch.set_num_threads(args.threads)
    model, opt, x, amp, wrapper, train_step = build_step(args)
    run_step = torch.compile(train_step) if args.compile else train_step

    def step():
        loss = run_step()
        model.update_target(0.99)
        return loss.item()

    compile_s = None
    if args.compile:  # the first calls compile (and may recompile once for the second call's state)
        t0 = time.perf_counter()
        step()
        step()
        compile_s = time.perf_counter() - t0
    step_s, times, rss_gb = time_steps(step, args)

    # ---- only when asked: per-component breakdown and FLOPs (the model's internals may change: keep the
    # headline numbers and report why a part is unavailable)
    breakdown, breakdown_error = None, None
    flops, flops_error = None, None
    if not args.no_breakdown:
        try:
            runs = [_instrumented_step(model, opt, x, amp) for _ in range(args.breakdown_steps)]
            breakdown = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        except Exception as e:
            breakdown_error = f'{type(e).__name__}: {e}'
        try:
            flops = _step_flops(model, opt, x, amp)
        except Exception as e:
            flops_error = f'{type(e).__name__}: {e}'

    res = dict(config='bf16 autocast' if args.amp else 'fp32', compile_s=compile_s, batch=args.batch,
               threads=torch.get_num_threads(), step_s=step_s, step_times=times, samples_per_s=args.batch / step_s,
               peak_rss_gb=rss_gb,
               breakdown=breakdown, breakdown_error=breakdown_error, flops=flops, flops_error=flops_error,
               matmul_gflops=matmul_gflops(), pjepa3d=os.path.dirname(pjepa3d.__file__))
    print('RESULT ' + json.dumps(res))


def run_config(args, amp, malloc=False, impl='fused', compiled=False, authors=False):
    cmd = [sys.executable, os.path.abspath(__file__), '--worker', '--batch', str(args.batch),
           '--steps', str(args.steps), '--warmup', str(args.warmup), '--breakdown-steps', str(args.breakdown_steps),
           '--tokenizer-impl', impl, '--preset', args.preset]
    if args.no_breakdown or compiled:
        cmd.append('--no-breakdown')
    if authors:
        cmd += ['--authors-root', args.authors_root]
    if amp:
        cmd.append('--amp')
    if compiled:
        cmd.append('--compile')
    if args.threads:
        cmd += ['--threads', str(args.threads)]
    if args.root:
        cmd += ['--root', args.root]
    # glibc keeps freed memory in the heap: what tools/train.py sets by default on a CPU (--keep-heap). Imported
    # here, in the parent only: a worker imports pjepa3d from --root. Rows without "+heap" run without the
    # variables even when this process has them (tools/train.py --no-keep-heap; the authors' code as it runs).
    from pjepa3d.utils.cpu_heap import HEAP_ENV
    env = {k: v for k, v in os.environ.items() if k not in HEAP_ENV}
    if malloc:
        env.update(HEAP_ENV)
    label = ('authors (their code, fp32)' if authors else ('bf16 autocast' if amp else 'fp32')) + \
        (' +heap' if malloc else '') + ('' if impl == 'fused' or authors else f' {impl}') + \
        (' compiled' if compiled else '')
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    for line in proc.stdout.splitlines():
        if line.startswith('RESULT '):
            res = json.loads(line[7:])
            res.update(config=label, heap=malloc, authors=authors)
            return res
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
    return dict(config=label, heap=malloc, authors=authors, error='\n'.join(tail))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--preset', default='vit-s', choices=list(PRESETS),
                    help="vit-s: batch 32 of 1,024-point clouds, 64 x 32 groups (default); nus-lidar: the nuScenes "
                         "LiDAR pretraining config, 16,384-point scans, 1,024 x 32 groups, batch 2")
    ap.add_argument('--batch', type=int, default=None, help='clouds per step (default: the preset\'s)')
    ap.add_argument('--steps', type=int, default=None, help='timed steps per configuration (default 7; 2 --quick)')
    ap.add_argument('--warmup', type=int, default=None, help='untimed steps first (default 2; 1 --quick)')
    ap.add_argument('--breakdown-steps', type=int, default=None, help='instrumented steps (default 3; 1 --quick)')
    ap.add_argument('--amp', action='store_true', help='also run a bf16-autocast configuration')
    ap.add_argument('--malloc', action='store_true',
                    help='also run each configuration with glibc malloc kept from returning memory to the OS '
                         '(MALLOC_MMAP_MAX_=0, MALLOC_TRIM_THRESHOLD_ huge): rows marked "+heap", what '
                         'tools/train.py does by default on a CPU; rows without it are tools/train.py --no-keep-heap')
    ap.add_argument('--tokenizer-impl', nargs='+', default=['fused'], choices=['fused', 'fused-dense', 'reference'],
                    help="mini-PointNet implementations to run (PointPatchTokenizer.embed_impl); default fused")
    ap.add_argument('--compile', action='store_true',
                    help='also run every configuration with the step compiled by torch.compile')
    ap.add_argument('--no-breakdown', action='store_true', help='skip the per-component breakdown and FLOPs')
    ap.add_argument('--quick', action='store_true', help='short run: batch 8 unless --batch is given, 2 steps')
    ap.add_argument('--threads', type=int, default=None, help='torch intra-op threads (default: torch default)')
    ap.add_argument('--root', default=None, help='import pjepa3d from this source tree (e.g. an old checkout)')
    ap.add_argument('--out', default=None, help='write the results as JSON to this path')
    ap.add_argument('--authors-root', default=None,
                    help="a checkout of the authors' Point-JEPA repository (github.com/Ayumu-J-S/Point-JEPA): time "
                         "their step as a row of this run and divide by it in 'vs authors' (ViT-S preset only)")
    ap.add_argument('--rounds', type=int, default=1,
                    help='run every row this many times, interleaved (each round against its own authors row)')
    ap.add_argument('--worker', action='store_true', help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.authors_root and args.preset != 'vit-s':
        ap.error('--authors-root: the authors have a step for the ViT-S object preset only')
    if args.authors_root and not args.worker:
        model_file = os.path.join(args.authors_root, 'pointjepa', 'models', 'point_jepa.py')
        if not os.path.isfile(model_file):
            ap.error(f'--authors-root {args.authors_root}: {model_file} not found (give a checkout of '
                     'https://github.com/Ayumu-J-S/Point-JEPA)')
    if args.rounds < 1:
        ap.error('--rounds must be at least 1')
    if args.batch is None:
        args.batch = 8 if args.quick and args.preset == 'vit-s' else PRESETS[args.preset]['batch']
    args.steps = args.steps or (2 if args.quick else 7)
    args.warmup = args.warmup or (1 if args.quick else 2)
    args.breakdown_steps = args.breakdown_steps or (1 if args.quick else 3)
    if args.worker:
        args.tokenizer_impl = args.tokenizer_impl[0]
        return worker(args)

    configs = [(False, False)] + ([(True, False)] if args.amp else [])
    if args.malloc:
        configs += [(amp, True) for amp, _ in configs]
    runs = [(amp, malloc, impl, False, False) for impl in args.tokenizer_impl for amp, malloc in configs]
    if args.compile:
        runs += [(amp, malloc, impl, True, False) for amp, malloc, impl, _, _ in list(runs)]
    if args.authors_root:  # their step as they run it; with --malloc also with glibc's heap kept, as ours is
        runs[:0] = [(False, malloc, 'fused', False, True) for malloc in ((False, True) if args.malloc else (False,))]
    results = []
    total = len(runs) * args.rounds
    cpu = cpu_description()  # printed before the rows run and again above the table
    print(f'[bench] {cpu}', file=sys.stderr, flush=True)
    from pjepa3d.engine.optimizers import cpu_has_bf16_path
    if args.amp and not cpu_has_bf16_path():
        print('[bench] warning: without a oneDNN bfloat16 path the bf16 rows run about 10x slower than fp32 '
              '(several minutes each at the ViT-S preset)', file=sys.stderr, flush=True)
    for rnd in range(args.rounds):
        for amp, malloc, impl, compiled, authors in runs:
            print(f'[bench] running {len(results) + 1}/{total} ...', file=sys.stderr, flush=True)
            res = run_config(args, amp, malloc, impl, compiled, authors)
            res['round'] = rnd + 1
            results.append(res)
    # the reference of each row: the authors' step as they run it (glibc's default heap) in the same round when it
    # ran, else the constant (ViT-S only); and, where it ran (--malloc), their step with the row's heap setting
    by_heap = {(r['round'], r['heap']): r for r in results if r['authors'] and 'error' not in r}
    measured = {rnd: r for (rnd, heap), r in by_heap.items() if not heap}
    for r in results:
        if 'error' in r or args.preset != 'vit-s':
            continue
        ref = measured.get(r['round'])
        r['vs_authors'] = r['samples_per_s'] / (ref['samples_per_s'] if ref else AUTHORS['samples_per_s'])
        r['vs_authors_reference'] = 'measured, same round' if ref else 'constant (SPEC sec. 7)'
        same = by_heap.get((r['round'], r['heap']))
        if same is not None:
            r['vs_authors_same_heap'] = r['samples_per_s'] / same['samples_per_s']

    def label(r):
        return r['config'] + (f" [round {r['round']}]" if args.rounds > 1 else '')
    what = ('Point-JEPA ViT-S pretraining step, batch {b}, 1024 points, 64 x 32 groups' if args.preset == 'vit-s'
            else 'Point-JEPA nuScenes LiDAR pretraining step (ViT-S), batch {b}, 16,384 points x 4 channels, '
                 '1,024 x 32 groups')
    print(what.format(b=args.batch) + f'; median of {args.steps} steps after {args.warmup} warm-up; '
          'each row a fresh process' + (f'; {args.rounds} interleaved rounds' if args.rounds > 1 else ''))
    print(cpu)
    hdr = f"{'config':<44} {'step s':>7} {'samples/s':>9} {'vs authors':>10} {'same heap':>9} {'peak RSS GB':>11} " \
          f"{'GFLOP/step':>10} {'GFLOP/s':>8} {'matmul GFLOP/s':>14}"
    print(hdr)
    print('-' * len(hdr))
    for r in results:
        if 'error' in r:
            print(f"{label(r):<34} failed: {r['error']}")
            continue
        gf = r['flops'] / 1e9 if r['flops'] else None
        gf_s = '-' if gf is None else format(gf, '.0f')
        rate_s = '-' if gf is None else format(gf / r['step_s'], '.0f')
        vs = format(r['vs_authors'], '9.2f') + 'x' if 'vs_authors' in r else format('-', '>10')
        same = format(r['vs_authors_same_heap'], '8.2f') + 'x' if 'vs_authors_same_heap' in r else format('-', '>9')
        print(f"{label(r):<44} {r['step_s']:>7.2f} {r['samples_per_s']:>9.2f} "
              f"{vs} {same} {r['peak_rss_gb']:>11.2f} "
              f"{gf_s:>10} {rate_s:>8} {r['matmul_gflops']:>14.0f}")
    if args.preset == 'vit-s' and len(measured) < args.rounds:
        print(f"{'authors (SPEC sec. 7)':<44} {AUTHORS['step_s']:>7.2f} {AUTHORS['samples_per_s']:>9.2f} "
              f"{'1.00x':>10} {'-':>9} {AUTHORS['peak_rss_gb']:>11.2f}   (batch 32, their code, not run by this "
              "script: the reference of rows without a measured authors row in their round)")
    if measured:
        theirs = statistics.median(r['step_s'] for r in measured.values())
        theirs_rss = statistics.median(r['peak_rss_gb'] for r in measured.values())
        print(f"\nvs the authors' step measured in this run ({len(measured)} round(s); their median step "
              f"{theirs:.2f} s, peak RSS {theirs_rss:.2f} GB): median step time over the rounds, theirs / ours; "
              "per round (against that round's authors row) in brackets")
        for name in dict.fromkeys(r['config'] for r in results if 'vs_authors' in r):
            rows = [r for r in results if r['config'] == name and r['round'] in measured]
            if not rows or rows[0]['authors']:
                continue
            ours = statistics.median(r['step_s'] for r in rows)
            rss = statistics.median(r['peak_rss_gb'] for r in rows)
            per_round = ', '.join(format(r['vs_authors'], '.2f') + 'x' for r in rows)
            same = ''
            if rows[0]['heap'] and all('vs_authors_same_heap' in r for r in rows):  # theirs with the heap kept too
                theirs_heap = statistics.median(by_heap[(r['round'], True)]['step_s'] for r in rows)
                same = (f"; against their step with the heap kept too {theirs_heap / ours:.2f}x ("
                        + ', '.join(format(r['vs_authors_same_heap'], '.2f') + 'x' for r in rows) + ')')
            print(f"  {name:<32} {theirs / ours:.2f}x samples/s ({per_round}){same}; "
                  f"peak RSS {rss:.2f} GB = {rss / theirs_rss:.2f}x theirs")
    for r in results:
        if r.get('flops_error') and r.get('authors'):
            print(f"{label(r)}: FLOPs unavailable: {r['flops_error']}")
        if r.get('compile_s') is not None:
            print(f"{label(r)}: torch.compile warm-up (first 2 steps) {r['compile_s']:.0f} s")
    for r in results:
        if r.get('breakdown'):
            print(f"\nbreakdown ({label(r)}, median of {args.breakdown_steps} instrumented steps):")
            total = r['breakdown']['total (instrumented)']
            for k, v in r['breakdown'].items():
                print(f'  {k:<32} {v * 1e3:>8.0f} ms  {100 * v / total:>5.1f} %')
        elif r.get('breakdown_error'):
            print(f"\nbreakdown ({label(r)}) unavailable: {r['breakdown_error']}")
        elif r.get('flops'):
            print(f"\n{label(r)} (no breakdown):")
        if r.get('flops'):
            gf = r['flops'] / 1e9
            print(f"  floor at the measured matmul rate: {gf:.0f} GFLOP / {r['matmul_gflops']:.0f} GFLOP/s = "
                  f"{gf / r['matmul_gflops']:.2f} s per step")
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(dict(batch=args.batch, steps=args.steps, rounds=args.rounds, authors_root=args.authors_root,
                           authors_constant=AUTHORS, results=results), f, indent=2)
        print(f'\nwrote {os.path.abspath(args.out)}')
    else:
        print('\n(nothing written; pass --out PATH for JSON)')


if __name__ == '__main__':
    main()
