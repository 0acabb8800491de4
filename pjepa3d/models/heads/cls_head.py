"""Classification heads on a pooled global feature (B, F) -> logits (B, num_classes)."""
import torch.nn as nn
import torch.nn.functional as F

from pjepa3d.registry import MODELS


class _ClsHead(nn.Module):
    """Shared loss: cross-entropy with optional label smoothing; ``loss`` returns ``dict(loss, acc)``."""

    def __init__(self, num_classes, label_smoothing=0.0):
        super().__init__()
        if int(num_classes) < 2:
            raise ValueError(f'{type(self).__name__}: num_classes must be >= 2, got {num_classes}')
        self.num_classes = int(num_classes)
        self.label_smoothing = float(label_smoothing)

    def loss(self, feats, labels):
        """feats (B, F), labels (B,) int64 -> ``loss`` (cross-entropy) and ``acc`` (batch accuracy, %)."""
        logits = self(feats)
        if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= self.num_classes):
            raise ValueError(f'{type(self).__name__}: labels must be in 0..{self.num_classes - 1}, got '
                             f'{sorted(set(labels.tolist()))[:10]} (is num_classes right for this dataset?)')
        loss = F.cross_entropy(logits, labels, label_smoothing=self.label_smoothing)
        acc = (logits.argmax(dim=1) == labels).float().mean() * 100.0
        return dict(loss=loss, acc=acc.detach())


@MODELS.register_module()
class LinearClsHead(_ClsHead):
    """Linear probe: one ``nn.Linear(in_channels, num_classes)`` on the pooled features.

    Args:
        in_channels (int): F, e.g. 2 * D for concat(max, mean) of D-dim tokens.
        num_classes (int): C.
        label_smoothing (float): cross-entropy label smoothing.
    """

    def __init__(self, in_channels, num_classes, label_smoothing=0.0):
        super().__init__(num_classes, label_smoothing)
        self.fc = nn.Linear(in_channels, num_classes)
        nn.init.trunc_normal_(self.fc.weight, std=0.01)
        nn.init.zeros_(self.fc.bias)

    def forward(self, feats):
        """(B, F) -> logits (B, C)."""
        return self.fc(feats)


@MODELS.register_module()
class MLPClsHead(_ClsHead):
    """Fine-tuning head: [Linear -> BatchNorm1d -> ReLU -> Dropout] per hidden width, then Linear.

    With the defaults and a ViT-S backbone: 768 -> 256 -> 256 -> C (SPEC sec. 2).

    Args:
        in_channels (int): F (768 for concat(max, mean) of 384-dim tokens).
        num_classes (int): C.
        hidden_channels (tuple[int]): hidden widths.
        dropout (float): dropout after each hidden layer.
        label_smoothing (float): cross-entropy label smoothing.
    """

    def __init__(self, in_channels, num_classes, hidden_channels=(256, 256), dropout=0.5, label_smoothing=0.2):
        super().__init__(num_classes, label_smoothing)
        layers, width = [], in_channels
        for hidden in hidden_channels:
            layers += [nn.Linear(width, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True),
                       nn.Dropout(dropout)]
            width = hidden
        layers.append(nn.Linear(width, num_classes))
        self.mlp = nn.Sequential(*layers)

    def forward(self, feats):
        """(B, F) -> logits (B, C)."""
        return self.mlp(feats)
