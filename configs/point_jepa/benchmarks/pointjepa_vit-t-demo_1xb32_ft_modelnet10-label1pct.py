# ModelNet10 few-label fine-tuning, 1 % of the training labels (37 shapes, >= 1 per class: a seeded,
# stratified subset of the train part left after the 10 % val carve; fraction_seed picks it, and for one
# fraction_seed the 1 % shapes are a subset of the 5 % shapes). The demo ViT-T encoder
# (configs/point_jepa/pointjepa_vit-t_1xb32-demo_synthetic.py: 192 x 6, 3 heads, MLP PE at every block)
# + MLP head 384-256-256-10 (BN, dropout 0.5, label smoothing 0.2), AdamW lr 1e-3.
# Schedule sized for a 2-core CPU, iteration-based (1 % is about one batch): 300 iterations of 32 clouds
# (InfiniteSampler: every batch full, every labelled shape drawn equally often), 25 warm-up iterations then
# cosine; validation every 25 iterations on the 399-shape val carve; the best checkpoint by val overall
# accuracy; after training TestBestAndLastHook tests the last and the best-on-val weights on the official
# test split (1 vote) and writes <work_dir>/test_last_and_best.json.
#
# Freeze, then fine-tune (SPEC sec. 2: the encoder frozen for the first part of training, then unfrozen):
# the encoder is frozen for the first 200 of 300 iterations (the authors freeze 150 of 200 epochs). With
# a few dozen labels, gradients through a randomly initialised head would first distort the pretrained
# features (the LP-FT argument) and a 2.8 M-parameter encoder overfits 37 shapes quickly; the frozen phase
# fits the head on fixed features, the last 100 iterations adapt the encoder at a decayed learning rate
# (about 3e-4 falling to 1e-6). Validation runs in both phases, so best-on-val chooses between the frozen-
# encoder head and the fine-tuned encoder: if unfreezing hurts, selection falls back on the frozen phase.
# Both arms (pretrained and random init) run the same schedule.
#
# Pretrained init (the default): --cfg-options model.backbone.init_cfg.checkpoint=PRETRAIN.pth
# Random-init baseline: --cfg-options model.backbone.init_cfg=None; BNCalibrationHook then calibrates the
# encoder's BatchNorm statistics on up to 512 training clouds (here all 37) before iteration 0, so the
# frozen random encoder does not normalise with never-measured (0, 1) statistics (it does nothing for a
# Pretrained backbone). tools/analysis_tools/label_fraction_study.py runs both arms over several seeds.
#   python tools/train.py THIS_CONFIG --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/demo/epoch_7.pth
_base_ = [
    './_base_/pointjepa_vit-s_cls.py',
    '../../_base_/datasets/modelnet10_cls.py',
    './_base_/adamw_coslr_ft.py',
    './_base_/cls_runtime.py',
]
num_classes = 10
max_iters = 300
warmup_iters = 25
freeze_iters = 200
val_interval = 25
model = dict(
    backbone=dict(
        arch='vit-t',  # 192 x 6, 3 heads (PointPatchTransformer.arch_zoo)
        tokenizer=dict(num_groups=64, group_size=32),
        pos_embed='mlp',
        encoder=dict(drop_path_rate=0.0, pos_every_block=True)),
    head=dict(in_channels=384, num_classes=num_classes))
train_dataloader = dict(
    drop_last=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(label_fraction=0.01, fraction_seed=0))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', T_max=max_iters - warmup_iters, eta_min=1e-6, by_epoch=False, begin=warmup_iters,
         end=max_iters),
]
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters, val_interval=val_interval)
default_hooks = dict(
    logger=dict(interval=25),
    # the best-on-val checkpoint (save_best) and the last one; no periodic checkpoints in between
    checkpoint=dict(by_epoch=False, interval=max_iters, max_keep_ckpts=1, save_last=True))
log_processor = dict(by_epoch=False)
# the whole list (a top config's custom_hooks replace the base's)
custom_hooks = [
    dict(type='FreezeBackboneHook', freeze_iters=freeze_iters),
    dict(type='BNCalibrationHook', num_samples=512, batch_size=32),
    dict(type='TestVotingHook', num_votes=1),
    dict(type='TestBestAndLastHook'),
]
