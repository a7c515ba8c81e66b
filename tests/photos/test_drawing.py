"""The annotated copy: person's left and right keypoints in different colours, markers sized to the face."""
from __future__ import annotations

import numpy as np

from fkp_helpers.photos.drawing import PERSONS_LEFT_RGB, PERSONS_RIGHT_RGB, draw_faces, marker_sizes


def test_keypoints_drawn_in_side_colours_without_touching_the_input():
    photo = np.zeros((200, 300, 3), np.uint8)
    keypoints = np.full((1, 15, 2), np.nan)
    keypoints[0, 0], keypoints[0, 1] = (180.0, 90.0), (120.0, 90.0)  # person's left eye is on the image's right
    out = draw_faces(photo, np.array([[90.0, 50.0, 120.0, 120.0]]), keypoints)
    assert photo.max() == 0 and out.shape == photo.shape
    assert tuple(out[90, 180]) == PERSONS_LEFT_RGB and tuple(out[90, 120]) == PERSONS_RIGHT_RGB


def test_markers_grow_with_the_face_and_lines_with_the_photo():
    assert marker_sizes(40, (100, 100))[0] < marker_sizes(400, (100, 100))[0]
    assert marker_sizes(40, (400, 400))[1] < marker_sizes(40, (4000, 4000))[1]
