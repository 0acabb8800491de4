# Issue 9 lever: the demo recipe with per-sample augmentation of the pretraining clouds (the authors' kind:
# per-axis scaling, a rotation about the up axis z of ModelNet10, small jitter), so the 3.6k shapes never repeat
# exactly. docs/research_log.md.
_base_ = ['../../pointjepa_vit-t_1xb32-400i_modelnet10.py']
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='RandomScale', scale_range=(2 / 3, 3 / 2)),
    dict(type='RandomRotate', axis='z', angle_range=(-180, 180)),
    dict(type='RandomJitter', sigma=0.01, clip=0.05),
    dict(type='PackPointInputs'),
]))
