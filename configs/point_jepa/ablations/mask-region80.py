# Ablation (notes sec. 9, 'Masking Strategy'): 3D spatial region masking, K=4 blocks covering 80 % of the tokens.
# Everything else is the notes' preset it inherits.
_base_ = '../pointjepa_vit-s_4xb32-coslr-300e_shapenet55.py'
model = dict(masker=dict(mode='region', num_targets=4, target_ratio=0.80))
custom_hooks = [
    dict(type='pjepa3d.EMAHook', schedule='cosine', tau_start=0.996, tau_end=1.0),
    dict(type='CollapseMonitorHook', key='target_rank', min_ratio=0.3),
]
