"""Point-cloud ops in pure, batched PyTorch: no compiled extension, CPU or GPU."""
from .fps import furthest_point_sample
from .interpolate import idw_weights, three_interpolate
from .knn import gather_points, group_points, knn, knn_with_dist
from .sample_and_group import sample_and_group

__all__ = ['furthest_point_sample', 'knn', 'knn_with_dist', 'gather_points', 'group_points', 'idw_weights',
           'three_interpolate', 'sample_and_group']
