# ModelNet40 fine-tune (SPEC sec. 2): MLP head 768-256-256-40, BN, dropout 0.5, label smoothing 0.2;
# AdamW 1e-3, 200 epochs; the encoder frozen for the first 150 epochs, then trained (FreezeBackboneHook;
# SPEC's account of the authors' schedule); best checkpoint on the val split carved from train;
# 10-vote test-time augmentation in the test loop (TestVotingHook).
#   python tools/train.py THIS_CONFIG --cfg-options model.backbone.init_cfg.checkpoint=PRETRAIN.pth
#   python tools/test.py THIS_CONFIG work_dirs/<this config>/best_accuracy_overall_epoch_*.pth
# (test without voting: --cfg-options custom_hooks.1.num_votes=1)
_base_ = [
    './_base_/pointjepa_vit-s_cls.py',
    '../../_base_/datasets/modelnet40_cls.py',
    './_base_/adamw_coslr_ft.py',
    './_base_/cls_runtime.py',
]
max_epochs = 200
freeze_epochs = 150
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=10, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 10, eta_min=1e-6, by_epoch=True, begin=10, end=max_epochs,
         convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
custom_hooks = [
    dict(type='FreezeBackboneHook', freeze_epochs=freeze_epochs),
    dict(type='TestVotingHook', num_votes=10),
    dict(type='TestBestAndLastHook'),
]
