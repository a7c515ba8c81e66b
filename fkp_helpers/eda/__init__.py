"""The exploration stage (notebook 01): missing-label analysis, data quality and their figures.

Each module holds one concern; the names below are the stage's public API, importable from here.
"""
from fkp_helpers.eda.data_quality import duplicate_images, image_statistics, sharpness, robust_z, shape_outliers
from fkp_helpers.eda.missing_labels import (
    STRATEGIES,
    apply_strategy,
    imputation_victims,
    labelled_mask,
    missing_counts,
    missing_patterns,
    regime_counts,
    regime_of,
    strategy_spread,
    strategy_summary,
    unpaired_coordinates,
)
from fkp_helpers.eda.plots import (
    plot_coordinate_histograms,
    plot_correlation_heatmap,
    plot_mean_shape,
    plot_missing_counts,
    plot_pattern_matrix,
    plot_strategy_spread,
)
