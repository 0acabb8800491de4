"""The maths of the shared Transformer parts against hand computations: the 3D positional encodings,
the encoder's ``pos_every_block`` and stochastic depth (DropPath and its per-block rates)."""
import copy
import math

import pytest
import torch
import torch.nn.functional as F

from pjepa3d.models.utils import DropPath, MLPPosEmbed, SinCos3DPosEmbed, TransformerBlock, build_blocks, \
    build_pos_embed
from pjepa3d.registry import MODELS

# --------------------------------------------------------------------------------------- positional encodings


def _sincos_by_hand(point, dims, scale, temperature):
    """Per axis: sin of F frequencies, then cos of the same F; axes x, y, z; F = dims // 6; zeros after 6F."""
    num_freqs = dims // 6
    freqs = [temperature ** (-f / num_freqs) for f in range(num_freqs)]
    out = []
    for c in point:
        out += [math.sin(scale * c * w) for w in freqs] + [math.cos(scale * c * w) for w in freqs]
    return out + [0.0] * (dims - 6 * num_freqs)


@pytest.mark.parametrize('dims, scale, temperature', [(12, 50.0, 10000.0), (6, 1.0, 10000.0), (18, 2.0, 16.0)])
def test_sincos3d_equals_the_hand_computation(dims, scale, temperature):
    centres = torch.tensor([[[0.1, -0.2, 0.3], [0.0, 0.0, 0.0]], [[-0.05, 0.4, 0.25], [1.0, -1.0, 0.5]]])
    pe = SinCos3DPosEmbed(dims, scale=scale, temperature=temperature)(centres)
    assert pe.shape == (2, 2, dims)
    expected = torch.tensor([[_sincos_by_hand(p, dims, scale, temperature) for p in cloud]
                             for cloud in centres.tolist()])
    torch.testing.assert_close(pe, expected, atol=1e-5, rtol=1e-5)
    # the first frequency is 1 whatever the temperature: x's first entry is sin(scale * x)
    assert pe[0, 0, 0].item() == pytest.approx(math.sin(scale * 0.1), abs=1e-6)


