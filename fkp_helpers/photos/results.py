"""What prediction found in one photo, and its two file forms: a table (one row a face) and a JSON record."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from fkp_helpers.data.keypoints import COORDINATE_COLUMNS, KEYPOINT_NAMES, N_KEYPOINTS, to_coordinate_array
from fkp_helpers.photos.provenance import TrainingData

BOX_COLUMNS = ("box_x", "box_y", "box_width", "box_height")
COORDINATES = "photo pixels, pixel-index convention (centre of pixel column i is x = i); left = the person's left"


@dataclass(frozen=True)
class PhotoResult:
    """Face boxes ``(N, 4)`` x, y, w, h and keypoints ``(N, 15, 2)`` in a photo's pixels, how they were made, and
    the files written (csv, json, png)."""

    photo: Path
    width: int
    height: int
    boxes: np.ndarray
    keypoints: np.ndarray
    model: Path
    training_data: TrainingData
    flip_tta: bool
    second_pass: bool
    files: dict[str, Path] = field(default_factory=dict)


def result_table(result: PhotoResult) -> pd.DataFrame:
    """One row a face: photo, face index, box, the 30 coordinates (Kaggle's column names), model and data source."""
    table = pd.DataFrame(to_coordinate_array(np.asarray(result.keypoints, dtype=np.float64).reshape(-1, N_KEYPOINTS, 2)),
                         columns=list(COORDINATE_COLUMNS))
    table.insert(0, "photo", str(result.photo))
    table.insert(1, "face", np.arange(len(table)))
    for i, column in enumerate(BOX_COLUMNS):
        table.insert(2 + i, column, np.asarray(result.boxes, dtype=np.float64).reshape(-1, 4)[:, i])
    table["model"] = str(result.model)
    table["training_data"] = result.training_data.source
    return table


def result_record(result: PhotoResult) -> dict:
    """The JSON form: the photo, the model and its training data, the settings, and each face's box and keypoints."""
    faces = [{"face": i, "box": dict(zip(BOX_COLUMNS, map(float, box))),
              "keypoints": {name: [float(x), float(y)] for name, (x, y) in zip(KEYPOINT_NAMES, points)}}
             for i, (box, points) in enumerate(zip(result.boxes, result.keypoints))]
    data = result.training_data
    return {"photo": str(result.photo), "width": result.width, "height": result.height, "coordinates": COORDINATES,
            "model": str(result.model),
            "training_data": {"source": data.source, "description": data.description,
                              "found_in": None if data.found_in is None else str(data.found_in), "warning": data.warning},
            "flip_tta": result.flip_tta, "second_pass": result.second_pass, "faces": faces}
