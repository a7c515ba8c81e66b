import io
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from fkp_helpers.data.datasets import load_series_data, load_hidden_truth
from fkp_helpers.data.framing import framing_statistics
from fkp_helpers.data.kaggle_io import (
    KaggleFormatError,
    read_keypoint_labels,
    read_lookup_table,
    read_sample_submission,
    read_test,
    read_training,
)
from fkp_helpers.data.synth import INFO_FILE, TRUTH_FILE
from fkp_helpers.data.landmark_offset import load_x_offset
from fkp_helpers.data.udacity import (
    PERSON_FILE,
    UDACITY_CSVS,
    X_OFFSET_KEY,
    convert_udacity,
    decode_grey_image,
    person_groups,
    person_of,
    stale_conversion,
)

KAGGLE_LABELS = Path(__file__).resolve().parents[3] / "shared" / "data" / "kaggle-fkp-labels" / "training_keypoints.csv"
OUTSIDE = ("Eliza_Dushku_20.jpg", "Eliza_Dushku_21.jpg", "Eliza_Dushku_22.jpg")
"""Faces whose landmarks reach beyond their image (by up to 23 px): kept, with frame pixels filled."""
OUTPUTS = ("training.zip", "test.zip", "IdLookupTable.csv", "SampleSubmission.csv", TRUTH_FILE, INFO_FILE, PERSON_FILE)


@pytest.fixture(scope="module")
def subset(udacity_subset) -> Path:
    return udacity_subset


@pytest.fixture(scope="module")
def converted(subset) -> Path:
    return convert_udacity(subset, subset.parent / "out", seed=0, progress=False)


