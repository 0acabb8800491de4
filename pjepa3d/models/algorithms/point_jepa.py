"""Point-JEPA: predict, in latent space, the target encoder's features of masked 3D regions."""
import copy
import numbers

import torch
import torch.nn.functional as F

from pjepa3d.models.utils import effective_rank
from pjepa3d.ops import gather_points
from pjepa3d.registry import MODELS
from .base import BasePointSSL

EMA_SCOPES = ('encoder', 'all')
TARGET_NORMS = ('layer', 'instance', 'layer_instance', 'batch', 'none')


def _batchnorm_owners(module):
    """The submodules of ``module`` that own a BatchNorm child (e.g. the tokenizer's mini-PointNet)."""
    return [m for m in module.modules()
            if any(isinstance(c, torch.nn.modules.batchnorm._BatchNorm) for c in m.children())]


@MODELS.register_module()
class PointJEPA(BasePointSSL):
    """Tokenizer -> masker -> context encoder / EMA target encoder -> predictor + loss.

    Args:
        backbone (dict): ``PointPatchTransformer`` config; the module users transfer.
        masker (dict): masker config: ``RegionMasker``, ``SequenceMasker`` or ``RandomMasker``.
        head (dict): ``JEPAHead`` config.
        ema_scope (str): what the EMA target copies: ``'encoder'`` (blocks + norm;
            tokenizer and positional encoding shared with the online path, whose
            tokens are computed once and reused, as the authors' code) or ``'all'``
            (tokenizer and positional encoding too, notes sec. 4.3; the FPS/kNN
            grouping is still computed once).
        target_norm (bool | str): how each target layer is normalised before the loss:
            ``'layer'`` (``True``): LayerNorm without affine over the channels of each token
            (notes); ``'instance'``: each channel standardised over the M tokens of its cloud
            (data2vec's instance norm), which removes the vector all tokens share;
            ``'layer_instance'``: the first, then the second; ``'batch'``: each channel standardised over
            all tokens of the batch, which removes only what every cloud shares and keeps each cloud's
            offset from it (its global shape content, which ``'instance'`` removes); ``'none'`` (``False``).
        target_layers (int): the target is the mean of the last N encoder blocks' outputs
            (each through the final LayerNorm, then ``target_norm``), as point2vec / data2vec;
            1 = the encoder output only (notes, authors' code).
        feat_reg (dict, optional): a regulariser on the context encoder's features, mean-pooled per
            cloud (B, D), added to the loss: e.g. ``dict(type='VarianceCovarianceLoss')`` (C-JEPA's
            VICReg terms, against the dimensional collapse of the features). None (default): none.
        monitor_interval (int): compute the collapse monitors (``pred_std``,
            ``target_std``, ``target_rank``) every N loss calls (1 = every step).
        num_masks (int): masks drawn per cloud and step (data2vec 2.0's multi-mask training). The
            tokenizer, positional encoding and EMA target run once per cloud; the context encoder and
            predictor run on ``num_masks`` independent masks of it (one batched pass of B x num_masks
            rows), and the loss is the mean over all of them. 1 (default): one mask, as the notes.
    The target is ``self.target``, a full ``PointPatchTransformer`` (its non-EMA parts
    are the online modules), so ``prefix='target.'`` loads it downstream. It gets no
    gradient; ``EMAHook`` calls :meth:`update_target` after every optimizer step.
    ``forward(mode='predict')`` gives per cloud ``feat`` (online) and ``feat_target`` (target) global
    features, plus ``gt_label`` / ``probe_split`` when given (``SVMProbeMetric`` probes both).
    """

    def __init__(self, backbone, masker, head, ema_scope='encoder', target_norm=True, target_layers=1,
                 feat_reg=None, monitor_interval=1, num_masks=1, data_preprocessor=None, init_cfg=None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if ema_scope not in EMA_SCOPES:
            raise ValueError(f'PointJEPA: unknown ema_scope {ema_scope!r}; choose one of {EMA_SCOPES}')
        if int(monitor_interval) < 1:
            raise ValueError(f'PointJEPA: monitor_interval must be >= 1, got {monitor_interval}')
        self.monitor_interval = int(monitor_interval)
        if isinstance(num_masks, bool) or not isinstance(num_masks, numbers.Integral) or num_masks < 1:
            raise ValueError(f'PointJEPA: num_masks must be an integer >= 1, got {num_masks!r}')
        self.num_masks = int(num_masks)
        self._loss_calls = 0
        self.backbone = MODELS.build(backbone)
        self.masker = MODELS.build(masker)
        self.head = MODELS.build(head)
        self.feat_reg = MODELS.build(feat_reg) if feat_reg is not None else None
        self.ema_scope = ema_scope
        self.target_norm = {True: 'layer', False: 'none'}.get(target_norm, target_norm)
        if self.target_norm not in TARGET_NORMS:
            raise ValueError(f'PointJEPA: unknown target_norm {target_norm!r}; choose one of {TARGET_NORMS} '
                             '(or True / False)')
        depth = self.backbone.encoder.depth
        if not 1 <= int(target_layers) <= depth:
            raise ValueError(f'PointJEPA: target_layers must be in [1, {depth}] (encoder depth), got {target_layers}')
        self.target_layers = int(target_layers)
        self.target = copy.deepcopy(self.backbone)
        self.target.init_cfg = None  # synced from the online backbone after init_weights
        if ema_scope == 'encoder':
            self.target.tokenizer = self.backbone.tokenizer
            self.target.pos_embed = self.backbone.pos_embed
        for p in self._ema_modules()[0].parameters():
            p.requires_grad_(False)

    def _ema_modules(self):
        """(target module, online module) that the EMA ties together."""
        if self.ema_scope == 'encoder':
            return self.target.encoder, self.backbone.encoder
        return self.target, self.backbone

    def init_weights(self):
        super().init_weights()
        self.update_target(0.0)  # target starts as an exact copy of the (possibly pretrained) online weights

    @torch.no_grad()
    def update_target(self, tau):
        """theta_bar <- tau * theta_bar + (1 - tau) * theta on the EMA scope; buffers copied.

        One in-place pass per tensor and no temporaries: ``lerp`` (theta_bar + (1 - tau) (theta - theta_bar)),
        equal to the formula up to float rounding."""
        target, online = self._ema_modules()
        torch._foreach_lerp_(list(target.parameters()), list(online.parameters()), 1.0 - tau)
        for t_buf, o_buf in zip(target.buffers(), online.buffers()):
            t_buf.copy_(o_buf)

    def train(self, mode=True):
        """The EMA target runs in eval mode (no drop-path noise in the targets), with one exception.

        With ``ema_scope='all'`` the target has its own tokenizer, whose mini-PointNet has BatchNorm.
        In eval mode it would normalise with running statistics, which start at (0, 1) (never measured)
        and then trail the online ones: for the first ~100 steps the targets would be computed with the
        wrong normalisation (content-free at step 0). So in training the target tokenizer's BatchNorm
        owners run in training mode, normalising with the batch statistics exactly as the online
        tokenizer does (at step 0, with no drop-path, target output = online output on the same
        groups). Their running statistics are overwritten by the online ones in :meth:`update_target`,
        and in eval mode (``model.eval()``) the target uses them, as the online tokenizer does.
        """
        super().train(mode)
        self._ema_modules()[0].eval()
        if mode and self.ema_scope == 'all':
            for module in _batchnorm_owners(self.target.tokenizer):
                module.train()
        return self

    def predict_feats(self, inputs):
        """``feat``: global features of the online backbone; ``feat_target``: of the EMA target
        backbone (the module transferred with ``prefix='target.'``). Both (B, 2D).

        In eval mode, while the target is still the online backbone's exact copy (every parameter and
        buffer equal, as at iteration 0 before the first EMA update: the start probe), its features are
        the online ones and are computed once (``feat_target`` is ``feat``)."""
        points = self._points(inputs)
        feat = self.backbone.extract_feat(points)
        if not self.training and self._target_is_online_copy():
            return dict(feat=feat, feat_target=feat)
        return dict(feat=feat, feat_target=self.target.extract_feat(points))

    def _target_is_online_copy(self):
        """Whether every parameter and buffer of ``self.target`` equals the online backbone's (same names)."""
        online = self.backbone.state_dict(keep_vars=True)
        target = self.target.state_dict(keep_vars=True)
        return online.keys() == target.keys() and all(
            t is o or (t.shape == o.shape and t.dtype == o.dtype and torch.equal(t, o))
            for t, o in ((target[k], online[k]) for k in online))

    def _normalise_target(self, feats):
        if self.target_norm in ('layer', 'layer_instance'):
            feats = F.layer_norm(feats, feats.shape[-1:])
        if self.target_norm in ('instance', 'layer_instance', 'batch'):  # per channel, over the tokens of
            dims = (0, 1) if self.target_norm == 'batch' else 1  # the batch, or of each cloud
            mean = feats.mean(dim=dims, keepdim=True)
            var = feats.var(dim=dims, keepdim=True, unbiased=False)
            feats = (feats - mean) * torch.rsqrt(var + 1e-6)
        return feats

    @torch.no_grad()
    def _target_features(self, groups, tokens, pos, centres):
        """All-token target features (B, M, D): the mean of the last ``target_layers`` blocks' outputs,
        each normalised by ``target_norm``."""
        if self.ema_scope == 'encoder':
            tokens, pos = tokens.detach(), pos.detach()
        else:
            tokens, pos = self.target.tokenizer.embed_groups(groups), self.target.pos_embed(centres)
        if self.target_layers == 1:
            return self._normalise_target(self.target.encode(tokens, pos).features)
        depth = self.target.encoder.depth
        hidden = self.target.encode(tokens, pos, out_indices=tuple(range(depth - self.target_layers + 1,
                                                                         depth + 1))).hidden
        return torch.stack([self._normalise_target(h) for h in hidden]).mean(dim=0)

    def loss(self, inputs, data_samples=None):
        """Points (B, N, C) -> dict with ``loss`` and, every ``monitor_interval`` calls, the
        collapse monitors ``pred_std``, ``target_std`` (mean per-channel std over target
        tokens) and ``target_rank`` (effective rank of the batch's mean-pooled target
        features, (B, D); read by ``CollapseMonitorHook``)."""
        points = self._points(inputs)
        groups, centres, tokens, pos = self.backbone.tokenize(points)
        # num_masks > 1: row b + i * B of the masked pass is cloud b under its i-th mask
        rep = (lambda t: t.repeat(self.num_masks, 1, 1)) if self.num_masks > 1 else (lambda t: t)
        centres_m = rep(centres)
        mask = self.masker(centres_m)
        target_all = self._target_features(groups, tokens, pos, centres)  # once per cloud
        targets = gather_points(rep(target_all), mask.target_idx)  # (B * num_masks, K, Nt, D)
        ctx = self.backbone.encode(rep(tokens), rep(pos), mask.context_idx).features
        loss, preds = self.head.loss(ctx, gather_points(centres_m, mask.context_idx),
                                     gather_points(centres_m, mask.target_idx), targets, mask.target_valid)
        out = dict(loss=loss)
        if self.feat_reg is not None:
            # mmengine's parse_losses optimises the sum of every key containing 'loss'; the log's ``loss``
            # stays the prediction loss alone (this dict's own 'loss' overwrites the sum's entry)
            out.update(self.feat_reg(ctx.mean(dim=1)))
        if self._loss_calls % self.monitor_interval == 0:
            with torch.no_grad():
                D = preds.shape[-1]
                out.update(pred_std=preds.detach().reshape(-1, D).float().std(dim=0).mean(),
                           target_std=targets.reshape(-1, D).float().std(dim=0).mean(),
                           target_rank=effective_rank(target_all.mean(dim=1)))
        self._loss_calls += 1
        return out
