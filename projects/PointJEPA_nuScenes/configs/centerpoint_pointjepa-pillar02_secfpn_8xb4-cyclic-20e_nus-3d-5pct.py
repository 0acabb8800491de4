# 5 % of the nuScenes training labels (pretrained backbone): a seeded subset of nuscenes_infos_train.pkl
# (fraction_seed=0; the same infos in every run and on every rank, and inside the 20 % subset when 5 %).
# The subset can be pinned with index_file=<json> (projects/PointJEPA_nuScenes/tools/make_label_fractions.py).
_base_ = ['./centerpoint_pointjepa-pillar02_secfpn_8xb4-cyclic-20e_nus-3d.py']
train_dataloader = dict(
    dataset=dict(dataset=dict(type='NuScenesLabelFractionDataset', label_fraction=0.05, fraction_seed=0)))
