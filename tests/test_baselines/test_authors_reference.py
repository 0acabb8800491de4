"""benchmarks/authors_reference.py: the stand-ins for pytorch3d / timm / Lightning that let the authors' step run
as a same-run reference in bench_pretrain_step.py, and the ratio that script computes against it.

The authors' repository cannot be fetched in CI, so the end-to-end test writes a small checkout in their layout
(their model file's import lines, a LightningModule with their hooks, their YAML config with ``1e-3`` as YAML 1.1
reads it); the stand-ins are checked against brute-force PyTorch on random clouds."""
import json
import subprocess
import sys
import textwrap

import pytest
import torch

from tests.conftest import PROJECT_ROOT
from tests.conftest import load_script


@pytest.fixture(scope='module')
def ref():
    return load_script('benchmarks/authors_reference.py')


def test_knn_points_matches_brute_force(ref):
    g = torch.Generator().manual_seed(0)
    p1, p2 = torch.rand(3, 17, 3, generator=g), torch.rand(3, 200, 3, generator=g)
    out = ref.knn_points(p1, p2, K=8, return_nn=True)
    d = ((p1[:, :, None] - p2[:, None]) ** 2).sum(-1)
    want_d, want_i = d.topk(8, dim=-1, largest=False)
    assert torch.equal(out.idx, want_i)
    assert torch.allclose(out.dists, want_d, atol=1e-6)  # squared distances, ascending, as pytorch3d returns
    assert torch.equal(out.knn, torch.stack([p2[b][want_i[b]] for b in range(3)]))


def test_gathers_and_fps(ref):
    g = torch.Generator().manual_seed(1)
    pts = torch.rand(2, 50, 4, generator=g)
    idx = torch.tensor([[[3, -1], [0, 49]], [[7, 7], [-1, 2]]])
    out = ref.masked_gather(pts, idx)
    assert out.shape == (2, 2, 2, 4)
    assert torch.equal(out[0, 0, 0], pts[0, 3]) and torch.equal(out[1, 1, 1], pts[1, 2])
    assert not out[0, 0, 1].any() and not out[1, 1, 0].any()  # -1 entries give zeros
    assert torch.equal(ref.knn_gather(pts, idx.clamp(min=0)), out + (idx < 0)[..., None] * pts[:, :1, None])
    sampled, fps_idx = ref.sample_farthest_points(pts, K=10)
    assert fps_idx.shape == (2, 10) and fps_idx[:, 0].eq(0).all()  # deterministic start at index 0
    assert len(set(fps_idx[0].tolist())) == 10
    assert torch.equal(sampled, torch.stack([pts[b][fps_idx[b]] for b in range(2)]))
    with pytest.raises(NotImplementedError, match='ball_query'):
        ref._not_in_the_step('ball_query')()


def test_drop_path_and_schedule(ref):
    dp = ref.DropPath(0.5)
    x = torch.ones(4000, 3, 2)
    dp.eval()
    assert torch.equal(dp(x), x)
    dp.train()
    torch.manual_seed(0)
    y = dp(x)
    per_sample = y.reshape(4000, -1)
    assert set(per_sample.unique().tolist()) == {0.0, 2.0}  # whole samples dropped, kept ones rescaled by 1 / 0.5
    assert per_sample.eq(per_sample[:, :1]).all()
    assert abs(y.mean().item() - 1.0) < 0.05
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
    sched = ref.LinearWarmupCosineAnnealingLR(opt, warmup_epochs=3, max_epochs=13, warmup_start_lr=1e-5,
                                              eta_min=1e-6)
    lrs = []
    for _ in range(14):
        lrs.append(opt.param_groups[0]['lr'])
        opt.step()
        sched.step()
    assert lrs[0] == pytest.approx(1e-5) and lrs[2] == pytest.approx(1e-3) and lrs[3] == pytest.approx(1e-3)
    assert lrs[13] == pytest.approx(1e-6) and lrs[8] == pytest.approx((1e-3 + 1e-6) / 2)


FAKE_MODEL = '''
import pytorch_lightning as pl
import torch
from pl_bolts.optimizers.lr_scheduler import LinearWarmupCosineAnnealingLR
from pytorch3d.ops import knn_points, sample_farthest_points
from pytorch_lightning.loggers import WandbLogger
from timm.models.layers import DropPath


class PointJepa(pl.LightningModule):
    def __init__(self, encoder_dim: int = 8, learning_rate: float = 1e-3, train_transformations=('scale',)):
        super().__init__()
        self.save_hyperparameters()
        self.net = torch.nn.Sequential(torch.nn.Linear(3, encoder_dim), DropPath(0.1), torch.nn.Linear(encoder_dim, 3))
        self.transforms = list(train_transformations)

    def setup(self, stage=None):
        self.ema_steps = self.trainer.estimated_stepping_batches * 500 // self.trainer.max_epochs
        self.teacher_updates = 0

    def on_fit_start(self):
        assert self.device.type == 'cpu'

    def training_step(self, batch, batch_idx):
        assert not self.transforms, 'the benchmark times the model without their data transforms'
        points, _ = batch
        centres, _ = sample_farthest_points(points, K=4)
        near = knn_points(centres, points, K=5).idx
        loss = (self.net(points) - points).pow(2).mean() + 0 * near.sum()
        self.log('train_loss', loss)
        return loss

    def optimizer_step(self, *args, **kwargs):
        super().optimizer_step(*args, **kwargs)
        self.teacher_updates += 1

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.hparams.learning_rate)
        return [opt], [LinearWarmupCosineAnnealingLR(opt, warmup_epochs=2, max_epochs=self.trainer.max_epochs)]
'''


