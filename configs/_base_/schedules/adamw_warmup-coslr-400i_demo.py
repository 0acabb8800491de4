# Short iteration schedule for the ModelNet10 demo (2 CPU cores): AdamW lr 5e-5 at batch 32, wd 0.05 (none on
# bias / norm / mask token), 40 linear warm-up iterations, cosine to 1 % of the lr at iteration 400.
# lr 2e-4 made the online encoder fall below random init after 100 iterations (benchmarks/recipe_study.py).
max_iters = 400
warmup_iters = 40
optim_wrapper = dict(
    type='OptimWrapper',
    constructor='pjepa3d.SummaryOptimWrapperConstructor',  # same groups as mmengine's; one log line
    optimizer=dict(type='AdamW', lr=5e-5, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0, bypass_duplicate=True,
                       custom_keys={'mask_token': dict(decay_mult=0.0)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', T_max=max_iters - warmup_iters, eta_min=5e-7, by_epoch=False,
         begin=warmup_iters, end=max_iters),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=100)
auto_scale_lr = dict(base_batch_size=32, enable=False)
