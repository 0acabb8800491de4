# ModelNet40 for frozen-feature SVM evaluation (tools/analysis_tools/svm_eval.py): the official train list
# to fit the SVM, the official test list to score it. Each seed draws its own random 1024-point subset of
# every shape (PointSample 'random' uses numpy's global generator, which svm_eval.py seeds per seed).
dataset_type = 'ModelNet40'
data_root = 'data/ModelNet40'
svm_pipeline = [
    dict(type='pjepa3d.PointSample', num_points=1024, method='random'),
    dict(type='NormalizeUnitSphere'),
    dict(type='PackPointInputs'),
]
train_dataloader = dict(
    batch_size=32, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, split='train', pipeline=svm_pipeline))
test_dataloader = dict(
    batch_size=32, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, split='test', pipeline=svm_pipeline))
