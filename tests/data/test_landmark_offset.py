import numpy as np
import pandas as pd
import pytest

from fkp_helpers.data.landmark_offset import (
    X_OFFSET_PATH,
    load_x_offset,
    mirror_axis_offset,
    mirror_face,
    shift_x,
    x_offset_estimate,
)
from fkp_helpers.data.landmarks68 import IBUG68_MIDLINE, IBUG68_MIRROR_PAIRS, N_IBUG68, ibug68_mirror_permutation


def symmetric_face(axis: float, size: float = 1.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A grey image mirror-symmetric about x = ``axis`` (pixel-index convention) and 68 landmarks symmetric about
    it: a blob at every landmark on a face-shaped ellipse, ``size`` times a ~40 px inter-pupil face."""
    rng = np.random.default_rng(seed)
    points = np.zeros((N_IBUG68, 2))
    # (image-left point of the pair, its distance left of the axis, its height): brows, nose, eyes, lips, jaw
    for a, b in IBUG68_MIRROR_PAIRS:
        region = {a < 17: (30, 55, 60, 110), 17 <= a < 27: (5, 40, 35, 40), 27 <= a < 36: (3, 10, 70, 75),
                  36 <= a < 48: (8, 30, 48, 54), a >= 48: (4, 22, 84, 96)}[True]
        dx, y = rng.uniform(region[0], region[1]), rng.uniform(region[2], region[3])
        points[a], points[b] = (axis - dx * size, y * size), (axis + dx * size, y * size)
    for k in IBUG68_MIDLINE:
        points[k] = axis, rng.uniform(55, 100) * size
    points[[36, 39, 45, 42], 1] = 51 * size  # level eyes
    height, width = int(130 * size), int(2 * axis + 1)
    ys, xs = np.mgrid[0:height, 0:width].astype(float)
    image = 60 + 80 * np.exp(-(((xs - axis) / (45 * size)) ** 2 + ((ys - 70 * size) / (60 * size)) ** 2))
    for x, y in points:
        image += 90 * np.exp(-((xs - x) ** 2 + (ys - y) ** 2) / (2 * (2.0 * size) ** 2))
    return np.clip(image, 0, 255).astype(np.float32), points


@pytest.mark.parametrize("shift", [0.0, 1.5, -2.0])
@pytest.mark.parametrize("size", [0.6, 1.0, 1.8])
def test_a_shift_of_the_landmarks_is_measured_in_source_pixels(shift, size):
    image, points = symmetric_face(axis=80.3 * size, size=size)
    measured = mirror_axis_offset(image, shift_x(points, -shift))
    assert measured is not None and measured.match > 0.9
    assert measured.offset_px == pytest.approx(shift, abs=0.1)


def test_mirroring_a_face_reverses_its_offset_and_twice_restores_it():
    image, points = symmetric_face(axis=70.6, seed=3)
    shifted = shift_x(points, -1.0)
    mirrored = mirror_face(image, shifted)
    assert mirror_axis_offset(*mirrored).offset_px == pytest.approx(-1.0, abs=0.1)
    twice = mirror_face(*mirrored)
    np.testing.assert_array_equal(twice[0], image)
    np.testing.assert_allclose(twice[1], shifted)


def test_no_clear_axis_within_the_search_gives_none():
    image, points = symmetric_face(axis=80.3)
    assert mirror_axis_offset(image, shift_x(points, 10.0)) is None


def test_the_estimate_cancels_what_the_measurement_adds_and_skips_poor_matches():
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 0.5, 400)
    table = pd.DataFrame({"offset_px": 1.2 + 0.3 + noise, "mirrored_offset_px": -1.2 + 0.3 + noise,
                          "match": np.r_[np.full(300, 0.8), np.full(100, 0.3)], "yaw": 0.0})
    table.loc[300:, "offset_px"] = 9.0  # poor matches: never used
    table.loc[5, "mirrored_offset_px"] = np.nan
    estimate = x_offset_estimate(table)
    assert estimate["x_offset_px"] == pytest.approx(1.2)
    assert estimate["method_offset_px"] == pytest.approx(0.3 + noise[np.r_[0:5, 6:300]].mean())
    assert (estimate["faces"], estimate["faces_measured"]) == (299, 400)
    with pytest.raises(ValueError, match="0.9"):
        x_offset_estimate(table, min_match=0.9)


def test_the_standard_error_counts_people_not_frames():
    """Each person's frames share that person's error: with people as the units, 60 frames of 12 people carry
    the evidence of 12 measurements."""
    rng = np.random.default_rng(1)
    per_person = rng.normal(1.2, 0.4, 12)
    half = np.repeat(per_person, 5)
    table = pd.DataFrame({"offset_px": 0.3 + half, "mirrored_offset_px": 0.3 - half, "match": 0.8, "yaw": 0.0,
                          "person": np.repeat([f"p{i}" for i in range(12)], 5)})
    estimate = x_offset_estimate(table)
    assert estimate["standard_error_px"] == pytest.approx(per_person.std(ddof=1) / np.sqrt(12))
    assert (estimate["faces"], estimate["people"]) == (60, 12)
    frames_only = x_offset_estimate(table.drop(columns="person"))
    assert frames_only["standard_error_px"] < 0.5 * estimate["standard_error_px"] and "people" not in frames_only


def test_shift_x_moves_x_only_and_copies():
    points = np.array([[[10, 20], [30, 40]]])
    moved = shift_x(points, 1.25)
    np.testing.assert_array_equal(moved, [[[8.75, 20], [28.75, 40]]])
    assert points[0, 0, 0] == 10


def test_the_mirror_pairs_cover_every_landmark_once():
    permutation = ibug68_mirror_permutation()
    np.testing.assert_array_equal(permutation[permutation], np.arange(N_IBUG68))
    paired = [k for pair in IBUG68_MIRROR_PAIRS for k in pair]
    assert sorted(paired + list(IBUG68_MIDLINE)) == list(range(N_IBUG68))


def test_the_committed_estimate_is_read():
    assert X_OFFSET_PATH.is_file()
    assert 0.5 < load_x_offset() < 2.0
