"""PointPatchTokenizer / MiniPointNet: shapes, centres, determinism, extra channels, fused = reference, bad input."""
import copy

import pytest
import torch

from pjepa3d.models.tokenizers import MiniPointNet, PointPatchTokenizer, point_patch_tokenizer
from pjepa3d.utils import PointCloudError


def _tok(**kw):
    cfg = dict(num_groups=16, group_size=8, embed_dims=48, hidden_dims=(16, 32, 64))
    cfg.update(kw)
    return PointPatchTokenizer(**cfg)


def test_shapes_and_centres_are_input_points():
    torch.manual_seed(0)
    tok = _tok()
    pts = torch.rand(3, 200, 3)
    tokens, centres = tok(pts)
    assert tokens.shape == (3, 16, 48) and centres.shape == (3, 16, 3)
    for b in range(3):
        d = (centres[b].unsqueeze(1) - pts[b].unsqueeze(0)).abs().sum(-1).min(dim=1).values
        assert torch.all(d == 0), 'centres must be actual input points'
        assert len({tuple(c) for c in centres[b].tolist()}) == 16


def test_eval_is_deterministic_and_train_start_is_random():
    torch.manual_seed(0)
    tok = _tok().eval()
    pts = torch.rand(2, 150, 3)
    t1, c1 = tok(pts)
    t2, c2 = tok(pts.clone())
    assert torch.equal(t1, t2) and torch.equal(c1, c2)
    tok.train()
    torch.manual_seed(1)
    starts = {tuple(tok.group(pts)[1][:, 0].flatten().tolist()) for _ in range(4)}
    assert len(starts) > 1


def test_extra_channels_are_carried():
    torch.manual_seed(0)
    tok = _tok(in_channels=6)
    xyz = torch.rand(2, 120, 3)
    normals = torch.nn.functional.normalize(torch.randn(2, 120, 3), dim=-1)
    groups, centres = tok.group(torch.cat([xyz, normals], -1))
    assert groups.shape == (2, 16, 8, 6)
    # every group row is (point - centre, normal of that point)
    flat_pts = torch.cat([xyz, normals], -1)
    for b in range(2):
        rows = groups[b].reshape(-1, 6)
        absolute = torch.cat([rows[:, :3] + centres[b].repeat_interleave(8, 0), rows[:, 3:]], 1)
        d = (absolute.unsqueeze(1) - flat_pts[b].unsqueeze(0)).abs().amax(-1).min(1).values
        assert d.max() < 1e-5
    tokens, _ = tok(torch.cat([xyz, normals], -1))
    assert tokens.shape == (2, 16, 48)
    # the normals change the tokens
    tokens2, _ = tok(torch.cat([xyz, -normals], -1))
    assert not torch.allclose(tokens, tokens2)


@pytest.mark.parametrize('impl', ['fused', 'fused-dense'])
@pytest.mark.parametrize('C,block_rows', [(3, 4096), (6, 4096), (3, 80)])
def test_fused_minipointnet_equals_reference(C, block_rows, impl, monkeypatch):
    """The custom-backward training path and the folded eval path compute the layer-by-layer function; also
    when the training path runs in several blocks of patches, the last one shorter (80 rows = 5 patches of 16);
    with the max-pool gradients as sparse matrices ('fused' on a CPU with MKL) and as dense ones."""
    monkeypatch.setattr(point_patch_tokenizer, 'BLOCK_ROWS', block_rows)
    assert len(point_patch_tokenizer._patch_blocks(24, 16, torch.device('cpu'))) == (1 if block_rows == 4096 else 5)
    torch.manual_seed(0)
    net = MiniPointNet(C, 40, hidden_dims=(16, 32, 24), impl=impl)
    for p in net.parameters():
        if p.dim() == 1:
            torch.nn.init.normal_(p, std=0.3)
    ref = copy.deepcopy(net)
    x = torch.randn(24, 16, C) * 0.5
    w = torch.randn(24, 40)
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    net.train()
    ref.train()
    o1, o2 = net(x1), ref.forward_reference(x2)
    torch.testing.assert_close(o1, o2, rtol=1e-4, atol=1e-5)
    assert o1.grad_fn._forward_cls.__name__ == '_MiniPointNetTrain'
    sparse = impl == 'fused' and torch.backends.mkl.is_available()
    assert o1.grad_fn.sparse_grads is sparse
    (o1 * w).sum().backward()
    (o2 * w).sum().backward()
    torch.testing.assert_close(x1.grad, x2.grad, rtol=1e-3, atol=1e-3)
    for (name, p), q in zip(net.named_parameters(), ref.parameters()):
        if name in ('fc1.bias', 'fc2.bias', 'fc3_global.bias'):  # exactly 0 in exact arithmetic (before a BN)
            assert p.grad.abs().max() < 1e-3 * max(1.0, q.grad.abs().max().item() + 1e-3)
            continue
        scale = q.grad.abs().max().item()
        assert (p.grad - q.grad).abs().max().item() <= 2e-3 * scale + 1e-5, name
    for b1, b2 in zip(net.buffers(), ref.buffers()):
        torch.testing.assert_close(b1.float(), b2.float(), rtol=1e-5, atol=1e-6)
    net.eval()
    ref.eval()
    with torch.no_grad():
        torch.testing.assert_close(net(x), ref.forward_reference(x), rtol=1e-4, atol=1e-5)


