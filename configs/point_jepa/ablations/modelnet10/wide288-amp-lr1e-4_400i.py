# Issue 9 lever: a wider encoder at the same wall clock, on the adopted bf16 2-hour recipe: 288 x 6 blocks, 4 heads
# (72 per head) instead of the ViT-T preset's 192 x 6, 3 heads; tokenizer (64, 128, 256) and the predictor (96 x 3,
# 3 heads) unchanged. Never run before. Why: every bf16 2-hour run levels at 92.5-93.0 on the validation probe from
# about 7,000 of its 13,757 iterations, and the plateau is not over-fitting (the JEPA loss on held-out validation
# clouds equals the train-part loss, benchmarks/ablations/loss_gap.py); more signal per step did not lift it (two
# masks: +0.50). Capacity is the untried axis: with half the iterations unused by the plateau, a wider encoder can
# spend them. The bf16 step costs 1.35x (532 / 393 ms, batch 32, glibc heap kept, idle; a scratch timing, not a
# repo command), so the 2-hour wall clock buys 13,757 / 1.35 = 10,190 iterations.
# The baseline is this encoder's own start (benchmarks/evidence.py calibrates the run's starting weights), so the
# gain is against a random init of the same width.
# Run with benchmarks/evidence.py --keep-heap --config Point-JEPA=<this file> --iters 10190 --seeds 0 --methods
# Point-JEPA --val-every 1000; decision rule fixed before the run: a second seed if --val-check's "online minus
# random init" beats the shipped recipe's seed 0 (+2.26), else not adopted. Amended at iteration ~200, before any
# probe past the start (whose 89.97 is below ViT-T's 91.73): a second seed also needs the absolute validation OA
# online at least the shipped recipe's seed 0 (96.49), so that a weaker random init cannot win by itself.
# docs/research_log.md.
# Outcome (seed 0, 2026-12-05): val +0.50, test +1.10 (online): not adopted.
_base_ = ['./amp-lr1e-4_400i.py']
model = dict(
    backbone=dict(arch=dict(_delete_=True, embed_dims=288, depth=6, num_heads=4, tokenizer_hidden_dims=(64, 128, 256))),
    head=dict(predictor=dict(in_dims=288)))
