"""Components used only by ablation configs (configs/point_jepa/ablations/modelnet10); not part of pjepa3d."""
