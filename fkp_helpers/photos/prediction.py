"""Keypoints of every face of every photo: crop all faces, one model call per batch, map back to the photos."""
from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np

from fkp_helpers.data.keypoints import N_KEYPOINTS
from fkp_helpers.evaluation.tta import PredictFn, predict_with_flip_tta
from fkp_helpers.photos.detection import Faces
from fkp_helpers.photos.framing import crop_faces, frames_from_faces, frames_from_keypoints, to_photo
from fkp_helpers.training.models import model_inputs, predict_keypoints, to_keypoint_array

DIRECT_CALL_MAX = 64
"""Batches of up to this many faces call the model directly: ``Model.predict`` costs tens of ms a call."""


def compiled_call(model: keras.Model) -> Callable[[np.ndarray], np.ndarray]:
    """The model's forward pass (inference mode) as one compiled graph where the backend is TensorFlow: an eager call
    dispatches layer by layer, which costs more than a small model's arithmetic."""
    if keras.backend.backend() != "tensorflow":
        return lambda inputs: model(inputs, training=False)
    import tensorflow as tf

    return tf.function(lambda inputs: model(inputs, training=False), reduce_retracing=True)


def model_predict_fn(model: keras.Model) -> PredictFn:
    """A ``PredictFn`` for a keypoint model: uint8 crops ``(N, 96, 96)`` in, ``(N, 15, 2)`` frame pixels out."""

    call = compiled_call(model)

    def predict(images: np.ndarray) -> np.ndarray:
        if len(images) > DIRECT_CALL_MAX:
            return predict_keypoints(model, images)
        return to_keypoint_array(np.asarray(call(model_inputs(images)), dtype=np.float32))

    return predict


def predict_in_frames(grays: list[np.ndarray], frames: list[np.ndarray], predict_fn: PredictFn,
                      flip_tta: bool = True) -> list[np.ndarray]:
    """Keypoints ``(n_i, 15, 2)`` in photo pixels for each photo's frames ``(n_i, 2, 3)``: one batch for all faces."""
    if not frames:
        return []
    crops = np.concatenate([crop_faces(gray, photo_frames) for gray, photo_frames in zip(grays, frames)])
    if len(crops) == 0:
        return [np.zeros((0, N_KEYPOINTS, 2)) for _ in frames]
    in_frame = predict_with_flip_tta(predict_fn, crops) if flip_tta else np.asarray(predict_fn(crops), dtype=np.float64)
    counts = np.cumsum([len(photo_frames) for photo_frames in frames])[:-1]
    return [to_photo(points, photo_frames) for points, photo_frames in zip(np.split(in_frame, counts), frames)]


def locate_keypoints(grays: list[np.ndarray], faces: list[Faces], predict_fn: PredictFn, flip_tta: bool = True,
                     second_pass: bool = True) -> list[np.ndarray]:
    """Keypoints ``(n_i, 15, 2)`` in photo pixels for each photo's detected faces; the second pass re-frames
    each face from its first prediction (eyes level, scale and centre from the eyes) and predicts again."""
    keypoints = predict_in_frames(grays, [frames_from_faces(photo_faces) for photo_faces in faces], predict_fn, flip_tta)
    if second_pass:
        keypoints = predict_in_frames(grays, [frames_from_keypoints(points) for points in keypoints], predict_fn, flip_tta)
    return keypoints
