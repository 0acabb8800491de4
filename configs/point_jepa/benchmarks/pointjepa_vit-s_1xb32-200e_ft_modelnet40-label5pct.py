# ModelNet40 fine-tune on 5 % of the training labels: a stratified subset (at least one shape per
# class) of the train part (after the val carve), drawn with fraction_seed. The chosen shapes are fixed by
# (val_ratio, split_seed, label_fraction, fraction_seed); to pin them in a file:
#   python tools/dataset_converters/modelnet40_splits.py data/ModelNet40 --val-ratio 0.1 --label-fraction 0.05 --out-dir DIR
# and pass --cfg-options train_dataloader.dataset.index_file=DIR/modelnet40_val0.1_seed0_train_label5pct_seed0.json
_base_ = ['./pointjepa_vit-s_1xb32-200e_ft_modelnet40.py']
train_dataloader = dict(drop_last=False, dataset=dict(label_fraction=0.05, fraction_seed=0))
