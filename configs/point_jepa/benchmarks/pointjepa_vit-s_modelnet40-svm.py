# ModelNet40 linear SVM on frozen features (SPEC sec. 2): concat(max, mean) of final-LN tokens (768 dims),
# sklearn linear SVC with the published C=0.012, 10 seeds (each seed: its own random 1024-point subset of
# every shape, its own SVC random_state), mean +- std:
#   python tools/analysis_tools/svm_eval.py THIS_CONFIG PRETRAIN.pth
# (--C cv picks C by 5-fold CV on the train split instead; --prefix target. evaluates the EMA encoder)
_base_ = [
    './_base_/pointjepa_vit-s_cls.py',
    '../../_base_/datasets/modelnet40_svm.py',
    '../../_base_/default_runtime.py',
]
model = dict(frozen_backbone=True, backbone=dict(init_cfg=None),
             head=dict(_delete_=True, type='LinearClsHead', in_channels=768, num_classes=40))
svm_cfg = dict(C=0.012, num_seeds=10, name='ModelNet40')
