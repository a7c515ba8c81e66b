"""Building, validating, writing and scoring the Kaggle submission; malformed lookup tables fail with named errors."""
import numpy as np
import pandas as pd
import pytest

from fkp_helpers.data.kaggle_io import KaggleFormatError, encode_lookup_table, read_lookup_table, read_sample_submission
from fkp_helpers.data.keypoints import COORDINATE_COLUMNS
from fkp_helpers.evaluation.submission import (
    REGIME_NAMES,
    SubmissionError,
    build_submission,
    labelling_regimes,
    score_submission,
    validate_submission,
    write_submission,
)


# ---------------------------------------------------------------------------------------------------- small examples
def small_lookup() -> pd.DataFrame:
    """Image 7 asks for two features, image 3 for three, image 5 for one (ids need not be sorted)."""
    asked = [(7, "left_eye_center_x"), (7, "nose_tip_y"), (3, "left_eye_center_x"), (3, "left_eye_center_y"),
             (3, "mouth_center_bottom_lip_y"), (5, "right_eye_center_x")]
    return pd.DataFrame({"RowId": np.arange(1, 7), "ImageId": [i for i, _ in asked], "FeatureName": [f for _, f in asked]})


def id_dependent_predictions(image_ids: np.ndarray) -> np.ndarray:
    """Coordinate column j of image i predicted as ``i % 50 + j / 4`` (exact in binary, inside 0..96)."""
    columns = np.arange(30) / 4
    return ((np.asarray(image_ids)[:, None] % 50) + columns[None, :]).reshape(-1, 15, 2)


def expected_location(image_id: int, feature: str) -> float:
    return image_id % 50 + COORDINATE_COLUMNS.index(feature) / 4


def test_build_fills_exactly_the_asked_rows():
    lookup = small_lookup()
    image_ids = np.array([3, 5, 7, 11])  # 11 is not asked for: ignored
    submission = build_submission(lookup, image_ids, id_dependent_predictions(image_ids))
    assert list(submission.columns) == ["RowId", "Location"]
    assert submission["RowId"].tolist() == [1, 2, 3, 4, 5, 6]
    expected = [expected_location(i, f) for i, f in zip(lookup["ImageId"], lookup["FeatureName"])]
    assert submission["Location"].tolist() == expected


def test_build_clips_to_the_frame():
    lookup = small_lookup()
    predictions = np.full((3, 15, 2), 120.0)
    predictions[0] = -4.0  # image 3
    submission = build_submission(lookup, np.array([3, 5, 7]), predictions)
    assert submission["Location"].tolist() == [96, 96, 0, 0, 0, 96]


def test_build_errors_name_the_problem():
    lookup = small_lookup()
    predictions = id_dependent_predictions(np.array([3, 7]))
    with pytest.raises(SubmissionError, match="RowId 6 asks for ImageId 5, which has no prediction"):
        build_submission(lookup, np.array([3, 7]), predictions)
    unknown = lookup.copy()
    unknown.loc[2, "FeatureName"] = "nose_tip_z"
    with pytest.raises(SubmissionError, match="RowId 3 asks for unknown FeatureName 'nose_tip_z'"):
        build_submission(unknown, np.array([3, 5, 7]), id_dependent_predictions(np.array([3, 5, 7])))
    repeated = lookup.copy()
    repeated.loc[1, "FeatureName"] = "left_eye_center_x"
    with pytest.raises(SubmissionError, match="RowId 2 asks for left_eye_center_x of ImageId 7 a second time"):
        build_submission(repeated, np.array([3, 5, 7]), id_dependent_predictions(np.array([3, 5, 7])))
    with pytest.raises(SubmissionError, match="lacks columns \\['FeatureName'\\]"):
        build_submission(lookup.drop(columns="FeatureName"), np.array([3, 5, 7]), id_dependent_predictions(np.array([3, 5, 7])))
    nan = id_dependent_predictions(np.array([3, 5, 7]))
    nan[1, 4, 1] = np.nan
    with pytest.raises(SubmissionError, match="ImageId 5, right_eye_inner_corner_y is not finite"):
        build_submission(lookup, np.array([3, 5, 7]), nan)
    with pytest.raises(SubmissionError, match="ImageId 3 appears more than once"):
        build_submission(lookup, np.array([3, 3, 7]), id_dependent_predictions(np.array([3, 5, 7])))
    with pytest.raises(SubmissionError, match="shape"):
        build_submission(lookup, np.array([3, 5]), nan)


