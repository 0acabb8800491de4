"""CollapseMonitorHook: fires once on a forced collapse, stays silent on the demo config (real Runner),
and its bookkeeping (start value, NaN, resume) on a stub runner."""
import logging
import types
import warnings
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.logging import MessageHub
from mmengine.runner import Runner

import pjepa3d  # noqa: F401
from pjepa3d.engine import CollapseMonitorHook, RepresentationCollapseWarning
from tests.conftest import PROJECT_ROOT

DEMO = PROJECT_ROOT / 'configs/point_jepa/pointjepa_vit-t_1xb32-demo_synthetic.py'
BANNER = 'REPRESENTATION COLLAPSE SUSPECTED'


class _Ranks(Hook):
    priority = 'LOWEST'

    def __init__(self):
        self.ranks = []

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.ranks.append(float(outputs['target_rank']))


def _demo_run(work_dir, forced):
    """The demo config (ViT-T model, optimiser, schedule, EMA) on 16 clouds of 256 points, batch 8,
    for the first 4 of its 7 epochs: 8 iterations. ``forced``: EMA tau fixed at 0 (the target IS the
    online encoder), no target LayerNorm and lr 5e-3 (100x the demo's), so the trivial constant
    solution is reachable at once."""
    cfg = Config.fromfile(DEMO)
    cfg.work_dir = str(work_dir)
    cfg.train_dataloader.update(batch_size=8, num_workers=0, persistent_workers=False)
    cfg.train_dataloader.dataset.update(num_samples=16, num_points=256)
    cfg.train_cfg.max_epochs = 4  # the schedule (7 epochs) is left as it is: truncated
    cfg.default_hooks.checkpoint.interval = 100
    cfg.log_level = 'WARNING'
    if forced:
        cfg.model.target_norm = False
        cfg.optim_wrapper.optimizer.lr = 5e-3
        cfg.custom_hooks = [dict(type='pjepa3d.EMAHook', schedule='cosine', tau_start=0.0, tau_end=0.0)]
    cfg.custom_hooks = list(cfg.custom_hooks) + [dict(type='CollapseMonitorHook', key='target_rank', min_ratio=0.5)]
    runner = Runner.from_cfg(cfg)
    ranks = _Ranks()
    runner.register_hook(ranks)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        runner.train()
    monitor = [h for h in runner.hooks if isinstance(h, CollapseMonitorHook)][0]
    fired = [w for w in caught if issubclass(w.category, RepresentationCollapseWarning)]
    log_text = Path(runner.log_dir, f'{runner.timestamp}.log').read_text()
    return runner, monitor, ranks.ranks, fired, log_text


def test_warning_fires_once_on_forced_collapse_and_not_on_the_demo(tmp_path):
    runner, monitor, ranks, fired, log_text = _demo_run(tmp_path / 'forced', forced=True)
    assert runner.iter == 8 and len(ranks) == 8
    assert min(ranks) < 0.5 * ranks[0], ranks
    assert len(fired) == 1 and monitor.fired, ranks  # once, although the rank stays low afterwards
    assert sum(r < 0.5 * ranks[0] for r in ranks) > 1
    assert log_text.count(BANNER) == 1 and '!!!!!!!!' in log_text
    assert 'target_rank' in str(fired[0].message)

    runner, monitor, ranks, fired, log_text = _demo_run(tmp_path / 'demo', forced=False)
    assert runner.iter == 8 and len(ranks) == 8  # the same number of iterations
    assert not fired and not monitor.fired and BANNER not in log_text, ranks
    assert min(ranks) > 0.5 * ranks[0], ranks


def _stub_runner():
    return types.SimpleNamespace(iter=0, logger=logging.getLogger('collapse-test'),
                                 message_hub=MessageHub.get_instance('collapse-test'))


def _feed(hook, runner, values):
    for v in values:
        outputs = {'loss': torch.tensor(1.0)} if v is None else {'loss': torch.tensor(1.0), 'rank': torch.tensor(v)}
        hook.after_train_iter(runner, 0, outputs=outputs)
        runner.iter += 1


def test_start_value_threshold_and_once(caplog):
    hook = CollapseMonitorHook(key='rank', min_ratio=0.25, start_iters=2)
    runner = _stub_runner()
    with pytest.warns(RepresentationCollapseWarning, match='iteration 6') as rec:
        _feed(hook, runner, [10.0, 6.0, None, 2.1, 2.0, 1.9, 1.0, 1.0])  # start = 8, fires below 2
    assert hook.start == 8.0 and hook.fired_iter == 6 and len(rec) == 1
    assert caplog.text.count(BANNER) == 1
    assert runner.message_hub.get_scalar('train/rank_ratio').current() == pytest.approx(1.0 / 8)


def test_nan_counts_as_collapse_and_checkpoint_keeps_the_start():
    hook = CollapseMonitorHook(key='rank', min_ratio=0.3)
    runner = _stub_runner()
    _feed(hook, runner, [5.0, 4.0])
    ckpt = {}
    hook.before_save_checkpoint(runner, ckpt)
    resumed = CollapseMonitorHook(key='rank', min_ratio=0.3)
    resumed.after_load_checkpoint(runner, ckpt)
    assert resumed.start == 5.0 and not resumed.fired
    with pytest.warns(RepresentationCollapseWarning):
        _feed(resumed, runner, [1.4])  # below 0.3 x the ORIGINAL start, not of the first value after resume
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        _feed(resumed, runner, [float('nan'), 0.1])  # already fired: silent
    hook2 = CollapseMonitorHook(key='rank')
    with pytest.warns(RepresentationCollapseWarning):
        _feed(hook2, _stub_runner(), [5.0, float('nan')])


@pytest.mark.parametrize('kwargs', [dict(min_ratio=0.0), dict(min_ratio=1.5), dict(start_iters=0)])
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        CollapseMonitorHook(**kwargs)
