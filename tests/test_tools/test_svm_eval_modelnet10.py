"""The ModelNet10 SVM protocol of tools/analysis_tools/svm_eval.py on a small ModelNet10 layout written here
(PCD files, 3 classes of distinct geometry): BatchNorm-calibrated random-init baseline, init seeds, standardised
features, mean-class accuracy, and the StandardScaler kept inside the C cross-validation."""
import json

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from tests.conftest import write_toy_modelnet10

from pjepa3d.evaluation.svm import (SVM_C_GRID, extract_features, linear_svm_accuracy, linear_svm_scores,
                                    select_svm_c, standardize_features, svm_cv_scores)
from pjepa3d.models.utils.bn_calibration import calibration_indices
from pjepa3d.registry import DATASETS
from tests.conftest import load_script
from ._utils import ROOT

CONFIG = ROOT / 'configs' / 'point_jepa' / 'benchmarks' / 'pointjepa_vit-t-demo_modelnet10-svm.py'
# the demo ViT-T shrunk to a few thousand parameters (8 patches of 8 points, width 32, one block)
TINY = {'model.backbone.tokenizer.num_groups': 8, 'model.backbone.tokenizer.group_size': 8,
        'model.backbone.tokenizer.embed_dims': 32, 'model.backbone.tokenizer.hidden_dims': [16, 32, 32],
        'model.backbone.encoder.embed_dims': 32, 'model.backbone.encoder.depth': 1,
        'model.backbone.encoder.num_heads': 2}
TINY_ARGS = ['--cfg-options', *(f'{k}={v}'.replace(' ', '') for k, v in TINY.items())]
NUM_POINTS = 128


def load_svm_eval():
    return load_script('tools/analysis_tools/svm_eval.py')


@pytest.fixture(scope='module')
def mn10_root(tmp_path_factory):
    """<root>/ModelNet10/{ball,plate,rod}/{train,test}/<cls>_NNNN.pcd: 6 train / 3 test clouds a class."""
    root = tmp_path_factory.mktemp('mn10') / 'ModelNet10'
    return write_toy_modelnet10(root, NUM_POINTS, train=6, test=3, ascii_first=True)


@pytest.fixture(scope='module')
def tool_and_cfg(mn10_root):
    """The tool module and the shrunk ViT-T ModelNet10 config (data_root through $MODELNET10_ROOT)."""
    mp = pytest.MonkeyPatch()
    mp.setenv('MODELNET10_ROOT', str(mn10_root))
    cfg = Config.fromfile(str(CONFIG))
    mp.undo()
    cfg.merge_from_dict(TINY)
    init_default_scope('pjepa3d')
    return load_svm_eval(), cfg


def bn_stats(backbone):
    return {k: v.clone() for k, v in backbone.state_dict().items() if 'running' in k}


def test_config_reads_modelnet10_root(tool_and_cfg, mn10_root):
    _, cfg = tool_and_cfg
    assert cfg.train_dataloader.dataset.data_root == str(mn10_root)
    assert cfg.train_dataloader.dataset.split == 'train' and cfg.test_dataloader.dataset.split == 'test'
    assert [t['type'] for t in cfg.train_dataloader.dataset.pipeline] == ['PackPointInputs']
    assert cfg.svm_cfg == dict(name='ModelNet10', C='cv', num_seeds=10, standardize=True, calib_samples=512)
    train, test = DATASETS.build(cfg.train_dataloader.dataset), DATASETS.build(cfg.test_dataloader.dataset)
    assert (len(train), len(test)) == (18, 9) and train.class_names == ('ball', 'plate', 'rod')
    sample = train[0]['inputs']['points']
    assert sample.shape == (NUM_POINTS, 3) and float(sample.norm(dim=1).max()) == pytest.approx(1.0, abs=1e-5)


def test_bn_calibration_changes_stats_and_features(tool_and_cfg):
    tool, cfg = tool_and_cfg
    train = DATASETS.build(cfg.train_dataloader.dataset)
    test = DATASETS.build(cfg.test_dataloader.dataset)
    plain = tool.build_random_init(cfg.model.backbone, 0)
    calibrated = tool.build_random_init(cfg.model.backbone, 0)
    before = bn_stats(plain)
    assert before and all(torch.equal(v, bn_stats(calibrated)[k]) for k, v in before.items())  # same draw
    assert tool.calibrate_on_dataset(calibrated, train, 12, seed=0) == 12
    assert tool.calibrate_on_dataset(tool.build_random_init(cfg.model.backbone, 0), train, 512, seed=0) == 18
    after = bn_stats(calibrated)
    # the uncalibrated encoder still has the initial statistics (mean 0, var 1); the calibrated one measured them
    assert all(float(v.abs().max()) == 0.0 for k, v in before.items() if k.endswith('running_mean'))
    assert all(not torch.allclose(after[k], before[k]) for k in before)
    # only the BatchNorm buffers changed, no weight
    weights = {k for k in plain.state_dict() if 'running' not in k and 'num_batches' not in k}
    assert all(torch.equal(plain.state_dict()[k], calibrated.state_dict()[k]) for k in weights)
    assert not calibrated.training and not any(m.training for m in calibrated.modules())
    f_plain, y = extract_features(plain, test)
    f_cal, y2 = extract_features(calibrated, test)
    assert f_plain.shape == f_cal.shape == (9, 64) and np.array_equal(y, y2)
    assert np.abs(f_plain - f_cal).max() > 1e-3


