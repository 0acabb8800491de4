"""benchmarks/bench_pretrain_step.py's FLOP counter: matrix products at their real cost (the floor it prints)."""
import pytest
import torch

from tests.conftest import load_script


@pytest.fixture(scope='module')
def bench():
    return load_script('benchmarks/bench_pretrain_step.py')


def test_sparse_products_count_their_stored_entries_and_addmm_inplace_counts(bench):
    dense = torch.zeros(64, 32)
    dense[torch.arange(64), torch.arange(64) % 32] = 1.0  # one entry a row: 64 stored entries
    csr, b = dense.to_sparse_csr(), torch.randn(32, 16)
    with bench.flop_counter() as counter:
        csr @ b
    assert counter.get_total_flops() == 2 * 64 * 16
    with bench.flop_counter() as counter:
        b.t() @ csr.t().to_dense()  # dense x dense: the full shape
    assert counter.get_total_flops() == 2 * 16 * 32 * 64
    acc = torch.zeros(64, 16)
    with bench.flop_counter() as counter:
        acc.addmm_(dense, b)
        acc.addmm_(csr, b)
    assert counter.get_total_flops() == 2 * 64 * 32 * 16 + 2 * 64 * 16


def test_the_fused_minipointnets_sparse_backward_counts_less_than_the_dense_one(bench):
    """The same training pass of the mini-PointNet, fused (sparse max-pool gradients in float32 on a CPU) and
    fused-dense: the same forward, and a backward counted at its real work, about two thirds lower."""
    from pjepa3d.models.tokenizers.point_patch_tokenizer import MiniPointNet, sparse_pool_grads_apply
    if not sparse_pool_grads_apply(torch.device('cpu'), torch.float32):
        pytest.skip('no MKL: the sparse products do not run')
    counts = {}
    for impl in ('fused', 'fused-dense'):
        torch.manual_seed(0)
        net = MiniPointNet(3, 48, (16, 32, 64), impl=impl).train()
        x = torch.randn(64, 32, 3)
        with bench.flop_counter() as counter:
            out = net(x)
        fwd = counter.get_total_flops()
        with bench.flop_counter() as counter:
            out.sum().backward()
        counts[impl] = (fwd, counter.get_total_flops())
    assert counts['fused'][0] == counts['fused-dense'][0]
    assert counts['fused'][1] < 0.6 * counts['fused-dense'][1], counts


def test_cpu_attention_is_counted_forward_and_backward(bench):
    """torch's counter knows the GPU attention kernels only; on a CPU ``scaled_dot_product_attention`` runs its own
    (flash-for-CPU) kernel, counted here with torch's formulas: 2 products of 2 * L * L * E per head, and twice
    that (plus the recomputed scores) backward."""
    import torch.nn.functional as F
    q = torch.randn(2, 3, 16, 8, requires_grad=True)
    with bench.flop_counter() as counter:
        out = F.scaled_dot_product_attention(q, q, q)
    assert counter.get_total_flops() == 2 * 3 * 2 * (2 * 16 * 16 * 8)
    with bench.flop_counter() as counter:
        out.sum().backward()
    assert counter.get_total_flops() >= 2 * 2 * 3 * 2 * (2 * 16 * 16 * 8)
