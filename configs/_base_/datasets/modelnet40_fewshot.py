# ModelNet40 few-shot (Point-BERT's folds: data/ModelNetFewshot/{5,10}way_{10,20}shot/{0..9}.pkl).
# One episode per run; tools/analysis_tools/few_shot.py sets way / shot / fold for all 40 runs.
# There is no validation split in this protocol: the test numbers reported are those of the last epoch.
dataset_type = 'ModelNetFewShot'
data_root = 'data/ModelNetFewshot'
way, shot, fold = 5, 10, 0
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
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, way=way, shot=shot, fold=fold, split='train',
                 pipeline=train_pipeline))
test_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, way=way, shot=shot, fold=fold, split='test',
                 pipeline=test_pipeline))
test_evaluator = dict(type='pjepa3d.Accuracy')
