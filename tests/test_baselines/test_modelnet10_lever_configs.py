"""The ModelNet10 lever configs of issue 9 (configs/point_jepa/ablations/modelnet10): each inherits the demo and
changes what its header says."""
import numpy as np
from mmengine.config import Config
from mmengine.registry import init_default_scope

import pjepa3d  # noqa: F401
from pjepa3d.registry import DATASETS
from tests.conftest import PROJECT_ROOT

LEVERS = PROJECT_ROOT / 'configs/point_jepa/ablations/modelnet10'
DEMO = Config.fromfile(PROJECT_ROOT / 'configs/point_jepa/pointjepa_vit-t_1xb32-400i_modelnet10.py')


def test_synthetic_fresh_pretrains_on_new_z_up_fps_clouds_and_keeps_the_modelnet10_probe():
    cfg = Config.fromfile(LEVERS / 'synthetic-fresh_400i.py')
    assert cfg.model == DEMO.model and cfg.val_dataloader == DEMO.val_dataloader  # only the pretraining data
    assert cfg.train_dataloader.dataset.type == 'SyntheticShapes'
    init_default_scope('pjepa3d')
    ds = DATASETS.build(dict(cfg.train_dataloader.dataset, num_samples=8))
    np.random.seed(0)
    a = ds[3]['inputs']['points'].numpy()
    b = ds[3]['inputs']['points'].numpy()
    assert a.shape == b.shape == (1024, 3)
    assert not np.array_equal(a, b)  # a new shape on every fetch
    # FPS from 4,096 surface points: evenly spread, so the nearest-neighbour spacing varies less than for
    # 1,024 uniform surface samples of the same kind of shape

    def nn_spacing(p):
        d = ((p[:, None] - p[None]) ** 2).sum(-1)
        np.fill_diagonal(d, np.inf)
        return np.sqrt(d.min(1))
    uniform = DATASETS.build(dict(type='SyntheticShapes', num_samples=8, num_points=1024, up_axis='z'))[3]
    s_fps, s_uni = nn_spacing(a), nn_spacing(uniform['points'])
    assert s_fps.std() / s_fps.mean() < 0.8 * s_uni.std() / s_uni.mean()


def _diff(a, b, prefix=''):
    """Dotted keys whose values differ between two config dicts."""
    keys = set(a) | set(b)
    out = set()
    for k in keys:
        va, vb = a.get(k), b.get(k)
        if isinstance(va, dict) and isinstance(vb, dict):
            out |= _diff(va, vb, f'{prefix}{k}.')
        elif va != vb:
            out.add(f'{prefix}{k}')
    return out