@pytest.mark.skipif(not torch.backends.mkl.is_available(), reason='the sparse products need MKL on a CPU')
@pytest.mark.parametrize('k', [1, 5, 32])
def test_pool_grad_csr_is_the_scattered_gradient(k):
    """The CSR matrices of a max-pool's gradient hold ``grad`` at the argmax rows and 0 elsewhere, exactly as the
    dense scatter, ties of several channels on one point included, and their products equal the dense ones."""
    from pjepa3d.models.tokenizers.point_patch_tokenizer import _pool_grad_csr
    g = torch.Generator().manual_seed(0)
    p, C = 7, 24
    idx = torch.randint(0, k, (p, C), generator=g)
    idx[2] = idx[2, 0]  # every channel of one patch on the same point
    grad = torch.randn(p, C, generator=g)
    dense = torch.zeros(p * k, C)
    dense.view(p, k, C).scatter_(1, idx.unsqueeze(1), grad.unsqueeze(1))
    full, full_t = _pool_grad_csr(idx, grad, k)
    assert full.layout == full_t.layout == torch.sparse_csr
    assert torch.equal(full.to_dense(), dense) and torch.equal(full_t.to_dense(), dense.t())
    h, w = torch.randn(p * k, 11, generator=g), torch.randn(C, 13, generator=g)
    torch.testing.assert_close(full_t @ h, dense.t() @ h, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(full @ w, dense @ w, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('block_rows', [4096, 96])
def test_fused_minipointnet_under_bf16_autocast(block_rows, monkeypatch):
    """Under bfloat16 autocast the training path stays the custom function, with bfloat16 matmuls and saved
    activations (h1, the normalised BN3 input), and computes what autocast's layer-by-layer graph computes
    (to bfloat16 rounding; both against the float32 function), in one block or in 22 (3 patches of 32 each)."""
    monkeypatch.setattr(point_patch_tokenizer, 'BLOCK_ROWS', block_rows)
    torch.manual_seed(0)
    net = MiniPointNet(3, 40, hidden_dims=(16, 32, 24))
    for p in net.parameters():
        if p.dim() == 1:
            torch.nn.init.normal_(p, std=0.3)
    ref, exact = copy.deepcopy(net), copy.deepcopy(net)
    x = torch.randn(64, 32, 3) * 0.5
    w = torch.randn(64, 40)
    x1, x2, x3 = (x.clone().requires_grad_() for _ in range(3))
    with torch.autocast('cpu', dtype=torch.bfloat16):
        o1, o2 = net(x1), ref.forward_reference(x2)
    o3 = exact.forward_reference(x3)
    assert type(o1.grad_fn).__name__ == '_MiniPointNetTrainBackward'
    assert o1.grad_fn.sparse_grads is False  # no bfloat16 sparse kernel: the dense products
    saved = o1.grad_fn.saved_tensors
    assert saved[1].dtype == saved[2].dtype == torch.bfloat16  # h1, xhat3
    assert saved[1].shape == (64 * 32, 16) and saved[2].shape == (64 * 32, 24)
    assert o1.dtype == torch.float32
    err_fused = (o1 - o3).abs().max().item() / o3.abs().max().item()
    err_ref = (o2.float() - o3).abs().max().item() / o3.abs().max().item()
    assert err_fused < 0.02 and err_ref < 0.02
    # a backward called inside an autocast region gives the same gradients as one outside
    with torch.autocast('cpu', dtype=torch.bfloat16):
        (o1 * w).sum().backward(retain_graph=True)
    g_inside = [p.grad.clone() for p in net.parameters()]
    net.zero_grad()
    x1.grad = None
    (o1 * w).sum().backward()
    for a, b in zip(g_inside, net.parameters()):
        torch.testing.assert_close(a, b.grad)
    # gradients: bfloat16 rounding flips some max-pool winners, so both autocast paths are off the float32
    # gradients by a few to tens of per cent (max error); the fused path must be no worse than autocast's graph
    (o2.float() * w).sum().backward()
    (o3 * w).sum().backward()

    def rel_err(a, b):
        return (a - b).abs().max().item() / b.abs().max().item()
    for (name, p), q, e in zip(net.named_parameters(), ref.parameters(), exact.parameters()):
        assert p.grad.dtype == torch.float32
        if name in ('fc1.bias', 'fc2.bias', 'fc3_global.bias'):  # 0 in exact arithmetic (before a BN)
            continue
        assert rel_err(p.grad, e.grad) <= max(1.2 * rel_err(q.grad, e.grad), 0.02), name
    assert rel_err(x1.grad, x3.grad) <= max(1.2 * rel_err(x2.grad, x3.grad), 0.02)
    # BatchNorm running statistics are updated in float32, as autocast's BatchNorm does
    for b1, b3 in zip(net.buffers(), exact.buffers()):
        torch.testing.assert_close(b1.float(), b3.float(), rtol=0.02, atol=1e-3)
    # eval under autocast keeps the layer-by-layer graph
    net.eval()
    with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16):
        assert net(x).dtype == torch.bfloat16


def test_minipointnet_momentum_none_counts_batches():
    net = MiniPointNet(3, 8, hidden_dims=(4, 8, 8))
    ref = copy.deepcopy(net)
    for m in (net, ref):
        m.bn1.momentum = None
        m.bn3.momentum = None
        m.train()
    for _ in range(3):
        x = torch.randn(5, 6, 3)
        net(x)
        ref.forward_reference(x)
    assert int(net.bn1.num_batches_tracked) == 3
    torch.testing.assert_close(net.bn3.running_var, ref.bn3.running_var)


@pytest.mark.parametrize('points,match', [
    (torch.zeros(2, 0, 3), 'empty'),
    (torch.rand(2, 7, 3), 'fewer than'),
    (torch.rand(2, 100, 4), 'values per point'),
    (torch.rand(100, 3, 2), 'values per point'),
])
def test_bad_input_raises_point_cloud_error(points, match):
    tok = _tok()
    with pytest.raises(PointCloudError, match=match):
        tok(points)


def test_nan_input_raises_point_cloud_error_naming_the_sample():
    tok = _tok()
    pts = torch.rand(3, 100, 3)
    pts[1, 5, 2] = float('nan')
    with pytest.raises(PointCloudError, match=r'^PointPatchTokenizer input \(batch index \[1\]\): NaN or inf '):
        tok(pts)
    pts[1, 5, 2] = 0.5
    pts[0, 9, 0] = float('inf')
    pts[2, 0, 1] = float('-inf')
    with pytest.raises(PointCloudError, match=r'\(batch index \[0, 2\]\): NaN or inf'):
        tok(pts)


def test_reference_impl_switch_runs_the_layer_by_layer_graph():
    """impl='reference' builds the plain-autograd graph (no hand-written backward), same function and keys."""
    torch.manual_seed(0)
    fused = MiniPointNet(3, 40, hidden_dims=(16, 32, 24))
    ref = MiniPointNet(3, 40, hidden_dims=(16, 32, 24), impl='reference')
    ref.load_state_dict(fused.state_dict())  # same keys: checkpoints move between the two
    x = torch.randn(24, 16, 3, requires_grad=True)
    out_f, out_r = fused(x), ref(x)
    assert type(out_f.grad_fn).__name__ == '_MiniPointNetTrainBackward'  # the custom autograd.Function
    # the last ops of forward_reference: the max-pool over the points (max_over_points), then a view
    assert type(out_r.grad_fn).__name__ == 'ViewBackward0'
    assert type(out_r.grad_fn.next_functions[0][0]).__name__ == 'MaxPool2DWithIndicesBackward0'
    torch.testing.assert_close(out_f, out_r, rtol=1e-4, atol=1e-5)
    tok = PointPatchTokenizer(num_groups=8, group_size=8, embed_dims=16, hidden_dims=(8, 8, 8), embed_impl='reference')
    assert tok.embed.impl == 'reference'
    with pytest.raises(ValueError,
                       match="impl must be one of \\('fused', 'fused-dense', 'reference'\\), got 'compiled'"):
        MiniPointNet(3, 8, hidden_dims=(8, 8, 8), impl='compiled')


@pytest.mark.parametrize('dtype', [torch.float32, torch.float64, torch.bfloat16, torch.float16])
def test_max_over_points_is_max_dim1_with_its_indices_and_gradient(dtype):
    """The mini-PointNet's pooling (max_pool2d on the channels-last view) returns what ``max(dim=1)`` returns,
    bit for bit, ties (first maximum) and NaN included, and sends the gradient to the same points."""
    from pjepa3d.models.tokenizers.point_patch_tokenizer import max_over_points
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 32, 48, generator=g)
    x[:, 5:9] = x[:, 5:9].round()  # exact ties between several points of a patch
    x[3, 7, 11] = float('nan')
    cases = [x, x[:, :1], x.transpose(1, 2).contiguous().transpose(1, 2)]  # k = 1; a non-contiguous view
    for t in cases:
        t = t.to(dtype).requires_grad_(True)
        ref = t.detach().clone().requires_grad_(True)
        values, indices = max_over_points(t)
        ref_values, ref_indices = ref.max(dim=1)
        assert torch.equal(indices, ref_indices)
        assert torch.equal(values.isnan(), ref_values.isnan())
        assert torch.equal(values.nan_to_num(), ref_values.nan_to_num())
        w = torch.randn(values.shape, generator=g).to(dtype)
        (values.nan_to_num() * w).sum().backward()
        (ref_values.nan_to_num() * w).sum().backward()
        assert torch.equal(t.grad, ref.grad)
    empty = torch.zeros(0, 32, 8, dtype=dtype)
    assert max_over_points(empty)[0].shape == (0, 8)


