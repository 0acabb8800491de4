# Issue 9 lever: the shipped 2-hour recipe (lr 1e-4, lr1e-4_400i.py) under bfloat16 autocast (what `tools/train.py
# --amp` selects on a CPU), with the iterations the same wall clock buys. Hypothesis: the gain over the calibrated
# start grows with the iterations (4 h at lr 5e-5: +1.5 / +1.9 against +1.05 at 2 h; every lr 1e-4 probe curve
# still rises at 10,748), and the demo config under --amp runs 1.28x its float32 speed with its loss within 0.03 %
# (benchmarks/bench_amp_curve.py, commit fcd6162; the bf16 step keeps its speed since b87d74d), so the 2-hour
# schedule's time buys 10,748 x 1.28 = 13,757 iterations. Run with benchmarks/evidence.py --config
# Point-JEPA=<this file> --iters 13757 --seeds 0 --methods Point-JEPA --val-every 1000 (the validation probe's
# feature extraction stays float32); decided on --val-check against lr1e-4_400i.py seed 0 (+1.00).
# Outcomes: 13,757 iterations adopted (val +2.26, seed 0; the shipped amp-13757i config); 15,000 iterations with
# --keep-heap (what 2 CPU-hours buy) not adopted (val +1.25, seed 0, 2026-12-04). docs/research_log.md.
_base_ = ['./lr1e-4_400i.py']
optim_wrapper = dict(type='pjepa3d.BF16AmpOptimWrapper')
