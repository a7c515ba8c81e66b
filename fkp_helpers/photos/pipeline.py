"""The whole job: photos and a model file in, keypoints of every face and their files (CSV, JSON, PNG) out."""
from __future__ import annotations

import os
import warnings
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from fkp_helpers.evaluation.tta import PredictFn
from fkp_helpers.photos.detection import PhotoTooSmallError, detect_faces, load_cascade
from fkp_helpers.photos.drawing import draw_faces
from fkp_helpers.photos.model_check import load_keypoint_model
from fkp_helpers.photos.output_files import planned_outputs, write_result_files
from fkp_helpers.photos.prediction import locate_keypoints, model_predict_fn
from fkp_helpers.photos.provenance import training_data_of
from fkp_helpers.photos.reading import PhotoError, read_photo, to_gray
from fkp_helpers.photos.results import PhotoResult

PHOTOS_PER_BATCH = 16
"""Photos held in memory at once; all their faces go to the model in one batch."""


class NoFaceError(PhotoError):
    """The face detector found no face in a photo."""

    def __init__(self, path: str | os.PathLike):
        super().__init__(path, "no face found (the detector looks for upright, frontal faces of at least ~20 px)")


def find_faces(path: Path, gray: np.ndarray, cascade: cv2.CascadeClassifier) -> np.ndarray:
    """Face boxes ``(N, 4)`` of one grey photo; ``PhotoError`` if the photo is too small, ``NoFaceError`` if none."""
    try:
        boxes = detect_faces(gray, cascade)
    except PhotoTooSmallError as error:
        raise PhotoError(path, str(error)) from None
    if len(boxes) == 0:
        raise NoFaceError(path)
    return boxes


def _predict_batch(photos: list[Path], plans: list[dict[str, Path]], predict_fn: PredictFn,
                   cascade: cv2.CascadeClassifier, common: dict, flip_tta: bool, second_pass: bool) -> list[PhotoResult]:
    rgbs = [read_photo(photo) for photo in photos]
    grays = [to_gray(rgb) for rgb in rgbs]
    boxes = [find_faces(photo, gray, cascade) for photo, gray in zip(photos, grays)]
    keypoints = locate_keypoints(grays, boxes, predict_fn, flip_tta, second_pass)
    results = []
    for photo, rgb, photo_boxes, points, paths in zip(photos, rgbs, boxes, keypoints, plans):
        result = PhotoResult(photo=photo, width=rgb.shape[1], height=rgb.shape[0], boxes=photo_boxes,
                             keypoints=points.astype(np.float32), flip_tta=flip_tta, second_pass=second_pass, **common)
        results.append(replace(result, files=write_result_files(result, draw_faces(rgb, photo_boxes, points), paths)))
    return results


def predict_photos(photos: list[Path], model_path: Path, out_dir: Path, flip_tta: bool = True,
                   second_pass: bool = True) -> list[PhotoResult]:
    """Find every face in ``photos``, predict its 15 keypoints with the model at ``model_path`` and write
    ``<stem>.keypoints.csv``, ``<stem>.keypoints.json`` and ``<stem>.annotated.png`` per photo into ``out_dir``.

    Raises ``FileExistsError`` (an output file exists) and ``ModelFileError`` before any work, and ``PhotoError``
    (unreadable or tiny photo) or its ``NoFaceError`` before writing the files of the photo's batch of
    ``PHOTOS_PER_BATCH``. Warns (``UserWarning``) when the model was trained on FKP-synth.
    """
    photos = [Path(photo) for photo in photos]
    plans = planned_outputs(photos, out_dir)
    model = load_keypoint_model(model_path)
    data = training_data_of(model_path)
    if data.warning:
        warnings.warn(f"{model_path}: {data.warning}", UserWarning, stacklevel=2)
    cascade, predict_fn, common = load_cascade(), model_predict_fn(model), {"model": Path(model_path), "training_data": data}
    results = []
    for start in range(0, len(photos), PHOTOS_PER_BATCH):
        batch = slice(start, start + PHOTOS_PER_BATCH)
        results += _predict_batch(photos[batch], plans[batch], predict_fn, cascade, common, flip_tta, second_pass)
    return results
