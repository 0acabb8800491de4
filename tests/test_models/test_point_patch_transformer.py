"""PointPatchTransformer: its ``arch`` presets, its old name ``PointJEPABackbone``, and every config's backbone
unchanged by the move from spelled-out widths / depths to ``arch``."""
import copy
import hashlib
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from pjepa3d.models.backbones import PointJEPABackbone, PointPatchTransformer
from pjepa3d.registry import MODELS

ROOT = Path(__file__).resolve().parents[2]


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


# ------------------------------------------------------------ every config, before and after arch

# The backbones the configs spelled out before they used ``arch`` (type, widths, depths and heads as written
# then; init_cfg left out: it does not change the module).
OLD_VIT_S = dict(
    type='PointJEPABackbone',
    tokenizer=dict(type='PointPatchTokenizer', num_groups=64, group_size=32, embed_dims=384, in_channels=3),
    pos_embed=dict(type='sincos3d', scale=50.0),
    encoder=dict(type='PointTransformerEncoder', embed_dims=384, depth=12, num_heads=6, mlp_ratio=4.0,
                 drop_path_rate=0.1, pos_every_block=False))
OLD_VIT_S_128 = copy.deepcopy(OLD_VIT_S)
OLD_VIT_S_128['tokenizer']['num_groups'] = 128
OLD_VIT_S_AUTHORS = dict(
    type='PointJEPABackbone',
    tokenizer=dict(type='PointPatchTokenizer', num_groups=64, group_size=32, embed_dims=384, in_channels=3),
    pos_embed=dict(type='mlp', hidden_dims=128),
    encoder=dict(type='PointTransformerEncoder', embed_dims=384, depth=12, num_heads=6, mlp_ratio=4.0,
                 drop_path_rate=0.25, attn_drop_rate=0.05, pos_every_block=True))
OLD_VIT_T = dict(
    type='PointJEPABackbone',
    tokenizer=dict(type='PointPatchTokenizer', num_groups=64, group_size=32, embed_dims=192, in_channels=3,
                   hidden_dims=(64, 128, 256)),
    pos_embed='mlp',
    encoder=dict(type='PointTransformerEncoder', embed_dims=192, depth=6, num_heads=3, mlp_ratio=4.0,
                 drop_path_rate=0.0, pos_every_block=True))
OLD_NUS = dict(
    type='PointJEPABackbone',
    tokenizer=dict(type='PointPatchTokenizer', num_groups=1024, group_size=32, embed_dims=384, in_channels=4),
    pos_embed=dict(type='sincos3d', scale=1.0),
    encoder=dict(type='PointTransformerEncoder', embed_dims=384, depth=12, num_heads=6, mlp_ratio=4.0,
                 drop_path_rate=0.1, pos_every_block=False))

J, B, NUS = 'configs/point_jepa/', 'configs/point_jepa/benchmarks/', 'projects/PointJEPA_nuScenes/configs/'
OLD_BACKBONES = {
    'configs/_base_/models/pointjepa_vit-s.py': OLD_VIT_S,
    **{f'{J}ablations/{name}.py': OLD_VIT_S for name in (
        'ema-cosine', 'ema-linear', 'emascope-all', 'emascope-encoder', 'loss-mse-ln', 'loss-mse-noln',
        'loss-rawpoints', 'loss-smoothl1', 'mask-random65', 'mask-random75', 'mask-region50', 'mask-region65',
        'mask-region80', 'predictor-d192', 'predictor-d384', 'predictor-d96')},
    **{f'{B}{name}.py': OLD_VIT_S for name in (
        'pointjepa_vit-s_1xb32-100e_modelnet40-linear-probe', 'pointjepa_vit-s_1xb32-150e_ft_modelnet40-fewshot',
        'pointjepa_vit-s_1xb32-200e_ft_modelnet40-label10pct', 'pointjepa_vit-s_1xb32-200e_ft_modelnet40-label1pct',
        'pointjepa_vit-s_1xb32-200e_ft_modelnet40-label5pct', 'pointjepa_vit-s_1xb32-200e_ft_modelnet40',
        'pointjepa_vit-s_modelnet10-svm', 'pointjepa_vit-s_modelnet40-svm')},
    f'{J}pointjepa_vit-s_4xb32-coslr-300e_shapenet55.py': OLD_VIT_S,
    'configs/point_mae/pointmae_vit-s_4xb32-coslr-300e_shapenet55.py': OLD_VIT_S,
    **{f'{B}{name}.py': OLD_VIT_S_128 for name in (
        'pointjepa_vit-s_1xb16-coslr-300e_shapenetpart-partseg', 'pointjepa_vit-s_1xb32-300e_ft_scanobjectnn-hardest',
        'pointjepa_vit-s_1xb32-300e_ft_scanobjectnn-objbg', 'pointjepa_vit-s_1xb32-300e_ft_scanobjectnn-objonly',
        'pointjepa_vit-s_scanobjectnn-objbg-svm')},
    f'{J}pointjepa_vit-s_1xb512-warmup-coslr-500e_shapenet55.py': OLD_VIT_S_AUTHORS,
    **{f'{B}{name}.py': OLD_VIT_T for name in (
        'pointjepa_vit-t-demo_1xb16-20e_ft_modelnet40subset',
        'pointjepa_vit-t-demo_1xb16-40e_modelnet40subset-linear-probe',
        'pointjepa_vit-t-demo_1xb32_ft_modelnet10-label1pct', 'pointjepa_vit-t-demo_1xb32_ft_modelnet10-label5pct',
        'pointjepa_vit-t-demo_modelnet10-svm', 'pointjepa_vit-t-demo_modelnet40subset-svm')},
    **{f'{J}{name}.py': OLD_VIT_T for name in (
        'pointjepa_vit-t_1xb32-400i_modelnet10', 'pointjepa_vit-t_1xb32-8000i_modelnet10',
        'pointjepa_vit-t_1xb32-demo_synthetic')},
    'configs/point_mae/pointmae_vit-t_1xb32-400i_modelnet10.py': OLD_VIT_T,
    'configs/point_mae/pointmae_vit-t_1xb32-demo_synthetic.py': OLD_VIT_T,
    f'{NUS}pointjepa_vit-s_8xb16-100e_nus-lidar.py': OLD_NUS,
    **{f'{NUS}centerpoint_pointjepa-pillar02{kind}_secfpn_8xb4-cyclic-20e_nus-3d{frac}.py': OLD_NUS
       for kind in ('', '-scratch') for frac in ('', '-5pct', '-20pct')},
}