def test_session7_levers_change_only_what_they_say():
    demo = DEMO.to_dict()
    expected = {
        'predictor-deep_400i.py': {'model.head.predictor.embed_dims', 'model.head.predictor.depth'},
        'random-teacher_400i.py': {'custom_hooks'},
        'augment_400i.py': {'train_dataloader.dataset.pipeline'},
        'varcov_400i.py': {'model.feat_reg'},
        'batch-norm-targets_400i.py': {'model.target_norm'},
        'lr1e-4_400i.py': {'optim_wrapper.optimizer.lr'},
        'lr2e-4_400i.py': {'optim_wrapper.optimizer.lr'},
        'warmup25-lr1e-4_400i.py': {'optim_wrapper.optimizer.lr', 'warmup_iters', 'param_scheduler'},
        'amp_400i.py': {'optim_wrapper.type'},
        'amp-lr1e-4_400i.py': {'optim_wrapper.type', 'optim_wrapper.optimizer.lr'},
        'wd-ramp-amp-lr1e-4_400i.py': {'optim_wrapper.type', 'optim_wrapper.optimizer.lr',
                                       'optim_wrapper.optimizer.weight_decay', 'param_scheduler'},
        'multi-mask2-amp-lr1e-4_400i.py': {'optim_wrapper.type', 'optim_wrapper.optimizer.lr', 'model.num_masks'},
        'multi-mask4_400i.py': {'model.num_masks'},
        'wide288-amp-lr1e-4_400i.py': {'optim_wrapper.type', 'optim_wrapper.optimizer.lr', 'model.backbone.arch',
                                       'model.head.predictor.in_dims'},
        'target-ratio075-amp-lr1e-4_400i.py': {'optim_wrapper.type', 'optim_wrapper.optimizer.lr',
                                               'model.masker.target_ratio'},
        'batch16-800i.py': {'train_dataloader.batch_size', 'max_iters', 'warmup_iters', 'param_scheduler',
                            'train_cfg.max_iters', 'train_cfg.val_interval', 'default_hooks.checkpoint.interval'},
        'batch64-400i.py': {'train_dataloader.batch_size'},
        'random-lr1e-4_400i.py': {'optim_wrapper.optimizer.lr', 'model.masker.type', 'model.masker.mode',
                                  'model.masker.num_targets'},
        'ema-start099-lr1e-4_400i.py': {'optim_wrapper.optimizer.lr', 'custom_hooks'},
        'ema-start0998-lr1e-4_400i.py': {'optim_wrapper.optimizer.lr', 'custom_hooks'},
        'ema-start0999-lr1e-4_400i.py': {'optim_wrapper.optimizer.lr', 'custom_hooks'},
        'scale-aug-ema0998-lr1e-4_400i.py': {'optim_wrapper.optimizer.lr', 'custom_hooks',
                                             'train_dataloader.dataset.pipeline'},
    }
    for name, keys in expected.items():
        cfg = Config.fromfile(LEVERS / name)
        changed = _diff(cfg.to_dict(), demo) - {'filename', 'work_dir'}
        assert changed == keys, (name, changed)
    assert Config.fromfile(LEVERS / 'random-teacher_400i.py').custom_hooks[0] == dict(
        type='pjepa3d.EMAHook', schedule='cosine', tau_start=1.0, tau_end=1.0)
    assert Config.fromfile(LEVERS / 'batch-norm-targets_400i.py').model.target_norm == 'batch'
    fast = Config.fromfile(LEVERS / 'ema-start099-lr1e-4_400i.py')  # only the EMA start, on the lr 1e-4 recipe
    assert fast.custom_hooks == [dict(DEMO.custom_hooks[0], tau_start=0.99)] + DEMO.custom_hooks[1:]
    assert fast.optim_wrapper == Config.fromfile(LEVERS / 'lr1e-4_400i.py').optim_wrapper
    slow = Config.fromfile(LEVERS / 'ema-start0998-lr1e-4_400i.py')  # the other side: a slower EMA start
    assert slow.custom_hooks == [dict(DEMO.custom_hooks[0], tau_start=0.998)] + DEMO.custom_hooks[1:]
    assert slow.optim_wrapper == fast.optim_wrapper
    slower = Config.fromfile(LEVERS / 'ema-start0999-lr1e-4_400i.py')  # slower still, nothing else
    assert slower.custom_hooks == [dict(DEMO.custom_hooks[0], tau_start=0.999)] + DEMO.custom_hooks[1:]
    assert slower.optim_wrapper == fast.optim_wrapper
    scaled = Config.fromfile(LEVERS / 'scale-aug-ema0998-lr1e-4_400i.py')  # tau 0.998's recipe + per-axis scaling only
    assert scaled.custom_hooks == slow.custom_hooks and scaled.optim_wrapper == slow.optim_wrapper
    assert scaled.train_dataloader.dataset.pipeline == [dict(type='RandomScale', scale_range=(2 / 3, 3 / 2)),
                                                        dict(type='PackPointInputs')]
    assert Config.fromfile(LEVERS / 'multi-mask4_400i.py').model.num_masks == 4
    wide = Config.fromfile(LEVERS / 'wide288-amp-lr1e-4_400i.py').model  # only the width and heads change
    assert wide.backbone.arch == dict(embed_dims=288, depth=6, num_heads=4, tokenizer_hidden_dims=(64, 128, 256))
    assert wide.head.predictor == dict(DEMO.model.head.predictor, in_dims=288)
    half = Config.fromfile(LEVERS / 'batch16-800i.py')  # the same samples in twice the updates, the same lr
    assert half.train_dataloader.batch_size * half.train_cfg.max_iters == (
        DEMO.train_dataloader.batch_size * DEMO.train_cfg.max_iters)
    assert half.optim_wrapper == DEMO.optim_wrapper and half.custom_hooks == DEMO.custom_hooks
    assert [s['end'] for s in half.param_scheduler] == [80, 800] and half.param_scheduler[1]['T_max'] == 720
    rand = Config.fromfile(LEVERS / 'random-lr1e-4_400i.py').model.masker  # the strategy only, at the same ratio
    assert rand == dict(type='RandomMasker', target_ratio=DEMO.model.masker.target_ratio)
    double = Config.fromfile(LEVERS / 'batch64-400i.py')  # the same updates on twice the samples
    assert double.train_dataloader.batch_size == 2 * DEMO.train_dataloader.batch_size
    lr = Config.fromfile(LEVERS / 'lr1e-4_400i.py').optim_wrapper.optimizer.lr
    assert lr == 1e-4 == 2 * DEMO.optim_wrapper.optimizer.lr
    assert Config.fromfile(LEVERS / 'lr2e-4_400i.py').optim_wrapper.optimizer.lr == 2 * lr
    warm = Config.fromfile(LEVERS / 'warmup25-lr1e-4_400i.py')
    assert warm.optim_wrapper.optimizer.lr == lr
    assert [s['end'] for s in warm.param_scheduler] == [100, 400]  # warm-up 25 % of the schedule, not 10 %
    assert warm.param_scheduler[1]['T_max'] == 300 and warm.param_scheduler[1]['begin'] == 100
    amp = Config.fromfile(LEVERS / 'amp-lr1e-4_400i.py').optim_wrapper
    assert amp.type == 'pjepa3d.BF16AmpOptimWrapper' and amp.optimizer.lr == lr
    ramp = Config.fromfile(LEVERS / 'wd-ramp-amp-lr1e-4_400i.py')
    assert ramp.optim_wrapper == dict(amp, optimizer=dict(amp.optimizer, weight_decay=0.04))
    assert ramp.param_scheduler[:2] == DEMO.param_scheduler  # the lr schedule is the demo's
    assert ramp.param_scheduler[2] == dict(type='CosineAnnealingParamScheduler', param_name='weight_decay',
                                           eta_min_ratio=10.0, T_max=400, by_epoch=False, begin=0, end=400)


