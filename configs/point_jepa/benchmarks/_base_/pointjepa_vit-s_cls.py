# PointClassifier around the Point-JEPA ViT-S backbone (must match the pretraining backbone: the notes'
# preset, sincos3d PE at the input) + the fine-tuning MLP head 768-256-256-C (BN, dropout 0.5, label
# smoothing). The pretrained encoder comes in through init_cfg (prefix 'backbone.' = the context encoder,
# 'target.' = the EMA target encoder); an empty checkpoint is an error, init_cfg=None trains from scratch.
num_classes = 40
model = dict(
    type='PointClassifier',
    backbone=dict(
        type='PointPatchTransformer',
        arch='vit-s',  # 384 x 12, 6 heads (PointPatchTransformer.arch_zoo)
        tokenizer=dict(type='PointPatchTokenizer', num_groups=64, group_size=32, in_channels=3),
        pos_embed=dict(type='sincos3d', scale=50.0),
        encoder=dict(type='PointTransformerEncoder', mlp_ratio=4.0, drop_path_rate=0.1, pos_every_block=False),
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')),
    head=dict(type='MLPClsHead', in_channels=768, num_classes=num_classes, hidden_channels=(256, 256), dropout=0.5,
              label_smoothing=0.2),
    test_cfg=dict(num_votes=1))
