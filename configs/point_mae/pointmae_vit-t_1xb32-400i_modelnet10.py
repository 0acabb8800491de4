# Point-MAE with the Point-JEPA ModelNet10 demo's encoder (ViT-T: 192 x 6, MLP PE at every block), data
# (unlabelled ModelNet10 train part), schedule and validation probe, so benchmarks/evidence.py compares the
# two on equal terms: 60 % random masking, a 2-block decoder (192 wide), Chamfer-L2 on the masked patches.
_base_ = [
    '../_base_/datasets/modelnet10_pretrain.py',
    '../_base_/datasets/modelnet10_probe.py',
    '../_base_/schedules/adamw_warmup-coslr-400i_demo.py',
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
custom_hooks = [
    dict(type='ProbeAtStartHook', calib_samples=512),
    dict(type='CollapseMonitorHook', key='feat_rank', source='val', min_ratio=0.3),
]
val_dataloader = dict(dataset=dict(fit=dict(label_fraction=0.15)))
default_hooks = dict(
    logger=dict(interval=20, log_metric_by_epoch=False),
    checkpoint=dict(by_epoch=False, interval=100, max_keep_ckpts=1, save_last=True, save_best='svm_acc',
                    rule='greater'))
log_processor = dict(by_epoch=False)
