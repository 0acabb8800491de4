#!/usr/bin/env python
"""The mini-PointNet's training pass alone: forward and backward milliseconds of each implementation, interleaved.

    python benchmarks/bench_minipointnet.py [--impls fused fused-dense reference] [--presets vit-t vit-s]
        [--patches 2048] [--rounds 8] [--threads N] [--out FILE.json]

One ``MiniPointNet`` per implementation (``PointPatchTokenizer.embed_impl``: ``fused``, ``fused-dense``,
``reference``), all with the same weights, in training mode (batch-statistics BatchNorm, as in pretraining), on the
same random (patches, 32, 3) centre-relative groups: 2,048 patches = a batch of 32 clouds x 64 groups. Each round
runs every implementation twice (the second one timed), so the implementations alternate and share the host's
drift; the table gives the median over the rounds and each implementation's forward + backward against the first
one's. Presets: ``vit-t`` (the demo's tokenizer: hidden 64 / 128 / 256, tokens 192) and ``vit-s`` (128 / 256 / 512,
tokens 384). Run it alone on the machine: a second busy process moves every number.
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from pjepa3d.models.backbones.point_patch_transformer import PointPatchTransformer  # noqa: E402
from pjepa3d.models.tokenizers.point_patch_tokenizer import MiniPointNet  # noqa: E402

#: the backbone presets' tokenizers (PointPatchTransformer.arch_zoo): token width and mini-PointNet hidden widths
PRESETS = {name: dict(embed_dims=PointPatchTransformer.arch_zoo[name]['embed_dims'],
                      hidden_dims=PointPatchTransformer.arch_zoo[name]['tokenizer_hidden_dims'])
           for name in ('vit-t', 'vit-s')}


def time_pass(net, x, w):
    """(forward s, backward s) of one training pass, loss = sum(tokens * w)."""
    net.zero_grad(set_to_none=True)
    t0 = time.perf_counter()
    out = net(x)
    t1 = time.perf_counter()
    (out * w).sum().backward()
    return t1 - t0, time.perf_counter() - t1


def run_preset(name, impls, patches, rounds, k=32):
    cfg = PRESETS[name]
    torch.manual_seed(0)
    nets = {impl: MiniPointNet(3, cfg['embed_dims'], cfg['hidden_dims'], impl=impl).train() for impl in impls}
    state = nets[impls[0]].state_dict()
    for net in nets.values():
        net.load_state_dict(state)
    x = torch.randn(patches, k, 3) * 0.3
    w = torch.randn(patches, cfg['embed_dims'])
    times = {impl: ([], []) for impl in impls}
    for r in range(rounds):
        print(f'[bench] {name}: round {r + 1}/{rounds}', file=sys.stderr, flush=True)
        for impl, net in nets.items():
            time_pass(net, x, w)  # untimed: the allocator and caches as the timed pass finds them in training
            f, b = time_pass(net, x, w)
            times[impl][0].append(f)
            times[impl][1].append(b)
    rows = []
    for impl in impls:
        f, b = (statistics.median(v) * 1e3 for v in times[impl])
        rows.append(dict(preset=name, impl=impl, patches=patches, k=k, fwd_ms=f, bwd_ms=b, total_ms=f + b,
                         fwd_s_per_round=times[impl][0], bwd_s_per_round=times[impl][1]))
    for row in rows:
        row['vs_first'] = rows[0]['total_ms'] / row['total_ms']
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--impls', nargs='+', default=['fused', 'fused-dense', 'reference'],
                    choices=MiniPointNet.IMPLS)
    ap.add_argument('--presets', nargs='+', default=['vit-t', 'vit-s'], choices=sorted(PRESETS))
    ap.add_argument('--patches', type=int, default=2048, help='patches of 32 points (default: 32 clouds x 64)')
    ap.add_argument('--rounds', type=int, default=8)
    ap.add_argument('--threads', type=int, default=None, help='torch threads (default: torch\'s own)')
    ap.add_argument('--out', default=None, help='also write the rows as JSON')
    args = ap.parse_args(argv)
    if args.rounds < 1 or args.patches < 1:
        ap.error('--rounds and --patches must be at least 1')
    if args.threads:
        torch.set_num_threads(args.threads)
    rows = [row for name in args.presets for row in run_preset(name, args.impls, args.patches, args.rounds)]
    print(f'mini-PointNet training pass, {args.patches} patches x 32 points, median of {args.rounds} interleaved '
          f'rounds; torch {torch.__version__}, {torch.get_num_threads()} threads, CPU capability '
          f'{torch.backends.cpu.get_cpu_capability()}, MKL {"yes" if torch.backends.mkl.is_available() else "no"}')
    print(f'{"preset":7s} {"impl":12s} {"fwd ms":>8s} {"bwd ms":>8s} {"total ms":>9s}  vs {args.impls[0]}')
    for r in rows:
        print(f"{r['preset']:7s} {r['impl']:12s} {r['fwd_ms']:8.1f} {r['bwd_ms']:8.1f} {r['total_ms']:9.1f}  "
              f"{r['vs_first']:.2f}x")
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(dict(rows=rows), f, indent=2)
        print(f'wrote {os.path.abspath(args.out)}')
    else:
        print('(nothing written; pass --out FILE.json for the per-round times)')
    return rows


if __name__ == '__main__':
    main()