_built = {}  # repr of a backbone config -> its signature (configs sharing a backbone build it once)


def _settings(module):
    """The plain settings a module keeps as attributes (drop rates, pos_every_block, num_groups, PE scale...):
    what the state dict does not show."""
    return {k: v for k, v in vars(module).items()
            if not k.startswith('_') and k != 'training' and isinstance(v, (bool, int, float, str, tuple))}


def _signature(cfg):
    """What the backbone built from ``cfg`` with torch seed 0 is: per state-dict entry (key, shape, sha1 of the
    values), and per submodule its class and settings. Equal signatures = same keys, same shapes, same
    initial weights, same hyper-parameters."""
    key = repr(cfg)
    if key not in _built:
        torch.manual_seed(0)
        model = MODELS.build(copy.deepcopy(cfg))
        state = [(k, tuple(v.shape), hashlib.sha1(v.detach().contiguous().numpy().tobytes()).hexdigest())
                 for k, v in model.state_dict().items()]
        modules = [(name, type(m).__name__, _settings(m)) for name, m in model.named_modules()]
        _built[key] = dict(state=state, modules=modules)
    return _built[key]


def _config_backbone(path):
    cfg = Config.fromfile(str(ROOT / path))
    model = cfg.model
    backbone = model.pts_voxel_encoder.backbone if 'pts_voxel_encoder' in model else model.backbone
    return backbone.to_dict()


def test_the_table_names_existing_configs():
    assert all((ROOT / path).is_file() for path in OLD_BACKBONES)


@pytest.mark.parametrize('path', sorted(OLD_BACKBONES), ids=str)
def test_every_config_builds_the_backbone_it_built_before_arch(path):
    if path.startswith(NUS) and 'centerpoint' in path:
        pytest.importorskip('mmdet3d', reason='the detection configs inherit mmdet3d\'s CenterPoint config')
    backbone = _config_backbone(path)
    assert backbone['type'] == 'PointPatchTransformer' and backbone['arch'] in ('vit-t', 'vit-s')
    # widths, depth, heads and the mini-PointNet come from the preset, not from the config
    assert not {'embed_dims', 'hidden_dims'} & set(backbone['tokenizer'])
    assert not {'embed_dims', 'depth', 'num_heads'} & set(backbone['encoder'])
    backbone.pop('init_cfg', None)  # a Pretrained init_cfg does not change the module
    new, old = _signature(backbone), _signature(OLD_BACKBONES[path])
    assert [(k, s) for k, s, _ in new['state']] == [(k, s) for k, s, _ in old['state']]  # keys and shapes
    assert new['state'] == old['state']  # and, from the same seed, the same initial weights
    assert new['modules'] == old['modules']  # the same modules with the same settings (drop rates, PE...)


def test_max_mean_pool_is_the_global_feature_of_every_protocol():
    from pjepa3d.models.utils import max_mean_pool
    tokens = torch.tensor([[[1., -2.], [3., 4.], [-1., 1.]]])  # (B=1, M=3, D=2)
    assert max_mean_pool(tokens).tolist() == [[3., 4., 1., 1.]]  # max per channel, then mean per channel
    with pytest.raises(ValueError, match=r'\(B, M, D\).*\(3, 2\)'):
        max_mean_pool(tokens[0])
