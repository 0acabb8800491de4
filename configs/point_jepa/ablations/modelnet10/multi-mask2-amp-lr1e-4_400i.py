# Issue 9 lever: two masks per cloud and step (PointJEPA(num_masks=2), data2vec 2.0's multi-mask training) on the
# adopted bf16 2-hour recipe, at the same wall clock. Never run before. Why: the JEPA loss of the bf16 seed-2
# checkpoint is the same on held-out validation clouds as on the train-part clouds it trained on (0.3229 against
# 0.3198 / 0.3199 on two samples; benchmarks/ablations/loss_gap.py), so the plateau is not over-fitting to the 3,592
# shapes (which is why drop-path and the weight-decay ramp did not help); more prediction signal per unit of compute
# might raise it. The tokenizer (FPS, kNN, mini-PointNet: ~45 % of the bf16 step) and the EMA target run once per
# cloud; the context encoder and the predictor run on both masks: the bf16 step costs 1.31x (461 / 352 ms, batch 32,
# glibc heap kept, idle; a scratch timing), so the 2-hour wall clock buys 13,757 / 1.31 = 10,500 iterations of
# 2 x 32 masked clouds.
# Run with benchmarks/evidence.py --keep-heap --config Point-JEPA=<this file> --iters 10500 --seeds 0 --methods
# Point-JEPA --val-every 1000; decision rule fixed before the run: a second seed if --val-check beats the shipped
# recipe's seed 0 (+2.26; same encoder, so the same start), else not adopted. docs/research_log.md.
# Outcome (seed 0, 2026-12-05): val +0.50, test +1.10 (online): not adopted.
_base_ = ['./amp-lr1e-4_400i.py']
model = dict(num_masks=2)
