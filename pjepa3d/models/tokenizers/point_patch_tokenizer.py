"""FPS + kNN patches embedded by a mini-PointNet: (B, N, C) points -> (B, M, D) tokens."""
import warnings

import torch
import torch.nn as nn

from pjepa3d.ops import sample_and_group
from pjepa3d.registry import MODELS
from pjepa3d.utils import validate_points


def _bn_momentum(bn):
    """The factor BatchNorm would use for this update (and count the batch, as it does)."""
    if bn.num_batches_tracked is not None:
        bn.num_batches_tracked.add_(1)
    if bn.momentum is None:
        return 1.0 / float(bn.num_batches_tracked)
    return bn.momentum


@torch.no_grad()
def _update_running(bn, mean, var, n):
    if not bn.track_running_stats or bn.running_mean is None:
        return
    m = _bn_momentum(bn)
    bn.running_mean.mul_(1 - m).add_(mean.to(bn.running_mean.dtype), alpha=m)
    bn.running_var.mul_(1 - m).add_((var * (n / max(n - 1, 1))).to(bn.running_var.dtype), alpha=m)


def max_over_points(x):
    """Max-pool (P, k, C) over its k points -> (values (P, C), indices (P, C) long), as ``x.max(dim=1)``.

    Same values, same indices (the first maximum on ties; NaN propagates) and the same gradient (to the
    index) as ``max(dim=1)``, computed by ``max_pool2d_with_indices`` on the (P, C, k, 1) channels-last view of
    ``x``: ATen's channels-last pooling kernel is vectorised over C, its reduction kernel for ``max(dim=1)``
    is not (on the demo's (2048, 32, 192) activation 1.9 ms against 15.9 ms here, 8x; scratch timing on
    this 2-core CPU, torch 2.13). A contiguous ``x`` is already that view (no copy)."""
    P, k, C = x.shape
    if x.numel() == 0:
        return x.max(dim=1)
    values, indices = nn.functional.max_pool2d_with_indices(x.unsqueeze(2).permute(0, 3, 1, 2), (k, 1))
    return values.view(P, C), indices.view(P, C)


#: rows of one block of the training path on a CPU (rounded down to whole patches; at least one patch)
BLOCK_ROWS = 4096
#: at most this many blocks on other devices (CUDA): there a block costs kernel launches, and the caching allocator
#: already reuses memory; blocks still bound the transients at large batches (not measured here: no GPU)
MAX_DEVICE_BLOCKS = 8


