"""Pre-LN Transformer blocks built on ``scaled_dot_product_attention``."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint


class DropPath(nn.Module):
    """Stochastic depth: drop the whole residual branch per sample with probability ``p``."""

    def __init__(self, p=0.0):
        super().__init__()
        self.p = p

    def scale(self, x):
        """Per-sample factor (B, 1, ..., 1): 0 (dropped) or 1 / (1 - p); None when inactive."""
        if self.p == 0.0 or not self.training:
            return None
        keep = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1)).bernoulli_(1 - self.p)
        return keep.div_(1 - self.p)

    def forward(self, x):
        scale = self.scale(x)
        return x if scale is None else x * scale

    def residual(self, x, branch):
        """``x + drop_path(branch)`` in one pass (addcmul) instead of three."""
        scale = self.scale(branch)
        return x + branch if scale is None else torch.addcmul(x, branch, scale)


def _attention_float32(q, k, v, attn_mask, dropout_p):
    with torch.autocast(q.device.type, enabled=False):
        x = F.scaled_dot_product_attention(q.float(), k.float(), v.float(), attn_mask=attn_mask, dropout_p=dropout_p)
    return x.to(q.dtype)


def attention(q, k, v, attn_mask=None, dropout_p=0.0):
    """``F.scaled_dot_product_attention``; on CPU, bfloat16 / float16 inputs are attended in float32.

    Under bf16 autocast on this 2-core CPU ATen's CPU flash-attention kernel ran 5-7x slower in bfloat16 than in
    float32 on the ViT-S step's shapes (the predictor's (128, 6, 33, 32): 31 vs 4 ms a call; torch 2.13,
    profiler), so there it runs in float32 and the result is cast back (the projection after it stays in
    bfloat16). With gradients it is checkpointed: float32 q / k / v / output kept for backward raised the step's
    peak RSS by 77 MB, so only the low-precision inputs are kept and the float32 forward is recomputed in backward
    (a small share of the step). GPUs keep the low-precision kernels."""
    if not (q.device.type == 'cpu' and q.dtype in (torch.bfloat16, torch.float16)):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, dropout_p=dropout_p)
    if torch.is_grad_enabled() and (q.requires_grad or k.requires_grad or v.requires_grad):
        return checkpoint(_attention_float32, q, k, v, attn_mask, dropout_p, use_reentrant=False)
    return _attention_float32(q, k, v, attn_mask, dropout_p)


class _GeluLinear(torch.autograd.Function):
    """``F.linear(F.gelu(h), weight, bias)`` in ``h``'s (low-precision) dtype, keeping only ``h`` for backward.

    Autocast's layer-by-layer MLP keeps both the GELU input and its output (both (N, hidden), the largest
    activations of a block) for backward; here the output is recomputed there, one GELU pass per block. The
    gradients are autocast's: bfloat16 matmuls, weight and bias gradients cast to the parameters' dtype."""

    @staticmethod
    def forward(ctx, h, weight, bias):
        w = weight.to(h.dtype)
        y = F.linear(F.gelu(h), w, None if bias is None else bias.to(h.dtype))
        ctx.save_for_backward(h, w)
        ctx.dtypes = weight.dtype, None if bias is None else bias.dtype
        return y

    @staticmethod
    def backward(ctx, dy):
        h, w = ctx.saved_tensors
        with torch.autocast(dy.device.type, enabled=False):
            a = F.gelu(h).flatten(0, -2)
            dy2 = dy.flatten(0, -2)
            dw = (dy2.t() @ a).to(ctx.dtypes[0]) if ctx.needs_input_grad[1] else None
            db = dy2.sum(0).to(ctx.dtypes[1]) if ctx.needs_input_grad[2] else None
            dh = torch.ops.aten.gelu_backward(dy @ w, h) if ctx.needs_input_grad[0] else None
        return dh, dw, db


class Attention(nn.Module):
    """Multi-head self-attention; ``attn_mask`` (B, 1, L, L) or (B, 1, 1, L) bool, True = may attend."""

    def __init__(self, dims, num_heads, qkv_bias=True, attn_drop=0.0, proj_drop=0.0):
        super().__init__()
        if dims % num_heads:
            raise ValueError(f'embed dims {dims} not divisible by {num_heads} heads')
        self.num_heads = num_heads
        self.qkv = nn.Linear(dims, dims * 3, bias=qkv_bias)
        self.proj = nn.Linear(dims, dims)
        self.attn_drop = attn_drop
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x, attn_mask=None):
        B, L, D = x.shape
        q, k, v = self.qkv(x).view(B, L, 3, self.num_heads, D // self.num_heads).permute(2, 0, 3, 1, 4)
        x = attention(q, k, v, attn_mask, self.attn_drop if self.training else 0.0)
        x = self.proj(x.transpose(1, 2).reshape(B, L, D))
        return self.proj_drop(x) if self.proj_drop.p > 0 else x


class TransformerBlock(nn.Module):
    """x + Attn(LN(x)), then x + MLP(LN(x)); GELU MLP with ``mlp_ratio`` expansion."""

    def __init__(self, dims, num_heads, mlp_ratio=4.0, qkv_bias=True, drop=0.0, attn_drop=0.0, drop_path=0.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(dims, eps=1e-6)
        self.attn = Attention(dims, num_heads, qkv_bias, attn_drop, drop)
        self.norm2 = nn.LayerNorm(dims, eps=1e-6)
        hidden = int(dims * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(dims, hidden), nn.GELU(), nn.Dropout(drop), nn.Linear(hidden, dims),
                                 nn.Dropout(drop))
        self._mlp_dropout = drop > 0
        self.drop_path = DropPath(drop_path)

    def _mlp(self, x):
        if self._mlp_dropout:
            return self.mlp(x)
        fc1, act, _, fc2, _ = self.mlp  # dropout p=0: skip the no-op modules
        h = fc1(x)
        if (h.dtype in (torch.bfloat16, torch.float16) and torch.is_autocast_enabled(h.device.type)
                and torch.is_grad_enabled() and act.approximate == 'none'):
            # mixed precision: the GELU output is recomputed in backward instead of kept (62 MiB less kept at the
            # end of the bf16 ViT-S step's forward, benchmarks/README.md); float32 keeps autograd's graph
            return _GeluLinear.apply(h, fc2.weight, fc2.bias)
        return fc2(act(h))

    def forward(self, x, attn_mask=None):
        x = self.drop_path.residual(x, self.attn(self.norm1(x), attn_mask))
        return self.drop_path.residual(x, self._mlp(self.norm2(x)))


def build_blocks(dims, depth, num_heads, mlp_ratio=4.0, qkv_bias=True, drop_rate=0.0, attn_drop_rate=0.0,
                 drop_path_rate=0.0):
    """``depth`` blocks with drop-path rising linearly from 0 to ``drop_path_rate``."""
    rates = torch.linspace(0, drop_path_rate, depth).tolist() if depth > 1 else [drop_path_rate]
    return nn.ModuleList(
        TransformerBlock(dims, num_heads, mlp_ratio, qkv_bias, drop_rate, attn_drop_rate, r) for r in rates)


def init_transformer_weights(module):
    """ViT-style init: truncated-normal linear weights (std 0.02), zero biases, unit LayerNorm."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm) and m.elementwise_affine:
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
