# ModelNet10 linear SVM on frozen features (SPEC sec. 2) for the ViT-S Point-JEPA encoder (the backbone of
# configs/_base_/models/pointjepa_vit-s.py, so it matches the pretraining checkpoint): concat(max, mean) of
# final-LN tokens (768 dims), standardised (StandardScaler fitted on the train features only), sklearn
# linear SVC with C by 5-fold CV on the official train split (3,991 shapes), scored on the official test
# split (908), 10 seeds; overall and mean-class accuracy, mean +- std. Next to it the random-init encoder
# (init seeds 0 1 2) as initialised and with its BatchNorm statistics calibrated on 512 train clouds.
# ModelNet10 is complete, so these are real benchmark numbers.
#   MODELNET10_ROOT=path/to/ModelNet10 python tools/analysis_tools/svm_eval.py THIS_CONFIG PRETRAIN.pth
# (--prefix target. evaluates the EMA encoder; --random-init-only runs the baselines without a checkpoint)
_base_ = [
    '../../_base_/models/pointjepa_vit-s.py',
    '../../_base_/datasets/modelnet10_svm.py',
    '../../_base_/default_runtime.py',
]
svm_cfg = dict(name='ModelNet10', C='cv', num_seeds=10, standardize=True, calib_samples=512)
