# Issue 9 lever: the EMA target follows the online encoder faster at the start (tau 0.99 -> 1 instead of
# 0.996 -> 1, cosine). Hypothesis: the online encoder's fall comes while it chases a target that trails it;
# a faster target keeps the two close while the lr is at its peak. docs/research_log.md.
_base_ = ['../../pointjepa_vit-t_1xb32-400i_modelnet10.py']
custom_hooks = [
    dict(type='pjepa3d.EMAHook', schedule='cosine', tau_start=0.99, tau_end=1.0),
    dict(type='ProbeAtStartHook', calib_samples=512),
    dict(type='CollapseMonitorHook', key='feat_rank', source='val', min_ratio=0.3),
]
