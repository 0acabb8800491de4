# ShapeNet55 in the Point-BERT layout: data/ShapeNet55/{shapenet_pc/*.npy, train.txt, test.txt}
dataset_type = 'ShapeNet55'
data_root = 'data/ShapeNet55'
train_pipeline = [
    dict(type='pjepa3d.PointSample', num_points=1024, method='fps'),
    dict(type='NormalizeUnitSphere'),
    dict(type='PackPointInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, split='train', pipeline=train_pipeline))
