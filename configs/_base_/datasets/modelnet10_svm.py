# ModelNet10 for frozen-feature SVM evaluation (tools/analysis_tools/svm_eval.py): the official train split
# (3,991 shapes) fits the SVM, the official test split (908) scores it. data_root is the ModelNet10 folder
# (<class>/{train,test}/<class>_NNNN.{off,pcd}), from $MODELNET10_ROOT when set, else data/ModelNet10.
# The ModelNet10 dataset centres every cloud and scales it to the unit sphere; .pcd files are used as they
# are (1,024 points each), .off meshes are sampled on their surface (num_points, seeded, cached on disk).
# No random transform: the features are extracted once and the SVM seeds vary the CV folds / SVC only.
dataset_type = 'ModelNet10'
data_root = '{{$MODELNET10_ROOT:data/ModelNet10}}'
svm_pipeline = [dict(type='PackPointInputs')]
train_dataloader = dict(
    batch_size=32, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, split='train', num_points=1024, pipeline=svm_pipeline))
test_dataloader = dict(
    batch_size=32, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, split='test', num_points=1024, pipeline=svm_pipeline))
