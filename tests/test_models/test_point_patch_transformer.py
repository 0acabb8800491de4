"""PointPatchTransformer: its ``arch`` presets and its old name ``PointJEPABackbone``."""
import pytest
import torch

from pjepa3d.models.backbones import PointJEPABackbone, PointPatchTransformer
from pjepa3d.registry import MODELS


def _dims(model):
    mini = model.tokenizer.embed
    return dict(embed_dims=model.embed_dims, depth=len(model.encoder.blocks),
                num_heads=model.encoder.blocks[0].attn.num_heads,
                tokenizer_hidden_dims=(mini.fc1.out_features, mini.fc2.out_features, mini.fc3_global.out_features),
                tokenizer_embed_dims=model.tokenizer.embed_dims)


@pytest.mark.parametrize('arch, dims', [
    ('vit-t', dict(embed_dims=192, depth=6, num_heads=3, tokenizer_hidden_dims=(64, 128, 256))),
    ('vit-s', dict(embed_dims=384, depth=12, num_heads=6, tokenizer_hidden_dims=(128, 256, 512))),
    ('vit-b', dict(embed_dims=768, depth=12, num_heads=12, tokenizer_hidden_dims=(128, 256, 512))),
])
def test_presets_resolve_to_the_documented_dims(arch, dims):
    assert PointPatchTransformer.resolve_arch(arch) == dims
    assert PointPatchTransformer.resolve_arch(arch.upper()) == dims  # names are case-insensitive
    # the preset reaches the modules (ViT-B built 2 blocks deep: the depth is checked above)
    encoder = dict(depth=2) if arch == 'vit-b' else None
    model = MODELS.build(dict(type='PointPatchTransformer', arch=arch, encoder=encoder))
    assert model.arch_settings == dims
    assert _dims(model) == dict(dims, depth=2 if encoder else dims['depth'], tokenizer_embed_dims=dims['embed_dims'])
    if arch == 'vit-t':  # half of DeiT-Ti's 12 blocks (the docstring says so)
        assert 'half of DeiT-Ti' in PointPatchTransformer.__doc__


def test_unknown_arch_name_raises_naming_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown arch 'vit-l'; valid: 'vit-b', 'vit-s', 'vit-t'"):
        PointPatchTransformer(arch='vit-l')
    with pytest.raises(TypeError, match='preset name or a dict'):
        PointPatchTransformer(arch=384)


def test_arch_dict_needs_exactly_the_essential_keys():
    custom = dict(embed_dims=64, depth=2, num_heads=4, tokenizer_hidden_dims=(16, 32, 64))
    model = PointPatchTransformer(arch=custom)
    assert _dims(model) == dict(custom, tokenizer_embed_dims=64)
    for key in custom:
        partial = {k: v for k, v in custom.items() if k != key}
        with pytest.raises(ValueError, match=rf"missing: \['{key}'\]"):
            PointPatchTransformer(arch=partial)
    with pytest.raises(ValueError, match=r"unknown: \['hidden_dims'\]"):  # a misspelt key is not ignored
        PointPatchTransformer(arch=dict(custom, hidden_dims=(8, 8, 8)))


def test_explicit_keys_override_the_preset():
    model = PointPatchTransformer(arch='vit-t', tokenizer=dict(num_groups=16, group_size=8, hidden_dims=(8, 16, 32)),
                                  encoder=dict(depth=2, num_heads=6, drop_path_rate=0.0))
    assert _dims(model) == dict(embed_dims=192, depth=2, num_heads=6, tokenizer_hidden_dims=(8, 16, 32),
                                tokenizer_embed_dims=192)
    assert (model.tokenizer.num_groups, model.tokenizer.group_size) == (16, 8)
    assert model.arch_settings['depth'] == 6  # the preset itself is untouched
    # a width given on one side only is caught
    with pytest.raises(ValueError, match='tokenizer embed_dims 96 != encoder embed_dims 192'):
        PointPatchTransformer(arch='vit-t', tokenizer=dict(embed_dims=96))


def test_without_arch_both_component_configs_are_needed():
    with pytest.raises(ValueError, match="give arch .*'vit-t'.* or both tokenizer and encoder"):
        PointPatchTransformer(tokenizer=dict(embed_dims=32))


TINY_OLD_STYLE = dict(
    tokenizer=dict(type='PointPatchTokenizer', num_groups=16, group_size=8, embed_dims=32, hidden_dims=(16, 32, 64)),
    pos_embed='mlp',
    encoder=dict(type='PointTransformerEncoder', embed_dims=32, depth=2, num_heads=2))


def test_the_old_name_is_the_same_module_and_checkpoints_cross_load():
    from pjepa3d.models.backbones.point_jepa_backbone import PointJEPABackbone as from_old_module
    assert PointJEPABackbone is from_old_module is PointPatchTransformer
    assert MODELS.get('PointJEPABackbone') is MODELS.get('PointPatchTransformer') is PointPatchTransformer
    torch.manual_seed(0)
    old = MODELS.build(dict(TINY_OLD_STYLE, type='PointJEPABackbone'))
    torch.manual_seed(0)
    new = MODELS.build(dict(TINY_OLD_STYLE, type='PointPatchTransformer'))
    assert type(old) is type(new)
    assert [(k, v.shape) for k, v in old.state_dict().items()] == [(k, v.shape) for k, v in new.state_dict().items()]
    assert all(torch.equal(a, b) for a, b in zip(old.state_dict().values(), new.state_dict().values()))
    # a state_dict saved from either loads strictly into the other (built from another seed)
    for src_type, dst_type in (('PointJEPABackbone', 'PointPatchTransformer'),
                               ('PointPatchTransformer', 'PointJEPABackbone')):
        torch.manual_seed(1)
        src = MODELS.build(dict(TINY_OLD_STYLE, type=src_type))
        torch.manual_seed(2)
        dst = MODELS.build(dict(TINY_OLD_STYLE, type=dst_type))
        assert not all(torch.equal(a, b) for a, b in zip(src.state_dict().values(), dst.state_dict().values()))
        dst.load_state_dict(src.state_dict(), strict=True)
        assert all(torch.equal(a, b) for a, b in zip(src.state_dict().values(), dst.state_dict().values()))
        src.eval(), dst.eval()
        points = torch.rand(2, 64, 3)
        assert torch.equal(src(points).tokens, dst(points).tokens)