def test_validate_names_the_row():
    lookup = small_lookup()
    sample = pd.DataFrame({"RowId": lookup["RowId"], "Location": 0.0})
    good = build_submission(lookup, np.array([3, 5, 7]), id_dependent_predictions(np.array([3, 5, 7])))
    validate_submission(good, lookup, sample)
    cases = {
        "columns are \\['RowId', 'Location', 'x'\\]": good.assign(x=1),
        "has 5 rows, the lookup table has 6": good.iloc[:5],
        "row 1 has RowId 3, the lookup table has RowId 2": good.iloc[[0, 2, 1, 3, 4, 5]].reset_index(drop=True),
        "RowId 4: Location is missing": good.assign(Location=good["Location"].where(good["RowId"] != 4)),
        "RowId 2: Location 96.5 is outside": good.assign(Location=np.where(good["RowId"] == 2, 96.5, good["Location"])),
    }
    for message, bad in cases.items():
        with pytest.raises(SubmissionError, match=message):
            validate_submission(bad, lookup, sample)
    with pytest.raises(SubmissionError, match="the sample submission has 5"):
        validate_submission(good, lookup, sample.iloc[:5])


def test_write_refuses_a_file_that_is_not_a_submission(tmp_path):
    lookup = small_lookup()
    sample = pd.DataFrame({"RowId": lookup["RowId"], "Location": 0.0})
    good = build_submission(lookup, np.array([3, 5, 7]), id_dependent_predictions(np.array([3, 5, 7])))
    notes = tmp_path / "notes.csv"
    notes.write_text("my,precious,data\n")
    with pytest.raises(SubmissionError, match="not a submission"):
        write_submission(notes, good, lookup, sample)
    assert notes.read_text() == "my,precious,data\n"
    path = tmp_path / "submission.csv"
    write_submission(path, sample, lookup, sample)
    write_submission(path, good, lookup, sample)  # replaces a previous submission
    assert read_sample_submission(path)["Location"].tolist() == good["Location"].tolist()
    with pytest.raises(SubmissionError, match="^submission has 5 rows, the lookup table has 6$"):
        write_submission(path, good.iloc[:5], lookup, sample)  # invalid: the file on disk is untouched
    assert read_sample_submission(path)["Location"].tolist() == good["Location"].tolist()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.csv", "submission.csv"]  # no temporary left over


def test_score_submission():
    lookup = small_lookup()
    image_ids = np.array([3, 5, 7])
    truth = id_dependent_predictions(image_ids)
    submission = build_submission(lookup, image_ids, truth + 1.0)
    assert score_submission(submission, lookup, truth, image_ids) == pytest.approx(1.0)
    assert score_submission(build_submission(lookup, image_ids, truth), lookup, truth, image_ids) == 0
    truth[2, 10, 1] = np.nan  # image 7, nose_tip_y is asked for by RowId 2
    with pytest.raises(SubmissionError, match="RowId 2 asks for nose_tip_y of ImageId 7, which has no label"):
        score_submission(submission, lookup, truth, image_ids)
    with pytest.raises(SubmissionError, match="RowIds do not match"):
        score_submission(submission.iloc[:5], lookup, truth, image_ids)


# ------------------------------------------------------------------------------------------- malformed lookup files
def small_lookup_bytes() -> bytes:
    return encode_lookup_table(small_lookup())


def malformed(raw: bytes, case: str) -> tuple[bytes, int, str]:
    """A broken variant of a lookup file: its bytes, the line the error must name, and a phrase of the message."""
    lines = raw.split(b"\r\n")[:-1]
    if case == "missing column":
        return b"\r\n".join([b"RowId,ImageId,Location", *lines[1:]]) + b"\r\n", 1, "missing columns ['FeatureName']"
    if case == "rowid out of sequence":
        lines[2], lines[3] = lines[3], lines[2]
        return b"\r\n".join(lines) + b"\r\n", 3, "out of sequence"
    if case == "unknown feature":
        row_id, image_id, _ = lines[4].split(b",")[:3]
        lines[4] = b",".join([row_id, image_id, b"nose_tip_z"])
        return b"\r\n".join(lines) + b"\r\n", 5, "unknown FeatureName 'nose_tip_z'"
    if case == "duplicate feature":
        row_id, image_id, feature = lines[-1].split(b",")[:3]
        lines.append(b",".join([str(int(row_id) + 1).encode(), image_id, feature]))
        return b"\r\n".join(lines) + b"\r\n", len(lines), "twice"
    if case == "truncated last line":
        last = lines[-1]
        return b"\r\n".join(lines[:-1] + [last[: last.index(b",")]]), len(lines), "expected 3 or 4 fields"
    raise AssertionError(case)