def _patch_blocks(P, k, device):
    """[(patch slice, row slice)] covering P patches of k rows: blocks of about :data:`BLOCK_ROWS` rows on a CPU,
    at most :data:`MAX_DEVICE_BLOCKS` blocks (each at least :data:`BLOCK_ROWS` rows) on other devices."""
    k = max(k, 1)
    step = max(1, BLOCK_ROWS // k)
    if device.type != 'cpu':
        step = max(step, -(-P // MAX_DEVICE_BLOCKS))
    return [(slice(p, min(p + step, P)), slice(p * k, min(p + step, P) * k)) for p in range(0, P, step)]


def sparse_pool_grads_apply(device, dtype):
    """Whether the training path's backward can take the max-pools' gradients as sparse (CSR) matrices: on a CPU,
    in float32, with MKL (ATen's CSR x dense product on a CPU). Elsewhere they stay dense: bfloat16 has no MKL
    sparse kernel, and on CUDA it was not measured (no GPU here)."""
    return device.type == 'cpu' and dtype == torch.float32 and torch.backends.mkl.is_available()


def _pool_grad_csr(idx, grad, k, chans=None):
    """The gradient a max-pool over k points sends back to its (p * k, C) input, ``grad`` (p, C) at the argmax
    rows ``idx`` (p, C) and 0 elsewhere (one entry in k per column of a patch), as CSR matrices: it, and its
    transpose (C, p * k). ``chans``: each patch's channels ordered by their argmax point, ``torch.sort(idx, dim=1,
    stable=True)[1]``, when the caller sorted once for several blocks (the same per-row sort).

    A dense product with that gradient spends k - 1 of every k multiply-adds on zeros, and the four such products
    (``d^T @ h`` and ``d @ W`` for fc4 and for fc2) were about two thirds of the backward's multiply-adds. One
    block of 4,096 rows x 192 channels (scratch timing on the 2-core AVX2 EPYC, torch 2.13): ``d^T @ h`` 12.5 ms
    dense, 2.1 ms as CSR; ``d @ W`` 13.2 -> 5.0 ms; building both matrices 1.6-1.9 ms
    (``benchmarks/bench_minipointnet.py`` times the whole pass)."""
    p, C = idx.shape
    device = idx.device
    rows = torch.arange(0, p * k, k, device=device).unsqueeze(1) + idx  # (p, C) input rows
    with warnings.catch_warnings():
        warnings.filterwarnings('ignore', message='Sparse CSR tensor support is in beta')
        # transpose: row c holds one entry per patch, in patch order (columns ascending)
        grad_t = torch.sparse_csr_tensor(torch.arange(0, C * p + 1, p, device=device), rows.t().reshape(-1),
                                         grad.t().reshape(-1), (C, p * k), check_invariants=False)
        # the matrix itself: each patch's channels ordered by their argmax point (stable: ascending columns)
        if chans is None:
            chans = torch.sort(idx, dim=1, stable=True)[1]
        crow = torch.zeros(p * k + 1, dtype=torch.long, device=device)
        torch.cumsum(torch.bincount(rows.reshape(-1), minlength=p * k), 0, out=crow[1:])
        full = torch.sparse_csr_tensor(crow, chans.reshape(-1), grad.gather(1, chans).reshape(-1), (p * k, C),
                                       check_invariants=False)
    return full, grad_t


def _pool_grad(idx, grad, k, sparse, chans=None):
    """A max-pool's input gradient and its transpose, ``(d, d^T)`` for the products ``d @ W`` and ``d^T @ h``: CSR
    matrices when ``sparse`` (:func:`_pool_grad_csr`, ``chans`` as there), else ``d`` dense in ``grad``'s dtype
    (``grad`` scattered to the argmax rows ``idx``) and its transposed view."""
    if sparse:
        return _pool_grad_csr(idx, grad, k, chans)
    p, C = idx.shape
    d = grad.new_zeros((p * k, C))
    d.view(-1, k, C).scatter_(1, idx.unsqueeze(1), grad.unsqueeze(1))
    return d, d.t()


def _combine_moments(counts, means, variances):
    """Mean and biased variance of a set from its blocks' row counts, means and biased variances (the pairwise
    update of Chan et al. for all blocks at once, in float64): BatchNorm's batch statistics in one pass."""
    n = torch.tensor(counts, dtype=torch.float64, device=means[0].device).unsqueeze(1)
    means = torch.stack(means).double()
    mean = (n * means).sum(0) / n.sum()
    m2 = (n * torch.stack(variances).double()).sum(0) + (n * (means - mean).square()).sum(0)
    return mean, m2 / n.sum()


class _MiniPointNetTrain(torch.autograd.Function):
    """Training-mode mini-PointNet (batch-statistics BatchNorm) with a hand-written backward.

    The same function as the module's layer-by-layer definition, computed with less work and memory:

    * BN1 statistics come from the input's mean and C x C covariance (fc1 is linear), and BN1 is folded into
      fc1's weights: ``h1 = relu(x @ (s*W1)^T + c)``; the (R, 128) pre-BN activation is never stored
      (recomputed in backward by a K = C matmul);
    * the local half of the concat layer composes the two linear maps: ``fc3_local(fc2(h1)) = h1 @ (W3l W2)^T
      + W3l b2`` (a 128->512 matmul instead of 128->256->512); fc2 itself only feeds the first max-pool, and a
      per-channel bias commutes with a max, so fc2's and fc4's biases are added to the (P, C) maxima;
    * only ``h1`` (R, 128), the normalised BN3 input (R, 512), the pooled global feature and the max-pool
      argmax indices are kept for backward; the BN3 / ReLU output is recomputed instead of stored;
    * every other (R, C) intermediate, forward and backward, exists one block of :data:`BLOCK_ROWS` rows (whole
      patches; on CUDA at most :data:`MAX_DEVICE_BLOCKS` larger blocks) at a time. A block is a few MB, which
      glibc serves from its heap and hands out again for the next block; whole (R, C) transients (up to 134 MB
      at the ViT-S step) were fresh ``mmap`` pages that every step page-faulted in again, and they set the
      step's peak memory (benchmarks/README.md, "The mini-PointNet in blocks"). BN's batch statistics and its
      backward's two sums are accumulated over the blocks (float64 moments combined across blocks; float32
      sums), so they take one pass each.

    ``cdt`` is the dtype of the three large matmuls (fc2, the composed concat layer, fc4), of the two (R, C)
    activations kept for backward and of the backward's (R, 512) BN3 gradient: ``x.dtype`` (float32)
    normally, ``torch.bfloat16`` under bf16 autocast. The BN statistics, the small per-patch matmuls, the
    returned token and every parameter gradient stay float32 (block products are accumulated in float32).
    """

    @staticmethod
    def forward(ctx, x, w1, b1, g1, be1, w2, b2, w3g, b3g, w3l, g3, be3, w4, b4, eps1, eps3, k, stats, cdt,
                sparse_grads):
        R, C = x.shape
        P = R // k
        dt = x.dtype
        # ---- layer 1: statistics of a linear map from the input's moments (fp64, C x C)
        xd = x.double()
        mu0 = xd.mean(0)
        xc = xd - mu0
        cov = xc.t() @ xc / R
        w1d = w1.double()
        mean1 = w1d @ mu0 + b1.double()
        var1 = ((w1d @ cov) * w1d).sum(1).clamp_min_(0)
        rstd1 = (var1 + eps1).rsqrt()
        s1 = g1.double() * rstd1
        c1 = be1.double() + (b1.double() - mean1) * s1
        # BN1 folded into fc1; its bias rides in the matmul as an extra input column of ones
        x1 = torch.cat([x, x.new_ones(R, 1)], dim=1)
        w1f = torch.cat([w1d * s1.unsqueeze(1), c1.unsqueeze(1)], 1).to(dt)  # (128, C + 1)
        wc = w3l @ w2  # (512, 128): fc3_local after fc2
        w2l, wcl, w4l = w2.to(cdt), wc.to(cdt), w4.to(cdt)
        C2, C3, D = w2.shape[0], wc.shape[0], w4.shape[0]
        blocks = _patch_blocks(P, k, x.device)
        # ---- fc1 + relu (kept: h1), fc2 + first max-pool
        h1 = x.new_empty((R, w1.shape[0]), dtype=cdt)
        g = x.new_empty((P, C2))
        idx2 = torch.empty((P, C2), dtype=torch.long, device=x.device)
        for ps, rs in blocks:
            h1[rs] = torch.mm(x1[rs], w1f.t()).relu_()
            g[ps], idx2[ps] = max_over_points(torch.mm(h1[rs], w2l.t()).view(-1, k, C2))
        g += b2
        glob = torch.addmm(torch.addmv(b3g, w3l, b2), g, w3g.t())  # (P, 512): b3g + W3l b2 + W3g g
        # ---- concat layer a3 = h1 Wc^T + glob, and BN3's batch statistics; the cdt product is kept in the
        # storage of the normalised input, which the next pass writes over it
        xhat3 = x.new_empty((R, C3), dtype=cdt)
        counts, means, variances = [], [], []
        for ps, rs in blocks:
            a3 = torch.mm(h1[rs], wcl.t(), out=xhat3[rs]).to(dt, copy=True).view(-1, k, C3).add_(glob[ps, None])
            # the block's mean and biased variance (two passes of row sums: ATen's var_mean over dim 0 took 6 ms
            # a (4096, 512) block here, these 0.6 ms)
            a3 = a3.view(-1, C3)
            mean = a3.sum(0) / a3.shape[0]
            counts.append(a3.shape[0])
            means.append(mean)
            variances.append(a3.sub_(mean).square_().sum(0) / a3.shape[0])
        mean3, var3 = _combine_moments(counts, means, variances)
        rstd3 = (var3 + eps3).rsqrt().to(dt)
        mean3, var3 = mean3.to(dt), var3.to(dt)
        # ---- BN3 + relu, fc4 + second max-pool
        out = x.new_empty((P, D))
        idx4 = torch.empty((P, D), dtype=torch.long, device=x.device)
        for ps, rs in blocks:
            a3 = xhat3[rs].to(dt, copy=True).view(-1, k, C3).add_(glob[ps, None]).view(-1, C3)
            xh = a3.sub_(mean3).mul_(rstd3)
            xhat3[rs] = xh
            h3 = torch.addcmul(be3, xh, g3).relu_().to(cdt)
            out[ps], idx4[ps] = max_over_points(torch.mm(h3, w4l.t()).view(-1, k, D))
        out += b4
        ctx.save_for_backward(x1, h1, xhat3, g, idx2, idx4, w1, b1, rstd1.to(dt), mean1.to(dt), g1, w2, w3g, w3l,
                              wc, b2, g3, be3, rstd3, w4)
        ctx.k = k
        ctx.sparse_grads = sparse_grads and sparse_pool_grads_apply(x.device, cdt)
        stats.extend((mean1.to(dt), var1.to(dt), mean3, var3))
        return out

    @staticmethod
    def backward(ctx, dout):
        # explicit dtypes only: a backward called inside an autocast region must not recast these matmuls
        with torch.autocast(dout.device.type, enabled=False):
            return _MiniPointNetTrain._backward(ctx, dout)

    @staticmethod
    def _backward(ctx, dout):
        """In the forward's blocks: (R, C) gradients exist one block at a time, except BN3's (``cdt``, needed
        whole between the two passes a batch-statistics BN backward takes) and BN1's (float32, kept per block)."""
        (x1, h1, xhat3, g, idx2, idx4, w1, b1, rstd1, mean1, g1, w2, w3g, w3l, wc, b2, g3, be3, rstd3,
         w4) = ctx.saved_tensors
        k = ctx.k
        dt, cdt = x1.dtype, h1.dtype
        R = x1.shape[0]
        P = R // k
        C3 = wc.shape[0]
        blocks = _patch_blocks(P, k, x1.device)
        dout = dout.contiguous()
        doutl, w4l, wcl, w2l, be3l, g3l = (t.to(cdt) for t in (dout, w4, wc, w2, be3, g3))
        # ---- fc4 through the second max-pool (the gradient lands on the argmax rows), relu; BN3's two sums
        dw4 = torch.zeros_like(w4)
        dbe3 = torch.zeros_like(g3)  # sum(dy)
        dg3 = torch.zeros_like(g3)  # sum(dy * xhat)
        dh3 = torch.empty_like(xhat3)
        sparse = ctx.sparse_grads
        # sparse: each patch's channels ordered by their argmax point, for every block at once
        chans4, chans2 = ((torch.sort(i, dim=1, stable=True)[1] if sparse else None) for i in (idx4, idx2))
        for ps, rs in blocks:
            h3 = torch.addcmul(be3l, xhat3[rs], g3l).relu_()
            d4, d4t = _pool_grad(idx4[ps], doutl[ps], k, sparse, chans4[ps] if sparse else None)
            dw4 += (d4t @ h3).to(dt)
            dy = torch.mm(d4, w4l, out=dh3[rs])
            torch.ops.aten.threshold_backward.grad_input(dy, h3, 0, grad_input=dy)  # relu, in place
            if cdt == dt:  # dy * xhat into the h3 block, no longer needed (no copy of dy)
                dbe3 += dy.sum(0)
                dg3 += torch.mul(dy, xhat3[rs], out=h3).sum(0)
            else:
                dyf = dy.to(dt, copy=True)
                dbe3 += dyf.sum(0)
                dg3 += dyf.mul_(xhat3[rs]).sum(0)
        db4 = dout.sum(0)
        # ---- BN3's input gradient scale * (dy - sum(dy) / R - xhat * sum(dy * xhat) / R); the concat layer;
        # fc2 through the first max-pool; relu; BN1's two sums
        scale3 = g3 * rstd3
        shift3, slope3 = scale3 * dbe3 / -R, scale3 * dg3 / -R
        w1n = torch.cat([w1 * rstd1.unsqueeze(1), ((b1 - mean1) * rstd1).unsqueeze(1)], 1)  # xhat1 = x1 w1n^T
        dwc = torch.zeros_like(wc)
        dw2 = torch.zeros_like(w2)
        dg_sum = torch.zeros_like(b2)
        dglob = x1.new_empty((P, C3))
        dbe1 = torch.zeros_like(g1)
        dg1 = torch.zeros_like(g1)
        dh1_blocks = []
        for ps, rs in blocks:
            if cdt == dt:  # in place in dh3 (same arithmetic)
                da3 = torch.addcmul(shift3, dh3[rs], scale3, out=dh3[rs]).addcmul_(xhat3[rs], slope3)
                dglob[ps] = da3.view(-1, k, C3).sum(1)
            else:
                da3 = torch.addcmul(shift3, dh3[rs].to(dt), scale3).addcmul_(xhat3[rs], slope3)
                dglob[ps] = da3.view(-1, k, C3).sum(1)
                da3 = dh3[rs].copy_(da3)  # cdt
            dwc += (da3.t() @ h1[rs]).to(dt)
            dh1 = da3 @ wcl
            dg = dglob[ps] @ w3g  # (p, 256)
            dg_sum += dg.sum(0)
            d2, d2t = _pool_grad(idx2[ps], dg.to(cdt), k, sparse, chans2[ps] if sparse else None)
            dw2 += (d2t @ h1[rs]).to(dt)
            dh1.addmm_(d2, w2l)
            dh1 = torch.ops.aten.threshold_backward(dh1, h1[rs], 0).to(dt)  # relu
            dbe1 += dh1.sum(0)
            dg1 += (dh1 * torch.mm(x1[rs], w1n.t())).sum(0)
            dh1_blocks.append(dh1)
        del dh3
        dsum = dglob.sum(0)  # gradient of the constant b3g + W3l b2
        db3g = dsum
        dw3g = dglob.t() @ g
        dw3l = dwc @ w2.t() + torch.outer(dsum, b2)
        dw2 += w3l.t() @ dwc
        db2 = w3l.t() @ dsum + dg_sum
        # ---- BN1's input gradient -> fc1's weight and bias (and the input's gradient when it is asked for)
        scale1 = g1 * rstd1
        shift1, slope1 = scale1 * dbe1 / -R, scale1 * dg1 / -R
        dw1b1 = torch.zeros_like(w1n)
        dx = x1.new_empty((R, w1.shape[1])) if ctx.needs_input_grad[0] else None
        for (ps, rs), dh1 in zip(blocks, dh1_blocks, strict=True):
            da1 = torch.addcmul(shift1, dh1, scale1).addcmul_(torch.mm(x1[rs], w1n.t()), slope1)
            dw1b1 += (x1[rs].t() @ da1).t()  # (128, C + 1): [dW1, db1]; this operand order is 10x faster
            if dx is not None:
                torch.mm(da1, w1, out=dx[rs])
        dw1, db1 = dw1b1[:, :-1], dw1b1[:, -1]
        return (dx, dw1, db1, dg1, dbe1, dw2, db2, dw3g, db3g, dw3l, dg3, dbe3, dw4, db4, None, None, None, None,
                None, None)


class MiniPointNet(nn.Module):
    """Shared MLP, max-pool, concat the pooled feature back, MLP, max-pool (Point-MAE's patch embed).

    ``fc1-BN-ReLU-fc2``, max-pool over the k points -> global feature;
    ``[global, local] -fc3-BN-ReLU-fc4``, max-pool -> token. The concat layer is
    stored as ``fc3_global`` + ``fc3_local`` (``W_g @ global + W_l @ local``), so the
    (P, k, 2*C) concatenation is never materialised.

    Three implementations of the same function (same weights, same BatchNorm
    semantics, equal up to float rounding):

    * training with batch-statistics BN (the pretraining hot path): a custom
      autograd function (``_MiniPointNetTrain``) with a hand-written backward that
      folds BN1 into fc1, composes ``fc3_local o fc2`` into one 128->512 matmul,
      keeps only two activations for backward (about a third fewer FLOPs and a
      fifth of the activation memory of the layer-by-layer graph) and computes the
      rest in blocks of whole patches; under bfloat16 autocast its large matmuls and
      saved activations are bfloat16 (``cdt``). In float32 on a CPU its backward
      multiplies the two max-pools' gradients (one nonzero row in k per channel of a
      patch) as sparse CSR matrices (:func:`_pool_grad_csr`);
    * running-statistics BN (eval): BN folded into the matmuls, plain autograd;
    * :meth:`forward_reference`: the layer-by-layer definition, used in eval under
      autocast, under float16 autocast, for non-fp32 inputs and by the tests as the reference.

    ``impl='reference'`` uses :meth:`forward_reference` (plain autograd, which
    ``torch.compile`` can trace whole) everywhere; ``impl='fused'`` (default)
    the two faster paths above where they apply; ``impl='fused-dense'`` the same
    with the max-pools' gradients multiplied as dense matrices (what ``'fused'`` does
    off a CPU and in bfloat16). ``benchmarks/bench_pretrain_step.py --tokenizer-impl
    fused fused-dense reference [--compile]`` compares them.
    """

    IMPLS = ('fused', 'fused-dense', 'reference')

    def __init__(self, in_channels, embed_dims, hidden_dims=(128, 256, 512), impl='fused'):
        super().__init__()
        if impl not in self.IMPLS:
            raise ValueError(f'MiniPointNet: impl must be one of {self.IMPLS}, got {impl!r}')
        self.impl = impl
        h1, h2, h3 = hidden_dims
        self.fc1 = nn.Linear(in_channels, h1)
        self.bn1 = nn.BatchNorm1d(h1)
        self.fc2 = nn.Linear(h1, h2)
        self.fc3_global = nn.Linear(h2, h3)
        self.fc3_local = nn.Linear(h2, h3, bias=False)
        self.bn3 = nn.BatchNorm1d(h3)
        self.fc4 = nn.Linear(h3, embed_dims)

    def forward_reference(self, groups):
        """groups (P, k, C) centre-relative -> (P, D), layer by layer."""
        P, k, _ = groups.shape
        x = self.fc1(groups).flatten(0, 1)
        x = self.fc2(torch.relu(self.bn1(x))).view(P, k, -1)  # (P, k, h2)
        g = max_over_points(x)[0]  # (P, h2); backprops by index, as max(dim=1), far cheaper than amax()
        x = (self.fc3_local(x) + self.fc3_global(g).unsqueeze(1)).flatten(0, 1)
        x = self.fc4(torch.relu(self.bn3(x))).view(P, k, -1)
        return max_over_points(x)[0]

    def _batch_stats(self, bn):
        return self.training or not bn.track_running_stats or bn.running_mean is None

    def forward(self, groups):
        """groups (P, k, C) centre-relative -> (P, D)."""
        P, k, C = groups.shape
        device = groups.device.type
        autocast = torch.is_autocast_enabled(device)
        fast = (self.impl != 'reference' and groups.dtype == torch.float32 and self.fc1.weight.dtype == torch.float32
                and P > 0 and k > 0 and self.bn1.affine and self.bn3.affine
                and (not autocast or torch.get_autocast_dtype(device) == torch.bfloat16))
        if not fast:
            return self.forward_reference(groups)
        x = groups.reshape(P * k, C)
        batch1, batch3 = self._batch_stats(self.bn1), self._batch_stats(self.bn3)
        if batch1 and batch3:
            stats = []
            with torch.autocast(device, enabled=False):  # the function casts explicitly (cdt)
                out = _MiniPointNetTrain.apply(
                    x, self.fc1.weight, self.fc1.bias, self.bn1.weight, self.bn1.bias, self.fc2.weight,
                    self.fc2.bias, self.fc3_global.weight, self.fc3_global.bias, self.fc3_local.weight,
                    self.bn3.weight, self.bn3.bias, self.fc4.weight, self.fc4.bias, self.bn1.eps, self.bn3.eps, k,
                    stats, torch.bfloat16 if autocast else x.dtype, self.impl == 'fused')
            if self.training:
                _update_running(self.bn1, stats[0], stats[1], P * k)
                _update_running(self.bn3, stats[2], stats[3], P * k)
            return out
        if batch1 or batch3 or autocast:  # mixed modes: not worth a special path; eval under autocast as before
            return self.forward_reference(groups)
        return self._forward_running_stats(x, P, k)

    def _forward_running_stats(self, x, P, k):
        """BN with running statistics folded into the matmuls (plain autograd)."""
        bn1, bn3 = self.bn1, self.bn3
        s1 = bn1.weight * (bn1.running_var + bn1.eps).rsqrt()
        h1 = torch.addmm(bn1.bias + (self.fc1.bias - bn1.running_mean) * s1, x,
                         (self.fc1.weight * s1.unsqueeze(1)).t()).relu()
        g = max_over_points(torch.addmm(self.fc2.bias, h1, self.fc2.weight.t()).view(P, k, -1))[0]
        w3l = self.fc3_local.weight
        glob = torch.addmm(torch.addmv(self.fc3_global.bias, w3l, self.fc2.bias), g, self.fc3_global.weight.t())
        s3 = bn3.weight * (bn3.running_var + bn3.eps).rsqrt()
        # BN3 folded: s3 * (a3 - mean) + beta, with a3 = h1 Wc^T + glob
        wc = (w3l @ self.fc2.weight) * s3.unsqueeze(1)
        c3 = bn3.bias - bn3.running_mean * s3
        a3 = torch.mm(h1, wc.t()).view(P, k, -1).add_((glob * s3 + c3).unsqueeze(1)).relu_()
        a4 = torch.addmm(self.fc4.bias, a3.view(P * k, -1), self.fc4.weight.t())
        return max_over_points(a4.view(P, k, -1))[0]


@MODELS.register_module()
class PointPatchTokenizer(nn.Module):
    """Tokenise a cloud into M patches of k points.

    Args:
        num_groups (int): M, patch centres picked by FPS.
        group_size (int): k, points per patch (kNN around each centre).
        embed_dims (int): D, token width.
        in_channels (int): values per input point: 3 (xyz) or more (normals,
            intensity...); extra channels are appended to the relative xyz.
        hidden_dims (tuple): widths of the mini-PointNet.
        embed_impl (str): the mini-PointNet's implementation, ``'fused'`` (default: a hand-written
            backward in training, BN folded into the matmuls in eval), ``'fused-dense'`` (the same without
            its sparse products) or ``'reference'`` (layer by layer, plain autograd); the same function and
            weights (see :class:`MiniPointNet`).
    Inputs with fewer than ``max(M, k)`` points raise a PointCloudError;
    the datasets' ``PointSample`` transform pads small clouds by repetition.
    """

    def __init__(self, num_groups=64, group_size=32, embed_dims=384, in_channels=3, hidden_dims=(128, 256, 512),
                 embed_impl='fused'):
        super().__init__()
        self.num_groups = num_groups
        self.group_size = group_size
        self.embed_dims = embed_dims
        self.in_channels = in_channels
        self.embed = MiniPointNet(in_channels, embed_dims, hidden_dims, impl=embed_impl)

    def group(self, points):
        """(B, N, C) -> groups (B, M, k, C) centre-relative, centres (B, M, 3)."""
        validate_points(points, f'{type(self).__name__} input', num_dims=self.in_channels,
                        min_points=max(self.num_groups, self.group_size),
                        why=f'{self.num_groups} patch centres / group size {self.group_size}')
        groups, centres, _ = sample_and_group(points, self.num_groups, self.group_size, random_start=self.training)
        return groups, centres

    def embed_groups(self, groups):
        """(B, M, k, C) -> tokens (B, M, D)."""
        B, M = groups.shape[:2]
        return self.embed(groups.flatten(0, 1)).view(B, M, -1)

    def forward(self, points):
        """(B, N, C) -> tokens (B, M, D), centres (B, M, 3)."""
        groups, centres = self.group(points)
        return self.embed_groups(groups), centres
