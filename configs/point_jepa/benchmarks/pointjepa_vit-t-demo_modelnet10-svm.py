# The ModelNet10 SVM protocol (./pointjepa_vit-s_modelnet10-svm.py) for the demo ViT-T encoder
# (configs/point_jepa/pointjepa_vit-t_1xb32-demo_synthetic.py; 384-dim features): C by 5-fold CV on the
# official train split, standardised features, 10 seeds, random-init baselines with and without BatchNorm
# calibration (512 train clouds), init seeds 0 1 2.
#   B=configs/point_jepa/benchmarks; export MODELNET10_ROOT=path/to/ModelNet10
#   python tools/analysis_tools/svm_eval.py $B/pointjepa_vit-t-demo_modelnet10-svm.py work_dirs/demo/epoch_7.pth \
#       --prefix backbone. target.
#   python tools/analysis_tools/svm_eval.py $B/pointjepa_vit-t-demo_modelnet10-svm.py --random-init-only
_base_ = ['./pointjepa_vit-s_modelnet10-svm.py']
# the demo ViT-T backbone (as in configs/point_jepa/pointjepa_vit-t_1xb32-demo_synthetic.py)
model = dict(
    backbone=dict(
        arch='vit-t',  # 192 x 6, 3 heads (PointPatchTransformer.arch_zoo)
        tokenizer=dict(num_groups=64, group_size=32),
        pos_embed='mlp',
        encoder=dict(drop_path_rate=0.0, pos_every_block=True)))
svm_cfg = dict(name='ModelNet10', C='cv', num_seeds=10, standardize=True, calib_samples=512)
