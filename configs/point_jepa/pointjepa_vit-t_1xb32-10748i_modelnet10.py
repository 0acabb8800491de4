# The 2-hour ModelNet10 run (issue 9's long run, docs/modelnet10_results.md "The 2-hour run"): the demo recipe
# (pointjepa_vit-t_1xb32-400i_modelnet10.py: instance-normalised mean-of-last-3 targets, EMA cosine 0.996 -> 1 over
# the encoder, no augmentation) at twice its peak lr (1e-4, ablations/modelnet10/lr1e-4_400i.py) with its schedule
# stretched over 10,748 iterations of batch 32, the number `benchmarks/evidence.py --budget-min 120` fitted in 120
# minutes of a 2-core CPU (about 96 passes over the 3,592 unlabelled train-part shapes; 2.6 hours with the probes).
# Warm-up = 10 % of the iterations, cosine to 1 % of the lr; the validation probe every 1,000 iterations.
# lr 1e-4 was chosen over the demo's 5e-5 on the validation carve (three seeds: +0.75 vs +0.17 points over the
# BN-calibrated random init; docs/modelnet10_results.md "Twice the peak lr at the 2-hour schedule"). The
# README's numbers were printed by evidence.py, which builds this same schedule on lr1e-4_400i.py (a test keeps the
# two equal); this config runs it with tools/train.py:
#   MODELNET10_ROOT=... python tools/train.py configs/point_jepa/pointjepa_vit-t_1xb32-10748i_modelnet10.py
# Replaced in float32 by pointjepa_vit-t_1xb32-ema0998-10748i_modelnet10.py (the EMA target from tau 0.998, chosen
# on the validation carve over three seeds) and, on CPUs with a bfloat16 path, by
# pointjepa_vit-t_1xb32-amp-13757i_modelnet10.py.
_base_ = ['./pointjepa_vit-t_1xb32-400i_modelnet10.py']

optim_wrapper = dict(optimizer=dict(lr=1e-4))
max_iters = 10748
warmup_iters = max_iters // 10
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', T_max=max_iters - warmup_iters, eta_min=1e-6, by_epoch=False,
         begin=warmup_iters, end=max_iters),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=1000)
default_hooks = dict(
    logger=dict(interval=100),
    checkpoint=dict(interval=1000))
