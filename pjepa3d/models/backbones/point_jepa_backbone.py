"""``PointJEPABackbone``: the old name of :class:`~pjepa3d.models.backbones.PointPatchTransformer`.

Kept so that existing configs (``type='PointJEPABackbone'``), checkpoints and imports keep working; new code
and configs use ``PointPatchTransformer`` (``point_patch_transformer.py``). It is the same class, registered
under both names: it builds the same module, with the same state-dict keys.
"""
from pjepa3d.registry import MODELS
from .point_patch_transformer import BackboneOutput, EncoderOutput, PatchTokens, PointPatchTransformer

PointJEPABackbone = PointPatchTransformer
MODELS.register_module(name='PointJEPABackbone', module=PointPatchTransformer)

__all__ = ['BackboneOutput', 'EncoderOutput', 'PatchTokens', 'PointJEPABackbone']
