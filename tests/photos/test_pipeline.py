"""The whole job on real photos: files per photo, the FKP-synth warning, and every bad input's named error."""
from __future__ import annotations

import json
import shutil
import struct
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from skimage import data

from fkp_helpers.photos.model_check import ModelFileError
from fkp_helpers.photos.pipeline import NoFaceError, predict_each_photo, predict_photos
from fkp_helpers.photos.reading import PhotoError, to_gray
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


def huge_png(path: Path, side: int = 40000) -> Path:
    """A PNG whose header claims ``side`` x ``side`` pixels, in a few dozen bytes (a decompression bomb)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
                     + chunk(b"IEND", b""))
    return path


def awkward_and_bad_files(folder: Path) -> tuple[dict[str, Path], dict[str, Path]]:
    """The astronaut as awkward but valid files, and files no photo can be made of (the issue's list)."""
    astronaut = data.astronaut()
    exif = Image.Exif()
    exif[0x0112] = 6  # stored turned a quarter to the left: a viewer turns it a quarter to the right
    good = {
        "ordinary": save_image(astronaut, folder / "ordinary.jpg", quality=90),
        "16-bit": save_image((to_gray(astronaut).astype(np.uint16) * 257), folder / "wide.png"),
        "CMYK": folder / "cmyk.jpg",
        "RGBA": folder / "rgba.png",
        "EXIF-rotated": save_image(np.rot90(astronaut).copy(), folder / "turned.jpg", exif=exif, quality=90),
    }
    Image.fromarray(astronaut).convert("CMYK").save(good["CMYK"])
    Image.fromarray(astronaut).convert("RGBA").save(good["RGBA"])
    truncated = folder / "truncated.jpg"
    truncated.write_bytes(good["ordinary"].read_bytes()[:4000])
    bad = {
        "not an image": folder / "notes.jpg",
        "empty": folder / "empty.png",
        "truncated": truncated,
        "1 pixel": save_image(np.zeros((1, 1, 3), np.uint8), folder / "dot.png"),
        "no face": save_image(blank_canvas(300, 400), folder / "wall.png"),
        "huge": huge_png(folder / "huge.png"),
    }
    bad["not an image"].write_text("a shopping list")
    bad["empty"].write_bytes(b"")
    return good, bad


def test_awkward_files_work_and_each_bad_one_gets_its_own_error(tmp_path, tiny_model_path):
    good, bad = awkward_and_bad_files(tmp_path)
    outcomes = dict(zip([*good, *bad], predict_each_photo([*good.values(), *bad.values()], tiny_model_path,
                                                          tmp_path / "out")))
    for name in good:
        assert isinstance(outcomes[name], PhotoResult) and len(outcomes[name].boxes) == 1, name
    upright = outcomes["EXIF-rotated"].boxes[0]
    assert (upright[0] < 220 < upright[0] + upright[2]) and (upright[1] < 115 < upright[1] + upright[3]), \
        "the face is found where it is on the upright photo, as a viewer shows it"
    problems = {"not an image": "not an image Pillow can read", "empty": "not an image Pillow can read",
                "truncated": "unreadable or truncated", "1 pixel": "1x1 px", "no face": "no face found",
                "huge": "too many pixels to read safely"}
    for name, problem in problems.items():
        assert isinstance(outcomes[name], PhotoError) and problem in str(outcomes[name]), (name, outcomes[name])
        assert outcomes[name].path == bad[name]
