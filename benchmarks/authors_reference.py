"""The authors' Point-JEPA pretraining step, run from a checkout of their repository, as a same-run reference.

``bench_pretrain_step.py --authors-root DIR`` times it next to pjepa3d's step, so that its "vs authors" ratio is a
measurement of this run instead of a constant. DIR is a checkout of https://github.com/Ayumu-J-S/Point-JEPA (the
user's; nothing of it is copied into pjepa3d). Their model code runs unchanged: ``PointJepa`` built from their
pretraining config file (``configs/Point-JEPA/pretraining/shapenet.yaml``, model section), its ``training_step``,
``loss.backward()``, their AdamW from ``configure_optimizers`` and their ``optimizer_step`` (AdamW step, then the EMA
teacher's update), on the same random (B, 1024, 3) clouds as pjepa3d's rows.

Two things around their code are replaced, both by the loop this script runs for pjepa3d:

* the data transforms of their ``training_step`` are an empty list (``train_transformations=[]``): pjepa3d's step
  does no augmentation either (its transforms run in the data loader), so both rows time the model alone;
* Lightning's trainer loop: ``pytorch_lightning`` and ``pl_bolts`` are replaced by the few names their model file
  uses (``LightningModule`` with ``save_hyperparameters``, ``log``, ``device``, ``optimizer_step``;
  ``LinearWarmupCosineAnnealingLR``), written here because Lightning 1.9, which their code targets, cannot attach
  to a module outside its ``Trainer``, and installing it could replace this environment's torch.

Where ``pytorch3d`` or ``timm`` cannot be imported (no CPU wheel of pytorch3d exists for this torch; timm would pull
torchvision), their names are stood in for by pure PyTorch: FPS, kNN and the gathers by ``pjepa3d.ops`` (the same
kernels pjepa3d's tokenizer uses, so grouping costs the same on both rows), ``DropPath`` by pjepa3d's (per-sample
stochastic depth). ``ball_query`` and ``euler_angles_to_matrix`` (used only with a group radius and by the rotation
transform, neither in the step) raise if called. Where the real packages are installed (a GPU machine with the
authors' environment), they are used.
"""
import importlib
import inspect
import math
import os
import sys
import types
from collections import namedtuple

import torch
from torch import nn

# timm's DropPath stand-in: pjepa3d's (the same per-sample stochastic depth; their code passes the rate positionally)
from pjepa3d.models.utils.transformer import DropPath

AUTHORS_CONFIG = os.path.join('configs', 'Point-JEPA', 'pretraining', 'shapenet.yaml')
MODEL_FILE = os.path.join('pointjepa', 'models', 'point_jepa.py')


def _module(name, **attrs):
    mod = types.ModuleType(name)
    mod.__dict__.update(attrs)
    sys.modules[name] = mod
    return mod


def _importable(name):
    try:
        importlib.import_module(name)
        return True
    except ImportError:
        return False


class AttributeDict(dict):
    """Lightning's ``hparams``: a dict whose keys read as attributes."""

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None


class LightningModule(nn.Module):
    """The names of ``pytorch_lightning.LightningModule`` their model file uses; the loop is the benchmark's."""
    trainer = None
    loggers = ()

    def save_hyperparameters(self):
        info = inspect.getargvalues(inspect.currentframe().f_back)  # the subclass's __init__
        self.hparams = AttributeDict({k: info.locals[k] for k in info.args if k != 'self'})

    def log(self, *args, **kwargs):
        pass

    @property
    def device(self):
        p = next(self.parameters(), None)
        return torch.device('cpu') if p is None else p.device

    def optimizer_step(self, epoch, batch_idx, optimizer, optimizer_closure=None, **kwargs):
        optimizer.step(closure=optimizer_closure)


class LinearWarmupCosineAnnealingLR(torch.optim.lr_scheduler.LambdaLR):
    """pl_bolts' per-epoch schedule: linear from ``warmup_start_lr`` to the base lr over ``warmup_epochs``, then
    cosine to ``eta_min`` at ``max_epochs`` (created by their ``configure_optimizers``; not stepped here)."""

    def __init__(self, optimizer, warmup_epochs, max_epochs, warmup_start_lr=0.0, eta_min=0.0):
        base = optimizer.param_groups[0]['lr']

        def factor(epoch):
            if epoch < warmup_epochs:
                lr = warmup_start_lr + epoch * (base - warmup_start_lr) / max(1, warmup_epochs - 1)
            else:
                t = (epoch - warmup_epochs) / max(1, max_epochs - warmup_epochs)
                lr = eta_min + 0.5 * (base - eta_min) * (1 + math.cos(math.pi * t))
            return lr / base
        super().__init__(optimizer, factor)


KNN = namedtuple('KNN', ['dists', 'idx', 'knn'])


def knn_gather(x, idx, lengths=None):
    """pytorch3d's ``knn_gather``: x (N, P2, U), idx (N, P1, K) -> (N, P1, K, U) (``pjepa3d.ops.gather_points``)."""
    from pjepa3d.ops import gather_points
    return gather_points(x, idx)


def masked_gather(points, idx):
    """pytorch3d's ``masked_gather``: points (N, P, D), idx (N, ...) -> (N, ..., D); entries -1 give zeros."""
    from pjepa3d.ops import gather_points
    return gather_points(points, idx.clamp(min=0)) * (idx >= 0).unsqueeze(-1).to(points.dtype)


