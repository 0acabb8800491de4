# Issue 9 lever "more and more varied unlabelled data": the demo recipe pretrained on procedural SyntheticShapes
# instead of the 3.6k ModelNet10 train-part shapes, still probed on the ModelNet10 validation carve.
# Every fetch draws a new shape (fresh=True: no cloud is seen twice), z up like ModelNet10's files, 4,096 surface
# points reduced to 1,024 by farthest point sampling (evenly spread, as the Poisson-disk ModelNet10 files are),
# random per-axis scaling as the authors' pretraining does. Measured 2026-12-01: the probe still falls (online 92.23 ->
# 87.47, EMA target -> 90.73 at 400 iterations; docs/research_log.md).
# Data cost: generating a shape takes ~2 ms, the per-cloud FPS ~40 ms (one cloud at a time in the loader worker),
# so one worker delivers a batch of 32 in about the time of a ViT-T step on 2 cores; give it a second worker
# (train_dataloader.num_workers=2) where cores allow.
_base_ = ['../../pointjepa_vit-t_1xb32-400i_modelnet10.py']
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='SyntheticShapes',
        split='train',
        num_samples=4096,  # one "epoch" of fresh draws; labels exist but PointJEPA.loss ignores them
        num_points=4096,
        fresh=True,
        up_axis='z',
        pipeline=[
            dict(type='pjepa3d.PointSample', num_points=1024, method='fps'),
            dict(type='RandomScale', scale_range=(2 / 3, 3 / 2)),
            dict(type='PackPointInputs'),
        ]))
