"""Loading a keypoint model for photos: one of ours (96x96x1 in, 30 pixel coordinates out), or a named error."""
from __future__ import annotations

import os
from pathlib import Path

import keras

from fkp_helpers.training.model_files import load_model
from fkp_helpers.training.models import INPUT_SHAPE, N_OUTPUTS


class ModelFileError(ValueError):
    """A model file cannot be used for keypoints; the message names the file and the problem."""

    def __init__(self, path: str | os.PathLike, problem: str):
        self.path, self.problem = Path(path), problem
        super().__init__(f"{path}: {problem}")


def check_keypoint_model(model: keras.Model, path: str | os.PathLike) -> keras.Model:
    """``model`` if it takes ``(B, 96, 96, 1)`` and returns ``(B, 30)``; else ``ModelFileError`` naming the shapes."""
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ModelFileError(path, f"expected one input and one output, found {len(model.inputs)} and {len(model.outputs)}")
    found_in, found_out = tuple(model.inputs[0].shape[1:]), tuple(model.outputs[0].shape[1:])
    if found_in != INPUT_SHAPE or found_out != (N_OUTPUTS,):
        raise ModelFileError(path, f"not an fkp keypoint model: takes {found_in} and returns {found_out}, expected "
                                   f"{INPUT_SHAPE} images and {N_OUTPUTS} coordinates")
    return model


def load_keypoint_model(path: str | os.PathLike) -> keras.Model:
    """Our ``.keras`` keypoint model at ``path``, shape-checked; ``ModelFileError`` if missing, unreadable or foreign."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(path, "no such model file")
    try:
        model = load_model(path, compile=False)
    except Exception as error:  # Keras raises many types for a damaged or incompatible file
        raise ModelFileError(path, f"unreadable, or saved by an incompatible Keras version or not by fkp "
                                   f"({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''})") from None
    return check_keypoint_model(model, path)
