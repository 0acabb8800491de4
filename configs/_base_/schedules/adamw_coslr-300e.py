# Notes' schedule: AdamW lr 1.5e-4 at batch 128, wd 0.05 (none on bias / norm / mask token),
# 40 linear warm-up epochs then cosine to 0, 300 epochs.
optim_wrapper = dict(
    type='OptimWrapper',
    constructor='pjepa3d.SummaryOptimWrapperConstructor',  # same groups as mmengine's; one log line
    optimizer=dict(type='AdamW', lr=1.5e-4, betas=(0.9, 0.999), weight_decay=0.05),
    # bypass_duplicate: with ema_scope='encoder' the target shares the online tokenizer
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0, bypass_duplicate=True,
                       custom_keys={'mask_token': dict(decay_mult=0.0)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=40, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=260, eta_min=0.0, by_epoch=True, begin=40, end=300,
         convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=300)
auto_scale_lr = dict(base_batch_size=128, enable=False)
