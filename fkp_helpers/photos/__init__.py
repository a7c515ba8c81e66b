"""The photos stage: keypoints on any photograph (detect faces, frame them like Kaggle's images, predict, map back).

Each module holds one concern; the names below are the stage's public API, importable from here.
"""
from fkp_helpers.tensorflow_setup import import_tensorflow_quietly

import_tensorflow_quietly()

from fkp_helpers.photos.detection import FaceDetector, Faces, PhotoTooSmallError, default_detector, detect_faces
from fkp_helpers.photos.drawing import draw_faces
from fkp_helpers.photos.framing import (
    crop_faces,
    eyes_from_detector,
    frames_from_faces,
    frames_from_eyes,
    frames_from_keypoints,
    map_points,
    to_photo,
)
from fkp_helpers.photos.model_check import ModelFileError, load_keypoint_model
from fkp_helpers.photos.output_files import planned_outputs, write_new_file
from fkp_helpers.photos.pipeline import NoFaceError, predict_each_photo, predict_photos
from fkp_helpers.photos.prediction import locate_keypoints, model_predict_fn, predict_in_frames
from fkp_helpers.photos.provenance import TrainingData, training_data_of
from fkp_helpers.photos.reading import PhotoError, read_photo, to_gray
from fkp_helpers.photos.results import PhotoResult, result_record, result_table
from fkp_helpers.photos.walkthrough import (
    PhotoSteps, annotated_grid, detector_comparison, eye_line_angle_deg, faces_and_keypoints, hard_case_table, hard_cases,
    photo_figure,
    walk_through,
)
