# ScanObjectNN OBJ_BG (data/ScanObjectNN/h5_files/...; see pjepa3d.datasets.ScanObjectNN for the files).
# 2048 points per scan, in the scans' own units (no re-normalisation, as the public pipelines);
# 'val' is carved from the training file (stratified, seeded); the test file is only evaluated.
dataset_type = 'ScanObjectNN'
data_root = 'data/ScanObjectNN'
variant = 'OBJ_BG'
val_ratio = 0.1
split_seed = 0
train_pipeline = [
    dict(type='pjepa3d.PointSample', num_points=2048, method='random'),
    dict(type='RandomScale', scale_range=(2.0 / 3.0, 1.5)),
    dict(type='PackPointInputs'),
]
test_pipeline = [
    dict(type='pjepa3d.PointSample', num_points=2048, method='first'),
    dict(type='PackPointInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, variant=variant, split='train', val_ratio=val_ratio,
                 split_seed=split_seed, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, variant=variant, split='val', val_ratio=val_ratio,
                 split_seed=split_seed, pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, variant=variant, split='test', pipeline=test_pipeline))
val_evaluator = dict(type='pjepa3d.Accuracy')
test_evaluator = dict(type='pjepa3d.Accuracy')
