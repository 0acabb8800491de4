# ModelNet10 few-label fine-tuning, 5 % of the training labels (181 shapes; for one fraction_seed they include
# the 1 % config's 37). Everything else as the 1 % config (same schedule: 300 iterations of 32, the encoder
# frozen for the first 200; validation every 25 iterations on the val carve; last and best-on-val tested).
#   python tools/train.py THIS_CONFIG --cfg-options model.backbone.init_cfg.checkpoint=PRETRAIN.pth
#   (random-init baseline: --cfg-options model.backbone.init_cfg=None)
_base_ = ['./pointjepa_vit-t-demo_1xb32_ft_modelnet10-label1pct.py']
train_dataloader = dict(dataset=dict(label_fraction=0.05, fraction_seed=0))
