"""FPS + kNN patches embedded by a mini-PointNet: (B, N, C) points -> (B, M, D) tokens."""
import torch
import torch.nn as nn

from pjepa3d.ops import furthest_point_sample, gather_points, group_points
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


def _buffer(ws, name, shape, like):
    """A reusable scratch tensor from the workspace dict ``ws`` (reallocated on a shape or dtype change).

    Fresh large CPU tensors are page-faulted in on first touch (about 0.6 ms per MB
    here: a 128 MB elementwise op took 106 ms into a fresh tensor, 21 ms into a
    reused one), so the mini-PointNet's transient activations live in buffers kept
    between steps. Only transients: nothing saved for backward comes from here."""
    if ws is None:
        return like.new_empty(shape)
    t = ws.get(name)
    if t is None or t.shape != shape or t.dtype != like.dtype or t.device != like.device:
        t = ws[name] = like.new_empty(shape)
    return t


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


def _bn_backward(dy, xhat, scale, out=None):
    """Batch-statistics BN backward from the normalised input: (dx, dgamma, dbeta).

    ``scale`` = gamma * invstd; dx = scale * (dy - mean(dy) - xhat * mean(dy * xhat)) is the gradient w.r.t.
    the pre-BN activation, dgamma = sum(dy * xhat), dbeta = sum(dy) (over the rows).

    float32 (``dy``, ``xhat`` and ``scale`` of one dtype): five elementwise / reduction passes written out here
    (``out``, when given, holds dy * xhat and then dx). ATen's fused ``native_batch_norm_backward`` computes the
    same in fewer passes but ran 160-290 ms inside the ViT-S step on its (65,536 x 512) activation against
    33-54 ms for these passes (57 ms for its own first call; interleaved in-step timing on this 2-core CPU, torch
    2.13; scratch script), so it is used only for bfloat16 ``dy`` / ``xhat`` (under autocast), where it
    accumulates in float32 and returns dx in bfloat16: it is given ``xhat`` as its input with mean 0 and invstd
    1, so its input gradient is gamma * (dy - mean(dy) - xhat * mean(dy * xhat)), times invstd the same dx."""
    C = xhat.shape[1]
    if dy.dtype == xhat.dtype == scale.dtype:
        n = xhat.shape[0]
        dbeta = dy.sum(0)
        prod = torch.mul(dy, xhat, out=out) if out is not None else dy * xhat
        dgamma = prod.sum(0)
        dx = torch.addcmul(scale * dbeta / -n, dy, scale, out=prod)  # dy * xhat is summed: reuse its memory
        dx.addcmul_(xhat, scale * dgamma / -n)
        return dx, dgamma, dbeta
    # mean, invstd and the parameter gradients in scale's dtype (float32): with bfloat16 dy / xhat ATen
    # accumulates in float32 and returns dx in bfloat16
    args = (dy, xhat, scale, None, None, scale.new_zeros(C), scale.new_ones(C), True, 0.0, [True, True, True])
    if out is None:
        return torch.ops.aten.native_batch_norm_backward(*args)
    dgamma, dbeta = scale.new_empty(C), scale.new_empty(C)
    torch.ops.aten.native_batch_norm_backward.out(*args, out0=out, out1=dgamma, out2=dbeta)
    return out, dgamma, dbeta


#: row blocks of the bfloat16 backward's memory-first passes (a fixed number, whatever the row count)
_LOWP_BLOCKS = 16


def _relu_input_grad_over(d, w, h, chunks=_LOWP_BLOCKS):
    """``(d @ w) * (h > 0)`` written over ``h`` (R, C) and returned: the gradient through ``relu`` of a linear
    layer's output, where ``h`` is the ReLU output, no longer needed afterwards.

    In ``chunks`` row blocks (a fixed number, whatever R is): the (R, C) product never exists next to ``h``, one
    (R / chunks, C) block at a time does: with ``h``, the product and ``d`` alive together this was the highest
    memory point of the bfloat16 ViT-S step (benchmarks/README.md, "Peak memory of the bf16 step")."""
    for hh, dd in zip(h.tensor_split(chunks), d.tensor_split(chunks), strict=True):
        t = torch.mm(dd, w)
        torch.ops.aten.threshold_backward.grad_input(t, hh, 0, grad_input=t)
        hh.copy_(t)
    return h


