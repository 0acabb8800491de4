# ScanObjectNN PB_T50_RS: the OBJ_BG data settings (scanobjectnn_objbg.py) on the PB_T50_RS files.
_base_ = ['./scanobjectnn_objbg.py']
variant = 'PB_T50_RS'
train_dataloader = dict(dataset=dict(variant=variant))
val_dataloader = dict(dataset=dict(variant=variant))
test_dataloader = dict(dataset=dict(variant=variant))
