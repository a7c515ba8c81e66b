"""The annotated copy: person's left and right keypoints in different colours, markers sized to the face."""
from __future__ import annotations

import numpy as np
import pytest

from fkp_helpers.photos.drawing import PERSONS_LEFT_RGB, PERSONS_RIGHT_RGB, draw_faces, marker_sizes


def test_keypoints_drawn_in_side_colours_without_touching_the_input():
    photo = np.zeros((200, 300, 3), np.uint8)
    keypoints = np.full((1, 15, 2), np.nan)
    keypoints[0, 0], keypoints[0, 1] = (180.0, 90.0), (120.0, 90.0)  # person's left eye is on the image's right
    out = draw_faces(photo, np.array([[90.0, 50.0, 120.0, 120.0]]), keypoints)
    assert photo.max() == 0 and out.shape == photo.shape
    assert tuple(out[90, 180]) == PERSONS_LEFT_RGB and tuple(out[90, 120]) == PERSONS_RIGHT_RGB


def test_markers_and_lines_grow_with_the_face_not_the_photo():
    assert marker_sizes(40)[0] < marker_sizes(400)[0] and marker_sizes(40)[1] < marker_sizes(400)[1]
    assert marker_sizes(400)[0] == pytest.approx(4 * marker_sizes(100)[0]), "a fixed share of the face"


def disc_pixels(face_width: float, photo_size: int) -> int:
    """How many pixels the person's left eye centre's disc covers, drawn for a face ``face_width`` pixels wide."""
    photo = np.zeros((photo_size, photo_size, 3), np.uint8)
    keypoints = np.full((1, 15, 2), np.nan)
    keypoints[0, 0] = (photo_size / 2, photo_size / 2)
    out = draw_faces(photo, np.array([[10.0, 10.0, face_width, face_width]]), keypoints)
    return int((out == PERSONS_LEFT_RGB).all(axis=-1).sum())


def test_keypoints_are_legible_on_a_large_photo():
    assert disc_pixels(120, 512) == disc_pixels(120, 2048), "the photo's size does not shrink a face's keypoints"
    assert disc_pixels(480, 2048) > 10 * disc_pixels(120, 2048), "a four times wider face: discs about 16 times larger"
    radius = marker_sizes(120)[0]
    assert radius >= 120 / 40, "a disc spans at least a twentieth of its face (the astronaut's: about 8 px of 512)"
