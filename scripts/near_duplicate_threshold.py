"""Choose ``near_duplicates.DEFAULT_THRESHOLD`` on real faces whose person ids give the truth.

Reads the Udacity / YouTube Faces frames in ``../shared/data/udacity-p1-faces`` (about 12 frames of each of 295
people) and frames them three ways: as the converter does (``convert_udacity``: a pose drawn per face from the real
labels' spread, so frames of one clip are framed differently: the hard case for recall), and at the real labels' mean
pose, exactly and with a small jitter (3% scale, 2 degrees, 1.5 px), like crops of a face detector on consecutive
frames (every face aligned alike: the hard case for purity). For each framing and threshold it prints how well
``near_duplicate_groups`` recovers the people (``grouping_agreement``). Prints numbers only; writes nothing.

    python scripts/near_duplicate_threshold.py [FACES_DIR]
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from fkp_helpers.data.framing import similarity_matrix, to_mean_frame, warp_to_frame
from fkp_helpers.data.kaggle_io import read_test, read_training
from fkp_helpers.data.landmarks68 import kaggle_keypoints_from_ibug68
from fkp_helpers.data.near_duplicates import grouping_agreement, near_duplicate_pairs
from fkp_helpers.data.splits import image_groups, linked_groups, merge_groups
from fkp_helpers.data.synth_model import load_synth_model
from fkp_helpers.data.udacity import PERSON_FILE, convert_udacity, read_udacity

REPO = Path(__file__).resolve().parents[1]
DEFAULT_FACES = REPO.parent / "shared" / "data" / "udacity-p1-faces"
THRESHOLDS = (0.9, 0.925, 0.94, 0.95, 0.955, 0.96, 0.965, 0.97)
JITTER = np.array([0.03, np.radians(2.0), 1.5, 1.5])  # sd of log scale, angle, shift x, shift y


def converted_faces(faces_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """Training then test images of the converted faces, and the person of each."""
    with tempfile.TemporaryDirectory() as tmp:
        out = convert_udacity(faces_dir, Path(tmp) / "faces", progress=False)
        training, test = read_training(out / "training.zip"), read_test(out / "test.zip")
        people = pd.read_csv(out / PERSON_FILE)
    row = np.where(people["set"] == "training", people["position"], people["position"] + len(training.images))
    return np.concatenate([training.images, test.images]), people["person"].to_numpy()[np.argsort(row)]


def mean_pose_faces(faces_dir: Path, jitter: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Every face framed at the real labels' mean pose (complete rows), moved by a Gaussian ``jitter``."""
    faces, model, rng = read_udacity(faces_dir), load_synth_model(), np.random.default_rng(seed)
    images = []
    for points, image in zip(kaggle_keypoints_from_ibug68(faces.landmarks), faces.images):
        log_scale, angle, tx, ty = model.pose_mean["complete"] + rng.normal(size=4) * jitter
        pose = similarity_matrix(np.exp(log_scale), angle, np.array([tx, ty]))
        images.append(warp_to_frame(image, pose @ to_mean_frame(points, model.mean_shape, "complete"))[0])
    return np.stack(images), np.array(faces.persons)


def sweep(images: np.ndarray, persons: np.ndarray) -> pd.DataFrame:
    """``grouping_agreement`` with the people at each threshold, and the share of images in a group of 2+."""
    candidates = near_duplicate_pairs(images, min(THRESHOLDS))
    rows = {}
    for threshold in THRESHOLDS:
        pairs = candidates[candidates["similarity"] >= threshold]
        linked = linked_groups(len(images), pairs["first"].to_numpy(), pairs["second"].to_numpy())
        groups = merge_groups(linked, image_groups(images))
        sizes = np.bincount(groups)
        rows[threshold] = pd.concat([grouping_agreement(groups, persons, pairs), pd.Series({
            "largest group": sizes.max(), "share of images grouped": (sizes[groups] > 1).mean()})])
    return pd.DataFrame(rows).T.rename_axis("threshold")


def main() -> None:
    faces_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_FACES
    framings = {
        "converted (pose drawn per face)": lambda: converted_faces(faces_dir),
        "mean pose": lambda: mean_pose_faces(faces_dir, np.zeros(4)),
        "mean pose, jittered": lambda: mean_pose_faces(faces_dir, JITTER),
    }
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        for name, frame in framings.items():
            print(f"\n{name}\n{sweep(*frame()).round(4)}")


if __name__ == "__main__":
    main()
