default_scope = 'pjepa3d'

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # atomic_local: checkpoints are written to a temp file and renamed into place
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3,
                    backend_args=dict(backend='atomic_local')),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # the random streams (torch / numpy / Python / dataloader seeds) in every checkpoint, restored on resume,
    # and kept apart from validation: a resumed run logs the same losses as an uninterrupted one
    rng_state=dict(type='RNGStateHook'),
)

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),  # tools/train.py switches to gloo when no GPU is present
)

log_processor = dict(window_size=10, by_epoch=True)
# Logs go to <work_dir>/<timestamp>/vis_data/ (json, read by tools/analysis_tools/analyze_logs.py). TensorBoard:
# PJEPA3D_TENSORBOARD=1 python tools/train.py CONFIG ... adds mmengine's TensorboardVisBackend (needs
# `pip install tensorboard`), then `tensorboard --logdir <work_dir>`.
use_tensorboard = '{{$PJEPA3D_TENSORBOARD:0}}' not in ('', '0')
vis_backends = [dict(type='LocalVisBackend')] + ([dict(type='TensorboardVisBackend')] if use_tensorboard else [])
visualizer = dict(type='Visualizer', vis_backends=vis_backends)
log_level = 'INFO'
load_from = None
resume = False
# the seed is written into every log and checkpoint (meta.seed)
randomness = dict(seed=0, diff_rank_seed=True, deterministic=False)
