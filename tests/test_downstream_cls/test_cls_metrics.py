"""Accuracy metric vs hand computation; the paired McNemar test; the linear SVM on separable / shuffled features;
svm_eval.py seeds."""
import json

import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator

from pjepa3d.evaluation import classification_accuracy, format_p, linear_svm_accuracy, mcnemar_test, select_svm_c
from pjepa3d.evaluation.svm import linear_svm_scores
from pjepa3d.registry import METRICS
from .conftest import BENCH, TINY_BACKBONE, load_tool, save_pretrain_checkpoint


def test_accuracy_by_hand():
    gt = [0, 0, 0, 1, 1, 2]
    pred = [0, 0, 1, 1, 0, 1]
    # overall 3/6; per class: 2/3, 1/2, 0/1 -> mean 7/18
    out = classification_accuracy(pred, gt, num_classes=4)  # class 3 absent from gt: not averaged
    assert out['overall'] == pytest.approx(50.0)
    assert out['mean_class'] == pytest.approx(100 * 7 / 18)
    with pytest.raises(ValueError, match='labels outside'):
        classification_accuracy([0], [5], num_classes=4)


def test_mcnemar_counts_the_disagreements_and_gives_the_binomial_p_value():
    # 100 shapes: both right on 60, both wrong on 10; only a right on 20, only b right on 10
    a = np.array([1] * 60 + [0] * 10 + [1] * 20 + [0] * 10)
    b = np.array([1] * 60 + [0] * 10 + [0] * 20 + [1] * 10)
    out = mcnemar_test(a, b)
    assert (out['only_a'], out['only_b'], out['n']) == (20, 10, 100)
    # two-sided: P(X <= 10) * 2 for X ~ Binomial(30, 1/2), by hand
    from math import comb
    assert out['p_value'] == pytest.approx(2 * sum(comb(30, k) for k in range(11)) / 2 ** 30)
    assert mcnemar_test(b, a)['p_value'] == pytest.approx(out['p_value'])  # symmetric
    # the same 10-point gap from 10 disagreements all one way is far stronger evidence than 20 / 10
    lopsided = mcnemar_test([1] * 10 + [0] * 90, [0] * 100)
    assert lopsided['p_value'] == pytest.approx(2 / 2 ** 10) and lopsided['p_value'] < out['p_value'] / 50
    assert mcnemar_test(a, a) == dict(only_a=0, only_b=0, p_value=1.0, n=100)
    assert (format_p(0.38249), format_p(lopsided['p_value'])) == ('p = 0.382', 'p = 0.002')
    assert format_p(1.44e-11) == 'p = 1.4e-11'  # never a bare 0.000
    as_text = ''.join(str(v) for v in a), ''.join(str(v) for v in b)  # how the tools keep them in JSON
    assert mcnemar_test(*as_text) == out
    with pytest.raises(ValueError, match='same shapes'):
        mcnemar_test(a, b[:-1])


def test_svm_scores_return_which_shapes_are_right():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(int)
    y_test = y.copy()
    y_test[:6] = 1 - y_test[:6]  # six labels flipped: those shapes are wrong whatever the SVM does
    out = linear_svm_scores(x, y, x, y_test, C=10.0, return_correct=True)
    assert out['correct'].shape == (60,) and not out['correct'][:6].any()
    assert out['overall'] == pytest.approx(100 * out['correct'].mean())
    assert 'correct' not in linear_svm_scores(x, y, x, y_test, C=10.0)


def test_accuracy_metric_through_evaluator():
    metric = METRICS.build(dict(type='Accuracy'))
    evaluator = Evaluator(metric)
    evaluator.dataset_meta = dict(classes=('a', 'b', 'c'))
    gt, pred = [0, 1, 2, 2, 1], [0, 2, 2, 2, 1]
    evaluator.process([dict(pred_label=torch.tensor(p), gt_label=torch.tensor(g),
                            pred_score=torch.eye(3)[p]) for p, g in zip(pred, gt)])
    out = evaluator.evaluate(5)
    assert out['accuracy/overall'] == pytest.approx(80.0)
    assert out['accuracy/mean_class'] == pytest.approx(100 * (1 + 0.5 + 1) / 3)


