# Issue 9 lever: stochastic depth 0.1 in the online context encoder (linear over the 6 blocks, 0.1 at the last), the
# low end of SPEC's 0.1-0.25 and the value of the authors' and Point-MAE's pretraining, on the adopted bf16 2-hour
# recipe (drop-path 0.0 since the demo). Never run on ModelNet10 before. Hypothesis: from ~7,000 iterations every
# bf16 run sits flat at 92.5-93.0 on the probe while it sees each of the 3,592 unlabelled shapes ~120 times with the
# same 1,024 points; a regulariser that makes the context encoder's blocks less co-adapted may raise that plateau.
# The EMA target runs in eval mode, so its targets carry no drop-path noise; the probes run in eval mode too.
# Run with benchmarks/evidence.py --keep-heap --config Point-JEPA=<this file> --iters 13757 --seeds 0 --methods
# Point-JEPA --val-every 1000; decision rule fixed before the run: a second seed if --val-check beats the shipped
# recipe's seed 0 (+2.26), else not adopted. docs/research_log.md.
# Outcome (seed 0, 2026-12-05): val +0.00, test +1.43 (online): not adopted.
_base_ = ['./amp-lr1e-4_400i.py']
model = dict(backbone=dict(encoder=dict(drop_path_rate=0.1)))
