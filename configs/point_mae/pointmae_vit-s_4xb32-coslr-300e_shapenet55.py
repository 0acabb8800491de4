# Point-MAE baseline (Pang et al. 2022) on pjepa3d's backbone: the SAME tokenizer (64 x 32), sincos3d PE and
# ViT-S encoder as the notes' Point-JEPA preset; 60 % random masking; the encoder sees the visible tokens
# only; a 4-block decoder (384 wide, 6 heads, PE before every block) over visible + mask tokens
# reconstructs each masked patch's 32 centre-relative points; Chamfer-L2 loss (pure PyTorch).
# Point-MAE's recipe: AdamW lr 1e-3, wd 0.05, 10 warm-up epochs + cosine, 300 epochs, batch 128 (4 x 32).
_base_ = [
    '../_base_/datasets/shapenet55.py',
    '../_base_/schedules/adamw_coslr-300e.py',
    '../_base_/default_runtime.py',
]
model = dict(
    type='PointMAE',
    backbone=dict(
        type='PointPatchTransformer',
        arch='vit-s',  # 384 x 12, 6 heads (PointPatchTransformer.arch_zoo)
        tokenizer=dict(type='PointPatchTokenizer', num_groups=64, group_size=32, in_channels=3),
        pos_embed=dict(type='sincos3d', scale=50.0),
        encoder=dict(type='PointTransformerEncoder', mlp_ratio=4.0, drop_path_rate=0.1, pos_every_block=False)),
    masker=dict(type='RandomMasker', target_ratio=0.6),
    head=dict(
        type='MAEHead',
        decoder=dict(type='MAEDecoder', in_dims=384, embed_dims=384, depth=4, num_heads=6, group_size=32,
                     pos_embed=dict(type='sincos3d', scale=50.0)),
        loss=dict(type='ChamferL2Loss')))
custom_hooks = [dict(type='CollapseMonitorHook', key='feat_rank', min_ratio=0.3)]

optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=10, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=290, eta_min=1e-6, by_epoch=True, begin=10, end=300,
         convert_to_iter_based=True),
]
train_dataloader = dict(batch_size=32)
