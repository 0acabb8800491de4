"""BF16AmpOptimWrapper: bfloat16 autocast in the forward pass of a real PointJEPA train_step, float32 weights."""
import copy

import pytest
import torch
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from pjepa3d.registry import DATASETS, MODELS
from tests.conftest import TINY_MODEL


def _model_and_batch(seed=0):
    init_default_scope('pjepa3d')
    torch.manual_seed(seed)
    model = MODELS.build(copy.deepcopy(TINY_MODEL))
    model.init_weights()
    ds = DATASETS.build(dict(type='SyntheticShapes', split='train', num_samples=8, num_points=64,
                             pipeline=[dict(type='PackPointInputs')]))
    batch = torch.utils.data.default_collate([ds[i] for i in range(8)])
    return model, batch


def _wrapper(model, **kw):
    return build_optim_wrapper(model, dict(type='pjepa3d.BF16AmpOptimWrapper',
                                           optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.0), **kw))


def _linear_output_dtypes(model):
    seen = []
    hooks = [m.register_forward_hook(lambda m, i, o: seen.append(o.dtype))
             for m in model.modules() if isinstance(m, torch.nn.Linear)]
    return seen, hooks


def test_train_step_autocasts_the_forward_to_bf16_and_keeps_float32_weights():
    model, batch = _model_and_batch()
    before = {k: v.clone() for k, v in model.backbone.state_dict().items()}
    wrapper = _wrapper(model)
    seen, hooks = _linear_output_dtypes(model)
    log = model.train_step(batch, wrapper)
    for h in hooks:
        h.remove()
    assert seen and set(seen) == {torch.bfloat16}  # every Linear ran in bf16 under the wrapper
    assert torch.isfinite(log['loss'])
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert all(p.grad is None or p.grad.dtype == torch.float32 for p in model.parameters())
    changed = [k for k, v in model.backbone.state_dict().items()
               if v.is_floating_point() and not torch.equal(v, before[k])]
    assert any('encoder' in k for k in changed)  # the optimizer stepped
    # outside the wrapper's context (validation, feature extraction) the model runs in float32
    seen, hooks = _linear_output_dtypes(model)
    with torch.no_grad():
        model.backbone(batch['inputs']['points'] if isinstance(batch['inputs'], dict) else batch['inputs'])
    for h in hooks:
        h.remove()
    assert set(seen) == {torch.float32}


def test_bf16_loss_tracks_the_float32_loss_on_the_same_weights_and_batch():
    losses = {}
    for amp in (False, True):
        model, batch = _model_and_batch(seed=1)
        torch.manual_seed(5)  # the same masks in both passes
        if amp:
            with _wrapper(model).optim_context(model):
                losses[amp] = float(model(**model.data_preprocessor(batch, True), mode='loss')['loss'].detach())
        else:
            losses[amp] = float(model(**model.data_preprocessor(batch, True), mode='loss')['loss'].detach())
    # bf16 keeps 8 bits of mantissa: the loss agrees to about 1 %, not bit for bit
    assert losses[True] != losses[False]
    assert abs(losses[True] - losses[False]) / abs(losses[False]) < 0.03


def test_accumulation_steps_only_every_second_call():
    model, batch = _model_and_batch()
    wrapper = _wrapper(model, accumulative_counts=2)
    wrapper.initialize_count_status(model, 0, 4)
    p = next(model.backbone.encoder.parameters())
    start = p.detach().clone()
    model.train_step(batch, wrapper)
    assert torch.equal(p, start)
    model.train_step(batch, wrapper)
    assert not torch.equal(p, start)


@pytest.mark.parametrize('dtype', ['float16', torch.float16, 'float32'])
def test_only_bfloat16_is_accepted(dtype):
    model, _ = _model_and_batch()
    with pytest.raises(ValueError, match='dtype must be bfloat16'):
        _wrapper(model, dtype=dtype)


@pytest.mark.parametrize('bf16_path', [True, False])
def test_warns_once_on_a_cpu_without_a_bf16_path(monkeypatch, bf16_path):
    """Selected by a config on a CPU without a oneDNN bfloat16 path, the wrapper still autocasts (the config asked for
    it) but logs one warning naming the CPU capability; with a path it logs nothing."""
    import logging

    from mmengine.logging import MMLogger

    from pjepa3d.engine.optimizers import bf16_amp_optim_wrapper as module
    monkeypatch.setattr(module, 'cpu_has_bf16_path', lambda: bf16_path)
    model, batch = _model_and_batch()
    wrapper = _wrapper(model)
    records = []
    handler = logging.Handler(level=logging.WARNING)
    handler.emit = records.append
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        for _ in range(2):
            model.train_step(batch, wrapper)
    finally:
        logger.removeHandler(handler)
    warned = [r.getMessage() for r in records if 'no oneDNN bfloat16 path' in r.getMessage()]
    assert len(warned) == (0 if bf16_path else 1)
    if warned:
        assert f'torch CPU capability {torch.backends.cpu.get_cpu_capability()}' in warned[0]
