# The 4-hour ModelNet10 run (docs/modelnet10_results.md "The 4-hour run" and "A second 4-hour seed"): the demo recipe
# (pointjepa_vit-t_1xb32-400i_modelnet10.py) with its schedule stretched over 21,496 iterations of batch 32, twice
# the 2-hour config (pointjepa_vit-t_1xb32-10748i_modelnet10.py; about 190 passes over the 3,592 unlabelled
# train-part shapes, 4-4.5 hours on a 2-core CPU with the probes). Its encoder is above its BatchNorm-calibrated
# random init on ModelNet10 test in both seeds run (seeds 0 / 1: online +1.87 / +1.54, EMA target +1.54 / +1.76
# points); with it the 1 %-label fine-tuning gains +7.12 / +6.86 points. Warm-up = 10 % of
# the iterations, cosine to 1 % of the lr; the validation probe every 1,000 iterations. The README's numbers were
# printed by benchmarks/evidence.py --iters 21496, which builds this same schedule on the 400i config (a test keeps
# the two equal). It keeps the demo's peak lr 5e-5 (its numbers were measured there; the 2-hour config it bases on
# uses 1e-4). This config runs it with tools/train.py:
#   MODELNET10_ROOT=... python tools/train.py configs/point_jepa/pointjepa_vit-t_1xb32-21496i_modelnet10.py
_base_ = ['./pointjepa_vit-t_1xb32-10748i_modelnet10.py']

optim_wrapper = dict(optimizer=dict(lr=5e-5))
max_iters = 21496
warmup_iters = max_iters // 10
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', T_max=max_iters - warmup_iters, eta_min=5e-7, by_epoch=False,
         begin=warmup_iters, end=max_iters),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=1000)
