"""The face box to Kaggle frame calibration, measured by ``scripts/calibrate_face_boxes.py`` on real faces."""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np

CALIBRATION_PATH = Path(__file__).with_name("face_box_calibration.json")


@cache
def _calibration() -> dict:
    return json.loads(CALIBRATION_PATH.read_text())


def eye_centres_from_detector() -> np.ndarray:
    """Mean eye centres ``(2, 2)`` (person's left, person's right) in the frame of the detector's eye points: origin
    at their midpoint, x along the line from the person's right to left point, y across it, unit their distance."""
    eyes = _calibration()["eye_centres_from_detector"]
    return np.array([eyes["left_eye_center"], eyes["right_eye_center"]])


def kaggle_eye_centres() -> np.ndarray:
    """Kaggle's mean eye centres ``(2, 2)`` (person's left, person's right) in the 96x96 frame, pixels."""
    eyes = _calibration()["kaggle_mean_eye_centres"]
    return np.array([eyes["left_eye_center"], eyes["right_eye_center"]])
