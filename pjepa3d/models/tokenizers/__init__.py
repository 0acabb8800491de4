from .point_patch_tokenizer import MiniPointNet, PointPatchTokenizer

__all__ = ['MiniPointNet', 'PointPatchTokenizer']