class _MiniPointNetTrain(torch.autograd.Function):
    """Training-mode mini-PointNet (batch-statistics BatchNorm) with a hand-written backward.

    The same function as the module's layer-by-layer definition, computed with less
    work and memory:

    * BN1 statistics come from the input's mean and CxC covariance (fc1 is linear),
      and BN1 is folded into fc1's weights: ``h1 = relu(x @ (s*W1)^T + c)``; the
      (R, 128) pre-BN activation is never stored (recomputed in backward by a K=C matmul);
    * the local half of the concat layer composes the two linear maps:
      ``fc3_local(fc2(h1)) = h1 @ (W3l W2)^T + W3l b2`` (a 128->512 matmul instead of
      128->256->512); fc2 itself only feeds the first max-pool;
    * only ``h1`` (R, 128), the normalised BN3 input (R, 512), the pooled global feature
      and the max-pool argmax indices are kept for backward; the BN3/ReLU output is
      recomputed (one elementwise pass) instead of stored;
    * BN3 statistics, BN backward and ReLU backward use ATen's fused kernels.

    ``cdt`` is the dtype of the three large matmuls (fc2, the composed concat layer, fc4), of the (R, C)
    activations kept for backward (``h1``, the normalised BN3 input) and of the backward's (R, C) transients:
    ``x.dtype`` (float32) normally, ``torch.bfloat16`` under bf16 autocast, where no workspace is kept between
    steps (``ws=None``). The BN statistics, the small per-patch matmuls, the returned token and every parameter
    gradient stay float32; BN3's backward reads the bfloat16 activations and accumulates in float32 (ATen).
    Under autocast the layer-by-layer graph keeps float32 BN inputs and ReLU outputs plus bfloat16 copies of
    every matmul input instead: the ViT-S step's peak RSS measured 1.44-1.47 GB with this path against
    1.50-1.52 GB with that one, and the step about 2 % slower (median of 6 paired processes; benchmarks/README.md).
    """

    @staticmethod
    def forward(ctx, x, w1, b1, g1, be1, w2, b2, w3g, b3g, w3l, g3, be3, w4, b4, eps1, eps3, k, stats, ws, cdt):
        R, C = x.shape
        P = R // k
        lowp = cdt != x.dtype
        lo = (lambda t: t.to(cdt)) if lowp else (lambda t: t)
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
        c1 = (be1.double() + (b1.double() - mean1) * s1).to(x.dtype)
        # the bias rides in the matmul as an extra input column of ones (no separate pass)
        x1 = torch.cat([x, x.new_ones(R, 1)], dim=1)
        h1 = lo(torch.mm(x1, torch.cat([w1d * s1.unsqueeze(1), c1.double().unsqueeze(1)], 1).to(x.dtype).t()).relu_())
        # ---- fc2 + first max-pool; a per-channel bias commutes with the max (fl(. + b) is
        # monotone), so it is added to the (P, 256) maxima, not to the (R, 256) activations
        a2 = torch.mm(h1, lo(w2).t(), out=_buffer(ws, 'r256', (R, w2.shape[0]), h1))
        g, idx2 = max_over_points(a2.view(P, k, -1))  # (P, 256)
        del a2
        g = g.to(x.dtype)
        g += b2
        # ---- concat layer = composed local part + global part
        wc = w3l @ w2  # (512, 128)
        glob = torch.addmm(torch.addmv(b3g, w3l, b2), g, w3g.t())  # (P, 512): b3g + W3l b2 + W3g g
        a3 = torch.mm(h1, lo(wc).t()).to(x.dtype).view(P, k, -1).add_(glob.unsqueeze(1)).view(R, -1)  # (R, 512)
        xhat3, mean3, rstd3 = torch.native_batch_norm(a3, None, None, None, None, True, 0.0, eps3)
        del a3
        h3 = lo(torch.addcmul(be3, xhat3, g3, out=_buffer(ws, 'r512a', xhat3.shape, x)).relu_())
        xhat3 = lo(xhat3)
        a4 = torch.mm(h3, lo(w4).t(), out=_buffer(ws, 'r384', (R, w4.shape[0]), h3))
        del h3
        out, idx4 = max_over_points(a4.view(P, k, -1))
        del a4
        out = out.to(x.dtype)
        out += b4  # after the max, as for fc2
        ctx.save_for_backward(x1, h1, xhat3, g, idx2, idx4, w1, b1, rstd1.to(x.dtype), mean1.to(x.dtype), g1, w2,
                              w3g, w3l, wc, b2, g3, be3, rstd3, w4)
        ctx.k = k
        ctx.ws = ws
        var3 = rstd3.double().pow(-2).sub_(eps3).clamp_min_(0).to(x.dtype)
        stats.extend((mean1.to(x.dtype), var1.to(x.dtype), mean3, var3))
        return out

    @staticmethod
    def backward(ctx, dout):
        # explicit dtypes only: a backward called inside an autocast region must not recast these matmuls
        with torch.autocast(dout.device.type, enabled=False):
            return _MiniPointNetTrain._backward(ctx, dout)

    @staticmethod
    def _backward(ctx, dout):
        (x1, h1, xhat3, g, idx2, idx4, w1, b1, rstd1, mean1, g1, w2, w3g, w3l, wc, b2, g3, be3, rstd3,
         w4) = ctx.saved_tensors
        k = ctx.k
        ws = ctx.ws
        R = x1.shape[0]
        P = R // k
        dt = x1.dtype  # float32; h1 and xhat3 are in the matmul dtype (see the class docstring)
        lowp = h1.dtype != dt
        lo = (lambda t: t.to(h1.dtype)) if lowp else (lambda t: t)
        hi = (lambda t: t.to(dt)) if lowp else (lambda t: t)
        dout = dout.contiguous()
        # ---- fc4 + second max-pool: the gradient lands on the argmax rows only
        d4 = _buffer(ws, 'r384', (R, dout.shape[1]), h1).zero_()
        d4.view(P, k, -1).scatter_(1, idx4.unsqueeze(1), lo(dout).unsqueeze(1))
        db4 = dout.sum(0)
        h3 = torch.addcmul(lo(be3), xhat3, lo(g3), out=_buffer(ws, 'r512a', xhat3.shape, xhat3)).relu_()
        dw4 = hi(d4.t() @ h3)
        if ws is None:  # no workspace (bf16 autocast): memory first, the relu gradient overwrites h3
            dh3 = _relu_input_grad_over(d4, lo(w4), h3)
        else:
            dh3 = torch.mm(d4, lo(w4), out=_buffer(ws, 'r512b', xhat3.shape, h1))
            torch.ops.aten.threshold_backward.grad_input(dh3, h3, 0, grad_input=dh3)  # relu, in place
        del d4, h3
        # ---- BN3 (batch statistics; with bfloat16 activations ATen accumulates in float32)
        # (without a workspace no out=: ATen's out= variant of the bf16 kernel allocates its own result and copies)
        da3, dg3, dbe3 = _bn_backward(dh3, xhat3, g3 * rstd3,
                                      out=None if ws is None else _buffer(ws, 'r512a', xhat3.shape, xhat3))
        del dh3
        # ---- concat layer: local (composed) and global parts
        dwc = hi(da3.t() @ h1)  # (512, 128)
        dh1 = da3 @ lo(wc)  # (R, 128)
        # (P, 512), summed in float32; in row blocks when da3 is bfloat16 (sum(dtype=) converts all of it first)
        dglob = (torch.cat([c.sum(1, dtype=dt) for c in da3.view(P, k, -1).tensor_split(_LOWP_BLOCKS)]) if lowp
                 else da3.view(P, k, -1).sum(1))
        del da3
        dsum = dglob.sum(0)  # gradient of the constant b3g + W3l b2
        db3g = dsum
        dw3g = dglob.t() @ g
        dg = dglob @ w3g  # (P, 256)
        dw3l = dwc @ w2.t() + torch.outer(dsum, b2)
        dw2 = w3l.t() @ dwc
        db2 = w3l.t() @ dsum
        # ---- fc2 through the first max-pool
        d2 = _buffer(ws, 'r256', (R, dg.shape[1]), h1).zero_()
        d2.view(P, k, -1).scatter_(1, idx2.unsqueeze(1), lo(dg).unsqueeze(1))
        dw2 += hi(d2.t() @ h1)
        db2 += dg.sum(0)
        dh1.addmm_(d2, lo(w2))
        del d2
        dh1 = hi(torch.ops.aten.threshold_backward(dh1, h1, 0))  # relu
        # ---- BN1 (batch statistics), normalised input recomputed: (x W1^T + b1 - mean1) * rstd1
        xhat1 = torch.mm(x1, torch.cat([w1 * rstd1.unsqueeze(1), ((b1 - mean1) * rstd1).unsqueeze(1)], 1).t())
        da1, dg1, dbe1 = _bn_backward(dh1, xhat1, g1 * rstd1)
        del xhat1, dh1
        dw1b1 = (x1.t() @ da1).t()  # (128, C + 1): [dW1, db1]; this operand order is 10x faster (K=R)
        dw1, db1 = dw1b1[:, :-1], dw1b1[:, -1]
        dx = da1 @ w1 if ctx.needs_input_grad[0] else None
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
      folds BN1 into fc1, composes ``fc3_local o fc2`` into one 128->512 matmul and
      keeps only two activations for backward (about a third fewer FLOPs and a
      fifth of the activation memory of the layer-by-layer graph); under bfloat16
      autocast its large matmuls and saved activations are bfloat16 (``cdt``);
    * running-statistics BN (eval): BN folded into the matmuls, plain autograd;
    * :meth:`forward_reference`: the layer-by-layer definition, used in eval under
      autocast, under float16 autocast, for non-fp32 inputs and by the tests as the reference.

    ``impl='reference'`` uses :meth:`forward_reference` (plain autograd, which
    ``torch.compile`` can trace whole) everywhere; ``impl='fused'`` (default)
    the two faster paths above where they apply. ``benchmarks/bench_pretrain_step.py
    --tokenizer-impl fused reference [--compile]`` compares them.
    """

    IMPLS = ('fused', 'reference')

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
        self._workspace = {}  # scratch buffers of the training path (not state: never saved)

    def _apply(self, fn, *args, **kwargs):
        self._workspace = {}  # .to() / .cuda() / .half(): drop the scratch buffers
        return super()._apply(fn, *args, **kwargs)

    def __getstate__(self):
        state = super().__getstate__().copy()
        state['_workspace'] = {}  # deepcopy / pickle: do not copy or share scratch buffers
        return state

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
        fast = (self.impl == 'fused' and groups.dtype == torch.float32 and self.fc1.weight.dtype == torch.float32
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
                    stats, None if autocast else self._workspace, torch.bfloat16 if autocast else x.dtype)
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
            backward in training, BN folded into the matmuls in eval) or ``'reference'`` (layer by layer,
            plain autograd); the same function and weights (see :class:`MiniPointNet`).
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
        xyz = points[..., :3].contiguous()
        centre_idx = furthest_point_sample(xyz, self.num_groups, random_start=self.training)
        centres = gather_points(xyz, centre_idx)
        groups, _ = group_points(points, centres, self.group_size)
        return groups, centres

    def embed_groups(self, groups):
        """(B, M, k, C) -> tokens (B, M, D)."""
        B, M = groups.shape[:2]
        return self.embed(groups.flatten(0, 1)).view(B, M, -1)

    def forward(self, points):
        """(B, N, C) -> tokens (B, M, D), centres (B, M, 3)."""
        groups, centres = self.group(points)
        return self.embed_groups(groups), centres
