"""mmengine's three forward modes, dispatched once for every pjepa3d model."""


class ForwardModesMixin:
    """``forward(mode='loss')`` -> ``loss()``, ``'predict'`` -> ``predict()``, ``'tensor'`` -> ``forward_tensor()``.

    Put it before ``BaseModel`` in the bases; the model implements the three methods.
    """

    def forward(self, inputs, data_samples=None, mode='tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.forward_tensor(inputs, data_samples)
        raise RuntimeError(f'{type(self).__name__}: invalid mode {mode!r}; use loss, predict or tensor')
