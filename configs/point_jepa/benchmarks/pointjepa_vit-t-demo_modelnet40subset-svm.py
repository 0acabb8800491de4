# Smoke test of the SVM protocol: the demo ViT-T encoder on the real ModelNet40 subset (127 train / 29 test).
# C by 5-fold CV on the train split (the published C=0.012 is for the full 9,843-shape train set; pass
# --C 0.012 to use it anyway). 10 seeds.
#   python tools/analysis_tools/svm_eval.py THIS_CONFIG work_dirs/demo/epoch_7.pth
_base_ = ['./pointjepa_vit-s_modelnet40-svm.py']
# the demo ViT-T backbone (configs/point_jepa/pointjepa_vit-t_1xb32-demo_synthetic.py) and the real subset
# the 156-shape ModelNet40 subset (same layout as modelnet40_normal_resampled): $MODELNET40_SUBSET_ROOT, else
# data/modelnet40_subset
data_root = '{{$MODELNET40_SUBSET_ROOT:data/modelnet40_subset}}'
model = dict(
    backbone=dict(
        arch='vit-t',  # 192 x 6, 3 heads (PointPatchTransformer.arch_zoo)
        tokenizer=dict(num_groups=64, group_size=32),
        pos_embed='mlp',
        encoder=dict(drop_path_rate=0.0, pos_every_block=True)),
    head=dict(in_channels=384))
train_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
svm_cfg = dict(C='cv', name='ModelNet40 subset')
