"""The predictor and the latent losses against by-hand maths: the loss paths, padded target slots, and one
batched predictor pass equal to K separate passes."""
import pytest
import torch

from pjepa3d.models.losses import LatentMSELoss, LatentSmoothL1Loss
from pjepa3d.registry import MODELS

PRED = dict(type='JEPAPredictor', in_dims=16, embed_dims=8, depth=2, num_heads=2)


def _batch(seed=0, B=2, K=3, Nt=5, Nc=7, D=16):
    g = torch.Generator().manual_seed(seed)
    valid = torch.rand(B, K, Nt, generator=g) > 0.3
    valid[..., 0] = True
    return dict(ctx_feats=torch.randn(B, Nc, D, generator=g), ctx_centres=torch.rand(B, Nc, 3, generator=g),
                tgt_centres=torch.rand(B, K, Nt, 3, generator=g), targets=torch.randn(B, K, Nt, D, generator=g),
                tgt_valid=valid)


def test_mse_and_smooth_l1_equal_their_formulas_over_valid_slots():
    b = _batch()
    preds = torch.randn_like(b['targets']) * 3
    v = b['tgt_valid']
    diff = (preds - b['targets'])[v]  # (n_valid, D)
    assert torch.allclose(LatentMSELoss()(preds, b['targets'], v), diff.square().mean())
    beta = 2.0
    a = diff.abs()
    by_hand = torch.where(a < beta, 0.5 * a.square() / beta, a - 0.5 * beta).mean()
    assert torch.allclose(LatentSmoothL1Loss(beta=beta)(preds, b['targets'], v), by_hand)
    assert torch.allclose(LatentMSELoss(loss_weight=0.5)(preds, b['targets']),
                          0.5 * (preds - b['targets']).square().mean())


def test_padded_target_slots_change_nothing():
    torch.manual_seed(0)
    head = MODELS.build(dict(type='JEPAHead', predictor=PRED))
    b = _batch()
    loss, preds = head.loss(**b)
    pad = ~b['tgt_valid']
    b2 = dict(b, targets=b['targets'].masked_fill(pad[..., None], 1e3),
              tgt_centres=b['tgt_centres'].masked_fill(pad[..., None], 0.5))
    loss2, preds2 = head.loss(**b2)
    assert torch.allclose(loss, loss2)  # no weight on padded slots
    # valid queries never attend to padded ones: their predictions ignore what the padded slots hold
    assert torch.allclose(preds[b['tgt_valid']], preds2[b['tgt_valid']], atol=1e-6)


def test_one_batched_pass_equals_one_pass_per_target_block():
    torch.manual_seed(0)
    predictor = MODELS.build(PRED).eval()
    b = _batch(K=4)
    together = predictor(b['ctx_feats'], b['ctx_centres'], b['tgt_centres'], b['tgt_valid'])
    for k in range(4):
        alone = predictor(b['ctx_feats'], b['ctx_centres'], b['tgt_centres'][:, k:k + 1],
                          b['tgt_valid'][:, k:k + 1])
        valid = b['tgt_valid'][:, k]
        assert torch.allclose(together[:, k][valid], alone[:, 0][valid], atol=1e-5)


@pytest.mark.parametrize('short, cfg', [('mse', dict(type='LatentMSELoss')),
                                        ('smooth_l1', dict(type='LatentSmoothL1Loss', beta=2.0))])
def test_loss_shortcuts_build_the_registered_losses(short, cfg):
    torch.manual_seed(0)
    a = MODELS.build(dict(type='JEPAHead', predictor=PRED, loss=short, loss_beta=2.0))
    torch.manual_seed(0)
    b = MODELS.build(dict(type='JEPAHead', predictor=PRED, loss=cfg))
    batch = _batch()
    assert torch.equal(a.loss(**batch)[0], b.loss(**batch)[0])
    assert type(a.loss_fn).__name__ == cfg['type'] and a.loss_type == short
    assert a.state_dict().keys() == b.state_dict().keys() and all(k.startswith('predictor.') for k in a.state_dict())
    with pytest.raises(ValueError, match="unknown loss 'l2'"):
        MODELS.build(dict(type='JEPAHead', predictor=PRED, loss='l2'))


