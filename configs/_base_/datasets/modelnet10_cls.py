# ModelNet10 classification (the complete benchmark: official 3,991 train / 908 test shapes, 10 classes).
# data root: $MODELNET10_ROOT, else data/ModelNet10 (mmengine's {{$ENV:default}} substitution; an `import os`
# would switch mmengine to its lazy config format); the ModelNet10 folder in the official layout
# <class>/{train,test}/<class>_NNNN.{off,pcd} (or its parent).
# Splits: 'train' = the official train split minus a seeded, stratified validation carve (val_ratio=0.1,
# split_seed=0: 3,592 shapes); 'val' = that carve (399 shapes), used for model selection
# (CheckpointHook save_best); 'test' = the official test split (908 shapes), only evaluated after training
# (TestBestAndLastHook, tools/test.py), never used for selection. train and val must share val_ratio /
# split_seed. Label fractions: train_dataloader.dataset.label_fraction / fraction_seed (stratified, >= 1
# shape per class, nested across fractions for one fraction_seed).
# The dataset already centres every cloud and scales it to the unit sphere (1,024 points, z up), so the
# pipelines only augment (train: per-axis RandomScale, as modelnet40_cls) and pack.
dataset_type = 'ModelNet10'
data_root = '{{$MODELNET10_ROOT:data/ModelNet10}}'
val_ratio = 0.1
split_seed = 0
train_pipeline = [
    dict(type='RandomScale', scale_range=(2.0 / 3.0, 1.5)),
    dict(type='PackPointInputs'),
]
test_pipeline = [dict(type='PackPointInputs')]
train_dataloader = dict(
    batch_size=32,
    num_workers=0,  # clouds are cached in memory after the first read; workers would only add copies
    persistent_workers=False,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, split='train', val_ratio=val_ratio, split_seed=split_seed,
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, split='val', val_ratio=val_ratio, split_seed=split_seed,
                 pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=32,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, split='test', pipeline=test_pipeline))
val_evaluator = dict(type='pjepa3d.Accuracy')
test_evaluator = dict(type='pjepa3d.Accuracy')
