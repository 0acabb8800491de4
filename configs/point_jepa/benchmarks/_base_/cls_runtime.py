_base_ = ['../../../_base_/default_runtime.py']
# Classification runtime: best checkpoint by validation overall accuracy; after training the test split is
# evaluated with the last and with the best-on-val weights (TestBestAndLastHook prints both and writes
# <work_dir>/test_last_and_best.json); votes at test time only (TestVotingHook; 1 = off).
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=1, save_last=True,
                    save_best='accuracy/overall', rule='greater'))
custom_hooks = [
    dict(type='TestVotingHook', num_votes=1),
    dict(type='TestBestAndLastHook'),
]
# FreezeBackboneHook leaves the backbone without gradients for part of training (a linear probe: always,
# but its backbone is frozen before DDP wraps the model); DDP must then look for unused parameters.
find_unused_parameters = True
