# Representation probe during pretraining, run by mmengine's ValLoop (IterBasedTrainLoop val_interval)
# and once at iteration 0 by ProbeAtStartHook: a linear SVM (SVMProbeMetric) fitted on a labelled
# ModelNet10 'fit' set and scored on a 'score' set, plus the centred effective rank of the score-set
# features. Both sets come from the official TRAIN split (the test split is never used here, so
# CheckpointHook(save_best='svm_acc') selects without touching it):
#   fit   = 'train' minus the 10 % validation carve, then a stratified 25 % label fraction (~900 shapes);
#   score = the 10 % validation carve (399 shapes).
# The 25 % label fraction keeps each probe small: ~1,300 clouds instead of ~4,000, and each SVM fit
# (per feature key: online, EMA target) about 1.5 s (898 x 768 features, one CPU core), plus a few seconds for the
# choice of C. The time is mostly the feature
# extraction (online + target encoders): measured on one CPU core about 3 min a probe for ViT-S and
# 45 s for the ViT-T demo (seconds on a GPU), so choose val_interval accordingly. It tracks the trend;
# the ModelNet10 number to report comes from tools/analysis_tools/svm_eval.py on the official split.
# data root: $MODELNET10_ROOT, else data/ModelNet10 (as os.environ.get('MODELNET10_ROOT', 'data/ModelNet10');
# written with mmengine's {{$ENV:default}} substitution because an `import os` would switch mmengine to
# its lazy-import config format, which cannot evaluate os.environ); the ModelNet10 folder in the official
# layout (.off meshes or .pcd points).
# Use with: custom_hooks += [dict(type='ProbeAtStartHook')] (the iteration-0 point, BatchNorm statistics
# calibrated) and train_cfg = dict(type='IterBasedTrainLoop', ..., val_interval=N); optionally
# default_hooks.checkpoint.save_best='svm_acc', rule='greater', and
# dict(type='CollapseMonitorHook', key='feat_rank', source='val'). With an iteration loop, set
# default_hooks.logger.log_metric_by_epoch=False and log_processor.by_epoch=False, so the probe
# curve is logged by iteration (vis_data/scalars.json 'step').
probe_data_root = '{{$MODELNET10_ROOT:data/ModelNet10}}'
probe_pipeline = [dict(type='PackPointInputs')]  # ModelNet10 gives unit-sphere (1024, 3) clouds, z up
probe_set = dict(type='ModelNet10', data_root=probe_data_root, val_ratio=0.1, split_seed=0,
                 pipeline=probe_pipeline)

val_dataloader = dict(
    batch_size=64,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='ProbeDataset',
        fit=dict(probe_set, split='train', label_fraction=0.25, fraction_seed=0),
        score=dict(probe_set, split='val')))
# C is chosen per probe and encoder by 5-fold cross-validation on the fit part, as the benchmark chooses it on the
# train split: a fixed C=0.01 read 77.9 % at the end of a 30-minute Point-JEPA run whose benchmark SVM (C=0.1 by
# CV) scored 89.8 % on test (docs/research_log.md); a few seconds more per probe
val_evaluator = dict(type='SVMProbeMetric', C=(1e-3, 1e-2, 1e-1, 1.0), standardize=True, rank_min_samples=256)
val_cfg = dict(type='ValLoop')
