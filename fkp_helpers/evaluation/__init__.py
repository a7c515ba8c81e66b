"""The evaluation stage (notebook 04): metrics in pixels, test-time augmentation, the submission, figures.

Each module holds one concern; the names below are the stage's public API, importable from here.
"""
from fkp_helpers.evaluation.groups import (
    describe_group_pair,
    error_by_group,
    error_by_group_figure,
    paired_difference_by_group,
    scale_bins,
)
from fkp_helpers.evaluation.metrics import (
    DEFAULT_PCK_FRACTIONS,
    DEFAULT_PCK_RADII_PX,
    best_and_worst,
    check_keypoint_arrays,
    error_by_bins,
    eye_line_angle_deg,
    inter_pupil_distance,
    labelled_mask,
    mae_px,
    nme_iod,
    pck,
    pck_curve,
    pck_iod,
    per_image_rmse,
    per_keypoint_errors,
    per_keypoint_failures,
    per_keypoint_pck,
    per_keypoint_rmse,
    point_distances,
    mean_rmse_difference_and_se,
    rmse_and_se,
    rmse_difference_and_se,
    rmse_px,
    squared_coordinate_errors,
    subset_rmse,
)
from fkp_helpers.evaluation.residual_analysis import (
    ELLIPSE_CHI2,
    GROSS_ERROR_PX,
    bias_table,
    describe_bias,
    describe_extreme_bins,
    describe_gross_errors,
    ellipse_parameters,
    error_ellipses,
    gross_errors,
    mean_face,
    predicted_vs_true,
    residual_histograms,
    residuals,
)
from fkp_helpers.evaluation.tables import (
    NOISE_FLOOR_ROW,
    evaluation_table,
    held_out_table,
    metric_row,
    noise_floor_pck_curve,
    noise_floor_row,
    table_records,
)
from fkp_helpers.evaluation.plots import CONFIDENCE_Z, error_against, pck_curves, per_keypoint_error_bars
from fkp_helpers.evaluation.seed_pairs import MEAN_ROW, describe_seed_pairs, seed_paired_differences
from fkp_helpers.evaluation.submission import (
    LOOKUP_COLUMNS,
    REGIME_NAMES,
    SubmissionError,
    build_submission,
    labelling_regimes,
    score_submission,
    validate_submission,
    write_submission,
)
from fkp_helpers.evaluation.tta import (
    PredictFn,
    flip_tta_predictions,
    flip_tta_table,
    mirror_images,
    predict_with_flip_tta,
)
