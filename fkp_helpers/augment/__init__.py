"""The augmentation stage (notebook 02): the keypoint-aware imgaug pipeline, its Keras feeder and its checks.

Each module holds one concern; the names below are the stage's public API, importable from here.
"""
from fkp_helpers.tensorflow_setup import import_tensorflow_quietly

import_tensorflow_quietly()

from fkp_helpers.augment.checks import (
    CLEAN_STYLE,
    Transform,
    alignment_shift_px,
    before_after_grid,
    consistency_table,
    demo_transforms,
    face_region,
    lost_keypoints,
    upright_fraction,
)
from fkp_helpers.augment.pipeline import (
    IMGAUG_OFFSET,
    SINGLE_AUGMENTERS,
    AugmentConfig,
    AugmentedSequence,
    SeedLike,
    apply_augmenter,
    augment_batch,
    augmentation_throughput,
    build_augmenter,
    demo_vertical_flip,
    drop_out_of_frame,
    flip_horizontally,
    naive_flip,
    naive_flip_rmse,
    random_flip,
    seed_from,
    single_augmenter,
    to_model_arrays,
)
