# ModelNet40 linear probe (SPEC sec. 2): frozen encoder (eval mode, no gradients), one trained linear layer
# on concat(max, mean) of the final-LN tokens (768 dims); AdamW 1e-3, 100 epochs; best on the val split.
#   python tools/train.py THIS_CONFIG --cfg-options model.backbone.init_cfg.checkpoint=PRETRAIN.pth
#   python tools/test.py THIS_CONFIG work_dirs/<this config>/best_accuracy_overall_epoch_*.pth
_base_ = [
    './_base_/pointjepa_vit-s_cls.py',
    '../../_base_/datasets/modelnet40_cls.py',
    './_base_/adamw_coslr_ft.py',
    './_base_/cls_runtime.py',
]
model = dict(frozen_backbone=True,
             head=dict(_delete_=True, type='LinearClsHead', in_channels=768, num_classes=40, label_smoothing=0.0))
max_epochs = 100
optim_wrapper = dict(optimizer=dict(lr=1e-3, weight_decay=0.0), clip_grad=None)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-2, by_epoch=True, begin=0, end=5, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 5, eta_min=1e-6, by_epoch=True, begin=5, end=max_epochs,
         convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
