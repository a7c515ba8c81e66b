"""The training stage (notebook 03): networks, the masked loss, optimizers, callbacks, the loop, the optimizer study.

Each module holds one concern; the names below are the stage's public API, importable from here.
"""
from fkp_helpers.memory import keep_freed_memory
from fkp_helpers.tensorflow_setup import import_tensorflow_quietly

import_tensorflow_quietly()
keep_freed_memory()  # training re-allocates the same large buffers every step: reuse them (fkp_helpers.memory)

from fkp_helpers.training.batches import ArrayBatches
from fkp_helpers.training.callbacks import BestModelCheckpoint, EpochBackup, EpochLogger, ProgressPrinter
from fkp_helpers.training.loop import TrainingResult, compile_model, copy_run, read_history, train_model
from fkp_helpers.training.losses import (
    MONITOR,
    PLATEAU_MONITOR,
    MaskedMAE,
    MaskedMSE,
    MaskedRMSE,
    masked_mae,
    masked_mse,
    masked_rmse_px,
)
from fkp_helpers.training.model_files import load_model, save_model_atomically
from fkp_helpers.training.models import (
    COORDINATE_CENTRE,
    COORDINATE_SCALE,
    INPUT_SHAPE,
    MIXED_PRECISION_POLICY,
    N_OUTPUTS,
    Standardisation,
    bfloat16_is_native,
    build_mean_shape_model,
    build_nouri_net,
    build_vgg,
    copy_model,
    count_flops,
    layer_table,
    mean_shape,
    model_inputs,
    model_targets,
    output_scale,
    predict_keypoints,
    standardisation,
)
from fkp_helpers.training.optimizers import (
    DEFAULT_LEARNING_RATES,
    OPTIMIZER_NAMES,
    exponential_decay,
    learning_rate_of,
    learning_rate_schedule,
    make_optimizer,
    peak_learning_rate,
    step_decay,
    warmup_cosine,
)
from fkp_helpers.training.reporting import plot_training_curves, results_table, write_results_json
from fkp_helpers.training.reproducibility import EpochSeeds, set_reproducible
from fkp_helpers.training.range_test import (
    NEAR_MINIMUM,
    PEAK_DIVISOR,
    describe_range_test,
    lr_range_test,
    near_minimum_point,
    plot_range_tests,
    range_test_rate,
)
from fkp_helpers.training.rate_grid import (
    RateTrials,
    adopt_trial,
    describe_grid_edges,
    describe_rate_trials,
    grid_position,
    next_rate,
    pick_grid_rate,
    plot_rate_trials,
    rate_grid,
    rate_trials,
)
from fkp_helpers.training.study import (
    CONVERGENCE_FRACTION,
    CONVERGENCE_TOLERANCE,
    DIVERGENCE_RETRIES,
    FLOOR_MARGIN,
    LATE_POINTS,
    convergence,
    convergence_table,
    initial_model,
    late_steps,
    near_floor,
    plot_study_curves,
    spread_by_group,
    train_scheduled,
    validation_curve,
)
