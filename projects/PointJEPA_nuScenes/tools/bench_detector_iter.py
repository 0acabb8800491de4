"""Time one training iteration of the nuScenes CenterPoint with our encoder and with mmdet3d's stock one.

    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 python projects/PointJEPA_nuScenes/tools/bench_detector_iter.py \
        --data-root $NUS_DATA_ROOT --ann-file nuscenes_infos_demo.pkl [--iters 5] [--warmup 1] [--sweeps-num 9]

Both detectors are built from their configs and trained on the same batch, the first scan of the infos:

* ``pointjepa``: ``configs/centerpoint_pointjepa-pillar02_secfpn_8xb4-cyclic-20e_nus-3d.py`` (dynamic voxelisation,
  ``PointJEPAPillarEncoder`` with the ViT-S backbone; random weights: loading them changes no timing);
* ``stock``: mmdet3d's ``centerpoint/centerpoint_pillar02_second_secfpn_8xb4-cyclic-20e_nus-3d.py`` (hard
  voxelisation, at most 20 points in at most 30,000 pillars, ``PillarFeatureNet``).

The rest (PointPillarsScatter, SECOND, SECONDFPN, CenterHead, AdamW with gradient clipping) is the same. An
iteration is the Runner's ``model.train_step``: data preprocessor (voxelisation), forward, loss, backward,
optimizer step. The scan goes through mmdet3d's loading pipeline without random augmentation (keyframe +
``--sweeps-num`` sweeps; an info without sweeps is padded with copies of the keyframe, as in training), the
range filter and the packer, once, outside the timing. Prints a markdown table: median and mean seconds per
iteration over ``--iters`` iterations after ``--warmup``, the ratio to the stock encoder, and the pillar encoder's
own forward time per scan (``pts_voxel_encoder``, timed by forward hooks inside the same iterations: median over
the timed iterations, divided by the batch size), and for ``PointJEPAPillarEncoder`` a second table splitting that
forward into its parts (FPS, kNN grouping, mini-PointNet, Transformer, interpolation to the points, pillar unique,
PFN layers; ``EncoderBreakdown``).
"""
import argparse
import os
import os.path as osp
import statistics
import importlib
import sys
import time

import torch

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
sys.path.insert(0, REPO_ROOT)

OUR_CONFIG = osp.join(REPO_ROOT, 'projects', 'PointJEPA_nuScenes', 'configs',
                      'centerpoint_pointjepa-pillar02_secfpn_8xb4-cyclic-20e_nus-3d.py')
STOCK_CONFIG = 'mmdet3d::centerpoint/centerpoint_pillar02_second_secfpn_8xb4-cyclic-20e_nus-3d.py'


def load_batch(data_root, ann_file, sweeps_num, batch_size, point_cloud_range, class_names):
    """The first scan of ``ann_file`` through mmdet3d's deterministic loading pipeline, ``batch_size`` times."""
    from mmengine.dataset import pseudo_collate
    from mmdet3d.registry import DATASETS
    pipeline = [
        dict(type='LoadPointsFromFile', coord_type='LIDAR', load_dim=5, use_dim=5),
        dict(type='LoadPointsFromMultiSweeps', sweeps_num=sweeps_num, use_dim=[0, 1, 2, 3, 4], pad_empty_sweeps=True,
             remove_close=True),
        dict(type='LoadAnnotations3D', with_bbox_3d=True, with_label_3d=True),
        dict(type='PointsRangeFilter', point_cloud_range=point_cloud_range),
        dict(type='ObjectRangeFilter', point_cloud_range=point_cloud_range),
        dict(type='ObjectNameFilter', classes=class_names),
        dict(type='Pack3DDetInputs', keys=['points', 'gt_bboxes_3d', 'gt_labels_3d']),
    ]
    dataset = DATASETS.build(dict(
        type='NuScenesDataset', data_root=data_root, ann_file=ann_file, pipeline=pipeline,
        metainfo=dict(classes=class_names), test_mode=False, use_valid_flag=True, box_type_3d='LiDAR',
        data_prefix=dict(pts='samples/LIDAR_TOP', img='', sweeps='sweeps/LIDAR_TOP')))
    sample = dataset[0]
    return pseudo_collate([sample] * batch_size), sample


def build_detector(config):
    """Model and optimizer wrapper of ``config`` (Pretrained backbone weights dropped: random init)."""
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    from mmdet3d.registry import MODELS
    if '::' in config:  # a package config, e.g. mmdet3d::centerpoint/...
        from mmengine.hub import get_config
        cfg = get_config(config)
    else:
        cfg = Config.fromfile(config)
    backbone = cfg.model.get('pts_voxel_encoder', {}).get('backbone')
    if isinstance(backbone, dict):
        backbone['init_cfg'] = None
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    return model, build_optim_wrapper(model, cfg.optim_wrapper), cfg


