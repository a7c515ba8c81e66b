"""The evaluation stage (notebook 04): metrics in pixels, test-time augmentation, the submission, figures.

Each module holds one concern; the names below are the stage's public API, importable from here.
"""
from fkp_helpers.evaluation.diagnostics import (
    ELLIPSE_CHI2,
    bias_table,
    describe_bias,
    describe_extreme_bins,
    ellipse_parameters,
    error_by_group,
    error_by_group_figure,
    error_ellipses,
    mean_face,
    predicted_vs_true,
    residual_histograms,
    residuals,
    scale_bins,
)
from fkp_helpers.evaluation.metrics import (
    DEFAULT_PCK_FRACTIONS,
    DEFAULT_PCK_RADII_PX,
    NOISE_FLOOR_ROW,
    best_and_worst,
    check_keypoint_arrays,
    error_by_bins,
    evaluation_table,
    held_out_table,
    eye_line_angle_deg,
    inter_pupil_distance,
    labelled_mask,
    mae_px,
    metric_row,
    nme_iod,
    noise_floor_pck_curve,
    noise_floor_row,
    pck,
    pck_curve,
    pck_iod,
    per_image_rmse,
    per_keypoint_errors,
    per_keypoint_pck,
    per_keypoint_rmse,
    point_distances,
    rmse_and_se,
    rmse_px,
    squared_coordinate_errors,
    subset_rmse,
    table_records,
)
from fkp_helpers.evaluation.plots import CONFIDENCE_Z, error_against, pck_curves, per_keypoint_error_bars
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
