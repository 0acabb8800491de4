"""benchmarks/evidence.py: both methods get the same encoder, data, probe and schedule shape; the curve chart."""

import pytest
import torch
from mmengine.config import Config

from pjepa3d.evaluation import format_p
from tests.conftest import PROJECT_ROOT
from tests.conftest import load_script


@pytest.fixture(scope='module')
def evidence():
    return load_script('benchmarks/evidence.py')


@pytest.fixture(scope='module')
def tiny_jepa(evidence, tmp_path_factory):
    """``--config Point-JEPA=<this>``: evidence.py's Point-JEPA config (schedule, probe, hooks, target recipe) with a
    few-thousand-parameter model, for the tests of what the script does around training (resume, re-checks)."""
    path = tmp_path_factory.mktemp('configs') / 'tiny_pointjepa.py'
    path.write_text(f"""_base_ = [{str(PROJECT_ROOT / evidence.METHODS['Point-JEPA'])!r}]
model = dict(
    backbone=dict(tokenizer=dict(num_groups=16, group_size=8, embed_dims=32, hidden_dims=(16, 32, 32)),
                  encoder=dict(embed_dims=32, depth=3, num_heads=2)),
    head=dict(predictor=dict(in_dims=32, embed_dims=16, depth=1, num_heads=2)))
""")
    return f'Point-JEPA={path}'


def test_methods_compare_like_with_like(evidence):
    cfgs = {m: Config.fromfile(PROJECT_ROOT / c) for m, c in evidence.METHODS.items()}
    jepa, mae = cfgs['Point-JEPA'], cfgs['Point-MAE']
    assert jepa.model.backbone.to_dict() == mae.model.backbone.to_dict()
    for key in ('train_dataloader', 'val_dataloader', 'val_evaluator', 'optim_wrapper', 'param_scheduler',
                'train_cfg'):
        assert jepa[key] == mae[key], key
    assert jepa.model.type == 'PointJEPA' and mae.model.type == 'PointMAE'