def test_bn_calibration_deterministic_per_seed(tool_and_cfg):
    tool, cfg = tool_and_cfg
    train = DATASETS.build(cfg.train_dataloader.dataset)
    test = DATASETS.build(cfg.test_dataloader.dataset)

    def calibrated_features(init_seed):
        backbone = tool.build_random_init(cfg.model.backbone, init_seed)
        tool.calibrate_on_dataset(backbone, train, 10, seed=init_seed)
        return bn_stats(backbone), extract_features(backbone, test)[0]

    stats_a, feats_a = calibrated_features(0)
    torch.manual_seed(123)  # global RNG state in between does not matter
    np.random.seed(123)
    stats_b, feats_b = calibrated_features(0)
    assert all(torch.equal(stats_a[k], stats_b[k]) for k in stats_a)
    np.testing.assert_array_equal(feats_a, feats_b)
    _, feats_other = calibrated_features(1)
    assert np.abs(feats_a - feats_other).max() > 1e-3
    # the calibration clouds: a seeded draw without replacement from the train split
    idx0, idx1 = calibration_indices(18, 10, 0), calibration_indices(18, 10, 1)
    assert len(set(idx0.tolist())) == 10 and idx0.max() < 18 and not np.array_equal(idx0, idx1)
    np.testing.assert_array_equal(idx0, calibration_indices(18, 10, 0))
    np.testing.assert_array_equal(calibration_indices(18, 512, 5), np.arange(18))


def test_mean_class_accuracy_by_hand():
    # 1-D, separable training data: class 0 below 0, class 1 above; three test points of class 1 sit on class
    # 0's side. 8 class-0 test points (all right) and 4 class-1 ones (1 right):
    # overall 9 / 12 = 75 %, mean-class (8/8 + 1/4) / 2 = 62.5 %
    train_x = np.array([[-2.0], [-1.5], [-1.0], [1.0], [1.5], [2.0]])
    train_y = np.array([0, 0, 0, 1, 1, 1])
    test_x = np.array([[-1.8]] * 8 + [[1.7], [-1.2], [-1.6], [-0.9]])
    test_y = np.array([0] * 8 + [1] * 4)
    for standardize in (False, True):
        scores = linear_svm_scores(train_x, train_y, test_x, test_y, C=1.0, standardize=standardize)
        assert scores['overall'] == pytest.approx(75.0)
        assert scores['mean_class'] == pytest.approx(62.5)
        assert linear_svm_accuracy(train_x, train_y, test_x, test_y, C=1.0, standardize=standardize) == \
            pytest.approx(75.0)


def test_standardize_uses_train_statistics_only():
    rng = np.random.default_rng(0)
    train = rng.normal(loc=5.0, scale=3.0, size=(50, 4))
    test = rng.normal(loc=-20.0, scale=0.1, size=(7, 4))
    train_s, test_s = standardize_features(train, test)
    np.testing.assert_allclose(train_s.mean(axis=0), 0, atol=1e-9)
    np.testing.assert_allclose(train_s.std(axis=0), 1, atol=1e-9)
    np.testing.assert_allclose(test_s, (test - train.mean(axis=0)) / train.std(axis=0), rtol=1e-9)
    assert np.abs(test_s.mean(axis=0)).min() > 5  # not re-centred on the test set