class EncoderBreakdown:
    """Forward seconds of each part of ``PointJEPAPillarEncoder``, summed per iteration (a no-op for other encoders).

    Parts: the tokenizer's FPS and its kNN grouping (timed around ``pjepa3d``'s functions as the tokenizer's
    ``pjepa3d.ops.sample_and_group`` calls them; the Morton sort the two share on clouds of 8,192 points or
    more counts under FPS), its mini-PointNet (``embed_groups``), the Transformer encoder, the interpolation of
    patch features back to every point (``three_interpolate``), the pillar ``unique_coors`` and the PFN layers;
    "other" is the encoder's forward minus these (positional encoding, feature concatenation, projections, glue).
    """
    PARTS = ('FPS', 'kNN grouping', 'mini-PointNet', 'Transformer encoder',
             'interpolation to points (3-NN)', 'pillar unique', 'PFN layers')

    def __init__(self, encoder):
        self.acc, self.per_iter, self._undo = {}, [], []
        if not hasattr(encoder, 'backbone') or not hasattr(encoder, 'pfn_layers'):
            return
        import projects.PointJEPA_nuScenes.pointjepa_nus.detection.pillar_encoder as enc_mod
        sag_mod = importlib.import_module('pjepa3d.ops.sample_and_group')  # the module, not the function
        for mod, fname, label in ((sag_mod, 'morton_order', 'FPS'), (sag_mod, 'furthest_point_sample', 'FPS'),
                                  (sag_mod, 'group_points', 'kNN grouping'),
                                  (enc_mod, 'three_interpolate', 'interpolation to points (3-NN)'),
                                  (enc_mod, 'unique_coors', 'pillar unique')):
            self._wrap(mod, fname, label)
        tokenizer = encoder.backbone.tokenizer
        self._wrap(tokenizer, 'embed_groups', 'mini-PointNet')  # an instance attribute over the bound method
        modules = [('Transformer encoder', encoder.backbone.encoder)]
        for label, module in modules + [('PFN layers', m) for m in encoder.pfn_layers]:
            self._hook(module, label)

    def _add(self, label, seconds):
        self.acc[label] = self.acc.get(label, 0.0) + seconds

    def _wrap(self, module, fname, label):
        original = getattr(module, fname)
        own = fname in vars(module)  # a module's function (put it back) or an instance's method (drop the shadow)

        def timed(*args, **kwargs):
            start = time.perf_counter()
            out = original(*args, **kwargs)
            self._add(label, time.perf_counter() - start)
            return out
        setattr(module, fname, timed)
        self._undo.append((lambda: setattr(module, fname, original)) if own else (lambda: delattr(module, fname)))

    def _hook(self, module, label):
        starts = []
        pre = module.register_forward_pre_hook(lambda m, a: starts.append(time.perf_counter()))
        post = module.register_forward_hook(lambda m, a, o: self._add(label, time.perf_counter() - starts.pop()))
        self._undo += [pre.remove, post.remove]

    def end_iteration(self):
        self.per_iter.append(self.acc)
        self.acc = {}

    def remove(self):
        for undo in self._undo:
            undo()