@pytest.mark.parametrize('dims', [7, 14, 20])
def test_sincos3d_pads_dims_not_divisible_by_6_with_zeros(dims):
    """The documented contract: F = D // 6 frequencies per axis, the leftover D - 6F channels are zero."""
    centres = torch.rand(3, 5, 3) * 2 - 1
    pe = build_pos_embed('sincos3d', dims)(centres)
    used = 6 * (dims // 6)
    assert pe.shape == (3, 5, dims)
    assert torch.equal(pe[..., used:], torch.zeros(3, 5, dims - used))
    # the used channels are those of the largest multiple of 6 below D
    torch.testing.assert_close(pe[..., :used], SinCos3DPosEmbed(used)(centres))
    assert (pe[..., :used].abs() > 0).any()


def test_sincos3d_refuses_fewer_than_6_dims_and_keeps_the_input_dtype():
    with pytest.raises(ValueError, match='sincos3d needs embed_dims >= 6, got 5'):
        build_pos_embed('sincos3d', 5)
    centres = torch.rand(1, 4, 3, dtype=torch.float64)
    assert build_pos_embed('sincos3d', 12)(centres).dtype == torch.float64
    # options reach the module through a dict
    pe = build_pos_embed(dict(type='sincos3d', scale=1.0, temperature=100.0), 12)
    assert (pe.scale, pe.embed_dims) == (1.0, 12)
    torch.testing.assert_close(pe.freqs, torch.tensor([1.0, 0.1]))
    with pytest.raises(ValueError, match="unknown positional encoding 'fourier'"):
        build_pos_embed('fourier', 12)


def test_mlp_pos_embed_shape_formula_and_determinism():
    torch.manual_seed(3)
    a = build_pos_embed('mlp', 10)
    torch.manual_seed(3)
    b = build_pos_embed(dict(type='mlp', hidden_dims=128), 10)
    assert isinstance(a, MLPPosEmbed)
    # 3 -> 128 -> GELU -> 10: (3 * 128 + 128) + (128 * 10 + 10) parameters
    assert sum(p.numel() for p in a.parameters()) == 3 * 128 + 128 + 128 * 10 + 10 == 1802
    centres = torch.rand(2, 7, 3)
    out = a(centres)
    assert out.shape == (2, 7, 10)
    assert torch.equal(out, a(centres)) and torch.equal(out, b(centres))  # same seed, same weights, same output
    fc1, fc2 = a.mlp[0], a.mlp[2]
    torch.testing.assert_close(out, F.gelu(centres @ fc1.weight.T + fc1.bias) @ fc2.weight.T + fc2.bias)
    small = build_pos_embed(dict(type='mlp', hidden_dims=16), 10)
    assert small.mlp[0].out_features == 16 and small(centres).shape == (2, 7, 10)
    # a learned encoding: moving a centre changes its row only
    moved = centres.clone()
    moved[0, 3] += 0.5
    out2 = a(moved)
    changed = (out2 - out).abs().amax(-1) > 1e-6
    assert changed[0, 3] and changed.sum() == 1


# --------------------------------------------------------------------------------------- pos_every_block


def _encoder(pos_every_block, depth=3):
    torch.manual_seed(0)
    return MODELS.build(dict(type='PointTransformerEncoder', embed_dims=16, depth=depth, num_heads=2,
                             drop_path_rate=0.0, pos_every_block=pos_every_block)).eval()


def test_pos_every_block_adds_the_encoding_before_each_block():
    g = torch.Generator().manual_seed(1)
    x, pos = torch.randn(2, 6, 16, generator=g), torch.randn(2, 6, 16, generator=g)
    every, once = _encoder(True), _encoder(False)
    once.load_state_dict(every.state_dict())  # the same weights: only the flag differs
    with torch.no_grad():
        h = x
        for block in every.blocks:  # by hand with the module's own blocks
            h = block(h + pos)
        torch.testing.assert_close(every(x, pos), every.norm(h))
        h = once.blocks[0](x + pos)
        for block in once.blocks[1:]:
            h = block(h)
        torch.testing.assert_close(once(x, pos), once.norm(h))
        # at the input only, the encoding is just part of the input; before every block it is not
        torch.testing.assert_close(once(x, pos), once(x + pos, torch.zeros_like(pos)))
        assert not torch.allclose(every(x, pos), every(x + pos, torch.zeros_like(pos)), atol=1e-4)
        assert not torch.allclose(every(x, pos), once(x, pos), atol=1e-4)
        # with one block the two are the same function
        one_every, one_once = _encoder(True, depth=1), _encoder(False, depth=1)
        one_once.load_state_dict(one_every.state_dict())
        torch.testing.assert_close(one_every(x, pos), one_once(x, pos))


def test_out_indices_are_the_normed_outputs_of_those_blocks():
    g = torch.Generator().manual_seed(2)
    x, pos = torch.randn(2, 6, 16, generator=g), torch.randn(2, 6, 16, generator=g)
    enc = _encoder(True)
    with torch.no_grad():
        out, hidden = enc(x, pos, out_indices=(1, 3))
        h1 = enc.blocks[0](x + pos)
        h3 = enc.blocks[2](enc.blocks[1](h1 + pos) + pos)
    assert len(hidden) == 2
    torch.testing.assert_close(hidden[0], enc.norm(h1))
    torch.testing.assert_close(hidden[1], enc.norm(h3))
    torch.testing.assert_close(out, hidden[1])


# --------------------------------------------------------------------------------------- drop-path


@pytest.mark.parametrize('depth, rate, expected', [(5, 0.2, [0.0, 0.05, 0.1, 0.15, 0.2]), (2, 0.1, [0.0, 0.1]),
                                                   (4, 0.0, [0.0] * 4), (1, 0.1, [0.1])])
def test_drop_path_rates_rise_linearly_from_zero(depth, rate, expected):
    """Linear from 0 (first block) to drop_path_rate (last); a single block gets drop_path_rate itself."""
    blocks = build_blocks(8, depth, 2, drop_path_rate=rate)
    assert [b.drop_path.p for b in blocks] == pytest.approx(expected)
    enc = MODELS.build(dict(type='PointTransformerEncoder', embed_dims=8, depth=depth, num_heads=2,
                            drop_path_rate=rate))
    assert [b.drop_path.p for b in enc.blocks] == pytest.approx(expected)


def test_drop_path_zeroes_dropped_samples_and_rescales_kept_ones():
    p = 0.3
    dp = DropPath(p).train()
    x = torch.rand(4000, 5, 6, generator=torch.Generator().manual_seed(0)) + 0.5  # no zero entries
    torch.manual_seed(0)
    out = dp(x)
    ratio = out / x
    per_sample = ratio.flatten(1)
    # one factor per sample, the same for all its entries: 0 (dropped) or 1 / (1 - p) (kept)
    assert torch.allclose(per_sample, per_sample[:, :1].expand_as(per_sample))
    factor = per_sample[:, 0]
    dropped = factor == 0
    assert torch.allclose(factor[~dropped], torch.full_like(factor[~dropped], 1 / (1 - p)))
    # the share dropped is p (binomial, n=4000: std 0.007) and the expectation is kept
    assert abs(dropped.float().mean().item() - p) < 0.03
    assert abs(factor.mean().item() - 1.0) < 0.05
    # the same seed draws the same samples
    torch.manual_seed(0)
    assert torch.equal(dp(x), out)


def test_drop_path_residual_adds_the_rescaled_branch_or_nothing():
    p = 0.5
    dp = DropPath(p).train()
    torch.manual_seed(1)
    x, branch = torch.randn(64, 3, 4), torch.randn(64, 3, 4)
    out = dp.residual(x, branch)
    dropped = torch.tensor([torch.equal(out[i], x[i]) for i in range(64)])
    assert 0 < dropped.sum() < 64  # both cases happen
    torch.testing.assert_close(out[~dropped], x[~dropped] + branch[~dropped] / (1 - p))
    # eval mode and p = 0: identity (forward) and a plain sum (residual)
    dp.eval()
    assert torch.equal(dp(x), x) and torch.equal(dp.residual(x, branch), x + branch)
    zero = DropPath(0.0).train()
    assert torch.equal(zero(x), x) and torch.equal(zero.residual(x, branch), x + branch)


def test_a_block_with_drop_path_is_deterministic_in_eval_and_drops_whole_branches_in_train():
    torch.manual_seed(0)
    block = TransformerBlock(8, 2, drop_path=0.5)
    plain = copy.deepcopy(block)
    plain.drop_path = DropPath(0.0)
    x = torch.randn(40, 5, 8)
    block.eval()
    with torch.no_grad():
        assert torch.equal(block(x), plain(x))
        block.train()
        torch.manual_seed(2)
        out = block(x)
    # a sample that lost both branches comes out unchanged; one that kept both is the plain block's output with
    # each branch doubled: x + 2 attn(LN x), then + 2 mlp(LN .)
    unchanged = torch.tensor([torch.equal(out[i], x[i]) for i in range(40)])
    assert 0 < unchanged.sum() < 40
    with torch.no_grad():
        h = x + 2 * plain.attn(plain.norm1(x))
        both_kept = h + 2 * plain._mlp(plain.norm2(h))
    kept = torch.tensor([torch.allclose(out[i], both_kept[i], atol=1e-5) for i in range(40)])
    assert kept.any() and not (kept & unchanged).any()


def test_attention_on_cpu_attends_low_precision_inputs_in_float32():
    """``attention``: float32 inputs go straight to SDPA; bfloat16 / float16 inputs on CPU are attended in float32
    (the CPU flash kernel is much slower in bfloat16) and returned in their own dtype, so under bf16 autocast a
    block's output equals float32 attention of the same bfloat16 q, k, v rounded once, not bf16 attention; with
    gradients (checkpointed) the output and the gradients are those of the same float32 attention."""
    from pjepa3d.models.utils.transformer import attention
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(4, 3, 17, 16, generator=g) for _ in range(3))
    mask = torch.rand(4, 1, 17, 17, generator=g) > 0.3
    mask[..., 0] = True  # every query may attend to something
    assert torch.equal(attention(q, k, v, mask), F.scaled_dot_product_attention(q, k, v, attn_mask=mask))
    for dtype in (torch.bfloat16, torch.float16):
        ql, kl, vl = q.to(dtype), k.to(dtype), v.to(dtype)
        with torch.autocast('cpu', dtype=torch.bfloat16):
            out = attention(ql, kl, vl, mask)
        assert out.dtype == dtype
        expected = F.scaled_dot_product_attention(ql.float(), kl.float(), vl.float(), attn_mask=mask).to(dtype)
        assert torch.equal(out, expected)
        # with gradients the float32 forward is checkpointed (recomputed in backward): same output, same gradients
        leaves = [t.clone().requires_grad_(True) for t in (ql, kl, vl)]
        ref_leaves = [t.clone().requires_grad_(True) for t in (ql, kl, vl)]
        out = attention(*leaves, mask)
        ref = F.scaled_dot_product_attention(*(t.float() for t in ref_leaves), attn_mask=mask).to(dtype)
        assert torch.equal(out, ref) and out.grad_fn is not None
        w = torch.randn(out.shape, generator=g).to(dtype)
        (out.float() * w).sum().backward()
        (ref.float() * w).sum().backward()
        for a, b in zip(leaves, ref_leaves):
            assert a.grad.dtype == dtype and torch.equal(a.grad, b.grad)


