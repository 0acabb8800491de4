# ModelNet40 few-shot fine-tune, one episode (default 5-way 10-shot fold 0; SPEC sec. 2): full fine-tune of
# the encoder + MLP head with num_classes = way; 150 epochs, AdamW 1e-3; no val split in this protocol, so the
# last epoch's test accuracy is the result (no selection on test).
# All 40 runs (5/10-way x 10/20-shot x 10 folds) with mean +- std per setting:
#   python tools/analysis_tools/few_shot.py THIS_CONFIG --data-root data/ModelNetFewshot \
#       --cfg-options model.backbone.init_cfg.checkpoint=PRETRAIN.pth
_base_ = [
    './_base_/pointjepa_vit-s_cls.py',
    '../../_base_/datasets/modelnet40_fewshot.py',
    './_base_/adamw_coslr_ft.py',
    '../../_base_/default_runtime.py',
]
model = dict(head=dict(num_classes=5))
max_epochs = 150
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=10, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 10, eta_min=1e-6, by_epoch=True, begin=10, end=max_epochs,
         convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=max_epochs + 1)
val_dataloader = None
val_cfg = None
val_evaluator = None
test_cfg = dict(type='TestLoop')
default_hooks = dict(logger=dict(type='LoggerHook', interval=10),
                     checkpoint=dict(type='CheckpointHook', interval=max_epochs, max_keep_ckpts=1))
