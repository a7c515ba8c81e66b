"""Photos for the photo tests: the astronaut, real Udacity faces pasted into larger canvases, and tiny model files."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from fkp_helpers.photos.reading import read_photo, to_gray
from fkp_helpers.training.model_files import save_model_atomically
from fkp_helpers.training.models import build_nouri_net

SHARED = Path(__file__).resolve().parents[3] / "shared"
FACES = SHARED / "data" / "udacity-p1-faces"
FACE_FILES = ("Lincoln_Chafee_52.jpg", "Angelo_Reyes_22.jpg", "Albert_Brooks_12.jpg", "James_Hoffa_51.jpg")


@dataclass(frozen=True)
class Face:
    """A real face: grey image and its eye centres ``(2, 2)`` (person's left, person's right) in its pixels."""

    gray: np.ndarray
    eyes: np.ndarray


@pytest.fixture(scope="session")
def real_faces() -> list[Face]:
    """Four Udacity training faces with their landmark eye centres; skips where ../shared is absent."""
    if not (FACES / "training_frames_keypoints.csv").is_file():
        pytest.skip(f"the Udacity real faces are not in {FACES}")
    table = pd.read_csv(FACES / "training_frames_keypoints.csv", index_col=0).loc[list(FACE_FILES)]
    points = table.to_numpy(dtype=np.float64).reshape(-1, 68, 2)
    eyes = np.stack([points[:, 42:48].mean(axis=1), points[:, 36:42].mean(axis=1)], axis=1)
    return [Face(to_gray(read_photo(FACES / "training" / name)), face_eyes) for name, face_eyes in zip(FACE_FILES, eyes)]


def placement(face: Face, eye_distance: float, angle_deg: float, centre: tuple[float, float], mirror: bool) -> np.ndarray:
    """``(2, 3)`` matrix putting ``face`` into a canvas: its eye midpoint at ``centre``, eyes ``eye_distance`` apart."""
    scale = eye_distance / float(np.linalg.norm(face.eyes[0] - face.eyes[1]))
    linear = cv2.getRotationMatrix2D((0.0, 0.0), angle_deg, scale)[:, :2]
    if mirror:
        linear = np.diag([-1.0, 1.0]) @ linear
    return np.c_[linear, np.asarray(centre) - linear @ face.eyes.mean(axis=0)]

def paste(canvas: np.ndarray, face: Face, eye_distance: float, centre: tuple[float, float], angle_deg: float = 0.0,
          mirror: bool = False) -> np.ndarray:
    """Paste ``face`` into ``canvas`` in place; returns its eye centres ``(2, 2)`` (person's left, right) there."""
    matrix = placement(face, eye_distance, angle_deg, centre, mirror)
    size = (canvas.shape[1], canvas.shape[0])
    warped = cv2.warpAffine(face.gray, matrix, size, flags=cv2.INTER_AREA)
    mask = cv2.warpAffine(np.ones_like(face.gray), matrix, size, flags=cv2.INTER_NEAREST).astype(bool)
    canvas[mask] = warped[mask]
    eyes = face.eyes @ matrix[:, :2].T + matrix[:, 2]
    return eyes[::-1] if mirror else eyes  # a mirror image's person's left eye is the original's right eye


def blank_canvas(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A textured grey background."""
    noise = np.random.default_rng(seed).normal(120, 12, (height // 8 + 1, width // 8 + 1))
    return cv2.resize(np.clip(noise, 0, 255).astype(np.uint8), (width, height), interpolation=cv2.INTER_LINEAR)


def four_faces(faces: list[Face]) -> tuple[np.ndarray, list[np.ndarray]]:
    """A 900x400 canvas with four real faces (eyes 30-60 px apart, two rotated, two mirrored), left to right, and
    their eye centres."""
    canvas = blank_canvas(400, 900)
    eyes = [paste(canvas, faces[0], 40, (120, 200)),
            paste(canvas, faces[1], 60, (350, 180), angle_deg=8),
            paste(canvas, faces[2], 30, (560, 220), mirror=True),
            paste(canvas, faces[3], 50, (760, 200), angle_deg=-6, mirror=True)]
    return canvas, eyes


def contains(box: np.ndarray, point: np.ndarray) -> bool:
    """Whether ``point`` lies in ``box`` x, y, w, h."""
    return bool(box[0] <= point[0] <= box[0] + box[2] and box[1] <= point[1] <= box[1] + box[3])


def save_image(array: np.ndarray, path: Path, **save_args) -> Path:
    """Save an array with Pillow (format from ``save_args`` or the suffix)."""
    Image.fromarray(array).save(path, **save_args)
    return path


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory) -> Path:
    """An untrained, tiny fkp keypoint model saved as ``<run_dir>/models/tiny.keras``."""
    model = build_nouri_net(filters=(4,), kernel_sizes=(3,), dense_units=(8,), name="tiny")
    return save_model_atomically(model, tmp_path_factory.mktemp("run") / "models" / "tiny.keras")
