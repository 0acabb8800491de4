from .mask_vis import DEFAULT_VIEWS, UP_AXES, plot_context_targets, plot_dataset_sample

__all__ = ['DEFAULT_VIEWS', 'UP_AXES', 'plot_context_targets', 'plot_dataset_sample']