def test_patch_blocks_cover_every_patch_once_in_whole_patches():
    """Blocks of BLOCK_ROWS rows on a CPU (at least one patch each); elsewhere at most MAX_DEVICE_BLOCKS blocks,
    each at least BLOCK_ROWS rows; every patch in exactly one block, rows = patches * k."""
    cpu, other = torch.device('cpu'), torch.device('meta')
    for P, k in [(2048, 32), (64, 32), (7, 5000), (1, 1), (32768, 32)]:
        for device in (cpu, other):
            blocks = point_patch_tokenizer._patch_blocks(P, k, device)
            covered = [p for ps, _ in blocks for p in range(ps.start, ps.stop)]
            assert covered == list(range(P))
            assert all((rs.start, rs.stop) == (ps.start * k, ps.stop * k) for ps, rs in blocks)
    assert len(point_patch_tokenizer._patch_blocks(2048, 32, cpu)) == 16  # 4,096 rows = 128 patches each
    assert len(point_patch_tokenizer._patch_blocks(7, 5000, cpu)) == 7  # a patch over BLOCK_ROWS: one a block
    assert len(point_patch_tokenizer._patch_blocks(2048, 32, other)) == 8
    assert len(point_patch_tokenizer._patch_blocks(64, 32, other)) == 1  # 2,048 rows: one block
    assert len(point_patch_tokenizer._patch_blocks(32768, 32, other)) == 8  # batch 512: 8 blocks of 131,072 rows


def test_combine_moments_of_blocks_is_the_whole_sets():
    """BN3's batch statistics from per-block means and variances (uneven blocks, an offset far from 0) equal
    the mean and biased variance of all rows at once."""
    torch.manual_seed(0)
    rows = torch.randn(1000, 7, dtype=torch.float64) * 3 + 50
    parts = rows.split([1, 100, 512, 387])
    var_means = [torch.var_mean(p, dim=0, correction=0) for p in parts]
    mean, var = point_patch_tokenizer._combine_moments([len(p) for p in parts], [m for _, m in var_means],
                                                       [v for v, _ in var_means])
    torch.testing.assert_close(mean, rows.mean(0), rtol=0, atol=1e-12)
    torch.testing.assert_close(var, rows.var(0, correction=0), rtol=1e-12, atol=0)
