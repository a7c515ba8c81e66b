"""Result files: names per photo, atomic writes that never replace an existing file, and their content."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fkp_helpers.photos.output_files import planned_outputs, unique_stems, write_new_file
from fkp_helpers.photos.provenance import TrainingData
from fkp_helpers.photos.results import PhotoResult, result_record, result_table


def test_unique_stems_for_photos_with_the_same_name():
    assert unique_stems([Path("a/face.jpg"), Path("b/face.png"), Path("c.jpg")]) == ["face", "face-2", "c"]
    assert unique_stems([Path("face.jpg"), Path("face.png"), Path("face-2.jpg")]) == ["face", "face-2", "face-2-2"]


def test_existing_output_is_refused_before_anything_is_written(tmp_path):
    (tmp_path / "face.keypoints.json").write_text("mine")
    with pytest.raises(FileExistsError, match="face.keypoints.json"):
        planned_outputs([Path("face.jpg")], tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["face.keypoints.json"]


def test_write_new_file_never_replaces_and_leaves_no_temporary(tmp_path):
    write_new_file(tmp_path / "out" / "a.csv", b"new")
    with pytest.raises(FileExistsError):
        write_new_file(tmp_path / "out" / "a.csv", b"other")
    assert (tmp_path / "out" / "a.csv").read_bytes() == b"new"
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["a.csv"]


def test_table_and_record_hold_boxes_keypoints_model_and_data():
    keypoints = np.arange(2 * 30, dtype=np.float32).reshape(2, 15, 2)
    result = PhotoResult(Path("p.jpg"), 640, 480, np.array([[1, 2, 3, 4], [5, 6, 7, 8]], float), keypoints,
                         Path("run/models/vgg.keras"), TrainingData("kaggle", "the real Kaggle files"), True, True)
    table = result_table(result)
    assert list(table["face"]) == [0, 1] and table.loc[1, "box_x"] == 5
    assert table.loc[1, "nose_tip_x"] == keypoints[1, 10, 0] and set(table["training_data"]) == {"kaggle"}
    record = result_record(result)
    assert record["faces"][1]["keypoints"]["left_eye_center"] == [30.0, 31.0]
    assert record["training_data"]["source"] == "kaggle" and record["model"] == "run/models/vgg.keras"
