# Ablation (notes sec. 9, 'Loss Space'): raw point reconstruction instead of latent prediction.
# PointMAE on the preset's backbone and masking (region, K=4, 65 %): the encoder sees the context, a
# 4-block decoder (384 wide) reconstructs every target patch's 32 centre-relative points, Chamfer-L2.
# Optimiser, schedule and data are the preset's; there is no EMA target.
_base_ = '../pointjepa_vit-s_4xb32-coslr-300e_shapenet55.py'
model = dict(
    _delete_=True,
    type='PointMAE',
    backbone={{_base_.model.backbone}},
    masker={{_base_.model.masker}},
    head=dict(
        type='MAEHead',
        decoder=dict(type='MAEDecoder', in_dims=384, embed_dims=384, depth=4, num_heads=6, group_size=32,
                     pos_embed=dict(type='sincos3d', scale=50.0)),
        loss=dict(type='ChamferL2Loss')))
custom_hooks = [dict(type='CollapseMonitorHook', key='feat_rank', min_ratio=0.3)]