def sample_farthest_points(points, lengths=None, K=50, random_start_point=False):
    """pytorch3d's FPS on ``pjepa3d.ops.furthest_point_sample``: (sampled points, indices)."""
    from pjepa3d.ops import furthest_point_sample
    if lengths is not None:
        raise NotImplementedError('authors_reference: the FPS stand-in takes equal-length clouds only')
    idx = furthest_point_sample(points[..., :3], K, random_start=random_start_point)
    return masked_gather(points, idx), idx


def knn_points(p1, p2, lengths1=None, lengths2=None, norm=2, K=1, version=-1, return_nn=False, return_sorted=True):
    """pytorch3d's ``knn_points`` on ``pjepa3d.ops.knn_with_dist``: squared distances ascending, indices, and the
    neighbours with ``return_nn``."""
    from pjepa3d.ops import knn_with_dist
    if lengths1 is not None or lengths2 is not None or norm != 2:
        raise NotImplementedError('authors_reference: the kNN stand-in takes equal-length clouds and L2 only')
    dists, idx = knn_with_dist(p1, p2, K)
    return KNN(dists, idx, knn_gather(p2, idx) if return_nn else None)


def _not_in_the_step(name):
    def fn(*args, **kwargs):
        raise NotImplementedError(f'authors_reference: pytorch3d {name} has no stand-in (not used by the '
                                  'pretraining step this benchmark times)')
    return fn


def _install_shims():
    pl = _module('pytorch_lightning', LightningModule=LightningModule, LightningDataModule=type(
        'LightningDataModule', (), {}))
    pl.loggers = _module('pytorch_lightning.loggers', WandbLogger=type('WandbLogger', (), {}))
    bolts = _module('pl_bolts')
    bolts.optimizers = _module('pl_bolts.optimizers')
    bolts.optimizers.lr_scheduler = _module('pl_bolts.optimizers.lr_scheduler',
                                            LinearWarmupCosineAnnealingLR=LinearWarmupCosineAnnealingLR)
    if not _importable('pytorch3d.ops'):
        p3d = _module('pytorch3d')
        p3d.ops = _module('pytorch3d.ops', knn_points=knn_points, knn_gather=knn_gather,
                          sample_farthest_points=sample_farthest_points, ball_query=_not_in_the_step('ball_query'))
        p3d.ops.utils = _module('pytorch3d.ops.utils', masked_gather=masked_gather)
        p3d.transforms = _module('pytorch3d.transforms',
                                 euler_angles_to_matrix=_not_in_the_step('euler_angles_to_matrix'))
    if not _importable('timm.models.layers'):
        timm = _module('timm')
        timm.models = _module('timm.models')
        timm.models.layers = _module('timm.models.layers', DropPath=DropPath)


def load_authors_model_class(root):
    """``PointJepa`` from ``root`` (their model file and the modules it imports), with the shims above.

    Their ``pointjepa/models/__init__.py`` also imports the fine-tuning models (torchmetrics, ...); the package
    object is created here with its ``__path__`` so that only ``point_jepa.py`` is executed."""
    root = os.path.abspath(root)
    model_file = os.path.join(root, MODEL_FILE)
    if not os.path.isfile(model_file):
        raise FileNotFoundError(f'--authors-root {root}: {MODEL_FILE} not found; give a checkout of '
                                'https://github.com/Ayumu-J-S/Point-JEPA')
    _install_shims()
    sys.path.insert(0, root)
    pkg = _module('pointjepa.models', __path__=[os.path.dirname(model_file)])
    importlib.import_module('pointjepa').models = pkg
    return importlib.import_module('pointjepa.models.point_jepa').PointJepa


def authors_model_kwargs(root, cls):
    """The model section of their pretraining config, minus the SVM-validation data modules and the transforms.

    YAML 1.1 reads ``1e-3`` as a string; their command line (jsonargparse) casts it by the argument's type, as
    done here for the arguments whose default is a float."""
    import yaml
    path = os.path.join(os.path.abspath(root), AUTHORS_CONFIG)
    with open(path) as f:
        cfg = yaml.safe_load(f)
    kwargs = dict(cfg['model'])
    kwargs.pop('svm_validation', None)
    kwargs['train_transformations'] = []
    params = inspect.signature(cls.__init__).parameters
    for k, v in kwargs.items():
        if isinstance(v, str) and k in params and isinstance(params[k].default, float):
            kwargs[k] = float(v)
    return kwargs, cfg.get('trainer', {}).get('max_epochs', 500)


def build_authors_step(root, x, total_steps=100_000):
    """Their model, its AdamW and ``step()``: one training step on the clouds ``x`` (B, N, 3) as Lightning runs it
    for their module (``training_step``, backward, ``optimizer_step``: AdamW step + EMA update). Returns
    ``(model, step)``; ``step()`` returns the loss as a float."""
    cls = load_authors_model_class(root)
    kwargs, max_epochs = authors_model_kwargs(root, cls)
    torch.manual_seed(0)
    model = cls(**kwargs)
    model.trainer = types.SimpleNamespace(max_epochs=max_epochs, estimated_stepping_batches=total_steps)
    model.setup('fit')
    model.on_fit_start()
    model.train()
    (opt,), _ = model.configure_optimizers()
    it = [0]

    def step():
        opt.zero_grad(set_to_none=True)
        loss = model.training_step((x, None), it[0])
        loss.backward()
        model.optimizer_step(0, it[0], opt)
        it[0] += 1
        return loss.item()
    return model, step
