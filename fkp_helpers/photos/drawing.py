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
RIM_RGB = (20, 20, 20)
"""The dark rim around each keypoint's disc: it keeps an orange or green disc visible on skin."""
KEYPOINT_COLOURS = tuple(PERSONS_LEFT_RGB if name.startswith("left_") or name == "mouth_left_corner"
                         else PERSONS_RIGHT_RGB if name.startswith("right_") or name == "mouth_right_corner"
                         else MIDLINE_RGB for name in KEYPOINT_NAMES)


MARKER_RADIUS_SHARE = 1 / 30
"""A keypoint's disc radius as a share of its face box's width: the eye's centre and corners (about a tenth of the
box apart) stay separate discs, and a face a viewer can see gets keypoints a viewer can see."""
RIM_SHARE = 0.25
"""The dark rim's width as a share of a disc's radius."""
LINE_SHARE = 1 / 80
"""The box's line width as a share of the box's width."""


def marker_sizes(box_width: float) -> tuple[float, int]:
    """``(radius, line thickness)`` in photo pixels for a face box ``box_width`` pixels wide: both scale with the
    face, not the photo, so a face's marks keep their size relative to it however large the photo is."""
    return max(1.5, box_width * MARKER_RADIUS_SHARE), max(1, round(box_width * LINE_SHARE))


def draw_faces(rgb: np.ndarray, boxes: np.ndarray, keypoints: np.ndarray) -> np.ndarray:
    """A copy of ``rgb`` ``(H, W, 3)`` with boxes ``(N, 4)`` x, y, w, h and keypoints ``(N, 15, 2)`` in photo pixels:
    each keypoint a disc in its side's colour with a dark rim, sized to its face (``marker_sizes``)."""
    out = np.ascontiguousarray(rgb, dtype=np.uint8).copy()
    shift = 4  # OpenCV draws at 1/16 px with shift=4, so markers sit on sub-pixel positions
    for index, (box, points) in enumerate(zip(np.asarray(boxes, dtype=np.float64), np.asarray(keypoints))):
        radius, thickness = marker_sizes(box[2])
        x, y, w, h = np.rint(box).astype(int)
        cv2.rectangle(out, (x, y), (x + w, y + h), BOX_RGB, thickness)
        cv2.putText(out, str(index), (x, max(0, y - 2 * thickness)), cv2.FONT_HERSHEY_SIMPLEX, max(0.4, w / 120),
                    BOX_RGB, thickness, cv2.LINE_AA)
        outer, inner = (int(round(r * 2**shift)) for r in (radius, (1 - RIM_SHARE) * radius))
        for point, colour in zip(points, KEYPOINT_COLOURS):
            if not np.isnan(point).any():
                centre = tuple(int(v) for v in np.rint(point * 2**shift))
                cv2.circle(out, centre, outer, RIM_RGB, -1, cv2.LINE_AA, shift)
                cv2.circle(out, centre, inner, colour, -1, cv2.LINE_AA, shift)
    return out
