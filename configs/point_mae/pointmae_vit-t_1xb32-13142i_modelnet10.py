# The Point-MAE baseline at the 2-hour budget (issue 9; docs/modelnet10_results.md "Point-MAE at its published lr"):
# Point-MAE with the ModelNet10 demo's encoder, data and probe (pointmae_vit-t_1xb32-400i_modelnet10.py) at its own
# published lr (1e-3 at batch 128, scaled linearly to batch 32: 2.5e-4, ablations/modelnet10/lr2.5e-4_400i.py, chosen
# over Point-JEPA's 1e-4 on seed 0's validation carve) with its schedule stretched over 13,142 iterations of batch 32:
# the wall clock of Point-JEPA's float32 2-hour runs (pointjepa_vit-t_1xb32-10748i_modelnet10.py) on the same CPU.
# Warm-up = 10 % of the iterations, cosine to 1 % of the lr; the validation probe every 1,000 iterations.
# Seeds 0, 1, 2 (2026-12-07): ModelNet10 test 94.42 +- 0.27 online, +3.08 +- 0.39 over the BN-calibrated random init;
# validation carve +1.75 +- 0.41. Point-JEPA's float32 2-hour config minus it, same seed: -1.06 +- 0.99 (p 0.711 /
# 0.028 / 0.008); the bfloat16 one's: -0.62 +- 0.05 (validation carve +0.33 +- 0.12).
# The README's numbers were printed by benchmarks/evidence.py, which builds this same schedule on
# ablations/modelnet10/lr2.5e-4_400i.py (a test keeps the two equal); this config runs it with tools/train.py:
#   MODELNET10_ROOT=... python tools/train.py configs/point_mae/pointmae_vit-t_1xb32-13142i_modelnet10.py
_base_ = ['./pointmae_vit-t_1xb32-400i_modelnet10.py']

optim_wrapper = dict(optimizer=dict(lr=2.5e-4))
max_iters = 13142
warmup_iters = max_iters // 10
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', T_max=max_iters - warmup_iters, eta_min=2.5e-6, by_epoch=False,
         begin=warmup_iters, end=max_iters),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=1000)
default_hooks = dict(
    logger=dict(interval=100),
    checkpoint=dict(interval=1000))
