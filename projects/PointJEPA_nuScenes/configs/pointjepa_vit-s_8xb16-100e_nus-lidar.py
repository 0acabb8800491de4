# Point-JEPA LiDAR pretraining on nuScenes (labels unused): ViT-S encoder, whole scans cropped to the
# CenterPoint range, 16384 points per scan (x, y, z, intensity) tokenised into M=1024 patches of k=32
# points, region masking, EMA target; 8 GPUs x 16 scans, 100 epochs.
#   python tools/train.py projects/PointJEPA_nuScenes/configs/pointjepa_vit-s_8xb16-100e_nus-lidar.py
#   bash tools/dist_train.sh projects/PointJEPA_nuScenes/configs/pointjepa_vit-s_8xb16-100e_nus-lidar.py 8
# then: python tools/model_converters/extract_backbone.py work_dirs/.../epoch_100.pth backbone.pth
_base_ = [
    '../../../configs/_base_/models/pointjepa_vit-s.py',
    '../../../configs/_base_/default_runtime.py',
]
custom_imports = dict(imports=['projects.PointJEPA_nuScenes.pointjepa_nus'], allow_failed_imports=False)

# must match the detector's encoder (configs/centerpoint_pointjepa-*.py): same tokenizer / encoder / PE
point_cloud_range = [-51.2, -51.2, -5.0, 51.2, 51.2, 3.0]
num_points = 16384
num_groups = 1024  # M patches per scan
group_size = 32  # k points per patch
in_channels = 4  # x, y, z (m), intensity (0-255)
pos_embed = dict(type='sincos3d', scale=1.0)  # metres: finest wavelength ~6 m, coarsest ~60 km

model = dict(
    backbone=dict(
        tokenizer=dict(num_groups=num_groups, group_size=group_size, in_channels=in_channels),
        pos_embed=pos_embed),
    head=dict(predictor=dict(pos_embed=pos_embed)))

dataset_type = 'NuScenesLidarPretrain'
data_root = '{{$NUS_DATA_ROOT:data/nuscenes}}/'  # $NUS_DATA_ROOT, else data/nuscenes (samples/, sweeps/, infos)
train_pipeline = [
    dict(type='RandomRotate', axis='z', angle_range=(-180, 180)),
    dict(type='RandomScale', scale_range=(0.95, 1.05), mirror_axes=(0, 1)),
    dict(type='pjepa3d.PointSample', num_points=num_points, method='random'),
    dict(type='PackPointInputs'),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='nuscenes_infos_train.pkl',
        data_prefix=dict(pts='samples/LIDAR_TOP', sweeps='sweeps/LIDAR_TOP'),
        point_cloud_range=point_cloud_range,
        load_dim=5,
        use_dims=[0, 1, 2, 3],
        sweeps_num=0,
        pipeline=train_pipeline))

# AdamW 1.5e-4 at batch 128 (8 x 16), wd 0.05 (none on bias / norm / mask token),
# 10 linear warm-up epochs then cosine to 0 at epoch 100.
optim_wrapper = dict(
    type='OptimWrapper',
    constructor='pjepa3d.SummaryOptimWrapperConstructor',  # same groups as mmengine's; one log line
    optimizer=dict(type='AdamW', lr=1.5e-4, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0, bypass_duplicate=True,
                       custom_keys={'mask_token': dict(decay_mult=0.0)}),
    clip_grad=dict(max_norm=10.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=10, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=90, eta_min=0.0, by_epoch=True, begin=10, end=100,
         convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100)
auto_scale_lr = dict(base_batch_size=128, enable=False)
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=5, max_keep_ckpts=3))
# tau: cosine 0.996 -> 1.0 over all iterations (notes sec. 4.3)
custom_hooks = [dict(type='pjepa3d.EMAHook', schedule='cosine', tau_start=0.996, tau_end=1.0)]
