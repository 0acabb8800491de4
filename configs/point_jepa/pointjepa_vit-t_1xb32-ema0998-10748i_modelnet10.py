# The float32 2-hour ModelNet10 run for CPUs without a bfloat16 path (AVX2-only CPUs run bfloat16 many times slower,
# so pointjepa_vit-t_1xb32-amp-13757i_modelnet10.py does not fit 2 hours there): the float32 2-hour config
# (pointjepa_vit-t_1xb32-10748i_modelnet10.py: the demo recipe at lr 1e-4 over 10,748 iterations) with the EMA
# target starting slower, tau 0.998 -> 1 (cosine over the run) instead of 0.996 -> 1; nothing else changes.
# Chosen on the validation carve over three seeds (the lever config ablations/modelnet10/ema-start0998-lr1e-4_400i.py;
# docs/modelnet10_results.md "The slower EMA target (tau 0.998 -> 1), seed 2"): validation gain +1.17 +- 0.43
# against the 10748i config's +0.75 +- 0.74, above the +0.75 its rule asked for (written before seed 2 ran). On the
# test split, read once afterwards, it is lower: +1.54 +- 0.94 against +2.02 +- 0.85. The README's numbers were
# printed by evidence.py, which builds this same schedule on that lever config (a test keeps the two equal); this
# config runs it with tools/train.py:
#   MODELNET10_ROOT=... python tools/train.py configs/point_jepa/pointjepa_vit-t_1xb32-ema0998-10748i_modelnet10.py
_base_ = ['./pointjepa_vit-t_1xb32-10748i_modelnet10.py']

custom_hooks = [
    dict(type='pjepa3d.EMAHook', schedule='cosine', tau_start=0.998, tau_end=1.0),
    dict(type='ProbeAtStartHook', calib_samples=512),
    dict(type='CollapseMonitorHook', key='feat_rank', source='val', min_ratio=0.3),
]
