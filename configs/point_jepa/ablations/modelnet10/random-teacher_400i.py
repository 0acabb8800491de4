# Issue 9 lever: the EMA target frozen at the (BN-calibrated) random init (tau = 1 throughout): the online encoder
# learns to predict a fixed random teacher's features of the masked regions. Hypothesis ("random teachers are good
# teachers", Sarnthein et al. 2023): a student distilled from a fixed random teacher can probe above the teacher,
# and a fixed target cannot drift towards what is easy to predict. docs/research_log.md.
_base_ = ['../../pointjepa_vit-t_1xb32-400i_modelnet10.py']
custom_hooks = [
    dict(type='pjepa3d.EMAHook', schedule='cosine', tau_start=1.0, tau_end=1.0),
    dict(type='ProbeAtStartHook', calib_samples=512),
    dict(type='CollapseMonitorHook', key='feat_rank', source='val', min_ratio=0.3),
]