def _separable(n_per_class=30, classes=4, dims=16, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(classes, dims)) * 5
    y = np.repeat(np.arange(classes), n_per_class)
    x = centres[y] + rng.normal(size=(len(y), dims)) * 0.3
    return x.astype(np.float32), y


def test_svm_separable_and_shuffled():
    xtr, ytr = _separable(seed=0)
    xte, yte = _separable(seed=0)[0] + np.random.default_rng(1).normal(size=(120, 16)) * 0.3, _separable(seed=0)[1]
    assert linear_svm_accuracy(xtr, ytr, xte, yte, C=0.012) >= 99.0
    assert linear_svm_accuracy(xtr, ytr, xte, yte, C=select_svm_c(xtr, ytr)) >= 99.0
    accs = []
    for seed in range(5):  # shuffled training labels: no signal left -> about 1 / 4
        y_shuf = np.random.default_rng(seed).permutation(ytr)
        accs.append(linear_svm_accuracy(xtr, y_shuf, xte, yte, C=1.0))
    assert 10.0 <= np.mean(accs) <= 45.0


def test_svm_eval_tool_seeds_mean_std(modelnet_subset, tmp_path, capsys):
    ckpt = tmp_path / 'pretrain.pth'
    save_pretrain_checkpoint(ckpt, TINY_BACKBONE)
    pipeline = [dict(type='PointSample', num_points=64, method='random'), dict(type='NormalizeUnitSphere'),
                dict(type='PackPointInputs')]
    cfg = tmp_path / 'svm_cfg.py'
    cfg.write_text(
        "_base_ = ['" + str(BENCH / 'pointjepa_vit-s_modelnet40-svm.py') + "']\n"
        f"model = dict(backbone=dict(_delete_=True, **{TINY_BACKBONE!r}), head=dict(in_channels=64))\n"
        f"train_dataloader = dict(dataset=dict(data_root={str(modelnet_subset)!r}, pipeline={pipeline!r}))\n"
        f"test_dataloader = dict(dataset=dict(data_root={str(modelnet_subset)!r}, pipeline={pipeline!r}))\n"
        "svm_cfg = dict(num_seeds=2)\n")
    svm_eval = load_tool('analysis_tools/svm_eval.py')
    rows = svm_eval.main([str(cfg), str(ckpt), '--out-dir', str(tmp_path / 'out')])
    out = capsys.readouterr().out
    # the pretrained encoder paired with each BN-calibrated init seed on the same 29 test shapes (SVM seed 0)
    paired = json.loads((tmp_path / 'out' / 'svm_eval.json').read_text())['paired']
    calibrated = {r['init_seed']: r for r in rows if r['encoder'] == 'random init, BN calibrated'}
    assert [t['init_seed'] for t in paired] == [0, 1, 2]
    for t in paired:
        start = calibrated[t['init_seed']]
        assert t['n'] == 29 and t['gain'] == pytest.approx(rows[0]['per_seed'][0] - start['per_seed'][0])
        assert t['only_a'] - t['only_b'] == round(t['gain'] * 29 / 100)
        assert (f"pretrained vs random init, BN calibrated (init seed {t['init_seed']}): {t['gain']:+.2f} points, "
                f"{t['only_a']} / {t['only_b']} shapes, {format_p(t['p_value'])}") in out
    assert 'loaded' in out and "prefix 'backbone.'" in out  # the load report
    # the random-init baseline twice (as initialised / BatchNorm calibrated), per init seed 0 1 2 + their mean
    assert [r['encoder'] for r in rows] == ['pretrained'] + ['random init'] * 4 + ['random init, BN calibrated'] * 4
    for r in rows:
        assert r['C'] == 0.012 and r['train'] == 127 and r['test'] == 29 and r['seeds'] == [0, 1]
        assert r['features_per_seed'] and len(r['per_seed']) == 2
        assert r['svm_acc'] == pytest.approx(np.mean(r['per_seed']), abs=0.01)
    assert '+-' in out and str(tmp_path / 'out' / 'svm_eval.json') in out
    saved = json.loads((tmp_path / 'out' / 'svm_eval.json').read_text())
    assert saved['seeds'] == [0, 1] and len(saved['results']) == 9
    with pytest.raises(KeyError, match="prefix 'target.'"):  # wrong prefix: no silent random init
        svm_eval.main([str(cfg), str(ckpt), '--prefix', 'target.', '--num-seeds', '1'])