def test_bf16_block_mlp_recomputes_gelu_and_matches_autocasts_graph_bit_for_bit():
    """Under bfloat16 autocast the MLP keeps the GELU input only (its output is recomputed in backward): the
    block's output and every gradient are those of autocast's layer-by-layer graph, bit for bit, and one fewer
    (tokens, hidden) tensor is saved for backward. float32 keeps the plain graph."""
    torch.manual_seed(0)
    blk = TransformerBlock(48, 4)
    for p in blk.parameters():
        torch.nn.init.normal_(p, std=0.1)
    ref = copy.deepcopy(blk)
    fc1, act, _, fc2, _ = ref.mlp
    ref._mlp = lambda x: fc2(act(fc1(x)))  # autocast's graph, as before
    x = torch.randn(8, 21, 48)
    g = torch.randn(8, 21, 48)

    def run(block):
        xi = x.clone().requires_grad_()
        saved = []

        def pack(t):
            saved.append(tuple(t.shape))
            return t
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t), \
                torch.autocast('cpu', dtype=torch.bfloat16):
            y = block(xi)
        (y.float() * g).sum().backward()
        return y, xi.grad, [p.grad for p in block.parameters()], saved

    y1, gx1, gp1, saved1 = run(blk)
    y2, gx2, gp2, saved2 = run(ref)
    assert torch.equal(y1, y2) and torch.equal(gx1, gx2)
    for (name, p), a, b in zip(blk.named_parameters(), gp1, gp2):
        assert a.dtype == p.dtype == torch.float32 and torch.equal(a, b), name

    def hidden_acts(shapes):  # (tokens, hidden) activations, not the (48, 192) weights
        return [s for s in shapes if math.prod(s) == 8 * 21 * 192]
    assert len(hidden_acts(saved1)) == 1 and len(hidden_acts(saved2)) == 2
    # float32 and no-grad forwards keep nn.GELU's graph (two hidden-size tensors saved in float32)
    xi = x.clone().requires_grad_()
    saved = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(tuple(t.shape)) or t, lambda t: t):
        blk(xi)
    assert len(hidden_acts(saved)) == 2
