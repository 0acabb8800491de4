# Demo: a small Point-JEPA (ViT-T: 192 x 6, predictor 96 x 3) pretrained on ModelNet10 train shapes WITHOUT
# their labels (the setting of a user with unlabelled shapes), 400 iterations of batch 32 on 2 CPU cores;
# bash tools/demo.sh runs it and evaluates the encoder with the ModelNet10 linear SVM.
# Every 100 iterations (and at iteration 0, after BatchNorm calibration: the random-init start) a linear-SVM
# probe on the ModelNet10 validation carve logs svm_acc (online), svm_acc_target (EMA) and the centred rank.
# Recipe chosen on that validation probe only (benchmarks/recipe_study.py, table in docs/recipe_study.md):
# targets = mean of the last 3 blocks, each standardised per channel over the tokens of its cloud
# (target_norm='instance'), which removes the vector all tokens share (70 % of a LayerNorm'd target's
# energy); with LayerNorm'd last-block targets the probe rose for 100 iterations and then fell below the
# calibrated random init.
_base_ = [
    '../_base_/models/pointjepa_vit-s.py',
    '../_base_/datasets/modelnet10_pretrain.py',
    '../_base_/datasets/modelnet10_probe.py',
    '../_base_/schedules/adamw_warmup-coslr-400i_demo.py',
    '../_base_/default_runtime.py',
]
model = dict(
    backbone=dict(
        arch='vit-t',  # 192 x 6, 3 heads (PointPatchTransformer.arch_zoo)
        tokenizer=dict(num_groups=64, group_size=32),
        pos_embed='mlp',
        encoder=dict(drop_path_rate=0.0, pos_every_block=True)),
    head=dict(predictor=dict(in_dims=192, embed_dims=96, depth=3, num_heads=3)),
    ema_scope='encoder',
    target_norm='instance',
    target_layers=3)
custom_hooks = [
    dict(type='pjepa3d.EMAHook', schedule='cosine', tau_start=0.996, tau_end=1.0),
    dict(type='ProbeAtStartHook', calib_samples=512),
    dict(type='CollapseMonitorHook', key='feat_rank', source='val', min_ratio=0.3),
]
# the probe's fit set: 15 % of the train part (~540 shapes) keeps a probe of both encoders near 20 s here
val_dataloader = dict(dataset=dict(fit=dict(label_fraction=0.15)))
default_hooks = dict(
    logger=dict(interval=20, log_metric_by_epoch=False),
    checkpoint=dict(by_epoch=False, interval=100, max_keep_ckpts=1, save_last=True, save_best='svm_acc_target',
                    rule='greater'))
log_processor = dict(by_epoch=False)
