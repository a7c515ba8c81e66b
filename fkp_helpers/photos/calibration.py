"""The Haar box to Kaggle frame calibration, measured by ``scripts/calibrate_face_boxes.py`` on real faces."""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np

CALIBRATION_PATH = Path(__file__).with_name("haar_calibration.json")


@cache
def _calibration() -> dict:
    return json.loads(CALIBRATION_PATH.read_text())


def eye_centres_in_box() -> np.ndarray:
    """Mean eye centres ``(2, 2)`` (person's left, person's right) as fractions ``(x, y)`` of a detector box."""
    eyes = _calibration()["eye_centres_in_box"]
    return np.array([eyes["left_eye_center"], eyes["right_eye_center"]])


def kaggle_eye_centres() -> np.ndarray:
    """Kaggle's mean eye centres ``(2, 2)`` (person's left, person's right) in the 96x96 frame, pixels."""
    eyes = _calibration()["kaggle_mean_eye_centres"]
    return np.array([eyes["left_eye_center"], eyes["right_eye_center"]])
