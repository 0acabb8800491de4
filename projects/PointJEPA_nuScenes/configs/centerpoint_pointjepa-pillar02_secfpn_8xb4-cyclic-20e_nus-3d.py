# CenterPoint (pillar 0.2 m, SECOND + SECONDFPN, CenterHead) on nuScenes with the Point-JEPA backbone
# pretrained on nuScenes LiDAR (pointjepa_vit-s_8xb16-100e_nus-lidar.py) as its point encoder.
# Everything but the pillar encoder is mmdet3d's own config, inherited unchanged, except that
# voxelisation is dynamic (the encoder sees every raw point):
#   bash tools/dist_train.sh projects/PointJEPA_nuScenes/configs/centerpoint_pointjepa-pillar02_secfpn_8xb4-cyclic-20e_nus-3d.py 8 \
#       --cfg-options model.pts_voxel_encoder.backbone.init_cfg.checkpoint=PRETRAIN.pth
# PRETRAIN.pth: a pretraining checkpoint or tools/model_converters/extract_backbone.py's output.
# Data: $NUS_DATA_ROOT (samples/, sweeps/, nuscenes_infos_{train,val}.pkl), else data/nuscenes; the GT database of
# ObjectSample (nuscenes_dbinfos_train.pkl + nuscenes_gt_database/, from projects/PointJEPA_nuScenes/tools/
# create_gt_database.py): $NUS_GT_DB_ROOT, else the data root (mmengine's {{$ENV:default}} substitution).
_base_ = ['mmdet3d::centerpoint/centerpoint_pillar02_second_secfpn_8xb4-cyclic-20e_nus-3d.py']
custom_imports = dict(imports=['projects.PointJEPA_nuScenes.pointjepa_nus.detection'], allow_failed_imports=False)

point_cloud_range = [-51.2, -51.2, -5.0, 51.2, 51.2, 3.0]
voxel_size = [0.2, 0.2, 8]
class_names = {{_base_.class_names}}
data_root = '{{$NUS_DATA_ROOT:data/nuscenes}}/'
gt_db_root = '{{$NUS_GT_DB_ROOT:<data_root>}}'  # '<data_root>': the variable is unset
gt_db_root = data_root if gt_db_root == '<data_root>' else gt_db_root.rstrip('/') + '/'
# the pretrained backbone: must equal the pretraining config's (tokenizer, encoder, positional encoding)
pos_embed = dict(type='sincos3d', scale=1.0)
pointjepa_backbone = dict(
    type='PointPatchTransformer',
    arch='vit-s',  # 384 x 12, 6 heads (PointPatchTransformer.arch_zoo)
    tokenizer=dict(type='PointPatchTokenizer', num_groups=1024, group_size=32, in_channels=4),
    pos_embed=pos_embed,
    encoder=dict(type='PointTransformerEncoder', mlp_ratio=4.0, drop_path_rate=0.1, pos_every_block=False),
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

# mmdet3d's train pipeline, restated only because its ObjectSample holds the database paths; the sampler is
# mmdet3d's DataBaseSampler that skips classes without database objects (small databases) and runs on numpy 1.26
db_sampler = dict(
    type='TolerantDataBaseSampler',
    data_root=gt_db_root,
    info_path=gt_db_root + 'nuscenes_dbinfos_train.pkl',
    rate=1.0,
    prepare={{_base_.db_sampler.prepare}},
    classes=class_names,
    sample_groups={{_base_.db_sampler.sample_groups}},
    points_loader={{_base_.db_sampler.points_loader}},
    backend_args=None)
train_pipeline = [
    dict(type='LoadPointsFromFile', coord_type='LIDAR', load_dim=5, use_dim=5, backend_args=None),
    dict(type='LoadPointsFromMultiSweeps', sweeps_num=9, use_dim=[0, 1, 2, 3, 4], pad_empty_sweeps=True,
         remove_close=True, backend_args=None),
    dict(type='LoadAnnotations3D', with_bbox_3d=True, with_label_3d=True),
    dict(type='ObjectSample', db_sampler=db_sampler),
    dict(type='GlobalRotScaleTrans', rot_range=[-0.3925, 0.3925], scale_ratio_range=[0.95, 1.05],
         translation_std=[0, 0, 0]),
    dict(type='RandomFlip3D', sync_2d=False, flip_ratio_bev_horizontal=0.5, flip_ratio_bev_vertical=0.5),
    dict(type='PointsRangeFilter', point_cloud_range=point_cloud_range),
    dict(type='ObjectRangeFilter', point_cloud_range=point_cloud_range),
    dict(type='ObjectNameFilter', classes=class_names),
    dict(type='PointShuffle'),
    dict(type='Pack3DDetInputs', keys=['points', 'gt_bboxes_3d', 'gt_labels_3d'])
]
train_dataloader = dict(dataset=dict(dataset=dict(data_root=data_root, pipeline=train_pipeline)))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
# NuScenesMetric needs the devkit tables (v1.0-*) to score; without them, format_only=True and jsonfile_prefix=DIR
# write the predictions in the nuScenes submission format (DIR/pred_instances_3d/results_nusc.json)
val_evaluator = dict(data_root=data_root, ann_file=data_root + 'nuscenes_infos_val.pkl')
test_evaluator = val_evaluator

# tools/test.py --show-dir DIR --task lidar_det: mmdet3d's hook, plus a bird's-eye-view PNG per scan without a
# display (mmdet3d draws LiDAR boxes with an Open3D window only)
default_hooks = dict(visualization=dict(type='Det3DBEVVisualizationHook', draw_gt=True))
# before any step: every training scan exists and is whole, and some sample has a box (errors name file and sample)
custom_hooks = [dict(type='DetectionInputCheckHook')]