CASES = ["missing column", "rowid out of sequence", "unknown feature", "duplicate feature", "truncated last line"]


@pytest.mark.parametrize("case", CASES)
def test_malformed_small_lookup_names_file_and_line(tmp_path, case):
    content, line, phrase = malformed(small_lookup_bytes(), case)
    path = tmp_path / "IdLookupTable.csv"
    path.write_bytes(content)
    with pytest.raises(KaggleFormatError) as caught:
        read_lookup_table(path)
    assert caught.value.line == line
    assert f"{path}, line {line}:" in str(caught.value)
    assert phrase in str(caught.value)


# ------------------------------------------------------------------------------------------------ the real Kaggle files
@pytest.fixture
def kaggle_files(real_labels_dir):
    """The real lookup table and sample submission (conftest's ``real_labels_dir`` skips where they are absent)."""
    return read_lookup_table(real_labels_dir / "IdLookupTable.csv"), read_sample_submission(real_labels_dir / "SampleSubmission.csv")


def test_real_lookup_builds_a_full_submission(kaggle_files, tmp_path):
    lookup, sample = kaggle_files
    image_ids = np.unique(lookup["ImageId"].to_numpy())
    assert len(image_ids) == 1783 and len(lookup) == 27124
    submission = build_submission(lookup, image_ids, id_dependent_predictions(image_ids))
    assert len(submission) == 27124
    assert np.array_equal(submission["RowId"].to_numpy(), np.arange(1, 27125))
    for position in (0, 1, 4321, len(lookup) - 1):
        row = lookup.iloc[position]
        assert submission["Location"].iloc[position] == expected_location(int(row["ImageId"]), row["FeatureName"])
    expected = [expected_location(i, f) for i, f in zip(lookup["ImageId"], lookup["FeatureName"])]
    assert submission["Location"].tolist() == expected
    validate_submission(submission, lookup, sample)
    path = write_submission(tmp_path / "submission.csv", submission, lookup, sample)
    assert path.read_bytes().startswith(b"RowId,Location\n1,")
    back = read_sample_submission(path)
    pd.testing.assert_frame_equal(back, submission, check_dtype=False)
    assert score_submission(back, lookup, id_dependent_predictions(image_ids), image_ids) == 0


def test_real_lookup_with_a_missing_image(kaggle_files):
    lookup, _ = kaggle_files
    image_ids = np.unique(lookup["ImageId"].to_numpy())[:-1]
    with pytest.raises(SubmissionError, match=f"ImageId {lookup['ImageId'].max()}, which has no prediction"):
        build_submission(lookup, image_ids, np.full((len(image_ids), 15, 2), 48.0))


def test_constant_predictions_validate_against_the_sample(kaggle_files):
    lookup, sample = kaggle_files
    image_ids = np.unique(lookup["ImageId"].to_numpy())
    submission = build_submission(lookup, image_ids, np.full((len(image_ids), 15, 2), 48.0))
    validate_submission(submission, lookup, sample)
    assert (submission["Location"] == 48.0).all()


@pytest.mark.parametrize("case", CASES)
def test_malformed_real_lookup_names_file_and_line(real_labels_dir, tmp_path, case):
    content, line, phrase = malformed((real_labels_dir / "IdLookupTable.csv").read_bytes(), case)
    path = tmp_path / "IdLookupTable.csv"
    path.write_bytes(content)
    with pytest.raises(KaggleFormatError, match=phrase.replace("[", "\\[").replace("]", "\\]")) as caught:
        read_lookup_table(path)
    assert caught.value.line == line and f"{path}, line {line}:" in str(caught.value)


def test_labelling_regimes_follow_how_many_coordinates_the_lookup_asks_for():
    four = ["left_eye_center_x", "left_eye_center_y", "right_eye_center_x", "right_eye_center_y", "nose_tip_x",
            "nose_tip_y", "mouth_center_bottom_lip_x", "mouth_center_bottom_lip_y"]
    names = four + list(COORDINATE_COLUMNS) + four
    image_ids = [7] * 8 + [3] * 30 + [5] * 8
    lookup = pd.DataFrame({"RowId": np.arange(1, len(names) + 1), "ImageId": image_ids, "FeatureName": names})
    regimes = labelling_regimes(lookup, np.array([3, 5, 7]))
    assert list(regimes) == [REGIME_NAMES[1], REGIME_NAMES[0], REGIME_NAMES[0]]
