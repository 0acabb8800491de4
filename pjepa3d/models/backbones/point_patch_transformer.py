"""The transferable backbone of every pjepa3d model: point patches -> tokens -> a Transformer encoder."""
from typing import NamedTuple, Tuple

import torch
from mmengine.logging import MMLogger
from mmengine.model import BaseModule

from pjepa3d.ops import gather_points
from pjepa3d.registry import MODELS
from pjepa3d.models.utils import CheckpointKeyError, build_pos_embed, load_prefixed_weights, max_mean_pool


class PatchTokens(NamedTuple):
    """What :meth:`PointPatchTransformer.tokenize` returns."""
    groups: torch.Tensor   # (B, M, k, C) kNN groups, centred on their centre
    centres: torch.Tensor  # (B, M, 3)
    tokens: torch.Tensor   # (B, M, D) embedded groups
    pos: torch.Tensor      # (B, M, D) positional encoding of the centres


class EncoderOutput(NamedTuple):
    """What :meth:`PointPatchTransformer.encode` returns."""
    features: torch.Tensor           # (B, n, D) after the final LayerNorm
    hidden: Tuple[torch.Tensor, ...]  # outputs of the requested blocks (empty when none asked)


class BackboneOutput(NamedTuple):
    """What :meth:`PointPatchTransformer.forward` returns."""
    tokens: torch.Tensor             # (B, M, D) final-LN features of every patch
    centres: torch.Tensor            # (B, M, 3)
    hidden: Tuple[torch.Tensor, ...]  # outputs of the blocks in out_indices (empty when none asked)


