# Ablation (notes sec. 9, 'Loss Space'): latent SmoothL1 (beta 2, authors' code) on LayerNorm'd targets.
# Everything else is the notes' preset it inherits.
_base_ = '../pointjepa_vit-s_4xb32-coslr-300e_shapenet55.py'
model = dict(target_norm=True, head=dict(loss='smooth_l1', loss_beta=2.0))
custom_hooks = [
    dict(type='pjepa3d.EMAHook', schedule='cosine', tau_start=0.996, tau_end=1.0),
    dict(type='CollapseMonitorHook', key='target_rank', min_ratio=0.3),
]
