"""Fine-tuning schedule: the backbone frozen for the first part of training, then trained."""
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from pjepa3d.registry import HOOKS


@HOOKS.register_module()
class FreezeBackboneHook(Hook):
    """Keep the model's backbone frozen for the first ``freeze_epochs`` epochs (or ``freeze_iters``
    iterations), then unfreeze it.

    Frozen means no gradients (AdamW leaves parameters without a gradient untouched, weight decay
    included) and eval mode (no drop-path; BatchNorm statistics of the tokenizer fixed). The state
    follows from the current epoch / iteration alone, so a resumed run is frozen exactly when the
    original would have been. The model must provide ``set_backbone_frozen(bool)``
    (``PointClassifier`` does). Logs every change.

    Args:
        freeze_epochs (int, optional): epochs with a frozen backbone (epoch-based loops).
        freeze_iters (int, optional): iterations with a frozen backbone (either loop type).
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self, freeze_epochs=None, freeze_iters=None):
        if (freeze_epochs is None) == (freeze_iters is None):
            raise ValueError('FreezeBackboneHook: give exactly one of freeze_epochs and freeze_iters')
        value = freeze_epochs if freeze_iters is None else freeze_iters
        if int(value) < 0:
            raise ValueError(f'FreezeBackboneHook: the freeze length must be >= 0, got {value}')
        self.freeze_epochs = None if freeze_epochs is None else int(freeze_epochs)
        self.freeze_iters = None if freeze_iters is None else int(freeze_iters)

    @staticmethod
    def _model(runner):
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if not hasattr(model, 'set_backbone_frozen'):
            raise TypeError(f'FreezeBackboneHook: {type(model).__name__} has no set_backbone_frozen(); use a '
                            'PointClassifier')
        return model

    def _should_freeze(self, runner):
        if self.freeze_iters is not None:
            return runner.iter < self.freeze_iters
        return runner.epoch < self.freeze_epochs

    def _apply(self, runner):
        model = self._model(runner)
        frozen = self._should_freeze(runner)
        if frozen != model.backbone_frozen:
            model.set_backbone_frozen(frozen)
            runner.logger.info(f'FreezeBackboneHook: backbone {"frozen" if frozen else "unfrozen"} at epoch '
                               f'{runner.epoch}, iteration {runner.iter}')

    def before_train(self, runner):
        self._apply(runner)

    def before_train_epoch(self, runner):
        self._apply(runner)

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if self.freeze_iters is not None:
            self._apply(runner)
