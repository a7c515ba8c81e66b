"""The whole job on real photos: files per photo, the FKP-synth warning, and every bad input's named error."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from skimage import data

from fkp_helpers.photos.model_check import ModelFileError
from fkp_helpers.photos.pipeline import NoFaceError, predict_each_photo, predict_photos
from fkp_helpers.photos.reading import PhotoError
from fkp_helpers.photos.results import PhotoResult

from .conftest import blank_canvas, four_faces, save_image


@pytest.fixture
def synth_run_model(tiny_model_path, tmp_path):
    """A copy of the tiny model in a run folder whose training_results.json says FKP-synth."""
    (tmp_path / "run" / "models").mkdir(parents=True)
    (tmp_path / "run" / "training_results.json").write_text(json.dumps({"source": "fkp-synth", "data": "FKP-synth"}))
    return Path(shutil.copy(tiny_model_path, tmp_path / "run" / "models"))


def test_photos_give_csv_json_and_png_and_a_synth_warning(tmp_path, synth_run_model, real_faces):
    astronaut = save_image(data.astronaut(), tmp_path / "astronaut.png")
    group = save_image(four_faces(real_faces)[0], tmp_path / "group.png")
    with pytest.warns(UserWarning, match="FKP-synth"):
        results = predict_photos([astronaut, group], synth_run_model, tmp_path / "out")
    assert [len(r.boxes) for r in results] == [1, 4]
    table = pd.read_csv(results[1].files["csv"])
    assert len(table) == 4 and table["training_data"].eq("fkp-synth").all()
    record = json.loads(results[0].files["json"].read_text())
    assert record["training_data"]["warning"] and record["flip_tta"] and len(record["faces"]) == 1
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "astronaut.annotated.png", "astronaut.keypoints.csv", "astronaut.keypoints.json",
        "group.annotated.png", "group.keypoints.csv", "group.keypoints.json"]
    before = {p: p.read_bytes() for p in (tmp_path / "out").iterdir()}
    with pytest.raises(FileExistsError, match="already exist"):
        predict_photos([astronaut], synth_run_model, tmp_path / "out")
    assert {p: p.read_bytes() for p in (tmp_path / "out").iterdir()} == before


@pytest.mark.parametrize("make, error, problem", [
    (lambda path: save_image(blank_canvas(200, 300), path), NoFaceError, "no face found"),
    (lambda path: save_image(np.zeros((16, 16), np.uint8), path), PhotoError, "16x16 px"),
    (lambda path: path.write_bytes(b"not an image") and path, PhotoError, "not an image"),
])
def test_bad_photos_get_named_errors_and_nothing_is_written(tmp_path, tiny_model_path, make, error, problem):
    path = make(tmp_path / "bad.png")
    with pytest.raises(error, match=problem) as raised:
        predict_photos([path], tiny_model_path, tmp_path / "out")
    assert raised.value.path == path and not (tmp_path / "out").exists()


def test_a_bad_photo_among_good_ones_gets_its_error_and_the_others_their_files(tmp_path, tiny_model_path):
    astronaut = save_image(data.astronaut(), tmp_path / "astronaut.png")
    (tmp_path / "empty.png").write_bytes(b"")
    wall = save_image(blank_canvas(200, 300), tmp_path / "wall.png")
    outcomes = predict_each_photo([tmp_path / "empty.png", astronaut, wall], tiny_model_path, tmp_path / "out")
    assert [type(outcome) for outcome in outcomes] == [PhotoError, PhotoResult, NoFaceError]
    assert outcomes[0].path == tmp_path / "empty.png" and outcomes[2].path == wall
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "astronaut.annotated.png", "astronaut.keypoints.csv", "astronaut.keypoints.json"]
    with pytest.raises(PhotoError, match=r"empty\.png: not an image Pillow can read"):
        predict_photos([astronaut, tmp_path / "empty.png"], tiny_model_path, tmp_path / "again")
    assert len(list((tmp_path / "again").iterdir())) == 3, "the good photo's files are written first"


def test_wrong_model_file_is_refused(tmp_path):
    (tmp_path / "model.keras").write_bytes(b"junk")
    with pytest.raises(ModelFileError, match=r"model\.keras: unreadable, or saved by an incompatible Keras version "
                                             r"or not by fkp"):
        predict_photos([tmp_path / "any.png"], tmp_path / "model.keras", tmp_path / "out")
