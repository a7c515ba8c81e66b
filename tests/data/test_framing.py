import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fkp_helpers.data.framing import (
    FRAME_MARGIN,
    KAGGLE_FRAMING_PATH,
    antialias_sigma,
    compare_framing,
    framing_statistics,
    framing_table,
    kaggle_framing_reference,
    outside_source_pixels,
    sample_frame_transforms,
    similarity_matrix,
    to_mean_frame,
    transform_points,
    warp_to_frame,
)
from fkp_helpers.data.kaggle_io import read_keypoint_labels
from fkp_helpers.data.keypoints import IMAGE_SIZE
from fkp_helpers.data.synth_model import load_synth_model

REPO = Path(__file__).resolve().parents[2]
BACKGROUND = 20.0


def rendered_dot(shape: tuple[int, int], centre: np.ndarray, sigma: float) -> np.ndarray:
    """A grey image with a Gaussian dot centred at ``centre`` (pixel-index convention: pixel i's centre is at i)."""
    ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]]
    dot = 200.0 * np.exp(-((xs - centre[0]) ** 2 + (ys - centre[1]) ** 2) / (2 * sigma**2))
    return np.clip(np.rint(BACKGROUND + dot), 0, 255).astype(np.uint8)


def centroid(image: np.ndarray) -> np.ndarray:
    """Intensity-weighted centre (x, y) of what lies above the background."""
    weight = np.clip(image.astype(float) - BACKGROUND, 0, None)
    ys, xs = np.mgrid[0 : image.shape[0], 0 : image.shape[1]]
    return np.array([(weight * xs).sum(), (weight * ys).sum()]) / weight.sum()


@pytest.mark.parametrize("scale", [0.3, 0.6, 1.0, 1.7, 2.5])
def test_the_warp_and_the_keypoint_mapping_agree_on_a_rendered_dot(scale):
    rng = np.random.default_rng(int(scale * 10))
    for _ in range(3):
        dot = np.array([rng.uniform(60, 120), rng.uniform(60, 140)])
        image = rendered_dot((200, 180), dot, sigma=2.0 / scale)  # about 2 px wide once framed
        matrix = similarity_matrix(scale, rng.uniform(-0.5, 0.5), np.zeros(2))
        matrix[:2, 2] = 47.5 + rng.uniform(-5, 5, 2) - transform_points(dot[None], matrix)[0]
        framed, _ = warp_to_frame(image, matrix)
        expected = transform_points(dot[None], matrix)[0]
        assert np.linalg.norm(centroid(framed) - expected) < 0.25


def test_shrinking_is_antialiased_and_enlarging_is_not():
    assert antialias_sigma(1.0) == antialias_sigma(2.0) == 0.0
    assert 0 < antialias_sigma(0.8) < antialias_sigma(0.25)
    stripes = np.tile(np.array([0, 255], dtype=np.uint8), (384, 192))  # one-pixel stripes, shrunk by 4
    framed, _ = warp_to_frame(stripes, similarity_matrix(0.25, 0.0, np.zeros(2)))  # samples land on the 0 stripes
    assert np.abs(framed[:, 2:-2].astype(float) - 127.5).max() < 2, "no aliasing: the stripes average to grey"


def test_pixels_outside_the_source_are_counted_and_repeat_its_border():
    image = np.full((IMAGE_SIZE, IMAGE_SIZE), 90, dtype=np.uint8)
    assert outside_source_pixels(image.shape, similarity_matrix(1.0, 0.0, np.zeros(2))) == 0
    framed, filled = warp_to_frame(image, similarity_matrix(1.0, 0.0, np.array([10.0, 0.0])))
    assert filled == 10 * IMAGE_SIZE
    assert (framed == 90).all()


def test_sampled_framings_keep_the_keypoints_inside_and_follow_the_face():
    model = load_synth_model()
    faces = model.sample_shapes(np.random.default_rng(0), np.ones(40, dtype=bool)) * 3.0 + 200.0  # big source faces
    complete = np.arange(40) % 2 == 0
    transforms = sample_frame_transforms(model, np.random.default_rng(1), faces, complete)
    framed = transform_points(faces, transforms)
    assert ((framed >= FRAME_MARGIN) & (framed <= IMAGE_SIZE - 1 - FRAME_MARGIN)).all()
    linear = transforms[:, :2, :2]  # similarities (rotation and uniform scale): each face keeps its shape
    np.testing.assert_allclose(linear[:, 0, 0], linear[:, 1, 1])
    np.testing.assert_allclose(linear[:, 0, 1], -linear[:, 1, 0])
    again = sample_frame_transforms(model, np.random.default_rng(1), faces, complete)
    np.testing.assert_array_equal(transforms, again)


def test_the_mean_shape_on_a_face_maps_back_to_the_mean_shape():
    mean = load_synth_model().mean_shape
    face = transform_points(mean, similarity_matrix(2.0, 0.3, np.array([150.0, 120.0])))
    for regime in ("complete", "four_keypoint"):
        np.testing.assert_allclose(transform_points(face, to_mean_frame(face, mean, regime)), mean, atol=1e-9)


def test_framing_statistics_of_known_eyes():
    keypoints = np.full((3, 15, 2), np.nan)
    keypoints[:, 0] = [[66, 38], [66, 38], [64, 40]]  # left eye centre (image's right)
    keypoints[:, 1] = [[30, 38], [30, 38], [30, 40]]
    keypoints[2, 1] = np.nan  # one eye missing: the row is left out
    stats = framing_statistics(keypoints)
    assert stats.loc["inter-pupil distance (px)", "mean"] == 36
    assert stats.loc["roll (degrees)", "sd"] == 0
    assert list(stats.columns) == ["mean", "sd", "p5", "p95"]
    table = compare_framing(keypoints, keypoints)
    left_x = table.loc["left eye centre x (px)"]
    assert left_x[("mean", "converted")] == left_x[("mean", "kaggle")] == 66


def test_framing_table_sets_a_data_set_beside_the_committed_kaggle_reference():
    keypoints = load_synth_model().sample_shapes(np.random.default_rng(2), np.ones(50, dtype=bool)) * 0.5 + 30.0
    table = framing_table(keypoints, name="synth")
    layout = compare_framing(keypoints, keypoints, names=("synth", "kaggle"))
    assert table.columns.equals(layout.columns) and table.index.equals(layout.index)
    pd.testing.assert_frame_equal(table.xs("synth", axis=1, level=1), layout.xs("synth", axis=1, level=1))
    reference = kaggle_framing_reference()
    pd.testing.assert_frame_equal(table.xs("kaggle", axis=1, level=1), reference, check_names=False)
    assert 30 < reference.loc["inter-pupil distance (px)", "mean"] < 45


def test_the_committed_kaggle_framing_is_what_the_script_computes(real_labels_dir, tmp_path):
    out = tmp_path / "kaggle_framing.json"
    subprocess.run([sys.executable, str(REPO / "scripts" / "kaggle_framing_reference.py"), str(real_labels_dir),
                    "--out", str(out)], check=True, capture_output=True)
    assert out.read_bytes() == KAGGLE_FRAMING_PATH.read_bytes()
    labels = read_keypoint_labels(real_labels_dir / "training_keypoints.csv")
    table = framing_table(labels)
    pd.testing.assert_frame_equal(table.xs("this data", axis=1, level=1), table.xs("kaggle", axis=1, level=1),
                                  check_exact=True, check_names=False)
