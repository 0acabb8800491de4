# Ablation (notes sec. 9, 'Predictor Bottleneck'): predictor width D_p = 96 (encoder D = 384).
# Everything else is the notes' preset it inherits.
_base_ = '../pointjepa_vit-s_4xb32-coslr-300e_shapenet55.py'
model = dict(head=dict(predictor=dict(embed_dims=96)))
custom_hooks = [
    dict(type='pjepa3d.EMAHook', schedule='cosine', tau_start=0.996, tau_end=1.0),
    dict(type='CollapseMonitorHook', key='target_rank', min_ratio=0.3),
]
