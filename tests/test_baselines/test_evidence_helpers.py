"""benchmarks/evidence.py helpers: LOO 1-NN, C selection on the train data only, the chart."""
import importlib.util

import numpy as np
import pytest

from tests.conftest import PROJECT_ROOT


@pytest.fixture(scope='module')
def evidence():
    spec = importlib.util.spec_from_file_location('evidence', PROJECT_ROOT / 'benchmarks' / 'evidence.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_leave_one_out_1nn(evidence):
    x = np.array([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9], [-1, 0]], dtype=np.float32)
    y = np.array([0, 0, 1, 1, 2])
    # every point's nearest other point (cosine) shares its label except the lone class-2 point
    assert evidence.loo_1nn_accuracy(x, y) == pytest.approx(80.0)
    assert evidence.loo_1nn_accuracy(10 * x, y) == pytest.approx(80.0)  # cosine: scale-free


def test_svm_c_is_chosen_from_the_grid_on_the_given_data(evidence):
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(4), 10)
    x = rng.normal(size=(40, 8)) + 3 * np.eye(8)[y]
    c = evidence.select_svm_c(x, y)
    assert c in evidence.SVM_C_GRID and c > evidence.SVM_C_GRID[0]


def test_bar_chart_writes_a_png(evidence, tmp_path):
    rows = [dict(method=m, seed=s, svm_acc=50.0 + s, nn_acc=40.0 - s) for m in ('A', 'B') for s in range(3)]
    evidence.bar_chart(rows, tmp_path / 'chart.png', 'test')
    assert (tmp_path / 'chart.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
