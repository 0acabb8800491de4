# Demo: a small Point-JEPA (ViT-T: 192 x 6, predictor 96 x 3) pretrained on the procedural
# SyntheticShapes set, sized to learn something in a few minutes on 2 CPU cores.
# bash tools/demo.sh runs it, then evaluates the encoder with a linear SVM.
# Recipe chosen on validation probes only (benchmarks/recipe_study.py: ModelNet40 train-list CV and
# SyntheticShapes 'val'; see README): the authors'-code encoder layout (MLP positional encoding added
# before every block) and lr 5e-5 (the schedule base), where sin-cos PE at the input and lr 1e-3 / 2e-4
# made the frozen features worse than random init within 128 iterations.
_base_ = [
    '../_base_/models/pointjepa_vit-s.py',
    '../_base_/datasets/synthetic_shapes.py',
    '../_base_/schedules/adamw_coslr-7e_demo.py',
    '../_base_/default_runtime.py',
]
model = dict(
    backbone=dict(
        arch='vit-t',  # 192 x 6, 3 heads (PointPatchTransformer.arch_zoo)
        tokenizer=dict(num_groups=64, group_size=32),
        pos_embed='mlp',
        encoder=dict(drop_path_rate=0.0, pos_every_block=True)),
    head=dict(predictor=dict(in_dims=192, embed_dims=96, depth=3, num_heads=3)),
    ema_scope='encoder')
custom_hooks = [dict(type='pjepa3d.EMAHook', schedule='cosine', tau_start=0.996, tau_end=1.0)]

train_dataloader = dict(batch_size=32, num_workers=1, dataset=dict(num_samples=2048, num_points=1024))

default_hooks = dict(logger=dict(interval=16), checkpoint=dict(interval=1, max_keep_ckpts=2))