def time_iterations(model, optim_wrapper, batch, iters, warmup):
    """Seconds of each of ``iters`` ``train_step`` calls after ``warmup`` untimed ones, the pillar encoder's
    forward seconds in each of them, the first loss, and the encoder's per-part breakdown of the timed ones."""
    times, enc_times, first_loss = [], [], None
    enc_start = []
    encoder = model.pts_voxel_encoder
    hooks = [encoder.register_forward_pre_hook(lambda m, a: enc_start.append(time.perf_counter())),
             encoder.register_forward_hook(lambda m, a, o: enc_times.append(time.perf_counter() - enc_start[-1]))]
    breakdown = EncoderBreakdown(encoder)
    try:
        for i in range(warmup + iters):
            start = time.perf_counter()
            log_vars = model.train_step(batch, optim_wrapper)
            elapsed = time.perf_counter() - start
            breakdown.end_iteration()
            if first_loss is None:
                first_loss = float(log_vars['loss'])
            if i >= warmup:
                times.append(elapsed)
    finally:
        for h in hooks:
            h.remove()
        breakdown.remove()
    return times, enc_times[warmup:], first_loss, breakdown.per_iter[warmup:]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Seconds per detector training iteration: our encoder vs mmdet3d')
    parser.add_argument('--data-root', default=os.environ.get('NUS_DATA_ROOT', 'data/nuscenes'),
                        help='nuScenes root with samples/LIDAR_TOP and the infos (default: $NUS_DATA_ROOT, else '
                             'data/nuscenes)')
    parser.add_argument('--ann-file', default='nuscenes_infos_train.pkl', help='infos file; its first scan is used')
    parser.add_argument('--iters', type=int, default=5, help='timed iterations per detector')
    parser.add_argument('--warmup', type=int, default=1, help='untimed iterations first')
    parser.add_argument('--sweeps-num', type=int, default=9, help="sweeps per keyframe (the configs' 9)")
    parser.add_argument('--batch-size', type=int, default=1, help='copies of the scan per batch')
    parser.add_argument('--config', default=OUR_CONFIG, help='the Point-JEPA detector config')
    parser.add_argument('--stock-config', default=STOCK_CONFIG, help="mmdet3d's CenterPoint pillar config")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.iters < 1 or args.warmup < 0:
        sys.exit('bench_detector_iter.py: error: --iters must be >= 1 and --warmup >= 0')
    if not osp.isdir(args.data_root):
        sys.exit(f'bench_detector_iter.py: error: data root not found: {args.data_root} (--data-root or '
                 '$NUS_DATA_ROOT)')
    from mmengine.registry import DefaultScope
    from mmdet3d.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    import projects.PointJEPA_nuScenes.pointjepa_nus.detection  # noqa: F401  registers our encoder / detector

    rows = []
    with DefaultScope.overwrite_default_scope('mmdet3d'):
        for name, config in (('stock', args.stock_config), ('pointjepa', args.config)):
            torch.manual_seed(0)
            model, optim_wrapper, cfg = build_detector(config)
            batch, sample = load_batch(args.data_root, args.ann_file, args.sweeps_num, args.batch_size,
                                       cfg.point_cloud_range, cfg.class_names)
            times, enc_times, first_loss, parts = time_iterations(model, optim_wrapper, batch, args.iters,
                                                                  args.warmup)
            enc = model.pts_voxel_encoder
            rows.append(dict(name=name, encoder=type(enc).__name__,
                             voxel=cfg.model.data_preprocessor.get('voxel_type', 'hard'),
                             enc_params=sum(p.numel() for p in enc.parameters()),
                             params=sum(p.numel() for p in model.parameters()) / 1e6,
                             median=statistics.median(times), mean=statistics.fmean(times), loss=first_loss,
                             enc_fwd=statistics.median(enc_times) / args.batch_size,
                             points=len(sample['inputs']['points']), enc_times=enc_times, parts=parts))
            print(f'{name}: {len(times)} iterations, ' + ', '.join(f'{t:.2f}' for t in times) + ' s', flush=True)
            del model, optim_wrapper

    stock = rows[0]['median']
    print(f'\nnuScenes CenterPoint pillar 0.2 m, one training iteration (train_step) on CPU, '
          f'torch threads {torch.get_num_threads()}, batch {args.batch_size} x {rows[0]["points"]} points '
          f'(first scan of {args.ann_file}, keyframe + {args.sweeps_num} sweeps), {args.iters} timed after '
          f'{args.warmup} warm-up\n')
    print('| detector | pillar encoder | voxelisation | encoder params | model params (M) | first loss '
          '| s / iter (median) | s / iter (mean) | ratio to stock | encoder forward s / scan | encoder ratio |')
    print('| :-- | :-- | :-- | --: | --: | --: | --: | --: | --: | --: | --: |')
    stock_enc = rows[0]['enc_fwd']
    for r in rows:
        print(f"| {r['name']} | {r['encoder']} | {r['voxel']} | {r['enc_params']:,} | {r['params']:.2f} "
              f"| {r['loss']:.1f} | {r['median']:.3f} | {r['mean']:.3f} | {r['median'] / stock:.1f}x "
              f"| {r['enc_fwd']:.3f} | {r['enc_fwd'] / stock_enc:.0f}x |")
    for r in rows:
        if r['parts'] and r['parts'][0]:
            print_breakdown(r, args.batch_size)


def print_breakdown(row, batch_size):
    """Median over the timed iterations of each part's forward ms per scan, and its share of the encoder's."""
    parts = row['parts']
    total = statistics.median(row['enc_times']) / batch_size
    print(f"\n{row['encoder']} forward, per part (ms per scan, median over the timed iterations; forward only, "
          'inside the training iterations above):\n')
    print('| part | ms / scan | share of the encoder forward |')
    print('| :-- | --: | --: |')
    named = 0.0
    for label in EncoderBreakdown.PARTS:
        ms = statistics.median(p.get(label, 0.0) for p in parts) / batch_size
        named += ms
        print(f'| {label} | {ms * 1e3:.0f} | {100 * ms / total:.0f} % |')
    other = total - named
    print(f'| other (features, projections, glue) | {other * 1e3:.0f} | {100 * other / total:.0f} % |')
    print(f'| encoder forward | {total * 1e3:.0f} | 100 % |')


if __name__ == '__main__':
    main()
