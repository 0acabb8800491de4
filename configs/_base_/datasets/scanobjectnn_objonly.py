# ScanObjectNN OBJ_ONLY: the OBJ_BG data settings (scanobjectnn_objbg.py) on the OBJ_ONLY files.
_base_ = ['./scanobjectnn_objbg.py']
variant = 'OBJ_ONLY'
train_dataloader = dict(dataset=dict(variant=variant))
val_dataloader = dict(dataset=dict(variant=variant))
test_dataloader = dict(dataset=dict(variant=variant))
