# The 2-hour ModelNet10 run under bfloat16 autocast (docs/modelnet10_results.md "The 2-hour schedule under
# bfloat16"): the 2-hour recipe (pointjepa_vit-t_1xb32-10748i_modelnet10.py: the demo recipe at lr 1e-4) with
# pjepa3d.BF16AmpOptimWrapper, what `tools/train.py --amp` selects on a CPU, and the iterations its speed buys in the
# same wall clock: 10,748 x 1.28 (the demo config's measured bf16 speed-up, benchmarks/bench_amp_curve.py) = 13,757
# iterations of batch 32. Here it trained 141 minutes with its 14 probes (113.5 with --keep-heap), the float32
# 10,748 iterations 154. Warm-up = 10 % of the iterations, cosine to 1 % of the lr; the validation probe every 1,000
# iterations (its feature extraction stays float32).
# Chosen over the float32 2-hour config on the validation carve (seed 0: +2.26 points over the BN-calibrated random
# init against +1.00; test, read once after the choice: +2.20 online / +2.86 EMA target against +3.08 / +2.97).
# Over seeds 0, 1, 2: test +2.46 +- 0.36 online, validation carve +2.09 +- 0.43 (float32: +2.02 +- 0.85, +0.75 +- 0.74).
# The README's numbers were printed by benchmarks/evidence.py, which builds this schedule on
# ablations/modelnet10/amp-lr1e-4_400i.py (a test keeps the two equal); this config runs it with tools/train.py:
#   MODELNET10_ROOT=... python tools/train.py configs/point_jepa/pointjepa_vit-t_1xb32-amp-13757i_modelnet10.py
# (on a CPU with glibc, train.py keeps freed memory in the heap by default: same training, 1.2-1.5x faster here)
# On a GPU it runs as written (bf16 autocast on the model's device, no loss scaler). On a CPU without a oneDNN
# bfloat16 path (AVX2 only, e.g. a Zen 1 EPYC) bf16 is many times slower than float32 (the ViT-S step 74.6 s against
# 6.4 s; the wrapper warns): there use the float32 recipe, pointjepa_vit-t_1xb32-10748i_modelnet10.py.
_base_ = ['./pointjepa_vit-t_1xb32-10748i_modelnet10.py']  # lr 1e-4, probe and checkpoint every 1,000 iterations

optim_wrapper = dict(type='pjepa3d.BF16AmpOptimWrapper')
# mmengine replaces lists and does not re-evaluate the base's max_iters // 10: the schedule is written out again
max_iters = 13757
warmup_iters = max_iters // 10
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', T_max=max_iters - warmup_iters, eta_min=1e-6, by_epoch=False,
         begin=warmup_iters, end=max_iters),
]
train_cfg = dict(max_iters=max_iters)
