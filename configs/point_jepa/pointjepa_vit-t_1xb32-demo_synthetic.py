# Demo: a small Point-JEPA (ViT-T: 192 x 6, predictor 96 x 3) pretrained on the procedural
# SyntheticShapes set, sized to learn something in a few minutes on 2 CPU cores.
# bash tools/demo.sh runs it, then evaluates the encoder with a linear SVM.
_base_ = [
    '../_base_/models/pointjepa_vit-s.py',
    '../_base_/datasets/synthetic_shapes.py',
    '../_base_/default_runtime.py',
]
model = dict(
    backbone=dict(
        tokenizer=dict(num_groups=64, group_size=32, embed_dims=192, hidden_dims=(64, 128, 256)),
        encoder=dict(embed_dims=192, depth=6, num_heads=3, drop_path_rate=0.0)),
    head=dict(predictor=dict(in_dims=192, embed_dims=96, depth=3, num_heads=3)),
    ema_scope='encoder')
custom_hooks = [dict(type='EMAHook', schedule='cosine', tau_start=0.996, tau_end=1.0)]

train_dataloader = dict(batch_size=32, num_workers=1, dataset=dict(num_samples=2048, num_points=1024))

max_epochs = 7
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0, bypass_duplicate=True,
                       custom_keys={'mask_token': dict(decay_mult=0.0)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=1, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 1, eta_min=1e-5, by_epoch=True, begin=1, end=max_epochs,
         convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=32, enable=False)
default_hooks = dict(logger=dict(interval=16), checkpoint=dict(interval=1, max_keep_ckpts=2))