def broken_copy(subset: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "src"
    shutil.copytree(subset, copy)
    return copy


def edit_table(table: Path, row: int, edit) -> None:
    """Replace data row ``row`` (0-based) of a landmark table by ``edit(fields)``."""
    header, *lines = table.read_text().splitlines()
    lines[row] = ",".join(edit(lines[row].split(",")))
    table.write_text("\n".join([header, *lines]) + "\n")


def first_image(src: Path) -> Path:
    return src / "training" / (src / UDACITY_CSVS["training"]).read_text().splitlines()[1].split(",")[0]


def tree_bytes(folder: Path) -> dict[str, bytes]:
    """The output files' bytes (the loaders add a ``.fkp_cache`` folder beside them)."""
    return {name: (folder / name).read_bytes() for name in OUTPUTS}


# ------------------------------------------------------------------------------------------------------ the output
def n_faces(src: Path) -> int:
    return sum(len((src / table).read_text().splitlines()) - 1 for table in UDACITY_CSVS.values())


def test_the_files_read_back_with_the_kaggle_readers(subset, converted):
    assert sorted(p.name for p in converted.iterdir() if p.is_file()) == sorted(OUTPUTS)
    train, test = read_training(converted / "training.zip"), read_test(converted / "test.zip")
    lookup = read_lookup_table(converted / "IdLookupTable.csv")
    sample = read_sample_submission(converted / "SampleSubmission.csv")
    assert len(train) + len(test) == n_faces(subset)
    assert set(lookup["ImageId"]) == set(test.image_ids.tolist())
    assert len(sample) == len(lookup)
    data = load_series_data(converted)
    assert data.hidden_truth is not None and len(data.train) == len(train)


def test_the_split_is_by_person(subset, converted):
    people = pd.read_csv(converted / PERSON_FILE)
    train_people = set(people.loc[people["set"] == "training", "person"])
    test_people = set(people.loc[people["set"] == "test", "person"])
    assert train_people and test_people and not train_people & test_people
    assert train_people | test_people == {person_of(path.name) for path in subset.glob("*/*.jpg")}
    assert people["source_file"].is_unique and len(people) == n_faces(subset)
    info = json.loads((converted / INFO_FILE).read_text())
    assert (info["n_train_people"], info["n_test_people"]) == (len(train_people), len(test_people))


def test_training_rows_miss_labels_like_kaggle_and_the_truth_is_complete(converted):
    labels = read_training(converted / "training.zip").keypoints
    truth = load_hidden_truth(converted)
    missing = np.isnan(labels[..., 0])
    assert missing.any(axis=1).any() and (~missing.any(axis=1)).any(), "both complete and partial rows"
    assert not missing[:, [0, 1, 10, 14]].any(), "the four always-labelled keypoints"
    assert not np.isnan(truth.train_true_keypoints).any() and not np.isnan(truth.test_keypoints).any()
    np.testing.assert_allclose(labels[~missing], truth.train_true_keypoints[~missing], atol=1e-4)
    assert len(truth.test_keypoints) == len(read_test(converted / "test.zip"))


def test_the_info_file_names_the_source_and_counts_the_filled_pixels(converted):
    info = json.loads((converted / INFO_FILE).read_text())
    assert "YouTube Faces" in info["source"] and "MIT" in info["licence"]
    assert info["seed"] == 0 and info["label_noise_px"] == 0
    assert info["faces_with_landmarks_outside_source"] == len(OUTSIDE)
    people = pd.read_csv(converted / PERSON_FILE)
    assert info["filled_pixels"] == people["filled_pixels"].sum() > 0
    assert info["faces_with_filled_pixels"] == (people["filled_pixels"] > 0).sum()


def test_framing_is_close_to_the_kaggle_labels(converted):
    if not KAGGLE_LABELS.is_file():
        pytest.skip(f"{KAGGLE_LABELS} is absent")
    truth = load_hidden_truth(converted)
    ours = framing_statistics(np.concatenate([truth.train_true_keypoints, truth.test_true_keypoints]))
    kaggle = framing_statistics(read_keypoint_labels(KAGGLE_LABELS))
    # Loose: 30 faces of 5 people (means off by ~sd/sqrt(5) for per-person quantities), and these faces are turned
    # and talking more than Kaggle's, so their eyes sit ~9% closer at the same face size (all 3575: 33.0 vs 36.2 px).
    iod = "inter-pupil distance (px)"
    assert abs(ours.loc[iod, "mean"] - kaggle.loc[iod, "mean"]) < 0.2 * kaggle.loc[iod, "mean"]
    for eye in ("left eye centre x (px)", "left eye centre y (px)", "right eye centre x (px)", "right eye centre y (px)"):
        assert abs(ours.loc[eye, "mean"] - kaggle.loc[eye, "mean"]) < 4.0, eye
    assert abs(ours.loc["roll (degrees)", "mean"] - kaggle.loc["roll (degrees)", "mean"]) < 4.0
    ratio = ours["sd"] / kaggle["sd"]
    assert ((ratio > 0.4) & (ratio < 2.5)).all(), "the framing varies like Kaggle's"


def centroid_x(images: np.ndarray) -> np.ndarray:
    """``(N,)`` brightness-weighted mean column of each image."""
    columns = images.astype(float).sum(axis=1)
    return (columns * np.arange(columns.shape[1])).sum(axis=1) / columns.sum(axis=1)


def test_the_landmarks_move_left_by_the_measured_offset_and_the_info_file_says_so(subset, converted, tmp_path):
    assert json.loads((converted / INFO_FILE).read_text())[X_OFFSET_KEY] == load_x_offset() > 0
    assert stale_conversion(converted) is None
    uncorrected = convert_udacity(subset, tmp_path / "uncorrected", x_offset_px=0.0, progress=False)
    assert json.loads((uncorrected / INFO_FILE).read_text())[X_OFFSET_KEY] == 0.0
    assert f"{uncorrected} was converted with a landmark x correction of 0.0 px" in stale_conversion(uncorrected)
    assert stale_conversion(tmp_path / "no-such-conversion") is None, "no info file: nothing to call stale"
    # The same pose is drawn for each face, so its keypoints land at about the same frame positions, and the image
    # moves right under them, by the offset times the face's frame scale; its brightness centroid moves less (the
    # frame's edges stay put).
    ours, theirs = read_training(converted / "training.zip"), read_training(uncorrected / "training.zip")
    np.testing.assert_allclose(ours.keypoints, theirs.keypoints, atol=0.5)
    shift = centroid_x(ours.images) - centroid_x(theirs.images)
    assert np.median(shift) > 0.2, "about 0.4 px measured on these faces; 0 if the landmarks did not move"


def test_the_same_seed_gives_the_same_bytes_and_another_seed_differs(subset, converted, tmp_path):
    assert tree_bytes(convert_udacity(subset, tmp_path / "again", seed=0, progress=False)) == tree_bytes(converted)
    other = tree_bytes(convert_udacity(subset, tmp_path / "other", seed=1, progress=False))
    assert other["training.zip"] != tree_bytes(converted)["training.zip"]


def test_an_existing_output_is_never_overwritten(subset, converted, tmp_path):
    before = tree_bytes(converted)
    with pytest.raises(FileExistsError, match=str(converted)):
        convert_udacity(subset, converted, progress=False)
    assert tree_bytes(converted) == before
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileExistsError, match="empty"):
        convert_udacity(subset, tmp_path / "empty", progress=False)


def test_udacitys_zip_is_read_without_extracting(subset, converted, tmp_path):
    archive = tmp_path / "train-test-data.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in sorted(subset.rglob("*")):
            if path.is_file():
                z.write(path, f"data/{path.relative_to(subset)}")
    out = convert_udacity(archive, tmp_path / "out", progress=False)
    assert tree_bytes(out) == tree_bytes(converted)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "train-test-data.zip"]


