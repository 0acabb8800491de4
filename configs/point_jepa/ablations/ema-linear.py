# Ablation (notes sec. 9, 'EMA schedule'): tau linear 0.9995 -> 0.99999 (authors' code).
# Everything else is the notes' preset it inherits.
_base_ = '../pointjepa_vit-s_4xb32-coslr-300e_shapenet55.py'
custom_hooks = [
    dict(type='pjepa3d.EMAHook', schedule='linear', tau_start=0.9995, tau_end=0.99999),
    dict(type='CollapseMonitorHook', key='target_rank', min_ratio=0.3),
]
