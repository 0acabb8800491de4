# ModelNet10 as UNLABELLED pretraining data (the setting of a user with unlabelled shapes): the official
# train split minus the 10 % validation carve that the representation probe scores on
# (configs/_base_/datasets/modelnet10_probe.py), so the probe's score shapes are never pretrained on and
# the test split is never seen. Labels are loaded but PointJEPA.loss ignores them.
# data root: $MODELNET10_ROOT, else data/ModelNet10 (mmengine's {{$ENV:default}} substitution); the
# ModelNet10 folder in the official layout (<class>/{train,test}/<class>_NNNN.off, or .pcd point files).
# The dataset gives unit-sphere (1024, 3) clouds, z up. No augmentation: the demo recipe was chosen without it
# (benchmarks/recipe_study.py); add RandomScale / RandomRotate(axis='z') here to study them.
dataset_type = 'ModelNet10'
data_root = '{{$MODELNET10_ROOT:data/ModelNet10}}'
train_pipeline = [dict(type='PackPointInputs')]
train_dataloader = dict(
    batch_size=32,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, split='train', val_ratio=0.1, split_seed=0,
                 pipeline=train_pipeline))
