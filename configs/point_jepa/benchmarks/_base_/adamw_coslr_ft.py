# Fine-tuning schedule (SPEC sec. 2): AdamW lr 1e-3, wd 0.05 (none on bias / norm), 10 linear warm-up
# epochs, cosine to 1e-6, grad-norm clip 10. Top configs set max_epochs and rewrite the schedulers.
max_epochs = 300
optim_wrapper = dict(
    type='OptimWrapper',
    constructor='pjepa3d.SummaryOptimWrapperConstructor',  # same groups as mmengine's; one log line
    optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0),
    clip_grad=dict(max_norm=10.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=10, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 10, eta_min=1e-6, by_epoch=True, begin=10, end=max_epochs,
         convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
auto_scale_lr = dict(base_batch_size=32, enable=False)
