"""Per-point part-segmentation head: point features + global features + category embedding -> part logits."""
import torch
import torch.nn.functional as F
from torch import nn

from pjepa3d.registry import MODELS


def _conv_bn_relu(cin, cout):
    return [nn.Conv1d(cin, cout, 1, bias=False), nn.BatchNorm1d(cout), nn.ReLU(inplace=True)]


@MODELS.register_module()
class PartSegHead(nn.Module):
    """Logits over all parts for every point.

    Per point: ``[propagated patch features, xyz]`` -> ``prop_channels`` MLP (Conv1d + BN + ReLU), then
    concatenated with the global feature and the category embedding (one-hot -> Linear + BN + LeakyReLU)
    -> ``channels`` MLP (dropout after the first layer) -> Conv1d to ``num_parts``.

    Args:
        in_channels (int): width of the propagated point features (the segmentor fills it in).
        global_channels (int): width of the global feature (the segmentor fills it in).
        num_parts (int): output logits per point (50 for ShapeNetPart).
        num_categories (int): categories of the one-hot class label (16 for ShapeNetPart).
        label_embed_dims (int): width of the category embedding.
        prop_channels (tuple[int]): MLP on the propagated features (empty: none).
        channels (tuple[int]): hidden widths of the classifier MLP.
        dropout (float): dropout after the first classifier layer.
        label_smoothing (float): of the cross-entropy loss.
        loss_weight (float): multiplies the loss.
        ignore_index (int): label value excluded from the loss.
    """

    def __init__(self, in_channels, global_channels, num_parts=50, num_categories=16, label_embed_dims=64,
                 prop_channels=(384, 384), channels=(512, 256), dropout=0.5, label_smoothing=0.0, loss_weight=1.0,
                 ignore_index=-100):
        super().__init__()
        self.num_parts = num_parts
        self.num_categories = num_categories
        self.label_smoothing = label_smoothing
        self.loss_weight = loss_weight
        self.ignore_index = ignore_index
        self.label_embed = nn.Sequential(nn.Linear(num_categories, label_embed_dims, bias=False),
                                         nn.BatchNorm1d(label_embed_dims), nn.LeakyReLU(0.2, inplace=True))
        layers, cin = [], in_channels + 3
        for cout in prop_channels:
            layers += _conv_bn_relu(cin, cout)
            cin = cout
        self.prop_mlp = nn.Sequential(*layers)
        cin += global_channels + label_embed_dims
        layers = []
        for i, cout in enumerate(channels):
            layers += _conv_bn_relu(cin, cout)
            if i == 0 and dropout > 0:
                layers.append(nn.Dropout(dropout))
            cin = cout
        layers.append(nn.Conv1d(cin, num_parts, 1))
        self.cls_mlp = nn.Sequential(*layers)

    def forward(self, point_feats, xyz, global_feats, category):
        """point_feats (B, N, C), xyz (B, N, 3), global_feats (B, G), category LongTensor (B,) -> logits (B, N, P)."""
        B, N, _ = point_feats.shape
        if category.min() < 0 or category.max() >= self.num_categories:
            raise ValueError(f'{type(self).__name__}: category index {category.tolist()} outside '
                             f'0..{self.num_categories - 1}')
        onehot = F.one_hot(category.long(), self.num_categories).to(point_feats.dtype)
        x = self.prop_mlp(torch.cat([point_feats, xyz], dim=-1).transpose(1, 2))  # (B, C', N)
        glob = torch.cat([global_feats, self.label_embed(onehot)], dim=-1)  # (B, G + L)
        x = torch.cat([x, glob.unsqueeze(-1).expand(-1, -1, N)], dim=1)
        return self.cls_mlp(x).transpose(1, 2)

    def loss(self, logits, target):
        """Cross-entropy over all parts; logits (B, N, P), target LongTensor (B, N) of global part ids."""
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1).long(),
                               ignore_index=self.ignore_index, label_smoothing=self.label_smoothing)
        return self.loss_weight * loss
