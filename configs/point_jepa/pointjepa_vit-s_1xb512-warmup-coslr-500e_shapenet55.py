# Authors'-code preset: sequence masking (4 targets x U[0.15, 0.2], context U[0.4, 0.75]),
# SmoothL1 (beta 2) on LayerNorm'd targets, learned MLP PE added at every block, EMA linear
# 0.9995 -> 0.99999 over the encoder only, per-sample scale / mirror / rotate-y augmentation,
# AdamW 1e-3, 500 epochs, 1 GPU x 512.
_base_ = [
    '../_base_/models/pointjepa_vit-s.py',
    '../_base_/datasets/shapenet55.py',
    '../_base_/schedules/adamw_warmup-coslr-500e.py',
    '../_base_/default_runtime.py',
]
model = dict(
    backbone=dict(
        pos_embed=dict(_delete_=True, type='mlp', hidden_dims=128),
        encoder=dict(drop_path_rate=0.25, attn_drop_rate=0.05, pos_every_block=True)),
    masker=dict(_delete_=True, type='SequenceMasker', num_targets=4, target_block_ratio=(0.15, 0.2),
                context_ratio=(0.4, 0.75)),
    head=dict(predictor=dict(pos_embed=dict(_delete_=True, type='mlp', hidden_dims=128)),
              loss='smooth_l1', loss_beta=2.0),
    ema_scope='encoder')
custom_hooks = [dict(type='pjepa3d.EMAHook', schedule='linear', tau_start=0.9995, tau_end=0.99999)]
train_pipeline = [
    dict(type='pjepa3d.PointSample', num_points=1024, method='fps'),
    dict(type='RandomScale', scale_range=(0.8, 1.2), mirror_axes=(0, 2)),
    dict(type='NormalizeUnitSphere'),
    dict(type='RandomRotate', axis='y', angle_range=(-180, 180)),
    dict(type='PackPointInputs'),
]
train_dataloader = dict(batch_size=512, dataset=dict(pipeline=train_pipeline))
