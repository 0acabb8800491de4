"""EMAHook + PointJEPA.update_target: the exact update, the schedules, no gradient to the target, resume."""
import math

import pytest
import torch
from mmengine.hooks import Hook
from mmengine.runner import Runner

import pjepa3d  # noqa: F401
from pjepa3d.engine import EMAHook, ema_momentum
from pjepa3d.registry import MODELS
from tests.conftest import tiny_runner_cfg


def test_update_is_the_ema_formula(tiny_model_cfg):
    model = MODELS.build(tiny_model_cfg)
    with torch.no_grad():
        for p in model.backbone.parameters():
            p.add_(torch.randn_like(p))
    before_t = [p.clone() for p in model.target.encoder.parameters()]
    online = [p.clone() for p in model.backbone.encoder.parameters()]
    tau = 0.9973
    model.update_target(tau)
    for new, tb, th in zip(model.target.encoder.parameters(), before_t, online):
        # float32 rounding: any order of the multiply-adds is right (a fused add is not bit-identical)
        torch.testing.assert_close(new, tau * tb + (1 - tau) * th, rtol=1e-6, atol=1e-7)
        # the step is (1 - tau) of the way to the online weights, far above the tolerance
        torch.testing.assert_close(new - tb, (1 - tau) * (th - tb), rtol=1e-3, atol=1e-6)
        assert (new - tb).abs().max() > 1e-4


@pytest.mark.parametrize('scope, expected', [('encoder', 'target.encoder.'), ('all', 'target.')])
def test_no_gradient_reaches_target(tiny_model_cfg, scope, expected):
    tiny_model_cfg['ema_scope'] = scope
    model = MODELS.build(tiny_model_cfg)
    model.init_weights()
    model.train()
    out = model.loss(dict(points=torch.rand(4, 64, 3)))
    out['loss'].backward()
    ema_target = model._ema_modules()[0]
    assert all(not p.requires_grad and p.grad is None for p in ema_target.parameters())
    assert all(p.grad is not None for p in model.backbone.encoder.parameters())
    assert model.backbone.tokenizer.embed.fc1.weight.grad is not None


def test_schedules_follow_their_formulas():
    assert ema_momentum('cosine', 0.996, 1.0, 0, 100) == pytest.approx(0.996)
    assert ema_momentum('cosine', 0.996, 1.0, 50, 100) == pytest.approx(0.998)
    assert ema_momentum('cosine', 0.996, 1.0, 100, 100) == pytest.approx(1.0)
    assert ema_momentum('cosine', 0.996, 1.0, 25, 100) == pytest.approx(1.0 - 0.004 * (1 + math.cos(math.pi / 4)) / 2)
    assert ema_momentum('linear', 0.9995, 0.99999, 30, 120) == pytest.approx(0.9995 + 0.00049 * 0.25)
    assert ema_momentum('linear', 0.9995, 0.99999, 500, 120) == pytest.approx(0.99999)  # clamped
    with pytest.raises(ValueError, match='unknown schedule'):
        EMAHook(schedule='step')


class _RecordTau(Hook):
    priority = 'LOWEST'

    def __init__(self):
        self.taus = []

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.taus.append((runner.iter, runner.message_hub.get_scalar('train/ema_tau').current()))


def test_tau_over_iterations_with_the_real_runner(tmp_path, tiny_model_cfg):
    record = _RecordTau()
    cfg = tiny_runner_cfg(tmp_path, tiny_model_cfg, max_epochs=3)  # 2 iters / epoch -> 6 iters
    runner = Runner.from_cfg(cfg)
    runner.register_hook(record)
    runner.train()
    assert [i for i, _ in record.taus] == list(range(6))
    for i, tau in record.taus:
        assert tau == pytest.approx(ema_momentum('cosine', 0.9, 1.0, i, 6))


class _Crash(Hook):
    priority = 'LOWEST'  # after the checkpoint of the epoch is written

    def after_train_epoch(self, runner):
        if runner.epoch + 1 == 2:  # runner.epoch counts finished epochs only after this hook
            raise KeyboardInterrupt('simulated crash')


def test_resume_restores_target_weights_and_tau(tmp_path, tiny_model_cfg):
    cfg = tiny_runner_cfg(tmp_path, tiny_model_cfg, max_epochs=4)
    runner = Runner.from_cfg(cfg)
    runner.register_hook(_Crash())
    with pytest.raises(KeyboardInterrupt):
        runner.train()
    ckpt = torch.load(tmp_path / 'epoch_2.pth', map_location='cpu')  # weights_only default of torch>=2.6
    saved_target = {k: v for k, v in ckpt['state_dict'].items() if k.startswith('target.encoder.')}
    assert saved_target and ckpt['meta']['ema_hook']['iter'] == 4

    record = _RecordTau()
    cfg = tiny_runner_cfg(tmp_path, tiny_model_cfg, max_epochs=4)
    cfg['resume'] = True
    runner2 = Runner.from_cfg(cfg)
    runner2.register_hook(record)
    orig_train = runner2.train_loop.run_epoch
    seen = {}

    def check_then_run():
        if 'target' not in seen:  # state right after resume, before any update
            state = runner2.model.state_dict()
            seen['target'] = {k: state[k].clone() for k in saved_target}
            seen['online_differs'] = any(
                not torch.equal(state[k], state[k.replace('target.', 'backbone.', 1)]) for k in saved_target)
            seen['iter'] = runner2.iter
        return orig_train()

    runner2.train_loop.run_epoch = check_then_run
    runner2.train()
    for k, v in saved_target.items():
        assert torch.equal(seen['target'][k], v), f'{k} not restored from the checkpoint'
    assert seen['online_differs'], 'target was re-synced to the online weights instead of restored'
    assert seen['iter'] == 4
    assert [i for i, _ in record.taus] == [4, 5, 6, 7]
    for i, tau in record.taus:  # the schedule continues exactly where it stopped (total = 8 iterations)
        assert tau == pytest.approx(ema_momentum('cosine', 0.9, 1.0, i, 8))


class _RecordTarget(Hook):
    priority = 'LOWEST'  # after EMAHook

    def __init__(self):
        self.targets = []

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.targets.append([p.detach().clone() for p in runner.model.target.encoder.parameters()])


def test_target_moves_only_when_the_optimizer_steps(tmp_path, tiny_model_cfg):
    # accumulative_counts=2 over 6 iterations (3 epochs x 2): the optimizer steps after iterations 2, 4, 6
    # (1-based), so the target must stay put after iterations 1, 3, 5 and move after 2, 4, 6
    record = _RecordTarget()
    cfg = tiny_runner_cfg(tmp_path, tiny_model_cfg, max_epochs=3)
    cfg['optim_wrapper']['accumulative_counts'] = 2
    runner = Runner.from_cfg(cfg)
    runner.register_hook(record)
    runner.train()
    start = [p.detach().clone() for p in Runner.from_cfg(tiny_runner_cfg(tmp_path / 'fresh', tiny_model_cfg))
             .model.target.encoder.parameters()]
    moved = []
    for before, after in zip([start] + record.targets[:-1], record.targets):
        moved.append(any(not torch.equal(a, b) for a, b in zip(after, before)))
    assert moved == [False, True, False, True, False, True]
