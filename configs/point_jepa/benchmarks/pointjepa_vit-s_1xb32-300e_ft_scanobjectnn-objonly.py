# ScanObjectNN OBJ_ONLY fine-tune (SPEC sec. 2): 2048 points, 128 patches of 32, MLP head 768-256-256-15;
# AdamW 1e-3, 300 epochs, encoder trained throughout (add FreezeBackboneHook to custom_hooks for a frozen
# start); best checkpoint on the val split carved from the training file; test with 10 votes.
#   python tools/train.py THIS_CONFIG --cfg-options model.backbone.init_cfg.checkpoint=PRETRAIN.pth
#   python tools/test.py THIS_CONFIG work_dirs/<this config>/best_accuracy_overall_epoch_*.pth
_base_ = [
    './_base_/pointjepa_vit-s_cls.py',
    '../../_base_/datasets/scanobjectnn_objonly.py',
    './_base_/adamw_coslr_ft.py',
    './_base_/cls_runtime.py',
]
model = dict(backbone=dict(tokenizer=dict(num_groups=128, group_size=32)), head=dict(num_classes=15))
custom_hooks = [
    dict(type='TestVotingHook', num_votes=10),
    dict(type='TestBestAndLastHook'),
]
