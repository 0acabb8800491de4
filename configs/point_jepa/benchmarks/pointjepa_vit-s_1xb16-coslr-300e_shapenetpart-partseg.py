# ShapeNetPart part segmentation with a Point-JEPA ViT-S encoder (SPEC sec. 2; authors' schedule):
# 2048 points, 128 patches of 32, features of blocks 4 / 8 / 12 averaged, inverse-distance propagation from
# the 3 nearest centres, category embedding, per-point head; AdamW 2e-4, wd 0.05, 10 warm-up epochs,
# cosine to 1e-6, 300 epochs, batch 16, grad-norm clip 10. Best checkpoint by val class mIoU.
#   python tools/train.py THIS_CONFIG --cfg-options model.backbone.init_cfg.checkpoint=PRETRAIN.pth
#   python tools/test.py THIS_CONFIG work_dirs/<name>/best_partseg_class_mIoU_epoch_*.pth
# The backbone must match the pretraining one (this is the notes' ViT-S preset: sincos3d PE at the input).
_base_ = [
    '../../_base_/datasets/shapenetpart.py',
    '../../_base_/default_runtime.py',
]

model = dict(
    type='PointPartSegmentor',
    backbone=dict(
        type='PointPatchTransformer',
        arch='vit-s',  # 384 x 12, 6 heads (PointPatchTransformer.arch_zoo)
        tokenizer=dict(type='PointPatchTokenizer', num_groups=128, group_size=32, in_channels=3),
        pos_embed=dict(type='sincos3d', scale=50.0),
        encoder=dict(type='PointTransformerEncoder', mlp_ratio=4.0, drop_path_rate=0.1, pos_every_block=False),
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')),
    feature_blocks=(4, 8, 12),  # 1-based; the authors' 0-based [3, 7, 11]
    fuse='mean',
    interp_k=3,
    head=dict(type='PartSegHead', label_embed_dims=64, prop_channels=(384, 384), channels=(512, 256), dropout=0.5),
    num_categories=16,
    num_parts=50)

optim_wrapper = dict(
    type='OptimWrapper',
    constructor='pjepa3d.SummaryOptimWrapperConstructor',  # same groups as mmengine's; one log line
    optimizer=dict(type='AdamW', lr=2e-4, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0),
    clip_grad=dict(max_norm=10.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=5e-3, by_epoch=True, begin=0, end=10, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=290, eta_min=1e-6, by_epoch=True, begin=10, end=300,
         convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=300, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20),
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=2, save_best='partseg/class_mIoU',
                    rule='greater'))
# after training: the test split with the last weights and with the best-on-val checkpoint (printed, and
# written to <work_dir>/test_last_and_best.json); the test split is never used for selection
custom_hooks = [dict(type='TestBestAndLastHook')]
auto_scale_lr = dict(base_batch_size=16, enable=False)