def test_chart_writes_a_png(evidence, tmp_path):
    curve = [dict(iter=i, svm_acc=90.0 + i / 100, feat_rank=160.0 - i / 10) for i in (0, 100, 200)]
    rows = [dict(method='Point-JEPA', seed=0, curve=[dict(p, svm_acc_target=p['svm_acc'] + 0.5) for p in curve]),
            dict(method='Point-MAE', seed=0, curve=curve)]
    evidence.plot(rows, tmp_path / 'evidence.png')
    data = (tmp_path / 'evidence.png').read_bytes()
    assert data[:8] == b'\x89PNG\r\n\x1a\n' and len(data) > 10_000
    import matplotlib.image as mpimg
    image = mpimg.imread(str(tmp_path / 'evidence.png'))[..., :3]
    height, width = image.shape[:2]
    assert 400 <= height <= 456, height  # cropped to what is drawn (bbox_inches='tight'), 3.8 in high at 120 dpi
    # the legend stands to the right of the rank panel, not over the curves: the picture's right edge is the legend
    # (a short box, centred in height), so the strip above it is blank; were the legend inside a panel, the rank
    # panel's frame (its right spine) would run through that strip
    strip = image[:height // 5, -width // 20:]
    assert strip.min() > 0.95, strip.min()
    assert image[:, -width // 20:].min() < 0.5  # and the legend's text is there


def test_report_only_reads_a_partial_run(evidence, tmp_path, capsys):
    """A run stopped after some rows: --report-only prints mean +- std of what finished and names what did not."""
    import json
    curve = [dict(iter=i, svm_acc=90.0 - i / 100, feat_rank=160.0, svm_acc_target=90.5) for i in (0, 100)]
    score = dict(test_oa=88.0, test_macc=87.0, C=0.01)
    rows = [dict(method='random init (BN calibrated)', seed=0, online=dict(score, test_oa=91.0)),
            dict(method='Point-JEPA', seed=0, iterations=100, curve=curve, online=score,
                 ema_target=dict(score, test_oa=89.0)),
            dict(method='random init (BN calibrated)', seed=1, online=dict(score, test_oa=90.0)),
            dict(method='Point-JEPA', seed=1, iterations=100, curve=curve, online=dict(score, test_oa=86.0),
                 ema_target=dict(score, test_oa=89.0))]
    (tmp_path / 'evidence.json').write_text(json.dumps(dict(args=dict(methods=['Point-JEPA', 'Point-MAE']),
                                                            rows=rows)))
    evidence.main(['--report-only', '--out-dir', str(tmp_path)])
    out = capsys.readouterr().out
    assert '| random init (BN calibrated) | 0, 1 | - | 90.50 +- 0.50 | - | 87.00 |' in out
    assert '| Point-JEPA | 0, 1 | 100 | 87.00 +- 1.00 | 89.00 +- 0.00 | 87.00 |' in out
    assert '| Point-MAE | none finished |' in out
    # paired by seed: online 88 - 91 and 86 - 90, EMA target 89 - 91 and 89 - 90
    assert ('Point-JEPA minus the random init of the same seed (points of test OA, seeds 0, 1): '
            'online -3.50 +- 0.50; EMA target -1.50 +- 0.50') in out
    assert 'Point-MAE minus' not in out
    assert (tmp_path / 'evidence.png').read_bytes()[:4] == b'\x89PNG'
    with pytest.raises(SystemExit, match='needs'):
        evidence.main(['--report-only', '--out-dir', str(tmp_path / 'empty')])


def test_svm_test_scores_a_backbone_on_a_modelnet10_layout(evidence, tmp_path):
    """The end-of-run benchmark: numbers (not keys), C from the grid, on a written ModelNet10 layout."""
    from mmengine.registry import init_default_scope

    from pjepa3d.registry import DATASETS, MODELS
    from tests.conftest import write_toy_modelnet10
    from tests.test_downstream_cls.conftest import TINY_BACKBONE
    init_default_scope('pjepa3d')
    root = write_toy_modelnet10(tmp_path / 'ModelNet10', 128, train=6, test=3)
    data = {s: DATASETS.build(dict(type='ModelNet10', data_root=str(root), split=s,
                                   pipeline=[dict(type='PackPointInputs')])) for s in ('train', 'test')}
    torch.manual_seed(0)
    out = evidence.svm_test(MODELS.build(TINY_BACKBONE), data)
    assert isinstance(out['test_oa'], float) and isinstance(out['test_macc'], float)
    # balls, plates and rods are linearly separable in any encoder's features (100 % for random inits of
    # seeds 0-5): at most one of the 9 test shapes may be wrong
    assert out['test_oa'] >= 100 * 8 / 9 - 1e-6, out
    assert out['test_macc'] == pytest.approx(out['test_oa'])  # 3 test shapes per class: the two means agree
    assert out['C'] in (1e-3, 1e-2, 1e-1, 1.0, 1e1, 1e2)  # pjepa3d.evaluation.SVM_C_GRID, chosen by CV on train


def _rows(iters_jepa=100):
    curve = [dict(iter=i, svm_acc=90.0, feat_rank=160.0, svm_acc_target=90.5) for i in (0, 100)]
    score = dict(test_oa=88.0, test_macc=87.0, C=0.01)
    return [dict(method='random init (BN calibrated)', seed=0, online=dict(score, test_oa=91.0)),
            dict(method='Point-JEPA', seed=0, iterations=iters_jepa, curve=curve, online=score,
                 ema_target=dict(score, test_oa=89.0)),
            dict(method='Point-MAE', seed=0, iterations=120, curve=curve, online=dict(score, test_oa=87.0))]


def test_resume_keeps_rows_and_iterations_and_skips_finished_pairs(evidence, tmp_path, capsys):
    """--resume: the saved rows stay, each method keeps its saved iteration count, finished pairs do not re-run."""
    import json
    (tmp_path / 'evidence.json').write_text(json.dumps(dict(args=dict(methods=['Point-JEPA', 'Point-MAE']),
                                                            rows=_rows())))
    rows, iters, _ = evidence.resumed_rows(str(tmp_path / 'evidence.json'))
    assert iters == {'Point-JEPA': 100, 'Point-MAE': 120} and len(rows) == 3
    evidence.main(['--resume', '--seeds', '0', '--out-dir', str(tmp_path)])  # every pair done: trains nothing
    out = capsys.readouterr().out
    assert '3 rows kept' in out and '[1/' not in out
    assert '| Point-MAE | 0 | 120 | 87.00 +- 0.00 | - | 87.00 |' in out
    saved = json.loads((tmp_path / 'evidence.json').read_text())
    assert saved['rows'] == rows and '| Point-JEPA | 0 | 100 |' in saved['table']


def test_resume_takes_the_seeds_and_methods_of_the_run_it_continues(evidence, tmp_path, capsys):
    """`--resume --out-dir DIR` alone continues DIR's run as it was started (here: seed 0, Point-JEPA only, which
    is finished), instead of the defaults (seeds 0 1, both methods), which would train three more runs."""
    import json
    rows = _rows()[:2]
    (tmp_path / 'evidence.json').write_text(json.dumps(dict(
        args=dict(seeds=[0], methods=['Point-JEPA'], budget_min=120.0, val_every=1000), rows=rows)))
    evidence.main(['--resume', '--out-dir', str(tmp_path)])
    out = capsys.readouterr().out
    assert '[1/' not in out and 'Point-MAE' not in out  # nothing trained, nothing timed, no Point-MAE row
    saved = json.loads((tmp_path / 'evidence.json').read_text())
    assert saved['args']['seeds'] == [0] and saved['args']['methods'] == ['Point-JEPA']
    assert saved['args']['budget_min'] == 120.0 and saved['args']['val_every'] == 1000
    assert evidence.parse_args([]).seeds is None  # the defaults are applied in main(), after --resume's


def test_resume_refuses_missing_or_ambiguous_runs(evidence, tmp_path):
    import json
    with pytest.raises(SystemExit, match='--resume needs'):
        evidence.main(['--resume', '--out-dir', str(tmp_path / 'none')])
    rows = _rows() + [dict(_rows(iters_jepa=50)[1], seed=1)]
    (tmp_path / 'evidence.json').write_text(json.dumps(dict(args={}, rows=rows)))
    with pytest.raises(SystemExit, match='Point-JEPA runs of 100 and 50'):
        evidence.resumed_rows(str(tmp_path / 'evidence.json'))
    with pytest.raises(SystemExit):
        evidence.parse_args(['--resume', '--report-only'])


def test_config_option_names_the_recipe_and_resume_refuses_a_different_one(evidence, tmp_path, capsys):
    import json
    lever = 'configs/point_jepa/ablations/modelnet10/varcov_400i.py'
    args = evidence.parse_args(['--config', f'Point-JEPA={lever}'])
    assert args.configs == {'Point-JEPA': lever, 'Point-MAE': evidence.METHODS['Point-MAE']}
    for bad in ('Point-BERT=x.py', f'Point-JEPA={lever}.missing', 'Point-JEPA'):
        with pytest.raises(SystemExit):
            evidence.parse_args(['--config', bad])
    rows = _rows()
    rows[1]['config'] = lever
    (tmp_path / 'evidence.json').write_text(json.dumps(dict(args={}, rows=rows)))
    evidence.main(['--report-only', '--out-dir', str(tmp_path)])
    assert f'Point-JEPA trained from `{lever}`' in capsys.readouterr().out
    with pytest.raises(SystemExit, match='same configs'):  # the saved run used the lever, this call the default
        evidence.main(['--resume', '--seeds', '0', '--out-dir', str(tmp_path)])
    evidence.main(['--resume', '--seeds', '0', '--config', f'Point-JEPA={lever}', '--out-dir', str(tmp_path)])
    # that call saved its configs: --resume without --config now continues with the lever
    capsys.readouterr()
    evidence.main(['--resume', '--seeds', '0', '--out-dir', str(tmp_path)])
    assert f'Point-JEPA trained from `{lever}`' in capsys.readouterr().out


def test_the_timing_runner_keeps_the_ema_hook_and_drops_the_validation_only_hooks(evidence, tmp_path):
    """The step time includes the EMA update; the probe hooks (which would warn: no val loop) are not built."""
    hooks = {}
    for timing in (False, True):
        runner, _ = evidence.build_runner('Point-JEPA', 0, 4, 10 ** 9, str(tmp_path / str(timing)), timing=timing)
        hooks[timing] = {type(h).__name__ for h in runner.hooks}
    assert {'EMAHook', 'ProbeAtStartHook', 'CollapseMonitorHook'} <= hooks[False]
    assert 'EMAHook' in hooks[True]
    assert not hooks[True] & set(evidence.VAL_ONLY_HOOKS)


def test_progress_line_says_where_the_run_is_and_how_long_is_left(evidence):
    assert (evidence.progress_line(100, 1000, 600.0, torch.tensor(0.5))
            == '  iteration 100/1000: loss 0.5000; 10.0 min, about 90 min to go')
    assert evidence.progress_line(250, 1000, 60.0) == '  iteration 250/1000: 1.0 min, about 3 min to go'
    # resumed at 500 after 100 min of slower sessions: 60 s for the 100 iterations since then sets the pace
    assert (evidence.progress_line(600, 1000, 6060.0, start=(500, 6000.0))
            == '  iteration 600/1000: 101.0 min, about 4 min to go')
    import warnings
    with warnings.catch_warnings():  # the runner's loss still carries its graph: no 'requires_grad' warning
        warnings.simplefilter('error')
        loss = (torch.ones(2, requires_grad=True) * 0.25).sum()
        assert 'loss 0.5000;' in evidence.progress_line(1, 10, 1.0, loss)


def test_the_curve_hook_prints_progress_on_a_real_runner_at_most_every_interval(evidence, tmp_path, monkeypatch,
                                                                                capsys):
    """The runner logs at WARNING in evidence runs: the hook's line is the user's only sign of progress."""
    from tests.conftest import write_toy_modelnet10
    monkeypatch.setenv('MODELNET10_ROOT', str(write_toy_modelnet10(tmp_path / 'mn10', 128, train=4, test=1)))
    runner, curve = evidence.build_runner('Point-JEPA', 0, 40, 10 ** 9, str(tmp_path / 'w'), timing=True)
    curve.before_train(runner)
    capsys.readouterr()
    curve.after_train_iter(runner, 0, outputs=dict(loss=torch.tensor(0.25)))  # inside the first minute: silent
    assert 'iteration' not in capsys.readouterr().out
    curve.progress_seconds = 0.0
    curve.after_train_iter(runner, 0, outputs=dict(loss=torch.tensor(0.25)))
    out = capsys.readouterr().out
    assert out.startswith('  iteration 1/40: loss 0.2500; 0.0 min, about ') and out.endswith(' min to go\n')


def test_a_pause_leaves_the_estimate_after_the_pace_window(evidence, tmp_path, monkeypatch, capsys):
    """60 s an iteration, then a 1-hour pause (SIGSTOP), then 60 s an iteration again: the estimate is inflated
    right after the pause and back to 60 s an iteration once the pause is PACE_WINDOW lines old."""
    from tests.conftest import write_toy_modelnet10
    monkeypatch.setenv('MODELNET10_ROOT', str(write_toy_modelnet10(tmp_path / 'mn10', 128, train=4, test=1)))
    runner, curve = evidence.build_runner('Point-JEPA', 0, 10 ** 4, 10 ** 9, str(tmp_path / 'w'), timing=True)
    clock = [1000.0]
    monkeypatch.setattr(evidence.time, 'perf_counter', lambda: clock[0])
    curve.before_train(runner)
    curve.progress_seconds = 0.0
    lines = []
    for i in range(3 * evidence.PACE_WINDOW):
        clock[0] += 60.0 + (3600.0 if i == 5 else 0.0)
        runner.train_loop._iter = i
        curve.after_train_iter(runner, i)
        lines.append(capsys.readouterr().out.strip())
    to_go = [float(line.split('about ')[1].split(' min')[0]) for line in lines]
    assert to_go[6] > 1.5 * (10 ** 4 - 7), lines[6]  # the hour shows right after the pause
    assert to_go[-1] == 10 ** 4 - 3 * evidence.PACE_WINDOW, lines[-1]  # and is gone 30 lines later


@pytest.mark.parametrize('long_config, iters, warmup, recipe, lr', [
    ('point_jepa/pointjepa_vit-t_1xb32-10748i_modelnet10.py', 10748, 1074,
     'configs/point_jepa/ablations/modelnet10/lr1e-4_400i.py', 1e-4),
    ('point_jepa/pointjepa_vit-t_1xb32-ema0998-10748i_modelnet10.py', 10748, 1074,
     'configs/point_jepa/ablations/modelnet10/ema-start0998-lr1e-4_400i.py', 1e-4),
    ('point_jepa/pointjepa_vit-t_1xb32-amp-13757i_modelnet10.py', 13757, 1375,
     'configs/point_jepa/ablations/modelnet10/amp-lr1e-4_400i.py', 1e-4),
    ('point_jepa/pointjepa_vit-t_1xb32-21496i_modelnet10.py', 21496, 2149, None, 5e-5),
    ('point_mae/pointmae_vit-t_1xb32-13142i_modelnet10.py', 13142, 1314,
     'configs/point_mae/ablations/modelnet10/lr2.5e-4_400i.py', 2.5e-4)])
def test_the_long_configs_are_the_schedules_evidence_py_trained(evidence, long_config, iters, warmup, recipe, lr):
    """configs/point_jepa/...10748i, ema0998-10748i, amp-13757i, 21496i and configs/point_mae/...13142i: what
    `evidence.py --config <method>=<recipe> --iters N` trained for the README's 2-hour (Point-JEPA at lr 1e-4, chosen
    on validation, float32 with either EMA start and bfloat16; Point-MAE at its published lr 2.5e-4, chosen on
    validation) and 4-hour (the demo's lr 5e-5) runs, for tools/train.py."""
    demo = Config.fromfile(PROJECT_ROOT / (recipe or evidence.METHODS['Point-JEPA']))
    long = Config.fromfile(PROJECT_ROOT / 'configs' / long_config)
    assert long.optim_wrapper.optimizer.lr == lr and long.param_scheduler[1]['eta_min'] == pytest.approx(lr / 100)
    stretched = evidence.stretch_schedule(demo, iters, 1000)
    for mine, theirs in zip(long.param_scheduler, stretched.param_scheduler, strict=True):
        assert mine.pop('eta_min', None) == pytest.approx(theirs.pop('eta_min', None)) and mine == theirs
    assert long.param_scheduler[0]['end'] == warmup and long.param_scheduler[1]['T_max'] == iters - warmup
    assert long.train_cfg == stretched.train_cfg == dict(type='IterBasedTrainLoop', max_iters=iters, val_interval=1000)
    for key in ('model', 'train_dataloader', 'val_dataloader', 'val_evaluator', 'optim_wrapper', 'custom_hooks'):
        assert long[key] == demo[key], key


@pytest.mark.parametrize('recipe, iters, warmup', [
    (None, 10748, 1074), (None, 2384, 238), (None, 3, 1),
    ('configs/point_jepa/ablations/modelnet10/warmup25-lr1e-4_400i.py', 10748, 2687),
    ('configs/point_jepa/ablations/modelnet10/warmup25-lr1e-4_400i.py', 2384, 596)])
def test_stretch_schedule_keeps_the_configs_warmup_fraction(evidence, recipe, iters, warmup):
    """The demo's 40 of 400 warm-up iterations stretch to 10 % (floor), a 100-of-400 lever's to 25 %; the cosine
    takes the rest and ends at 1 % of the config's lr."""
    cfg = Config.fromfile(PROJECT_ROOT / (recipe or evidence.METHODS['Point-JEPA']))
    lr = cfg.optim_wrapper.optimizer.lr
    warm, cos = evidence.stretch_schedule(cfg, iters, 1000).param_scheduler
    assert warm['type'] == 'LinearLR' and warm['begin'] == 0 and warm['end'] == warmup
    assert (cos['begin'], cos['end'], cos['T_max']) == (warmup, iters, iters - warmup)
    assert cos['eta_min'] == pytest.approx(lr / 100)


def test_stretch_schedule_reads_a_single_scheduler_dict(evidence):
    """mmengine also takes ``param_scheduler`` as one dict: its warm-up fraction is read the same way."""
    cfg = Config.fromfile(PROJECT_ROOT / evidence.METHODS['Point-JEPA'])
    cfg.param_scheduler = dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=100)
    assert evidence.stretch_schedule(cfg, 1000, 100).param_scheduler[0]['end'] == 250


WD_RAMP = 'configs/point_jepa/ablations/modelnet10/wd-ramp-amp-lr1e-4_400i.py'


def test_a_weight_decay_ramp_is_stretched_with_the_lr_and_spares_the_no_decay_groups(evidence):
    """The wd-ramp lever through evidence.py's stretching, on the real model's AdamW groups: 0.04 at iteration 0,
    about 0.22 halfway, 0.4 at the new last iteration; bias / norm / mask-token groups stay at 0 throughout."""
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import PARAM_SCHEDULERS, init_default_scope

    from pjepa3d.registry import MODELS
    init_default_scope('pjepa3d')
    cfg = evidence.stretch_schedule(Config.fromfile(PROJECT_ROOT / WD_RAMP), 1000, 100)
    warm, cos, wd = cfg.param_scheduler
    assert (warm['end'], cos['begin'], cos['end']) == (100, 100, 1000)
    assert (wd['param_name'], wd['begin'], wd['end'], wd['T_max']) == ('weight_decay', 0, 1000, 1000)
    torch.manual_seed(0)
    wrapper = build_optim_wrapper(MODELS.build(cfg.model), cfg.optim_wrapper)
    scheduler = PARAM_SCHEDULERS.build(dict(wd, optimizer=wrapper))
    groups = wrapper.optimizer.param_groups
    decayed = [g for g in groups if g['weight_decay'] > 0]
    assert decayed and len(decayed) < len(groups)
    seen = {}
    for it in range(1000):
        seen[it] = sorted({round(g['weight_decay'], 6) for g in groups})
        wrapper.optimizer.step()  # no gradients: changes nothing, keeps the scheduler's order of calls
        scheduler.step()
    seen[1000] = sorted({round(g['weight_decay'], 6) for g in groups})
    assert seen[0] == [0.0, 0.04] and seen[500] == [0.0, pytest.approx(0.22, abs=1e-4)]
    assert seen[1000] == [0.0, pytest.approx(0.4, abs=1e-5)]


def test_stretch_schedule_refuses_an_epoch_based_extra_scheduler(evidence):
    cfg = Config.fromfile(PROJECT_ROOT / WD_RAMP)
    cfg.param_scheduler[2]['by_epoch'] = True
    with pytest.raises(ValueError, match='weight_decay scheduler .* must be iteration-based'):
        evidence.stretch_schedule(cfg, 1000, 100)


def test_a_run_cut_off_part_way_resumes_and_ends_as_an_uncut_run(
        evidence, tiny_jepa, tmp_path, monkeypatch, capsys):
    """A session cut off mid-run (here: an exception after iteration 3 of 4): ``--resume`` continues from the
    checkpoint written at the iteration-2 probe, keeps the curve so far, and ends with the same weights, probe
    points and test scores as a run that was never cut."""
    import json

    from tests.conftest import write_toy_modelnet10
    from pjepa3d.utils import HEAP_ENV
    monkeypatch.setenv('MODELNET10_ROOT', str(write_toy_modelnet10(tmp_path / 'mn10', 128, train=30, test=4)))
    for k in HEAP_ENV:  # evidence.json records the malloc variables the run had (they change its speed only)
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv('MALLOC_TOP_PAD_', '1048576')
    argv = ['--iters', '4', '--val-every', '2', '--seeds', '0', '--methods', 'Point-JEPA', '--config', tiny_jepa]
    evidence.main(argv + ['--out-dir', str(tmp_path / 'uncut')])
    assert json.loads((tmp_path / 'uncut' / 'evidence.json').read_text())['malloc_env'] == {
        'MALLOC_TOP_PAD_': '1048576'}

    class Cut(Exception):
        pass

    def cut_after_3(self, runner, batch_idx, data_batch=None, outputs=None):
        if runner.iter + 1 == 3:
            raise Cut
    with monkeypatch.context() as m:
        m.setattr(evidence._Curve, 'after_train_iter', cut_after_3)
        with pytest.raises(Cut):
            evidence.main(argv + ['--out-dir', str(tmp_path / 'cut')])
    saved = json.loads((tmp_path / 'cut' / 'evidence.json').read_text())
    assert saved['rows'] == [] and saved['iterations'] == {'Point-JEPA': 4}  # the schedule is kept before training
    run = tmp_path / 'cut' / 'runs' / 'Point-JEPA_seed0'
    assert [p['iter'] for p in json.loads((run / 'curve.json').read_text())['points']] == [0, 2]
    capsys.readouterr()
    evidence.main(['--resume', '--seeds', '0', '--methods', 'Point-JEPA', '--out-dir', str(tmp_path / 'cut')])
    out = capsys.readouterr().out
    assert 'resumed from the last checkpoint' in out and 'resumed at iteration 2/4' in out
    rows = {d: json.loads((tmp_path / d / 'evidence.json').read_text())['rows'] for d in ('uncut', 'cut')}
    for a, b in zip(rows['uncut'], rows['cut'], strict=True):
        a.pop('train_seconds', None), b.pop('train_seconds', None)
        assert a == b  # the random init, the curve (iterations 0, 2, 4) and the online / EMA target test scores
    assert [p['iter'] for p in rows['cut'][1]['curve']] == [0, 2, 4]
    weights = {d: torch.load(tmp_path / d / 'runs' / 'Point-JEPA_seed0' / 'iter_4.pth', map_location='cpu',
                             weights_only=False)['state_dict'] for d in ('uncut', 'cut')}
    assert weights['uncut'].keys() == weights['cut'].keys()
    for k, v in weights['uncut'].items():
        assert torch.equal(v, weights['cut'][k]), k


def test_val_check_scores_the_last_checkpoint_and_the_start_on_the_validation_carve(
        evidence, tiny_jepa, tmp_path, monkeypatch, capsys):
    """``--val-check``: the SVM is fitted on the whole train part and scored on the probe's carve (no test shape);
    it scores the run's BN-calibrated starting weights, then the last checkpoint's online and EMA target encoders
    (the weights each score saw are recorded by a pass-through wrapper around the real ``svm_test``)."""
    import json

    from tests.conftest import write_toy_modelnet10
    monkeypatch.setenv('MODELNET10_ROOT', str(write_toy_modelnet10(tmp_path / 'mn10', 128, train=30, test=4)))
    out = tmp_path / 'run'
    evidence.main(['--iters', '4', '--val-every', '2', '--seeds', '0', '--methods', 'Point-JEPA', '--config', tiny_jepa,
                   '--out-dir', str(out)])
    seen = []
    real_svm_test = evidence.svm_test

    def recording_svm_test(backbone, data):
        seen.append(({k: v.clone() for k, v in backbone.state_dict().items()}, len(data['train']),
                     len(data['test'])))
        return real_svm_test(backbone, data)
    monkeypatch.setattr(evidence, 'svm_test', recording_svm_test)
    capsys.readouterr()
    evidence.main(['--val-check', '--out-dir', str(out)])
    printed = capsys.readouterr().out
    saved = json.loads((out / 'val_check.json').read_text())
    assert saved['split'] == 'val'
    assert saved['fit_shapes'] + saved['scored_shapes'] == 90  # the 90 official train shapes, split; no test shape
    assert 0 < saved['scored_shapes'] < 20
    assert [(n_fit, n_val) for _, n_fit, n_val in seen] == [(saved['fit_shapes'], saved['scored_shapes'])] * 3
    start, online, target = (state for state, _, _ in seen)
    ckpt = torch.load(out / 'runs' / 'Point-JEPA_seed0' / 'iter_4.pth', map_location='cpu',
                      weights_only=False)['state_dict']
    for k, v in online.items():
        assert torch.equal(v, ckpt['backbone.' + k]), k
    for k, v in target.items():
        assert torch.equal(v, ckpt['target.' + k]), k
    runner, _ = evidence.build_runner('Point-JEPA', 0, 4, 2, str(tmp_path / 'rebuilt'), tiny_jepa.split('=', 1)[1],
                                      timing=True)
    init = runner.model.backbone.state_dict()
    bn_stats = [k for k in init if k.endswith(('running_mean', 'running_var'))]
    assert bn_stats and all(not torch.equal(start[k], init[k]) for k in bn_stats)  # calibrated
    weights = [k for k in init if k not in bn_stats and not k.endswith('num_batches_tracked')]
    assert all(torch.equal(start[k], init[k]) for k in weights)  # the run's starting weights
    assert any(not torch.equal(online[k], init[k]) for k in weights)  # which training changed
    row = saved['rows'][0]
    assert (row['method'], row['seed'], row['iterations']) == ('Point-JEPA', 0, 4)
    assert f"| Point-JEPA | 0 | 4 | {row['online']:.2f} | {row['ema_target']:.2f} | {row['random_init']:.2f} | " \
        f"{row['online'] - row['random_init']:+.2f} |" in printed
    # the paired test counts the same shapes the accuracies come from
    for key, acc in (('paired_online', row['online']), ('paired_target', row['ema_target'])):
        test = row[key]
        assert test['n'] == saved['scored_shapes']
        assert test['only_a'] - test['only_b'] == round((acc - row['random_init']) * test['n'] / 100)
    assert f"{row['paired_online']['only_a']} / {row['paired_online']['only_b']} shapes, " \
        f"{format_p(row['paired_online']['p_value'])} |" in printed
    with pytest.raises(SystemExit, match='needs'):
        evidence.main(['--val-check', '--out-dir', str(tmp_path / 'empty')])


def test_test_recheck_reproduces_the_saved_numbers_with_the_paired_test(
        evidence, tiny_jepa, tmp_path, monkeypatch, capsys):
    """``--test-recheck`` rebuilds every encoder of a finished run from its checkpoint and seed and rescores the
    test split: the same numbers as the run saved, plus which shapes each gets right (here also saved by the run
    itself, so the two must agree shape by shape)."""
    import json

    from tests.conftest import write_toy_modelnet10
    monkeypatch.setenv('MODELNET10_ROOT', str(write_toy_modelnet10(tmp_path / 'mn10', 128, train=30, test=20)))
    out = tmp_path / 'run'
    evidence.main(['--iters', '4', '--val-every', '2', '--seeds', '0', '--methods', 'Point-JEPA', '--config', tiny_jepa,
                   '--out-dir', str(out)])
    printed = capsys.readouterr().out
    rows = {r['method']: r for r in json.loads((out / 'evidence.json').read_text())['rows']}
    start, run = rows['random init (BN calibrated)'], rows['Point-JEPA']
    assert len(run['online']['correct']) == 60 and set(run['online']['correct']) <= {'0', '1'}
    assert run['online']['correct'].count('1') == round(run['online']['test_oa'] * 60 / 100)
    saved_test = evidence.paired(run['online'], start['online'])
    assert f"seed 0, shapes only the pretrained / only the random init gets right, exact McNemar: online " \
        f"{saved_test['only_a']} / {saved_test['only_b']} shapes, {format_p(saved_test['p_value'])}" in printed
    evidence.main(['--test-recheck', '--out-dir', str(out)])
    printed = capsys.readouterr().out
    saved = json.loads((out / 'test_recheck.json').read_text())
    assert (saved['split'], saved['fit_shapes'], saved['scored_shapes']) == ('test', 90, 60)  # the official split
    row = saved['rows'][0]
    assert (row['online'], row['ema_target'], row['random_init']) == (
        run['online']['test_oa'], run['ema_target']['test_oa'], start['online']['test_oa'])
    assert row['paired_online'] == saved_test
    assert row['paired_target'] == evidence.paired(run['ema_target'], start['online'])
    assert 'recomputed test OA equals every saved one' in printed
    assert f"| Point-JEPA | 0 | 4 | {row['online']:.2f} / {row['online']:.2f} |" in printed


def test_report_only_shows_the_curve_of_a_run_in_progress(evidence, tmp_path, capsys):
    """A long run cut across sessions: --report-only says where it is and draws its curve so far."""
    import json
    (tmp_path / 'evidence.json').write_text(json.dumps(dict(
        args=dict(seeds=[0], methods=['Point-JEPA']), iterations={'Point-JEPA': 21496}, rows=[])))
    run = tmp_path / 'runs' / 'Point-JEPA_seed0'
    run.mkdir(parents=True)
    points = [dict(iter=0, svm_acc=91.73, feat_rank=164.0, svm_acc_target=91.73),
              dict(iter=1000, svm_acc=86.97, feat_rank=181.0, svm_acc_target=88.47)]
    (run / 'curve.json').write_text(json.dumps(dict(points=points, seconds=1400.0)))
    evidence.main(['--report-only', '--out-dir', str(tmp_path)])
    out = capsys.readouterr().out
    assert ('Point-JEPA seed 0: in progress, probed up to iteration 1000/21496: online 86.97, EMA target 88.47 '
            '(iteration 0: 91.73)') in out
    assert '| Point-JEPA | none finished |' in out
    assert (tmp_path / 'evidence.png').read_bytes()[:4] == b'\x89PNG'
    assert evidence.in_progress_rows(str(tmp_path), dict(args=dict(seeds=[0], methods=['Point-JEPA']), rows=[
        dict(method='Point-JEPA', seed=0)])) == []  # a finished run is a row, not a run in progress


def test_report_only_reprints_a_saved_check(evidence, tmp_path, capsys):
    """An archived run (JSON files only, no checkpoint): --report-only prints the --val-check table it saved."""
    import json
    score = dict(test_oa=89.0, test_macc=88.0, C=0.1)
    rows = [dict(method='random init (BN calibrated)', seed=2, online=dict(score, test_oa=91.0)),
            dict(method='Point-JEPA', seed=2, iterations=40, online=score)]
    (tmp_path / 'evidence.json').write_text(json.dumps(dict(args=dict(methods=['Point-JEPA']), rows=rows)))
    table = '| method | seed |\n|---|---|\n| Point-JEPA | 2 |'
    (tmp_path / 'val_check.json').write_text(json.dumps(dict(fit_shapes=3592, scored_shapes=399, split='val',
                                                             rows=[], table=table)))
    evidence.main(['--report-only', '--out-dir', str(tmp_path)])
    out = capsys.readouterr().out
    assert 'as --val-check printed it (fit on 3592 shapes, scored on 399 val shapes):\n' + table in out
    assert 'test_recheck.json' not in out  # not saved here: not claimed
    assert f"read: {tmp_path / 'evidence.json'}, {tmp_path / 'val_check.json'} (2 rows)\n" in out
    # rows saved without their learning curves: no empty PNG (its baseline line was the mean of no values)
    assert '(no learning curve in these rows: no PNG drawn)' in out and not (tmp_path / 'evidence.png').exists()
    assert 'Point-JEPA minus the random init of the same seed (points of test OA, seeds 2): online -2.00' in out


@pytest.mark.parametrize('folder, table, test_gain, val_gain', [
    ('evidence_2h_lr1e-4', '| 10748 | 93.36 +- 0.73 | 93.28 +- 0.74 | 92.87 |',
     'online +2.02 +- 0.85; EMA target +1.95 +- 0.96', '+0.75 +- 0.74'),
    ('evidence_2h_amp', '| 13757 | 93.80 +- 0.23 | 93.87 +- 0.23 | 93.33 |',
     'online +2.46 +- 0.36; EMA target +2.53 +- 0.39', '+2.09 +- 0.43')])
def test_pool_prints_the_three_seed_means_of_the_saved_2_hour_runs(evidence, tmp_path, capsys, folder, table, test_gain,
                                                                   val_gain):
    """--pool over docs/results/'s three seeds of each 2-hour config (float32 lr 1e-4; bfloat16, the shipped one)
    prints the means the README and the metafile quote (each seed trained in its own session and out-dir)."""
    dirs = [str(PROJECT_ROOT / 'docs/results' / d) for d in (folder, f'{folder}_seed1', f'{folder}_seed2')]
    evidence.main(['--pool', *dirs, '--out-dir', str(tmp_path)])
    out = capsys.readouterr().out
    assert '| Point-JEPA | 0, 1, 2 ' + table in out
    assert '(points of test OA, seeds 0, 1, 2): ' + test_gain in out
    assert 'on the validation carve (online, 3 seed(s)): ' + val_gain in out
    assert (tmp_path / 'evidence_pooled.png').stat().st_size > 10_000


def test_pool_refuses_a_seed_twice_and_two_recipes(evidence, tmp_path, capsys):
    results = PROJECT_ROOT / 'docs/results'
    with pytest.raises(SystemExit, match='Point-JEPA seed 2 is in both .*evidence_2h_seed2.*lr1e-4_seed2'):
        evidence.main(['--pool', str(results / 'evidence_2h_seed2'), str(results / 'evidence_2h_lr1e-4_seed2'),
                       '--out-dir', str(tmp_path)])
    with pytest.raises(SystemExit, match='lr1e-4_400i.py for 10748 iterations in .* but .*400i_modelnet10.py'):
        evidence.main(['--pool', str(results / 'evidence_2h_lr1e-4'), str(results / 'evidence_2h_seed2'),
                       '--out-dir', str(tmp_path)])
    with pytest.raises(SystemExit):
        evidence.parse_args(['--pool', str(tmp_path), '--report-only'])
    assert '--pool exclude each other' in capsys.readouterr().err


def test_the_demo_reprints_the_saved_runs_of_the_shipped_2_hour_config(evidence):
    """tools/demo.sh ends with `evidence.py --pool` over the saved seeds of the 2-hour config: those folders must exist
    and hold runs of the recipe the shipped config is (a renamed folder or a changed config would break the demo)."""
    import json
    import re
    demo = (PROJECT_ROOT / 'tools/demo.sh').read_text()
    saved = re.search(r'^SAVED="([^"]+)"$', demo, re.M).group(1)
    assert '--pool "$SAVED" "${SAVED}_seed1" "${SAVED}_seed2"' in demo
    config = re.search(r'^SAVED_CONFIG=(\S+)$', demo, re.M).group(1)
    assert config == 'configs/point_jepa/pointjepa_vit-t_1xb32-amp-13757i_modelnet10.py'  # README's row of record
    long = Config.fromfile(PROJECT_ROOT / config)
    for folder, seed in ((saved, 0), (f'{saved}_seed1', 1), (f'{saved}_seed2', 2)):
        rows = json.loads((PROJECT_ROOT / folder / 'evidence.json').read_text())['rows']
        (run,) = [r for r in rows if r['method'] == 'Point-JEPA']
        recipe = Config.fromfile(PROJECT_ROOT / run['config'])
        assert run['seed'] == seed and run['iterations'] == long.train_cfg.max_iters
        assert recipe.optim_wrapper == long.optim_wrapper and recipe.model == long.model
        assert (PROJECT_ROOT / folder / 'val_check.json').is_file()


def test_the_methods_are_paired_against_each_other_on_the_seeds_both_ran(evidence):
    """Point-JEPA against Point-MAE: the gap per shared seed and an exact McNemar test on the same shapes; a seed
    only one method ran is left out of the comparison."""
    from pjepa3d.evaluation import mcnemar_test
    start = dict(test_oa=90.0, test_macc=90.0, C=0.01, correct='1' * 9 + '0')
    jepa, mae = '1111111100', '1100111111'  # 2 shapes only Point-JEPA gets right, 2 only Point-MAE
    rows = [dict(method='random init (BN calibrated)', seed=0, online=start),
            dict(method='Point-JEPA', seed=0, online=dict(start, test_oa=80.0, correct=jepa)),
            dict(method='Point-MAE', seed=0, online=dict(start, test_oa=80.0, correct=mae)),
            dict(method='Point-JEPA', seed=1, online=dict(start, test_oa=92.0, correct=jepa)),
            dict(method='Point-JEPA', seed=2, online=dict(start, test_oa=84.0, correct=jepa)),
            dict(method='Point-MAE', seed=2, online=dict(start, test_oa=80.0, correct='0' * 10))]
    lines = evidence.versus_lines(rows)
    assert lines[0] == '\nPoint-JEPA minus Point-MAE, same seed (points of test OA, online, seeds 0, 2): +2.00 +- 2.00'
    test = mcnemar_test(jepa, mae)
    assert (test['only_a'], test['only_b']) == (2, 2)
    assert lines[1] == ('  seed 0, shapes only Point-JEPA / only Point-MAE gets right, exact McNemar: online '
                        f"2 / 2 shapes, {format_p(test['p_value'])}")
    p_seed2 = format_p(mcnemar_test(jepa, '0' * 10)['p_value'])
    assert lines[2].startswith('  seed 2, ') and lines[2].endswith(f'online 8 / 0 shapes, {p_seed2}')
    assert len(lines) == 3 and evidence.versus_lines(rows[:2]) == []


@pytest.mark.parametrize('mae, table, gain, gap, pairs, val_gap', [
    ('evidence_2h_mae', '13142 | 93.87 +- 0.32 | - | 93.52 |', '+2.53 +- 0.62', '-0.51 +- 0.46',
     ('16 / 15 shapes, p = 1.000', '13 / 22 shapes, p = 0.175', '15 / 21 shapes, p = 0.405'), '-0.58 +- 0.85'),
    ('evidence_2h_mae_lr2.5e-4', '13142 | 94.42 +- 0.27 | - | 94.12 |', '+3.08 +- 0.39', '-1.06 +- 0.99',
     ('16 / 13 shapes, p = 0.711', '13 / 28 shapes, p = 0.028', '10 / 27 shapes, p = 0.008'), '-1.00 +- 0.35')])
def test_pool_pairs_point_jepa_with_point_mae_at_the_2_hour_budget(evidence, tmp_path, capsys, mae, table, gain, gap,
                                                                   pairs, val_gap):
    """The saved float32 2-hour runs of both methods (seeds 0-2 each; same encoder, start, data and wall clock;
    Point-MAE at Point-JEPA's lr 1e-4 and at its own published 2.5e-4, the README's row): the same-seed gaps, their
    paired tests, and the gap on the validation carve, as the README quotes them."""
    results = PROJECT_ROOT / 'docs/results'
    dirs = ['evidence_2h_lr1e-4', 'evidence_2h_lr1e-4_seed1', 'evidence_2h_lr1e-4_seed2', mae, f'{mae}_seed1',
            f'{mae}_seed2']
    evidence.main(['--pool', *[str(results / d) for d in dirs], '--out-dir', str(tmp_path)])
    out = capsys.readouterr().out
    assert '| Point-MAE | 0, 1, 2 | ' + table in out
    assert f'Point-MAE minus the random init of the same seed (points of test OA, seeds 0, 1, 2): online {gain}' in out
    assert f'Point-JEPA minus Point-MAE, same seed (points of test OA, online, seeds 0, 1, 2): {gap}\n' in out
    paired = 'shapes only Point-JEPA / only Point-MAE gets right, exact McNemar: online'
    for seed, pair in enumerate(pairs):
        assert f'seed {seed}, {paired} {pair}' in out
    assert f'Point-JEPA minus Point-MAE on the validation carve, same seed (online, seeds 0, 1, 2): {val_gap}' in out