def test_losses_on_numbers_worked_by_hand():
    """One cloud, two target blocks of 2 slots (the second padded), D = 1; predictions 0, targets 1, 2 | 3, pad.
    The mean is over valid tokens (3), not over blocks: MSE (1 + 4 + 9) / 3, not ((1 + 4) / 2 + 9) / 2."""
    preds = torch.zeros(1, 2, 2, 1)
    targets = torch.tensor([1.0, 2.0, 3.0, 100.0]).view(1, 2, 2, 1)
    valid = torch.tensor([[[True, True], [True, False]]])
    assert LatentMSELoss()(preds, targets, valid).item() == pytest.approx(14 / 3)
    assert LatentMSELoss(loss_weight=0.5)(preds, targets, valid).item() == pytest.approx(7 / 3)
    # SmoothL1, beta 2: |e| < 2 -> e^2 / 4 (0.25 for 1), else |e| - 1 (1 for 2, 2 for 3)
    assert LatentSmoothL1Loss(beta=2.0)(preds, targets, valid).item() == pytest.approx(3.25 / 3)
    # beta 1: 1 -> 0.5, 2 -> 1.5, 3 -> 2.5
    assert LatentSmoothL1Loss(beta=1.0)(preds, targets, valid).item() == pytest.approx(4.5 / 3)
    # without a mask the padded 100 counts: (1 + 4 + 9 + 10000) / 4
    assert LatentMSELoss()(preds, targets).item() == pytest.approx(10014 / 4)
    # channels are averaged too: D = 2 with the second channel exact halves the loss
    two = torch.cat([targets, preds], dim=-1)
    assert LatentMSELoss()(torch.zeros_like(two), two, valid).item() == pytest.approx(7 / 3)


def test_predictor_output_shape_and_no_mask_equals_an_all_true_mask():
    torch.manual_seed(0)
    predictor = MODELS.build(PRED).eval()
    b = _batch(B=2, K=3, Nt=5, Nc=7, D=16)
    out = predictor(b['ctx_feats'], b['ctx_centres'], b['tgt_centres'])
    assert out.shape == (2, 3, 5, 16)  # (B, K, Nt, in_dims): back in the encoder's width
    all_valid = torch.ones(2, 3, 5, dtype=torch.bool)
    torch.testing.assert_close(out, predictor(b['ctx_feats'], b['ctx_centres'], b['tgt_centres'], all_valid))
    # a query sees the context and its own block only: moving block 1's centres leaves blocks 0 and 2 alone
    moved = b['tgt_centres'].clone()
    moved[:, 1] += 0.3
    out2 = predictor(b['ctx_feats'], b['ctx_centres'], moved)
    torch.testing.assert_close(out2[:, [0, 2]], out[:, [0, 2]], atol=1e-6, rtol=1e-5)
    assert not torch.allclose(out2[:, 1], out[:, 1], atol=1e-4)
    # ... while every query reads the context
    out3 = predictor(b['ctx_feats'] + 1.0, b['ctx_centres'], b['tgt_centres'])
    assert (out3 - out).abs().amax(dim=-1).min() > 1e-6


def test_smooth_l1_shortcut_defaults_equal_the_registered_loss_defaults():
    torch.manual_seed(0)
    short = MODELS.build(dict(type='JEPAHead', predictor=PRED, loss='smooth_l1'))
    torch.manual_seed(0)
    full = MODELS.build(dict(type='JEPAHead', predictor=PRED, loss=dict(type='LatentSmoothL1Loss')))
    assert isinstance(short.loss_fn, LatentSmoothL1Loss) and short.loss_fn.beta == full.loss_fn.beta == 2.0
    batch = _batch()
    torch.testing.assert_close(short.loss(**batch)[0], full.loss(**batch)[0], rtol=0, atol=0)
    torch.manual_seed(0)
    beta1 = MODELS.build(dict(type='JEPAHead', predictor=PRED, loss='smooth_l1', loss_beta=1.0))
    assert beta1.loss_fn.beta == 1.0 and beta1.loss_beta == 1.0
    assert not torch.allclose(beta1.loss(**batch)[0], short.loss(**batch)[0])


def test_query_noise_moves_training_predictions_only():
    b = _batch()
    args = (b['ctx_feats'], b['ctx_centres'], b['tgt_centres'], b['tgt_valid'])
    torch.manual_seed(0)
    plain = MODELS.build(PRED)
    torch.manual_seed(0)
    noisy = MODELS.build(dict(PRED, query_noise=0.1))
    assert all(torch.equal(p, q) for p, q in zip(plain.parameters(), noisy.parameters()))
    # eval mode: never any noise, the same predictions as without the option
    assert torch.equal(plain.eval()(*args), noisy.eval()(*args))
    plain.train(), noisy.train()
    torch.manual_seed(1)
    first = noisy(*args)
    torch.manual_seed(1)
    assert torch.equal(first, noisy(*args))  # the noise comes from torch's seeded generator
    assert not torch.allclose(first, plain(*args), atol=1e-4)  # training: the queries' positions are perturbed
    # the noise enters through the target centres alone: the same draw added by hand gives the same output
    torch.manual_seed(1)
    by_hand = b['tgt_centres'] + 0.1 * torch.randn_like(b['tgt_centres'])
    assert torch.allclose(first, plain(b['ctx_feats'], b['ctx_centres'], by_hand, b['tgt_valid']), atol=1e-6)
    with pytest.raises(ValueError, match='query_noise'):
        MODELS.build(dict(PRED, query_noise=-0.1))
