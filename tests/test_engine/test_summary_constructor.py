"""SummaryOptimWrapperConstructor: mmengine's param groups unchanged, one summary line instead of one per tensor."""
import copy
import logging

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from pjepa3d.registry import MODELS
from tests.conftest import PROJECT_ROOT, TINY_MODEL

DEMO = PROJECT_ROOT / 'configs/point_jepa/pointjepa_vit-t_1xb32-400i_modelnet10.py'


class _Records(logging.Handler):

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def _build(model, optim_cfg):
    logger = MMLogger.get_current_instance()
    records = _Records()
    logger.addHandler(records)
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        wrapper = build_optim_wrapper(model, copy.deepcopy(optim_cfg))
    finally:
        logger.removeHandler(records)
        logger.setLevel(old_level)
    return wrapper, records.messages


def _demo_model_and_optim_cfg():
    init_default_scope('pjepa3d')
    cfg = Config.fromfile(str(DEMO))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    return model, cfg.optim_wrapper.to_dict()


def test_the_demo_config_selects_it_and_gets_mmengine_s_groups_with_one_summary_line():
    model, optim_cfg = _demo_model_and_optim_cfg()
    assert optim_cfg['constructor'] == 'pjepa3d.SummaryOptimWrapperConstructor'
    ours, our_log = _build(model, optim_cfg)
    default_cfg = dict(optim_cfg, constructor='DefaultOptimWrapperConstructor')
    theirs, their_log = _build(model, default_cfg)

    # same param groups, same tensors in the same order, same hyper-parameters
    assert len(ours.optimizer.param_groups) == len(theirs.optimizer.param_groups)
    for a, b in zip(ours.optimizer.param_groups, theirs.optimizer.param_groups):
        assert [id(p) for p in a['params']] == [id(p) for p in b['params']]
        assert {k: v for k, v in a.items() if k != 'params'} == {k: v for k, v in b.items() if k != 'params'}

    frozen = [n for n, p in model.named_parameters() if not p.requires_grad]
    assert frozen and all(n.startswith('target.') for n in frozen)  # the EMA target
    # mmengine's constructor: a warning per frozen tensor; ours: none of them, one summary
    assert sum('is skipped since its requires_grad' in m for m in their_log) == len(frozen)
    assert not any('is skipped since' in m or 'paramwise_options --' in m for m in our_log)
    summary = [m for m in our_log if m.startswith('optimizer AdamW:')]
    assert len(summary) == 1
    trainable = [p for p in model.parameters() if p.requires_grad]
    assert f'{len(trainable)} trainable tensors ({sum(p.numel() for p in trainable):,} values)' in summary[0]
    assert f'left out: {len(frozen)} frozen tensors (requires_grad=False) under target ({len(frozen)})' in summary[0]
    assert 'lr 5e-05 wd 0.05:' in summary[0] and 'lr 5e-05 wd 0:' in summary[0]


def test_the_logger_is_left_as_it_was_and_other_warnings_still_pass():
    model, optim_cfg = _demo_model_and_optim_cfg()
    logger = MMLogger.get_current_instance()
    filters = list(logger.filters)
    _build(model, optim_cfg)
    assert logger.filters == filters
    records = _Records()
    logger.addHandler(records)
    try:
        logger.warning('target.x is skipped since its requires_grad=False')  # outside the constructor: kept
    finally:
        logger.removeHandler(records)
    assert records.messages == ['target.x is skipped since its requires_grad=False']


@pytest.mark.parametrize('paramwise', [True, False])
def test_without_frozen_tensors_the_summary_says_nothing_is_left_out(paramwise):
    init_default_scope('pjepa3d')
    model = MODELS.build(copy.deepcopy(TINY_MODEL)).backbone  # a plain backbone: every tensor trainable
    cfg = dict(type='OptimWrapper', constructor='pjepa3d.SummaryOptimWrapperConstructor',
               optimizer=dict(type='SGD', lr=0.1, weight_decay=1e-4))
    if paramwise:
        cfg['paramwise_cfg'] = dict(bias_decay_mult=0.0)
    wrapper, log = _build(model, cfg)
    summary = [m for m in log if m.startswith('optimizer SGD:')]
    assert len(summary) == 1 and 'left out' not in summary[0]
    n = len(list(model.parameters()))
    assert f'{n} trainable tensors' in summary[0]
    assert len(wrapper.optimizer.param_groups) == (n if paramwise else 1)
