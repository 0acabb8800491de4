from .mask_vis import plot_context_targets

__all__ = ['plot_context_targets']
