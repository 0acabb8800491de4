# Point-JEPA, ViT-S encoder (384 x 12, 6 heads), notes' preset (sec. 4-5).
model = dict(
    type='PointJEPA',
    backbone=dict(
        type='PointPatchTransformer',
        arch='vit-s',  # 384 x 12, 6 heads (PointPatchTransformer.arch_zoo)
        tokenizer=dict(type='PointPatchTokenizer', num_groups=64, group_size=32, in_channels=3),
        pos_embed=dict(type='sincos3d', scale=50.0),
        encoder=dict(type='PointTransformerEncoder', mlp_ratio=4.0, drop_path_rate=0.1, pos_every_block=False)),
    masker=dict(type='RegionMasker', mode='region', num_targets=4, target_ratio=0.65),
    head=dict(
        type='JEPAHead',
        predictor=dict(type='JEPAPredictor', in_dims=384, embed_dims=192, depth=6, num_heads=6,
                       pos_embed=dict(type='sincos3d', scale=50.0)),
        loss='mse'),
    ema_scope='all',
    target_norm=True)
# (the EMA target's schedule is a hook: the training configs add pjepa3d.EMAHook to custom_hooks)
