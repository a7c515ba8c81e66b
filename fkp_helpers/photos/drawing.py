"""An annotated copy of a photo: each face's box and index, and its keypoints coloured by side of the person."""
from __future__ import annotations

import cv2
import numpy as np

from fkp_helpers.data.keypoints import KEYPOINT_NAMES

PERSONS_LEFT_RGB = (255, 140, 0)
"""Kaggle's ``left_*`` keypoints (the person's left, the image's right): orange."""
PERSONS_RIGHT_RGB = (0, 160, 255)
"""Kaggle's ``right_*`` keypoints (the person's right, the image's left): blue."""
MIDLINE_RGB = (40, 220, 40)
"""Nose tip and lip centres: green."""
BOX_RGB = (255, 230, 0)
KEYPOINT_COLOURS = tuple(PERSONS_LEFT_RGB if name.startswith("left_") or name == "mouth_left_corner"
                         else PERSONS_RIGHT_RGB if name.startswith("right_") or name == "mouth_right_corner"
                         else MIDLINE_RGB for name in KEYPOINT_NAMES)


def marker_sizes(box_width: float, photo_shape: tuple[int, ...]) -> tuple[int, int]:
    """``(radius, line thickness)`` in pixels: markers scale with the face, lines with the photo."""
    return max(1, round(box_width / 45)), max(1, round(max(photo_shape[:2]) / 400))


def draw_faces(rgb: np.ndarray, boxes: np.ndarray, keypoints: np.ndarray) -> np.ndarray:
    """A copy of ``rgb`` ``(H, W, 3)`` with boxes ``(N, 4)`` x, y, w, h and keypoints ``(N, 15, 2)`` in photo pixels."""
    out = np.ascontiguousarray(rgb, dtype=np.uint8).copy()
    shift = 4  # OpenCV draws at 1/16 px with shift=4, so markers sit on sub-pixel positions
    for index, (box, points) in enumerate(zip(np.asarray(boxes, dtype=np.float64), np.asarray(keypoints))):
        radius, thickness = marker_sizes(box[2], out.shape)
        x, y, w, h = np.rint(box).astype(int)
        cv2.rectangle(out, (x, y), (x + w, y + h), BOX_RGB, thickness)
        cv2.putText(out, str(index), (x, max(0, y - 2 * thickness)), cv2.FONT_HERSHEY_SIMPLEX, max(0.4, w / 250),
                    BOX_RGB, thickness, cv2.LINE_AA)
        for point, colour in zip(points, KEYPOINT_COLOURS):
            if not np.isnan(point).any():
                centre = tuple(int(v) for v in np.rint(point * 2**shift))
                cv2.circle(out, centre, radius * 2**shift, colour, -1, cv2.LINE_AA, shift)
    return out
