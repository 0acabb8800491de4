# Issue 9 lever: the predictor first learns against a fixed (random, BN-calibrating) encoder for 200 iterations,
# then everything trains; 600 iterations, cosine over 40-600. docs/research_log.md.
_base_ = ['../../pointjepa_vit-t_1xb32-400i_modelnet10.py']
custom_imports = dict(imports=['benchmarks.ablations.modelnet10_levers'], allow_failed_imports=False)
train_cfg = dict(max_iters=600)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=40),
    dict(type='CosineAnnealingLR', T_max=560, eta_min=5e-7, by_epoch=False, begin=40, end=600),
]
custom_hooks = [
    dict(type='pjepa3d.EMAHook', schedule='cosine', tau_start=0.996, tau_end=1.0),
    dict(type='ProbeAtStartHook', calib_samples=512),
    dict(type='CollapseMonitorHook', key='feat_rank', source='val', min_ratio=0.3),
    dict(type='AblationPredictorWarmupHook', freeze_iters=200),
]
