# Demo Point-MAE: the Point-JEPA demo's encoder (ViT-T: 192 x 6), data (SyntheticShapes) and optimiser /
# schedule, with 60 % random masking and a 2-block decoder (192 wide). benchmarks/evidence.py pretrains
# it next to configs/point_jepa/pointjepa_vit-t_1xb32-demo_synthetic.py on the same samples.
_base_ = [
    '../_base_/datasets/synthetic_shapes.py',
    '../_base_/schedules/adamw_coslr-7e_demo.py',
    '../_base_/default_runtime.py',
]
model = dict(
    type='PointMAE',
    backbone=dict(
        type='PointPatchTransformer',
        arch='vit-t',  # 192 x 6, 3 heads (PointPatchTransformer.arch_zoo)
        tokenizer=dict(type='PointPatchTokenizer', num_groups=64, group_size=32, in_channels=3),
        pos_embed='mlp',
        encoder=dict(type='PointTransformerEncoder', mlp_ratio=4.0, drop_path_rate=0.0, pos_every_block=True)),
    masker=dict(type='RandomMasker', target_ratio=0.6),
    head=dict(
        type='MAEHead',
        decoder=dict(type='MAEDecoder', in_dims=192, embed_dims=192, depth=2, num_heads=3, group_size=32,
                     pos_embed=dict(type='sincos3d', scale=50.0)),
        loss=dict(type='ChamferL2Loss')))
custom_hooks = [dict(type='CollapseMonitorHook', key='feat_rank', min_ratio=0.3)]

train_dataloader = dict(batch_size=32, num_workers=1, dataset=dict(num_samples=2048, num_points=1024))

default_hooks = dict(logger=dict(interval=16), checkpoint=dict(interval=1, max_keep_ckpts=2))
