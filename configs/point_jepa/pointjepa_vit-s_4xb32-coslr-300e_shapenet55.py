# Notes' preset: region masking (K=4, rho=0.65), MSE on LayerNorm'd targets, sincos3d PE,
# EMA cosine 0.996 -> 1.0 over the tokenizer and encoder, AdamW 1.5e-4, 300 epochs, 4 GPUs x 32.
_base_ = [
    '../_base_/models/pointjepa_vit-s.py',
    '../_base_/datasets/shapenet55.py',
    '../_base_/schedules/adamw_coslr-300e.py',
    '../_base_/default_runtime.py',
]
train_dataloader = dict(batch_size=32)
# tau: cosine 0.996 -> 1.0 over all iterations (notes sec. 4.3)
custom_hooks = [dict(type='pjepa3d.EMAHook', schedule='cosine', tau_start=0.996, tau_end=1.0)]
