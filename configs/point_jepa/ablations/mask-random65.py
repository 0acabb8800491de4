# Ablation (notes sec. 9, 'Masking Strategy'): random token masking, 65 % of the tokens are targets (one block).
# Everything else is the notes' preset it inherits.
_base_ = '../pointjepa_vit-s_4xb32-coslr-300e_shapenet55.py'
model = dict(masker=dict(mode='random', target_ratio=0.65))
custom_hooks = [
    dict(type='pjepa3d.EMAHook', schedule='cosine', tau_start=0.996, tau_end=1.0),
    dict(type='CollapseMonitorHook', key='target_rank', min_ratio=0.3),
]