def test_point_mae_2h_comparison_changes_only_the_lr_to_point_jepas():
    """configs/point_mae/ablations/modelnet10/lr1e-4_400i.py: the Point-MAE ModelNet10 config with the peak lr of
    Point-JEPA's float32 2-hour lever, and nothing else (the objective is the only difference left)."""
    mae = Config.fromfile(PROJECT_ROOT / 'configs/point_mae/pointmae_vit-t_1xb32-400i_modelnet10.py')
    cfg = Config.fromfile(PROJECT_ROOT / 'configs/point_mae/ablations/modelnet10/lr1e-4_400i.py')
    changed = _diff(cfg.to_dict(), mae.to_dict()) - {'filename', 'work_dir'}
    assert changed == {'optim_wrapper.optimizer.lr'}
    jepa = Config.fromfile(LEVERS / 'lr1e-4_400i.py')
    assert cfg.optim_wrapper.optimizer.lr == jepa.optim_wrapper.optimizer.lr == 1e-4
    assert mae.optim_wrapper.optimizer.lr == DEMO.optim_wrapper.optimizer.lr == 5e-5


def test_point_mae_published_lr_lever_changes_only_the_lr():
    """configs/point_mae/ablations/modelnet10/lr2.5e-4_400i.py: Point-MAE's published lr (1e-3 at batch 128) scaled
    linearly to batch 32, everything else as the 2-hour comparison config."""
    ref = Config.fromfile(PROJECT_ROOT / 'configs/point_mae/ablations/modelnet10/lr1e-4_400i.py')
    cfg = Config.fromfile(PROJECT_ROOT / 'configs/point_mae/ablations/modelnet10/lr2.5e-4_400i.py')
    assert _diff(cfg.to_dict(), ref.to_dict()) - {'filename', 'work_dir'} == {'optim_wrapper.optimizer.lr'}
    assert cfg.optim_wrapper.optimizer.lr == 1e-3 * 32 / 128