def test_standardize_inside_cv_does_not_see_the_held_out_fold():
    # an outlier in an irrelevant dimension: scaling fitted on all rows (leaky) and scaling fitted per fold give
    # different CV scores on this data; select_svm_c must use the per-fold one
    from sklearn.model_selection import KFold, cross_val_score
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 20)
    x = rng.normal(size=(40, 4))
    x[:, 0] += y
    x[0, 3] = 30.0
    cv = KFold(5, shuffle=True, random_state=0)
    per_fold = []
    for c in SVM_C_GRID:
        accs = []
        for tr, te in cv.split(x):
            scaler = StandardScaler().fit(x[tr])
            clf = SVC(kernel='linear', C=c).fit(scaler.transform(x[tr]), y[tr])
            accs.append(np.mean(clf.predict(scaler.transform(x[te])) == y[te]))
        per_fold.append(float(np.mean(accs)))
    leaky_x = StandardScaler().fit_transform(x)
    leaky = [float(cross_val_score(SVC(kernel='linear', C=c), leaky_x, y, cv=cv).mean()) for c in SVM_C_GRID]
    assert not np.allclose(per_fold, leaky)  # the check below can tell them apart
    got = svm_cv_scores(x, y, seed=0, standardize=True)
    np.testing.assert_allclose(got, per_fold, atol=1e-12)
    np.testing.assert_allclose(svm_cv_scores(x, y, seed=0, standardize=True, n_jobs=2), per_fold, atol=1e-12)
    assert select_svm_c(x, y, seed=0, standardize=True) == SVM_C_GRID[int(np.argmax(per_fold))]
    # without standardize: the plain SVC on the raw features, as before
    raw = [float(cross_val_score(SVC(kernel='linear', C=c), x, y, cv=cv).mean()) for c in SVM_C_GRID]
    np.testing.assert_allclose(svm_cv_scores(x, y, seed=0), raw, atol=1e-12)


def test_tool_random_init_only_rows_table_and_json(tool_and_cfg, mn10_root, tmp_path, capsys, monkeypatch):
    tool, _ = tool_and_cfg
    monkeypatch.setenv('MODELNET10_ROOT', str(mn10_root))
    out_dir = tmp_path / 'out'
    rows = tool.main([str(CONFIG), '--random-init-only', '--num-seeds', '2', '--init-seeds', '0', '1',
                      '--calib-samples', '8', '--C', '1.0', '--out-dir', str(out_dir), *TINY_ARGS])
    out = capsys.readouterr().out
    assert [(r['encoder'], r['init_seed']) for r in rows] == [
        ('random init', 0), ('random init', 1), ('random init', 'mean over init seeds'),
        ('random init, BN calibrated', 0), ('random init, BN calibrated', 1),
        ('random init, BN calibrated', 'mean over init seeds')]
    for r in rows:
        assert r['dataset'] == 'ModelNet10' and (r['train'], r['test']) == (18, 9)
        assert r['standardize'] is True and r['C'] == 1.0 and r['seeds'] == [0, 1]
        assert r['bn_calibration_clouds'] == (8 if r['encoder'] == 'random init, BN calibrated' else 0)
        assert 0 <= r['mean_class_acc'] <= 100 and 0 <= r['svm_acc'] <= 100
    for r in rows[:2] + rows[3:5]:  # one row per init seed: mean +- std over the SVM seeds
        assert r['std_over'] == 'SVM seeds' and len(r['per_seed']) == 2 == len(r['mean_class_per_seed'])
        assert r['svm_acc'] == pytest.approx(np.mean(r['per_seed']), abs=0.01)
        assert r['mean_class_acc'] == pytest.approx(np.mean(r['mean_class_per_seed']), abs=0.01)
    for summary, per_init in ((rows[2], rows[:2]), (rows[5], rows[3:5])):  # mean +- std over the init seeds
        accs = [r['svm_acc'] for r in per_init]
        assert summary['std_over'] == 'init seeds' and summary['init_seeds'] == [0, 1]
        assert summary['svm_acc'] == pytest.approx(np.mean(accs), abs=0.01)
        assert summary['svm_acc_std'] == pytest.approx(np.std(accs), abs=0.01)
        assert summary['mean_class_acc'] == pytest.approx(np.mean([r['mean_class_acc'] for r in per_init]), abs=0.01)
        # per SVM seed, averaged over the init seeds
        np.testing.assert_allclose(summary['per_seed'], np.mean([r['per_seed'] for r in per_init], axis=0), atol=0.01)
        assert summary['svm_acc'] == pytest.approx(np.mean(summary['per_seed']), abs=0.01)
    # the table: both accuracies, the calibration clouds, the summary rows; where the JSON went
    assert 'overall acc (%)' in out and 'mean-class acc (%)' in out and '| 8 train clouds |' in out
    assert out.count('| mean over init seeds |') == 2 and 'none (initial 0 / 1)' in out
    assert f'results written to {out_dir / "svm_eval.json"}' in out
    saved = json.loads((out_dir / 'svm_eval.json').read_text())
    assert saved['checkpoint'] is None and saved['random_init_seeds'] == [0, 1] and saved['standardize'] is True
    assert saved['bn_calibration']['clouds_used'] == [8] and saved['bn_calibration']['clouds_requested'] == 8
    assert saved['results'] == rows


