# Ablation (notes sec. 9, 'EMA scope'): the EMA target copies the encoder only; tokenizer and PE shared (authors' code).
# Everything else is the notes' preset it inherits.
_base_ = '../pointjepa_vit-s_4xb32-coslr-300e_shapenet55.py'
model = dict(ema_scope='encoder')
custom_hooks = [
    dict(type='pjepa3d.EMAHook', schedule='cosine', tau_start=0.996, tau_end=1.0),
    dict(type='CollapseMonitorHook', key='target_rank', min_ratio=0.3),
]
