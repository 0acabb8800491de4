# ScanObjectNN (OBJ_BG) linear SVM on frozen features (SPEC sec. 2), published C=0.042, 10 seeds:
#   python tools/analysis_tools/svm_eval.py THIS_CONFIG PRETRAIN.pth
# Other variants: --cfg-options train_dataloader.dataset.variant=PB_T50_RS test_dataloader.dataset.variant=PB_T50_RS
_base_ = [
    './_base_/pointjepa_vit-s_cls.py',
    '../../_base_/default_runtime.py',
]
model = dict(frozen_backbone=True, backbone=dict(init_cfg=None, tokenizer=dict(num_groups=128, group_size=32)),
             head=dict(_delete_=True, type='LinearClsHead', in_channels=768, num_classes=15))
svm_pipeline = [
    dict(type='pjepa3d.PointSample', num_points=2048, method='random'),
    dict(type='PackPointInputs'),
]
train_dataloader = dict(
    batch_size=32, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='ScanObjectNN', data_root='data/ScanObjectNN', variant='OBJ_BG', split='train',
                 pipeline=svm_pipeline))
test_dataloader = dict(
    batch_size=32, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='ScanObjectNN', data_root='data/ScanObjectNN', variant='OBJ_BG', split='test',
                 pipeline=svm_pipeline))
svm_cfg = dict(C=0.042, num_seeds=10, name='ScanObjectNN OBJ_BG')