def test_tool_checkpoint_flags_and_aliases(tool_and_cfg, mn10_root, tmp_path, capsys, monkeypatch):
    tool, cfg = tool_and_cfg
    monkeypatch.setenv('MODELNET10_ROOT', str(mn10_root))
    # a pretraining-style checkpoint of the tiny backbone
    backbone = tool.build_random_init(cfg.model.backbone, 7)
    for p in backbone.parameters():
        p.data.add_(torch.randn_like(p) * 0.05)
    ckpt = tmp_path / 'pretrain.pth'
    torch.save(dict(meta=dict(epoch=1), state_dict={f'backbone.{k}': v for k, v in backbone.state_dict().items()}),
               ckpt)
    rows = tool.main([str(CONFIG), str(ckpt), '--num-seeds', '1', '--seed', '3', '--calib-samples', '0',
                      '--no-standardize', '--C', '0.1', *TINY_ARGS])
    out = capsys.readouterr().out
    assert "prefix 'backbone.'" in out  # the load report
    assert [(r['encoder'], r['init_seed']) for r in rows] == [
        ('pretrained', None), ('random init', 3), ('random init', 'mean over init seeds')]  # 0 clouds: no BN rows
    assert all(r['standardize'] is False for r in rows)
    assert str(tmp_path / 'svm_eval' / 'svm_eval.json') in out  # default: beside the checkpoint
    # --standardize overrides --no-standardize's run; --no-random-init leaves the pretrained row alone
    rows_std = tool.main([str(CONFIG), str(ckpt), '--num-seeds', '1', '--seed', '3', '--calib-samples', '0',
                          '--standardize', '--C', '0.1', '--no-random-init', '--out-dir', str(tmp_path / 'o2'),
                          *TINY_ARGS])
    assert [r['encoder'] for r in rows_std] == ['pretrained'] and rows_std[0]['standardize'] is True
    with pytest.raises(SystemExit):  # a checkpoint is required unless --random-init-only
        tool.main([str(CONFIG), *TINY_ARGS])
    with pytest.raises(SystemExit):
        tool.main([str(CONFIG), '--random-init-only', '--no-random-init', *TINY_ARGS])
    with pytest.raises(SystemExit):
        tool.main([str(CONFIG), str(ckpt), '--seed', '1', '--init-seeds', '0', '1', *TINY_ARGS])


def test_tool_baselines_and_deadline(tool_and_cfg, mn10_root, tmp_path, capsys, monkeypatch):
    """--baselines picks the random-init rows; --deadline keeps each baseline's first init seed and leaves out the
    ones expected to end after it (tools/demo.sh's time budget), saying so on screen and in the JSON."""
    tool, _ = tool_and_cfg
    monkeypatch.setenv('MODELNET10_ROOT', str(mn10_root))
    common = [str(CONFIG), '--random-init-only', '--num-seeds', '1', '--calib-samples', '8', '--C', '1.0',
              '--init-seeds', '0', '1', '2', *TINY_ARGS]

    def run(*extra):
        out_dir = tmp_path / f'o{len(list(tmp_path.iterdir()))}'
        rows = tool.main([*common, '--out-dir', str(out_dir), *extra])
        return rows, capsys.readouterr().out, json.loads((out_dir / 'svm_eval.json').read_text())

    rows, out, saved = run('--baselines', 'calibrated', '--deadline', '1')  # 1970: only the first seed fits
    assert [(r['encoder'], r['init_seed']) for r in rows] == [
        ('random init, BN calibrated', 0), ('random init, BN calibrated', 'mean over init seeds')]
    assert saved['init_seeds_left_out'] == {'ModelNet10: random init, BN calibrated': [1, 2]}
    assert saved['deadline'] == 1.0 and saved['random_init_seeds'] == [0, 1, 2]
    assert 'random init, BN calibrated: init seed(s) 1 2 left out' in out
    assert 'init seeds evaluated, of 0 1 2: ModelNet10: random init, BN calibrated 0' in out
    assert '| random init |' not in out  # no uncalibrated row

    rows, out, saved = run('--baselines', 'calibrated', '--deadline', str(2 ** 40))  # far ahead: every seed
    assert [r['init_seed'] for r in rows] == [0, 1, 2, 'mean over init seeds']
    assert saved['init_seeds_left_out'] == {} and 'left out' not in out
    rows_nodl, _, saved = run('--baselines', 'calibrated')  # the same rows without a deadline
    assert [r['svm_acc'] for r in rows_nodl] == [r['svm_acc'] for r in rows] and saved['deadline'] is None

    rows, _, _ = run('--baselines', 'uncalibrated', '--deadline', '1')
    assert [(r['encoder'], r['init_seed']) for r in rows] == [
        ('random init', 0), ('random init', 'mean over init seeds')]
    for asked in (['calibrated'], ['uncalibrated', 'calibrated']):  # a calibrated baseline without clouds
        with pytest.raises(SystemExit, match='needs --calib-samples > 0'):
            tool.main([*common, '--baselines', *asked, '--calib-samples', '0'])
    with pytest.raises(SystemExit):
        tool.main([*common, '--baselines', 'calibrated', '--no-random-init'])
