"""The whole job: photos and a model file in, keypoints of every face and their files (CSV, JSON, PNG) out."""
from __future__ import annotations

import os
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np

from fkp_helpers.evaluation.tta import PredictFn
from fkp_helpers.photos.detection import (
    PHOTO_SMALLEST_FACE, FaceDetector, Faces, PhotoTooSmallError, default_detector, detect_faces,
)
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
        super().__init__(path, f"no face found (the detector looks for faces at least ~{PHOTO_SMALLEST_FACE} px wide, "
                               "turned less than about 60 degrees)")


def find_faces(path: Path, rgb: np.ndarray, detector: FaceDetector) -> Faces:
    """The faces of one RGB photo; ``PhotoError`` if the photo is too small, ``NoFaceError`` if none."""
    try:
        faces = detect_faces(rgb, detector)
    except PhotoTooSmallError as error:
        raise PhotoError(path, str(error)) from None
    if len(faces) == 0:
        raise NoFaceError(path)
    return faces


def _read_faces(photo: Path, detector: FaceDetector) -> tuple[np.ndarray, np.ndarray, Faces]:
    """A photo's RGB pixels, its grey pixels and its faces; ``PhotoError`` (or ``NoFaceError``) if it has none."""
    rgb = read_photo(photo)
    return rgb, to_gray(rgb), find_faces(photo, rgb, detector)


def _predict_batch(photos: list[Path], plans: list[dict[str, Path]], predict_fn: PredictFn,
                   detector: FaceDetector, common: dict, flip_tta: bool,
                   second_pass: bool) -> list[PhotoResult | PhotoError]:
    """Each photo's result (its files written), or the ``PhotoError`` that kept it from having one."""
    outcomes: list[PhotoResult | PhotoError | None] = [None] * len(photos)
    found: dict[int, tuple[np.ndarray, np.ndarray, Faces]] = {}
    for i, photo in enumerate(photos):
        try:
            found[i] = _read_faces(photo, detector)
        except PhotoError as error:
            outcomes[i] = error
    rows = list(found)
    keypoints = locate_keypoints([found[i][1] for i in rows], [found[i][2] for i in rows], predict_fn, flip_tta,
                                 second_pass) if rows else []
    for i, points in zip(rows, keypoints):
        rgb, _, faces = found[i]
        boxes = faces.boxes
        result = PhotoResult(photo=photos[i], width=rgb.shape[1], height=rgb.shape[0], boxes=boxes,
                             keypoints=points.astype(np.float32), flip_tta=flip_tta, second_pass=second_pass, **common)
        outcomes[i] = replace(result, files=write_result_files(result, draw_faces(rgb, boxes, points), plans[i]))
    return outcomes


def predict_each_photo(photos: list[Path], model_path: Path, out_dir: Path, flip_tta: bool = True,
                       second_pass: bool = True) -> list[PhotoResult | PhotoError]:
    """Find every face in ``photos``, predict its 15 keypoints with the model at ``model_path`` and write
    ``<stem>.keypoints.csv``, ``<stem>.keypoints.json`` and ``<stem>.annotated.png`` per photo into ``out_dir``.

    Returns, in order, each photo's ``PhotoResult`` or the ``PhotoError`` (unreadable, tiny, no face) that says why it
    has none; a bad photo never stops the others. Raises ``FileExistsError`` (an output file exists: nothing is
    overwritten) and ``ModelFileError`` before any work. Warns (``UserWarning``) when the model was trained on
    FKP-synth.
    """
    photos = [Path(photo) for photo in photos]
    plans = planned_outputs(photos, out_dir)
    model = load_keypoint_model(model_path)
    data = training_data_of(model_path)
    if data.warning:
        warnings.warn(f"{model_path}: {data.warning}", UserWarning, stacklevel=2)
    detector, predict_fn, common = default_detector(), model_predict_fn(model), {"model": Path(model_path), "training_data": data}
    outcomes: list[PhotoResult | PhotoError] = []
    for start in range(0, len(photos), PHOTOS_PER_BATCH):
        batch = slice(start, start + PHOTOS_PER_BATCH)
        outcomes += _predict_batch(photos[batch], plans[batch], predict_fn, detector, common, flip_tta, second_pass)
    return outcomes


def predict_photos(photos: list[Path], model_path: Path, out_dir: Path, flip_tta: bool = True,
                   second_pass: bool = True) -> list[PhotoResult]:
    """``predict_each_photo`` for photos that must all work: the results, or the first photo's ``PhotoError`` (or
    ``NoFaceError``) raised once the other photos' files are written."""
    outcomes = predict_each_photo(photos, model_path, out_dir, flip_tta, second_pass)
    failed = [outcome for outcome in outcomes if isinstance(outcome, PhotoError)]
    if failed:
        raise failed[0]
    return outcomes
