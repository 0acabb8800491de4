"""What the picture tools (visualize_mask.py, browse_dataset.py) build from a config."""
from pjepa3d.apis import load_config
from pjepa3d.registry import DATASETS, MODELS


def load_config_and_model(config, cfg_options=None):
    """The config (with overrides) and its model in eval mode, with no pretrained weights loaded: the
    pictures need the tokenizer's grouping and the masker, not trained weights."""
    cfg = load_config(config, cfg_options)
    model_cfg = cfg.model.copy()
    if isinstance(model_cfg.get('backbone'), dict):
        model_cfg.backbone.init_cfg = None
    return cfg, MODELS.build(model_cfg).eval()


def build_split_dataset(cfg, split):
    """The config's ``<split>_dataloader.dataset``; SyntheticShapes test clouds when the config has none."""
    loader = cfg.get(f'{split}_dataloader')
    if loader is not None and loader.get('dataset') is not None:
        return DATASETS.build(loader['dataset'])
    print(f'the config has no {split}_dataloader.dataset: showing SyntheticShapes test clouds')
    return DATASETS.build(dict(type='SyntheticShapes', split='test', num_samples=64, num_points=1024,
                               pipeline=[dict(type='PackPointInputs')]))
