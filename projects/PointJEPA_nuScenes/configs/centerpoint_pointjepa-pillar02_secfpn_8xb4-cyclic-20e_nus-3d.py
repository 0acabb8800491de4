# CenterPoint (pillar 0.2 m, SECOND + SECONDFPN, CenterHead) on nuScenes with the Point-JEPA backbone
# pretrained on nuScenes LiDAR (pointjepa_vit-s_8xb16-100e_nus-lidar.py) as its point encoder.
# Everything but the pillar encoder is mmdet3d's own config, inherited unchanged, except that
# voxelisation is dynamic (the encoder sees every raw point):
#   bash tools/dist_train.sh projects/PointJEPA_nuScenes/configs/centerpoint_pointjepa-pillar02_secfpn_8xb4-cyclic-20e_nus-3d.py 8 \
#       --cfg-options model.pts_voxel_encoder.backbone.init_cfg.checkpoint=PRETRAIN.pth
# PRETRAIN.pth: a pretraining checkpoint or tools/model_converters/extract_backbone.py's output.
_base_ = ['mmdet3d::centerpoint/centerpoint_pillar02_second_secfpn_8xb4-cyclic-20e_nus-3d.py']
custom_imports = dict(imports=['projects.PointJEPA_nuScenes.pointjepa_nus.detection'], allow_failed_imports=False)

point_cloud_range = [-51.2, -51.2, -5.0, 51.2, 51.2, 3.0]
voxel_size = [0.2, 0.2, 8]
# the pretrained backbone: must equal the pretraining config's (tokenizer, encoder, positional encoding)
pos_embed = dict(type='sincos3d', scale=1.0)
pointjepa_backbone = dict(
    type='PointJEPABackbone',
    tokenizer=dict(type='PointPatchTokenizer', num_groups=1024, group_size=32, embed_dims=384, in_channels=4),
    pos_embed=pos_embed,
    encoder=dict(type='PointTransformerEncoder', embed_dims=384, depth=12, num_heads=6, mlp_ratio=4.0,
                 drop_path_rate=0.1, pos_every_block=False),
    init_cfg=dict(type='Pretrained', checkpoint=None, prefix='backbone.'))

model = dict(
    type='CenterPointDynamic',
    data_preprocessor=dict(
        voxel_type='dynamic',
        voxel_layer=dict(max_num_points=-1, point_cloud_range=point_cloud_range, voxel_size=voxel_size,
                         max_voxels=(-1, -1))),
    pts_voxel_encoder=dict(
        _delete_=True,
        type='PointJEPAPillarEncoder',
        backbone=pointjepa_backbone,
        in_channels=5,  # x, y, z, intensity, time lag (keyframe + 9 sweeps, as the base config)
        backbone_channels=[0, 1, 2, 3],  # what the backbone was pretrained on
        patch_channels=64,
        interp_k=3,
        max_tokenize_points=65536,  # the tokenizer's FPS / kNN see at most this many points per scan
        feat_channels=[64],  # = pts_middle_encoder.in_channels
        with_distance=False,
        voxel_size=voxel_size,
        point_cloud_range=point_cloud_range,
        norm_cfg=dict(type='BN1d', eps=1e-3, momentum=0.01)))

