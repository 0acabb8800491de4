# The scratch baseline of centerpoint_pointjepa-pillar02_secfpn_8xb4-cyclic-20e_nus-3d.py: the same detector,
# encoder and schedule, with the Point-JEPA backbone randomly initialised (no pretrained weights).
_base_ = ['./centerpoint_pointjepa-pillar02_secfpn_8xb4-cyclic-20e_nus-3d.py']
model = dict(pts_voxel_encoder=dict(backbone=dict(init_cfg=None)))
