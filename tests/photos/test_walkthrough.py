"""Tests for fkp_helpers.photos.walkthrough: notebook 05's step-by-step view and its hard cases."""
from __future__ import annotations

import cv2
import matplotlib
import numpy as np
import pytest
from skimage import data

matplotlib.use("Agg")

from fkp_helpers.data.keypoints import N_KEYPOINTS, keypoint_index  # noqa: E402
from fkp_helpers.photos.walkthrough import (  # noqa: E402
    PHOTO_DPI,
    annotated_grid,
    eye_line_angle_deg,
    faces_and_keypoints,
    hard_case_table,
    hard_cases,
    photo_figure,
    walk_through,
)


def mean_face_model(images: np.ndarray) -> np.ndarray:
    """A stand-in model: the same level, mirror-symmetric keypoints for every crop (x -> 95 - x swaps the eyes)."""
    points = np.full((N_KEYPOINTS, 2), 47.5)
    points[keypoint_index("left_eye_center")] = (66.0, 38.0)
    points[keypoint_index("right_eye_center")] = (29.0, 38.0)
    return np.repeat(points[None], len(images), axis=0)


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return data.astronaut()


def test_walk_through_keeps_every_step_and_maps_back_into_the_photo(astronaut):
    steps = walk_through(astronaut, mean_face_model)
    assert len(steps.boxes) == 1 and steps.first_crops.shape == steps.second_crops.shape == (1, 96, 96)
    np.testing.assert_allclose(steps.second_in_crop, mean_face_model(steps.second_crops), atol=1e-6)
    x, y, w, h = steps.boxes[0]
    eyes = steps.keypoints[0, [keypoint_index("left_eye_center"), keypoint_index("right_eye_center")]]
    assert np.all((eyes[:, 0] > x) & (eyes[:, 0] < x + w) & (eyes[:, 1] > y) & (eyes[:, 1] < y + h))
    assert eyes[0, 0] > eyes[1, 0], "the person's left eye is on the image's right"


def test_eye_line_angle_is_zero_for_level_eyes_and_signed_otherwise():
    points = mean_face_model(np.zeros((2, 96, 96)))
    points[1, keypoint_index("left_eye_center"), 1] += 37.0  # left eye 37 px lower over 37 px: 45 degrees
    np.testing.assert_allclose(eye_line_angle_deg(points), [0.0, 45.0], atol=1e-9)


def test_hard_cases_show_what_the_detector_finds(astronaut):
    cases = hard_cases(astronaut)
    assert all(case.shape == astronaut.shape and case.dtype == np.uint8 for case in cases.values())
    table = hard_case_table(cases, mean_face_model)
    assert table["faces found"].eq(1).all(), "BlazeFace finds the face in every case, the rolled one included"
    assert table.loc["small face (1/6 size)", "face width (px)"] == pytest.approx(table.loc["as it is", "face width (px)"] / 6,
                                                                                 rel=0.25)
    assert abs(table.loc["as it is", "eye line (degrees)"]) < 10 and abs(table.loc["mirrored", "eye line (degrees)"]) < 10
    # the stand-in model repeats the first frame's eyes, so the rolled face's eye line is the detector's: it follows
    # the roll (her eyes turn -50 degrees, the image's right eye up) but falls short of it (about -32)
    assert -55 < table.loc["rolled 50 degrees", "eye line (degrees)"] < -20
    boxes, keypoints = faces_and_keypoints(cases["rolled 50 degrees"], mean_face_model)
    between_eyes = cv2.getRotationMatrix2D((256, 256), 50, 1.0) @ [220.0, 115.0, 1.0]
    assert boxes.shape == (1, 4) and keypoints.shape == (1, N_KEYPOINTS, 2)
    x, y, w, h = boxes[0]
    assert x <= between_eyes[0] <= x + w and y <= between_eyes[1] <= y + h, "the box is on her rolled face"
    figure = annotated_grid(cases, mean_face_model)
    assert len(figure.axes) == 6 and [ax.get_title() for ax in figure.axes] == [f"{name}: 1 face(s)" for name in cases]


def test_a_photo_without_a_face_gives_empty_boxes_keypoints_and_an_empty_panel():
    wall = np.full((240, 320, 3), 128, np.uint8)
    boxes, keypoints = faces_and_keypoints(wall, mean_face_model)
    assert boxes.shape == (0, 4) and keypoints.shape == (0, N_KEYPOINTS, 2)
    table = hard_case_table({"wall": wall}, mean_face_model)
    assert table.loc["wall", "faces found"] == 0 and np.isnan(table.loc["wall", "eye line (degrees)"])
    assert annotated_grid({"wall": wall}, mean_face_model, columns=1).axes[0].get_title() == "wall: 0 face(s)"


def test_photo_figures_are_drawn_at_screen_resolution(astronaut):
    figure = photo_figure(astronaut, "title")
    assert figure.dpi == PHOTO_DPI and figure.axes[0].get_title() == "title"
    assert annotated_grid({"as it is": astronaut}, mean_face_model, columns=1).dpi == PHOTO_DPI
