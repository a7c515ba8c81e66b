"""The data stage: keypoint definitions, the Kaggle files, where a run's data comes from, splits, shapes and FKP-synth.

Each module holds one concern; the names below are the stage's public API, importable from here.
"""
from fkp_helpers.data.keypoints import (
    IMAGE_SIZE, KEYPOINT_NAMES, N_KEYPOINTS, COORDINATE_COLUMNS, ALWAYS_LABELLED, FLIP_PAIRS, keypoint_index,
    FLIP_PERMUTATION, ALWAYS_LABELLED_INDEX, OTHER_INDEX, SUBSETS, to_keypoint_array, to_coordinate_array, mirror_x,
    flip_keypoints_horizontally, complete_rows,
)
from fkp_helpers.data.kaggle_io import (
    N_PIXELS, TRAINING_HEADER, TEST_HEADER, LOOKUP_HEADER, SUBMISSION_HEADER, COORDINATE_RANGE, KaggleFormatError,
    TrainingSet, TestSet, read_csv_bytes, split_csv_lines, decode_pixels, read_training, read_keypoint_labels, read_test,
    read_lookup_table, read_sample_submission, format_pixels, format_coordinate, write_atomically,
    encode_training_csv, encode_test_csv, encode_lookup_table, encode_submission, format_location, write_zipped_csv,
)
from fkp_helpers.data.shapes import (
    similarity_transform, apply_similarity, align_to, procrustes_mean, level_eyes, alignment_residuals,
)
from fkp_helpers.data.splits import (
    first_appearance_ids, image_groups, linked_groups, merge_groups, train_val_split, training_split,
)
from fkp_helpers.data.near_duplicates import (
    THUMBNAIL_SIZE, DEFAULT_THRESHOLD, BLOCK_ROWS, thumbnail_features, near_duplicate_pairs, near_duplicate_groups,
    group_summary, grouping_agreement,
)
from fkp_helpers.data.datasets import (
    PROJECT_ROOT, RAW_DIR, SYNTH_ROOT, KAGGLE_FILES, CACHE_DIR_NAME, HiddenTruth, SeriesData, find_kaggle_file,
    missing_kaggle_files, synth_dir_for, resolve_data_dir, ensure_synth, file_digest, cached_arrays,
    load_training_set, load_test_set, load_hidden_truth, describe_source, load_series_data, REAL_FACES_DIR,
    UDACITY_SOURCES, UDACITY_ZIP_PATH, UDACITY_FOLDER, real_data_dir, udacity_source, read_info, source_of,
    split_groups,
)
from fkp_helpers.data.synth_model import (
    MODEL_PATH, MAX_MODE_SD, pattern_to_string, string_to_pattern, SynthModel, load_synth_model,
)
from fkp_helpers.data.synth import (
    RENDER_CHUNK, TRUTH_FILE, INFO_FILE, FaceStyle, sample_style, render_face, SynthSpec, sample_keypoints,
    generate_fkp_synth, lookup_frame, write_truth,
)
from fkp_helpers.data.landmarks68 import (
    N_IBUG68, IBUG68_FOR_KAGGLE, IBUG68_MIRROR_PAIRS, IBUG68_MIDLINE, ibug68_mirror_permutation,
    kaggle_keypoints_from_ibug68,
)
from fkp_helpers.data.landmark_offset import (
    X_OFFSET_PATH, MIN_MATCH, MirrorAxis, mirror_axis_offset, mirror_face, mirror_axis_table, x_offset_estimate,
    load_x_offset, shift_x,
)
from fkp_helpers.data.framing import (
    REGIME_POINTS, FRAME_MARGIN, MAX_POSE_ROUNDS, FRAMING_STATISTICS, similarity_matrix, transform_points,
    to_mean_frame, sample_frame_transforms, antialias_sigma, outside_source_pixels, warp_to_frame,
    KAGGLE_FRAMING_PATH, KAGGLE_FRAMING_SOURCE, eye_centres, framing_statistics, side_by_side, compare_framing,
    kaggle_framing_record, kaggle_framing_reference, framing_table,
)
from fkp_helpers.data.udacity import (
    UDACITY_CSVS, UDACITY_HEADER, PERSON_FILE, GENERATOR, SOURCE_NOTE, LICENCE_NOTE, UdacityFormatError, UdacityFaces,
    person_of, decode_grey_image, read_udacity, landmarks_outside_image, split_people, convert_udacity, UDACITY_ZIP,
    person_groups, stale_conversion, X_OFFSET_KEY,
)
from fkp_helpers.data.kaggle_download import (
    COMPETITION, RULES_URL, DATA_URL, OFFICIAL_GIT_BLOB_IDS, COMPETITION_FILES, git_blob_id, verify_official_copies,
    credentials_file, has_credentials, manual_instructions, download_competition, find_kaggle_cli,
)
from fkp_helpers.data.udacity_download import UDACITY_URL, download_udacity, manual_faces_instructions
