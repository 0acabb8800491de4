"""The transferable backbone: tokenizer + positional encoding + Transformer encoder."""
from typing import NamedTuple, Tuple

import torch
from mmengine.model import BaseModule

from mmengine.logging import MMLogger

from pjepa3d.registry import MODELS
from pjepa3d.models.utils import CheckpointKeyError, build_pos_embed, load_prefixed_weights
from pjepa3d.ops import gather_points


class PatchTokens(NamedTuple):
    """What :meth:`PointJEPABackbone.tokenize` returns."""
    groups: torch.Tensor   # (B, M, k, C) kNN groups, centred on their centre
    centres: torch.Tensor  # (B, M, 3)
    tokens: torch.Tensor   # (B, M, D) embedded groups
    pos: torch.Tensor      # (B, M, D) positional encoding of the centres


class EncoderOutput(NamedTuple):
    """What :meth:`PointJEPABackbone.encode` returns."""
    features: torch.Tensor           # (B, n, D) after the final LayerNorm
    hidden: Tuple[torch.Tensor, ...]  # outputs of the requested blocks (empty when none asked)


class BackboneOutput(NamedTuple):
    """What :meth:`PointJEPABackbone.forward` returns."""
    tokens: torch.Tensor             # (B, M, D) final-LN features of every patch
    centres: torch.Tensor            # (B, M, 3)
    hidden: Tuple[torch.Tensor, ...]  # outputs of the blocks in out_indices (empty when none asked)


@MODELS.register_module()
class PointJEPABackbone(BaseModule):
    """Points (B, N, C) -> tokens (B, M, D) after the final LayerNorm, centres (B, M, 3).

    Its API, used by every algorithm and downstream model: :meth:`tokenize` (group, embed, positional
    encoding), :meth:`encode` (the Transformer on all tokens or a gathered subset), :meth:`forward` (both),
    :meth:`extract_feat` (the global feature of the SVM protocol).

    Args:
        tokenizer (dict): a ``PointPatchTokenizer`` config.
        encoder (dict): a ``PointTransformerEncoder`` config.
        pos_embed (str | dict): ``'sincos3d'`` or ``'mlp'`` (or a dict with options).
        init_cfg (dict, optional): e.g. ``dict(type='Pretrained', checkpoint=..., prefix='backbone.')``.
            A ``Pretrained`` init loads through :func:`load_prefixed_weights`: it logs loaded / missing /
            unexpected keys and raises ``CheckpointKeyError`` when the prefix matches nothing, and, unless
            the init_cfg says ``strict=False``, when the checkpoint leaves a backbone tensor unfilled or holds
            one the backbone lacks. An empty ``checkpoint`` is an error too (set it, or ``init_cfg=None``
            for a scratch run).
    """

    def __init__(self, tokenizer, encoder, pos_embed='sincos3d', init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.tokenizer = MODELS.build(tokenizer)
        self.encoder = MODELS.build(encoder)
        if self.tokenizer.embed_dims != self.encoder.embed_dims:
            raise ValueError(f'tokenizer embed_dims {self.tokenizer.embed_dims} != encoder embed_dims '
                             f'{self.encoder.embed_dims}')
        self.pos_embed = build_pos_embed(pos_embed, self.encoder.embed_dims)
        self.embed_dims = self.encoder.embed_dims

    def init_weights(self):
        """Default init, or load a pretrained checkpoint loudly (see the class docstring)."""
        cfg = self.init_cfg
        if not (isinstance(cfg, dict) and cfg.get('type') == 'Pretrained'):
            super().init_weights()
            return
        if not cfg.get('checkpoint'):
            raise ValueError(f"{type(self).__name__}: init_cfg is Pretrained but checkpoint is empty; pass "
                             "--cfg-options model.backbone.init_cfg.checkpoint=PRETRAIN.pth, or set "
                             "model.backbone.init_cfg=None to train from scratch")
        report = load_prefixed_weights(self, cfg['checkpoint'], prefix=cfg.get('prefix', ''),
                                       logger=MMLogger.get_current_instance())
        if cfg.get('strict', True) and (report['missing'] or report['unexpected']):
            raise CheckpointKeyError(
                f"{type(self).__name__}: the pretrained checkpoint does not fit the backbone (another size or depth?): "
                f"{report['report']}. Match the backbone to the pretraining config, or set "
                "init_cfg.strict=False to accept a partial load.")
        self._is_init = True

    def tokenize(self, points):
        """Points (B, N, C) -> :class:`PatchTokens`: the kNN groups (B, M, k, C), their centres (B, M, 3), the
        embedded tokens (B, M, D) and the positional encoding of the centres (B, M, D)."""
        groups, centres = self.tokenizer.group(points)
        return PatchTokens(groups, centres, self.tokenizer.embed_groups(groups), self.pos_embed(centres))

    def encode(self, tokens, pos, idx=None, out_indices=None):
        """The Transformer on the tokens at ``idx`` (B, n) (all when None) -> :class:`EncoderOutput`:
        final-LayerNorm features (B, n, D) and, for the 1-based blocks in ``out_indices``, their outputs."""
        if idx is not None:
            tokens, pos = gather_points(tokens, idx), gather_points(pos, idx)
        if out_indices is None:
            return EncoderOutput(self.encoder(tokens, pos), ())
        out, hidden = self.encoder(tokens, pos, out_indices=out_indices)
        return EncoderOutput(out, tuple(hidden))

    def forward(self, points, out_indices=None):
        """(B, N, C) -> :class:`BackboneOutput` (``tokens`` (B, M, D), ``centres`` (B, M, 3), ``hidden``: the
        outputs of the blocks in ``out_indices``, empty without it); always these three fields."""
        patches = self.tokenize(points)
        features, hidden = self.encode(patches.tokens, patches.pos, out_indices=out_indices)
        return BackboneOutput(features, patches.centres, hidden)

    def extract_feat(self, points):
        """Global feature (B, 2D): concat(max-pool, mean-pool) of the final-LN tokens."""
        tokens = self(points).tokens
        return torch.cat([tokens.amax(dim=1), tokens.mean(dim=1)], dim=-1)
