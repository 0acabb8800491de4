# ShapeNetPart part segmentation: data/shapenetpart/shapenetcore_partanno_segmentation_benchmark_v0_normal/
# (<synset>/<id>.txt rows "x y z nx ny nz part", train_test_split/shuffled_{train,val,test}_file_list.json,
# synsetoffset2category.txt). 2048 points per shape; xyz only (use_normals=True adds 3 channels).
# Model selection on the official val list; the test list is only evaluated.
dataset_type = 'ShapeNetPart'
data_root = 'data/shapenetpart'
num_points = 2048

train_pipeline = [
    dict(type='pjepa3d.PointSample', num_points=num_points, method='random'),
    dict(type='RandomScale', scale_range=(0.8, 1.25)),
    dict(type='NormalizeUnitSphere'),
    dict(type='PackPartSegInputs'),
]
# the same subset of each shape at every evaluation (seeded per sample)
test_pipeline = [
    dict(type='pjepa3d.PointSample', num_points=num_points, method='random', seed=0, per_sample_seed=True),
    dict(type='NormalizeUnitSphere'),
    dict(type='PackPartSegInputs'),
]

train_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, split='train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, split='val', pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, split='test', pipeline=test_pipeline))

val_evaluator = dict(type='PartMIoU')
test_evaluator = val_evaluator
