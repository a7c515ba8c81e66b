"""Model files: atomic saves in the native ``.keras`` format, and safe loading with the project's custom objects."""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import keras

import fkp_helpers.training.losses  # noqa: F401  registers the masked loss and metrics with Keras before a load


def save_model_atomically(model: keras.Model, path: str | os.PathLike) -> Path:
    """Save in the native ``.keras`` format via a temporary file in the same folder and ``os.replace``."""
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"model files must end in .keras, got {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp_name = path.with_name(f".{path.stem}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp.keras")
    try:
        model.save(tmp_name, overwrite=True)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return path


def load_model(path: str | os.PathLike, compile: bool = True) -> keras.Model:
    """Load a ``.keras`` model written by this project with ``safe_mode=True`` (no Lambda layers, nothing pickled)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {path}")
    return keras.saving.load_model(path, compile=compile, safe_mode=True)
