# Issue 9 lever: the same recipe under bfloat16 autocast (what `tools/train.py --amp` selects on a CPU). Hypothesis:
# the gain over the calibrated start grows with the number of iterations (2 h: +1.05 over two seeds, 4 h: +1.5 to
# +1.9), and since commits 0856dcc / 177c86f (bf16 attention computed in float32 on CPU) the demo config under --amp
# runs 1.28x its float32 speed with its loss within 0.03 % (benchmarks/bench_amp_curve.py at fcd6162); a time
# budget then buys about 28 % more iterations. Run it with a time budget, not a fixed iteration count:
# benchmarks/evidence.py --config Point-JEPA=<this file> --budget-min 120 ...
# (the validation probe's feature extraction stays float32). docs/research_log.md.
_base_ = ['../../pointjepa_vit-t_1xb32-400i_modelnet10.py']
optim_wrapper = dict(type='pjepa3d.BF16AmpOptimWrapper')