def _fake_checkout(root):
    (root / 'pointjepa' / 'models').mkdir(parents=True)
    (root / 'pointjepa' / '__init__.py').write_text('')
    (root / 'pointjepa' / 'models' / '__init__.py').write_text(
        'raise ImportError("the fine-tuning models must not be imported")\n')
    (root / 'pointjepa' / 'models' / 'point_jepa.py').write_text(textwrap.dedent(FAKE_MODEL))
    cfg = root / 'configs' / 'Point-JEPA' / 'pretraining'
    cfg.mkdir(parents=True)
    (cfg / 'shapenet.yaml').write_text('trainer:\n  max_epochs: 50\nmodel:\n  encoder_dim: 16\n'
                                       '  learning_rate: 1e-3\n  svm_validation:\n    modelnet40: {}\n')


def test_bench_divides_by_the_authors_row_of_the_same_round(tmp_path):
    _fake_checkout(tmp_path / 'authors')
    out = tmp_path / 'bench.json'
    proc = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / 'benchmarks' / 'bench_pretrain_step.py'), '--quick', '--batch', '2',
         '--steps', '1', '--warmup', '1', '--no-breakdown', '--rounds', '2', '--authors-root',
         str(tmp_path / 'authors'), '--out', str(out)], capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json.loads(out.read_text())['results']
    assert [(r['config'], r['round']) for r in results] == [
        ('authors (their code, fp32)', 1), ('fp32', 1), ('authors (their code, fp32)', 2), ('fp32', 2)]
    assert all('error' not in r for r in results), results
    for rnd in (0, 2):
        theirs, ours = results[rnd], results[rnd + 1]
        assert theirs['vs_authors'] == 1.0 and ours['vs_authors_reference'] == 'measured, same round'
        assert ours['vs_authors'] == pytest.approx(ours['samples_per_s'] / theirs['samples_per_s'])
    assert "vs the authors' step measured in this run (2 round(s)" in proc.stdout
    assert 'not run by this script' not in proc.stdout  # the constant row only where a round has no measured row
    import torch

    from pjepa3d.engine.optimizers import cpu_has_bf16_path
    # the table names the CPU it was measured on: its dispatch capability and whether bf16 has a oneDNN path
    assert (f'CPU capability {torch.backends.cpu.get_cpu_capability()}, oneDNN bfloat16 path: '
            f'{"yes" if cpu_has_bf16_path() else "no"}') in proc.stdout


def test_bench_with_malloc_runs_their_step_with_the_heap_kept_too(tmp_path):
    _fake_checkout(tmp_path / 'authors')
    out = tmp_path / 'bench.json'
    proc = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / 'benchmarks' / 'bench_pretrain_step.py'), '--quick', '--batch', '2',
         '--steps', '1', '--warmup', '1', '--no-breakdown', '--malloc', '--authors-root',
         str(tmp_path / 'authors'), '--out', str(out)], capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = {r['config']: r for r in json.loads(out.read_text())['results']}
    assert list(results) == ['authors (their code, fp32)', 'authors (their code, fp32) +heap', 'fp32', 'fp32 +heap']
    assert all('error' not in r for r in results.values()), results
    theirs, theirs_heap = results['authors (their code, fp32)'], results['authors (their code, fp32) +heap']
    assert [r['heap'] for r in results.values()] == [False, True, False, True]
    # "vs authors": against their step as they run it, for every row; "same heap": against their step with the
    # row's own heap setting
    for name in ('fp32', 'fp32 +heap', 'authors (their code, fp32) +heap'):
        assert results[name]['vs_authors'] == pytest.approx(results[name]['samples_per_s'] / theirs['samples_per_s'])
    assert results['fp32']['vs_authors_same_heap'] == pytest.approx(results['fp32']['vs_authors'])
    assert results['fp32 +heap']['vs_authors_same_heap'] == pytest.approx(
        results['fp32 +heap']['samples_per_s'] / theirs_heap['samples_per_s'])
    assert 'against their step with the heap kept too' in proc.stdout


def test_bench_rejects_a_folder_that_is_not_their_checkout(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / 'benchmarks' / 'bench_pretrain_step.py'), '--authors-root',
         str(tmp_path)], capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert proc.returncode == 2 and 'point_jepa.py not found' in proc.stderr
