"""The command line as a user runs it: ``fkp predict`` on photos and ``fkp convert-udacity`` on a Udacity folder."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
from PIL import Image
from skimage import data

from fkp_helpers.cli import main
from fkp_helpers.data.kaggle_io import read_test, read_training
from fkp_helpers.data.keypoints import KEYPOINT_NAMES
from fkp_helpers.data.landmarks68 import IBUG68_FOR_KAGGLE, N_IBUG68, kaggle_keypoints_from_ibug68
from fkp_helpers.data.synth_model import load_synth_model
from fkp_helpers.data.synth import INFO_FILE, TRUTH_FILE
from fkp_helpers.data.udacity import PERSON_FILE, UDACITY_CSVS
from fkp_helpers.training.model_files import save_model_atomically
from fkp_helpers.training.models import build_nouri_net

PEOPLE = {"training": ("Ann_Lee", "Bob_Ray", "Cy_Dee"), "test": ("Di_Fox",)}
OUTPUTS = sorted(["training.zip", "test.zip", "IdLookupTable.csv", "SampleSubmission.csv", TRUTH_FILE, INFO_FILE,
                  PERSON_FILE])


def files_in(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` by relative path, with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# ------------------------------------------------------------------------------------------------------ predict
@pytest.fixture(scope="module")
def model_path(tmp_path_factory) -> Path:
    """An untrained, tiny fkp keypoint model in a run folder."""
    model = build_nouri_net(filters=(4,), kernel_sizes=(3,), dense_units=(8,), name="tiny")
    return save_model_atomically(model, tmp_path_factory.mktemp("run") / "models" / "tiny.keras")


@pytest.fixture
def photos(tmp_path) -> dict[str, Path]:
    """Two face photos (scikit-image's astronaut, as PNG and as JPEG) and four files predict cannot use."""
    folder = tmp_path / "photos"
    folder.mkdir()
    astronaut = data.astronaut()
    Image.fromarray(astronaut).save(folder / "astronaut.png")
    Image.fromarray(astronaut[::2, ::2]).save(folder / "small astronaut.jpg")
    (folder / "empty.png").write_bytes(b"")
    (folder / "notes.png").write_text("a shopping list, not a photo")
    Image.fromarray(np.full((200, 300), 128, np.uint8)).save(folder / "wall.png")
    return {path.stem: path for path in sorted(folder.iterdir())} | {"missing": folder / "missing.jpg"}


def predict(photos: list[Path], model_path: Path, out: Path, capsys) -> tuple[int, list[str], list[str]]:
    """Run ``fkp predict``; its exit status and its stdout and stderr lines."""
    status = main(["predict", *map(str, photos), "--model", str(model_path), "--out", str(out)])
    captured = capsys.readouterr()
    return status, captured.out.splitlines(), captured.err.splitlines()


def test_predict_writes_the_keypoints_of_each_photo(photos, model_path, tmp_path, capsys):
    status, out, err = predict([photos["astronaut"], photos["small astronaut"]], model_path, tmp_path / "out", capsys)
    assert status == 0 and err == []
    assert sorted(files_in(tmp_path / "out")) == [
        "astronaut.annotated.png", "astronaut.keypoints.csv", "astronaut.keypoints.json",
        "small astronaut.annotated.png", "small astronaut.keypoints.csv", "small astronaut.keypoints.json"]
    assert out[0].startswith(f"model {model_path}, trained on ")
    written = [tmp_path / "out" / f"astronaut{end}" for end in (".keypoints.csv", ".keypoints.json", ".annotated.png")]
    assert out[1] == f"{photos['astronaut']}: 1 face(s) -> {', '.join(map(str, written))}"
    table = pd.read_csv(tmp_path / "out" / "small astronaut.keypoints.csv")
    assert len(table) == 1 and table.loc[0, "photo"] == str(photos["small astronaut"])
    assert table[[f"{name}_x" for name in KEYPOINT_NAMES]].notna().all(axis=None)
    with Image.open(tmp_path / "out" / "astronaut.annotated.png") as annotated:
        assert annotated.size == (512, 512)


def test_predict_reports_each_bad_photo_on_its_own_line_and_does_the_rest(photos, model_path, tmp_path, capsys):
    order = ["empty", "astronaut", "notes", "missing", "wall", "small astronaut"]
    status, out, err = predict([photos[name] for name in order], model_path, tmp_path / "out", capsys)
    assert status == 1
    assert err == [f"fkp predict: error: {photos['empty']}: not an image Pillow can read (content, not extension, "
                   "decides)",
                   f"fkp predict: error: {photos['notes']}: not an image Pillow can read (content, not extension, "
                   "decides)",
                   f"fkp predict: error: {photos['missing']}: no such file",
                   f"fkp predict: error: {photos['wall']}: no face found (the detector looks for faces at least "
                   "~32 px wide, turned less than about 60 degrees)",
                   "fkp predict: 4 of 6 file(s) failed"]
    assert [line.split(":")[0] for line in out[1:]] == [str(photos["astronaut"]), str(photos["small astronaut"])]
    assert sorted(files_in(tmp_path / "out")) == [
        "astronaut.annotated.png", "astronaut.keypoints.csv", "astronaut.keypoints.json",
        "small astronaut.annotated.png", "small astronaut.keypoints.csv", "small astronaut.keypoints.json"]


def test_predict_overwrites_nothing_the_user_made(photos, model_path, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "astronaut.keypoints.csv").write_text("my own notes")
    before = files_in(tmp_path)
    status, _, err = predict([photos["small astronaut"], photos["astronaut"]], model_path, out, capsys)
    assert status == 2 and len(err) == 1
    assert err[0].startswith(f"fkp predict: error: 1 output file(s) already exist and would be overwritten: "
                             f"{out / 'astronaut.keypoints.csv'}")
    assert files_in(tmp_path) == before, "nothing written, nothing changed"


def test_predict_as_a_user_runs_it_exits_non_zero_when_a_photo_fails(photos, model_path, tmp_path):
    command = [sys.executable, "-m", "fkp_helpers", "predict", str(photos["notes"]), str(photos["astronaut"]),
               "--model", str(model_path), "--out", str(tmp_path / "out"), "--no-flip-tta", "--single-pass"]
    run = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    assert f"fkp predict: error: {photos['notes']}: not an image Pillow can read" in run.stderr
    assert f"{photos['astronaut']}: 1 face(s) -> " in run.stdout
    assert len(files_in(tmp_path / "out")) == 3


# ---------------------------------------------------------------------------------------------- convert-udacity
def ibug68_points(face: np.ndarray) -> np.ndarray:
    """68 iBUG points whose Kaggle keypoints are ``face`` ``(15, 2)``; the points Kaggle does not use at the nose."""
    points = np.repeat(face[KEYPOINT_NAMES.index("nose_tip")][None], N_IBUG68, axis=0)
    for name, indices in IBUG68_FOR_KAGGLE.items():
        if len(indices) == 1:
            points[indices[0]] = face[KEYPOINT_NAMES.index(name)]
    for name in ("left_eye_center", "right_eye_center"):
        indices = IBUG68_FOR_KAGGLE[name]
        corners = [i for i in indices if (i,) in IBUG68_FOR_KAGGLE.values()]
        others = [i for i in indices if i not in corners]
        points[others] = (len(indices) * face[KEYPOINT_NAMES.index(name)] - points[corners].sum(axis=0)) / len(others)
    return points


def make_udacity_folder(root: Path) -> Path:
    """Udacity's layout: per table a folder of grey JPEG faces (two frames a person) and ``,0,...,135`` landmark
    rows, the faces drawn from FKP-synth shapes in 120x120 photos."""
    rng = np.random.default_rng(0)
    shapes = iter(load_synth_model().sample_shapes(rng, np.ones(8, bool)) + 12.0)
    for folder, people in PEOPLE.items():
        (root / folder).mkdir(parents=True)
        rows = [",".join(["", *map(str, range(2 * N_IBUG68))])]
        for person in people:
            for frame in (1, 2):
                name, face = f"{person}_{frame:02d}.jpg", next(shapes)
                points = ibug68_points(face)
                np.testing.assert_allclose(kaggle_keypoints_from_ibug68(points[None])[0], face, atol=1e-9)
                Image.fromarray(rng.integers(0, 256, (120, 120), dtype=np.uint8)).save(root / folder / name)
                rows.append(",".join([name, *(f"{v:.3f}" for v in points.ravel())]))
        (root / UDACITY_CSVS[folder]).write_text("\n".join(rows) + "\n")
    return root


def test_convert_udacity_writes_kaggles_files_once(tmp_path, capsys):
    src = make_udacity_folder(tmp_path / "udacity")
    assert main(["convert-udacity", str(src), str(tmp_path / "faces")]) == 0
    assert f"wrote the real faces in Kaggle's format to {tmp_path / 'faces'}" in capsys.readouterr().out
    assert sorted(files_in(tmp_path / "faces")) == OUTPUTS
    train, test = read_training(tmp_path / "faces" / "training.zip"), read_test(tmp_path / "faces" / "test.zip")
    assert (len(train), len(test)) == (6, 2), "all eight faces, a fifth of the four people (one) in the test set"
    people = pd.read_csv(tmp_path / "faces" / "person_ids.csv")
    assert set(people.groupby("person")["set"].nunique()) == {1}, "no person on both sides"
    before = files_in(tmp_path / "faces")
    assert main(["convert-udacity", str(src), str(tmp_path / "faces")]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"fkp convert-udacity: error: {tmp_path / 'faces'} already exists; refusing to overwrite"]
    assert files_in(tmp_path / "faces") == before


def test_convert_udacity_names_a_bad_image_among_good_ones_and_writes_nothing(tmp_path, capsys):
    src = make_udacity_folder(tmp_path / "udacity")
    (src / "training" / "Bob_Ray_02.jpg").write_bytes(b"")
    assert main(["convert-udacity", str(src), str(tmp_path / "faces")]) == 2
    [line] = [text for text in capsys.readouterr().err.splitlines() if text and "reading faces" not in text]  # tqdm
    assert re.fullmatch(rf"fkp convert-udacity: error: {re.escape(str(src / UDACITY_CSVS['training']))}, line 5: "
                        r"image training/Bob_Ray_02\.jpg is unreadable or truncated \(.+\)", line), line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["udacity"], "no output folder, no temporary one"


def test_predict_annotates_videos_beside_photos_and_names_a_broken_one(photos, model_path, tmp_path, capsys):
    clip = tmp_path / "clip.mp4"
    frame = cv2.cvtColor(np.pad(data.astronaut(), ((0, 0), (64, 64), (0, 0))), cv2.COLOR_RGB2BGR)
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"mp4v"), 10, (frame.shape[1], frame.shape[0]))
    for _ in range(5):
        writer.write(frame)
    writer.release()
    broken = tmp_path / "broken.mov"
    broken.write_bytes(b"\x00" * 64)
    status, out, err = predict([clip, photos["astronaut"], broken], model_path, tmp_path / "out", capsys)
    assert status == 1
    assert err == [f"fkp predict: error: {broken}: not a video OpenCV can read", "fkp predict: 1 of 3 file(s) failed"]
    assert f"{clip}: 5 frames, 5 face rows -> {tmp_path / 'out' / 'clip.annotated.mp4'}, " \
           f"{tmp_path / 'out' / 'clip.keypoints.csv'}" in out
    assert len(pd.read_csv(tmp_path / "out" / "clip.keypoints.csv")) == 5


def test_predict_without_files_or_camera_says_what_to_give(model_path, capsys):
    assert main(["predict", "--model", str(model_path)]) == 2
    assert "name photos or videos, or --webcam INDEX" in capsys.readouterr().err


def test_webcam_without_a_camera_is_a_one_line_error(model_path, monkeypatch, capsys):
    monkeypatch.setattr(cv2, "VideoCapture", lambda device: type("Closed", (), {"isOpened": lambda self: False})())
    assert main(["predict", "--webcam", "7", "--model", str(model_path)]) == 1
    assert capsys.readouterr().err.strip() == "fkp predict: error: no camera at index 7 (OpenCV could not open it)"
