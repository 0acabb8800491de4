# ModelNet40 classification (resampled layout: data/ModelNet40/modelnet40_normal_resampled/...; set
# layout='npz' to read the cache of tools/dataset_converters/modelnet40_to_npz.py).
# Splits: 'val' is carved from the official train list (stratified, seeded: val_ratio / split_seed must be
# the same for train and val); the official test list is only evaluated (tools/test.py and
# TestBestAndLastHook), never used for model selection.
dataset_type = 'ModelNet40'
data_root = 'data/ModelNet40'
val_ratio = 0.1
split_seed = 0
train_pipeline = [
    dict(type='pjepa3d.PointSample', num_points=1024, method='fps'),
    dict(type='NormalizeUnitSphere'),
    dict(type='RandomScale', scale_range=(2.0 / 3.0, 1.5)),
    dict(type='PackPointInputs'),
]
test_pipeline = [
    dict(type='pjepa3d.PointSample', num_points=1024, method='fps'),
    dict(type='NormalizeUnitSphere'),
    dict(type='PackPointInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, split='train', val_ratio=val_ratio, split_seed=split_seed,
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, split='val', val_ratio=val_ratio, split_seed=split_seed,
                 pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, split='test', pipeline=test_pipeline))
val_evaluator = dict(type='pjepa3d.Accuracy')
test_evaluator = dict(type='pjepa3d.Accuracy')