# ---------------------------------------------------------------------------------------------------- the images
def test_images_are_read_by_content_in_any_mode(subset):
    grey = np.asarray(Image.open(first_image(subset)))
    for mode, fmt in (("RGBA", "PNG"), ("RGB", "JPEG"), ("L", "PNG"), ("RGB", "PNG")):
        buffer = io.BytesIO()
        Image.fromarray(grey).convert(mode).save(buffer, fmt)
        decoded = decode_grey_image(buffer.getvalue())
        assert decoded.shape == grey.shape and decoded.dtype == np.uint8
        assert np.abs(decoded.astype(int) - grey).mean() < (3 if fmt == "JPEG" else 0.01), (mode, fmt)


def test_an_rgba_png_named_jpg_converts_like_its_grey_jpeg(subset, converted, tmp_path):
    src = broken_copy(subset, tmp_path)
    image = first_image(src)
    Image.open(image).convert("RGBA").save(image, "PNG")  # the original download's files
    out = tree_bytes(convert_udacity(src, tmp_path / "out", progress=False))
    assert out["IdLookupTable.csv"] == tree_bytes(converted)["IdLookupTable.csv"]


# ---------------------------------------------------------------------------------------------------- bad input
def break_missing_image(src: Path) -> None:
    first_image(src).unlink()


def break_unreadable_image(src: Path) -> None:
    first_image(src).write_bytes(b"not an image at all")


def break_truncated_image(src: Path) -> None:
    image = first_image(src)
    image.write_bytes(image.read_bytes()[:600])


def break_field_count(src: Path) -> None:
    edit_table(src / UDACITY_CSVS["training"], 2, lambda fields: fields[:-1])


def break_non_numeric(src: Path) -> None:
    edit_table(src / UDACITY_CSVS["training"], 2, lambda fields: [*fields[:5], "abc", *fields[6:]])


def break_absurd_coordinate(src: Path) -> None:
    edit_table(src / UDACITY_CSVS["training"], 2, lambda fields: [*fields[:7], "5000.0", *fields[8:]])


def break_empty_table(src: Path) -> None:
    (src / UDACITY_CSVS["test"]).write_bytes(b"")


@pytest.mark.parametrize("damage, message, line", [
    (break_missing_image, r"image training/\S+ listed here is missing", 2),
    (break_unreadable_image, r"image training/\S+ is unreadable or truncated", 2),
    (break_truncated_image, r"image training/\S+ is unreadable or truncated", 2),
    (break_field_count, r"expected 137 fields .* found 136", 4),
    (break_non_numeric, r"column 4: expected a finite coordinate, found 'abc'", 4),
    (break_absurd_coordinate, r"landmark 3 at \(5000, [\d.]+\) is more than one image size outside", 4),
    (break_empty_table, "file is empty", None),
])
def test_bad_input_is_named_and_nothing_is_written(subset, tmp_path, damage, message, line):
    src = broken_copy(subset, tmp_path)
    damage(src)
    with pytest.raises(KaggleFormatError, match=message) as error:
        convert_udacity(src, tmp_path / "out", progress=False)
    assert error.value.line == line
    assert error.value.path.name.endswith(".csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"], "no output, no temporary folder left"


def test_a_truncated_zip_is_named(subset, tmp_path):
    archive = tmp_path / "train-test-data.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(subset / UDACITY_CSVS["training"], f"data/{UDACITY_CSVS['training']}")
    archive.write_bytes(archive.read_bytes()[:-30])
    with pytest.raises(KaggleFormatError, match="truncated download") as error:
        convert_udacity(archive, tmp_path / "out", progress=False)
    assert error.value.path == archive
    assert not (tmp_path / "out").exists()


def test_person_groups_reads_training_or_test_rows_in_row_order(tmp_path):
    assert person_groups(tmp_path) is None
    table = pd.DataFrame({"set": ["test", "training", "training", "test", "training"],
                          "position": [0, 2, 0, 1, 1], "person": ["t0", "p2", "p0", "t1", "p1"],
                          "source_file": "x.jpg", "filled_pixels": 0})
    table.to_csv(tmp_path / PERSON_FILE, index=False)
    assert person_groups(tmp_path).tolist() == ["p0", "p1", "p2"]
    assert person_groups(tmp_path, "test").tolist() == ["t0", "t1"]
    table.loc[1, "position"] = 5
    table.to_csv(tmp_path / PERSON_FILE, index=False)
    with pytest.raises(ValueError, match="training positions"):
        person_groups(tmp_path)
