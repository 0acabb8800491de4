# Procedural shapes: no download; each index is a fixed, seeded sample.
dataset_type = 'SyntheticShapes'
train_pipeline = [dict(type='PackPointInputs')]
train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, split='train', num_samples=4096, num_points=1024, pipeline=train_pipeline))