@MODELS.register_module()
class PointPatchTransformer(BaseModule):
    """A ViT over point patches: points (B, N, C) -> tokens (B, M, D) after the final LayerNorm, centres (B, M, 3).

    A ``PointPatchTokenizer`` (FPS centres, kNN groups of k points, a mini-PointNet per group), a positional
    encoding of the centres and a ``PointTransformerEncoder``. Nothing in it is JEPA-specific: Point-JEPA,
    Point-MAE, ``PointClassifier``, ``PointPartSegmentor`` and the nuScenes pillar encoder all use it.
    ``PointJEPABackbone`` is its old name, registered as an alias of this class (old configs, checkpoints and
    imports keep working; the state-dict keys are the same).

    Sizes come from ``arch``, as in mmpretrain's ``VisionTransformer``: a preset name, or a dict of the
    essential keys. A preset sets the widths, the depth and the heads:

    =======  ==========  =====  =========  =====================
    arch     embed_dims  depth  num_heads  tokenizer_hidden_dims
    =======  ==========  =====  =========  =====================
    'vit-t'  192         6      3          (64, 128, 256)
    'vit-s'  384         12     6          (128, 256, 512)
    'vit-b'  768         12     12         (128, 256, 512)
    =======  ==========  =====  =========  =====================

    ``embed_dims`` is the width of the tokenizer and of the encoder; ``tokenizer_hidden_dims`` are the
    mini-PointNet's widths. pjepa3d's ``'vit-t'`` is NOT DeiT-Ti: it has DeiT-Ti's width (192) and heads (3)
    but 6 blocks, half of DeiT-Ti's 12, and a mini-PointNet half as wide as ViT-S's, so that it pretrains on
    2 CPU cores (the demo configs). ``'vit-s'`` is the Point-JEPA / Point-MAE encoder (384 x 12, 6 heads)
    with the tokenizer's default mini-PointNet. ``'vit-b'`` (ViT-B's 768 x 12, 12 heads, ViT-S's
    mini-PointNet) is used by no shipped config.

    What depends on the data or the recipe stays in the config: ``tokenizer`` (``num_groups``,
    ``group_size``, ``in_channels``), ``encoder`` (``drop_path_rate``, ``pos_every_block``, ``mlp_ratio``...)
    and ``pos_embed``. A key given in ``tokenizer`` / ``encoder`` overrides the preset's value
    (``encoder=dict(depth=4)`` with ``arch='vit-t'`` gives 4 blocks of 192).

    Its API, used by every algorithm and downstream model: :meth:`tokenize` (group, embed, positional
    encoding), :meth:`encode` (the Transformer on all tokens or a gathered subset), :meth:`forward` (both),
    :meth:`extract_feat` (the global feature of the SVM protocol).

    Args:
        arch (str | dict, optional): ``'vit-t'``, ``'vit-s'`` or ``'vit-b'``, or a dict with exactly the
            keys ``embed_dims``, ``depth``, ``num_heads``, ``tokenizer_hidden_dims``. None: no preset,
            ``tokenizer`` and ``encoder`` are taken as given (both required; the components' defaults fill
            what they leave out).
        tokenizer (dict, optional): ``PointPatchTokenizer`` options (``type`` defaults to it).
        encoder (dict, optional): ``PointTransformerEncoder`` options (``type`` defaults to it).
        pos_embed (str | dict): ``'sincos3d'`` or ``'mlp'`` (or a dict with options).
        init_cfg (dict, optional): e.g. ``dict(type='Pretrained', checkpoint=..., prefix='backbone.')``.
            A ``Pretrained`` init loads through :func:`load_prefixed_weights`: it logs loaded / missing /
            unexpected keys and raises ``CheckpointKeyError`` when the prefix matches nothing, and, unless
            the init_cfg says ``strict=False``, when the checkpoint leaves a backbone tensor unfilled or holds
            one the backbone lacks. An empty ``checkpoint`` is an error too (set it, or ``init_cfg=None``
            for a scratch run).
    """

    arch_zoo = {
        'vit-t': dict(embed_dims=192, depth=6, num_heads=3, tokenizer_hidden_dims=(64, 128, 256)),
        'vit-s': dict(embed_dims=384, depth=12, num_heads=6, tokenizer_hidden_dims=(128, 256, 512)),
        'vit-b': dict(embed_dims=768, depth=12, num_heads=12, tokenizer_hidden_dims=(128, 256, 512)),
    }
    essential_keys = ('embed_dims', 'depth', 'num_heads', 'tokenizer_hidden_dims')

    def __init__(self, arch=None, tokenizer=None, encoder=None, pos_embed='sincos3d', init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if arch is None:
            if tokenizer is None or encoder is None:
                raise ValueError(f"{type(self).__name__}: give arch (one of {self._arch_names()}) or both "
                                 "tokenizer and encoder configs")
            self.arch_settings = None
            tok_preset, enc_preset = {}, {}
        else:
            self.arch_settings = self.resolve_arch(arch)
            s = self.arch_settings
            tok_preset = dict(embed_dims=s['embed_dims'], hidden_dims=s['tokenizer_hidden_dims'])
            enc_preset = dict(embed_dims=s['embed_dims'], depth=s['depth'], num_heads=s['num_heads'])
        # the config's keys win over the preset's
        self.tokenizer = MODELS.build({'type': 'PointPatchTokenizer', **tok_preset, **dict(tokenizer or {})})
        self.encoder = MODELS.build({'type': 'PointTransformerEncoder', **enc_preset, **dict(encoder or {})})
        if self.tokenizer.embed_dims != self.encoder.embed_dims:
            raise ValueError(f'tokenizer embed_dims {self.tokenizer.embed_dims} != encoder embed_dims '
                             f'{self.encoder.embed_dims}')
        self.pos_embed = build_pos_embed(pos_embed, self.encoder.embed_dims)
        self.embed_dims = self.encoder.embed_dims

    @classmethod
    def _arch_names(cls):
        return ', '.join(repr(name) for name in sorted(cls.arch_zoo))

    @classmethod
    def resolve_arch(cls, arch):
        """A preset name (case-insensitive) or a dict of :attr:`essential_keys` -> a new dict of those keys."""
        if isinstance(arch, str):
            name = arch.lower()
            if name not in cls.arch_zoo:
                raise ValueError(f'{cls.__name__}: unknown arch {arch!r}; valid: {cls._arch_names()}, or a dict '
                                 f'with the keys {", ".join(cls.essential_keys)}')
            return dict(cls.arch_zoo[name])
        if not isinstance(arch, dict):
            raise TypeError(f'{cls.__name__}: arch must be a preset name or a dict, got {type(arch).__name__}')
        missing = [k for k in cls.essential_keys if k not in arch]
        unknown = sorted(set(arch) - set(cls.essential_keys))
        if missing or unknown:
            raise ValueError(f'{cls.__name__}: an arch dict needs exactly the keys {", ".join(cls.essential_keys)}'
                             f' (missing: {missing or "none"}; unknown: {unknown or "none"})')
        return {k: arch[k] for k in cls.essential_keys}

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
        return max_mean_pool(tokens)
