import re
import zipfile

import numpy as np
import pytest

from fkp_helpers.data.kaggle_io import (
    TRAINING_HEADER,
    KaggleFormatError,
    encode_lookup_table,
    encode_submission,
    encode_test_csv,
    encode_training_csv,
    format_pixels,
    read_keypoint_labels,
    read_lookup_table,
    read_sample_submission,
    read_test,
    read_training,
    write_zipped_csv,
)
from fkp_helpers.data.keypoints import COORDINATE_COLUMNS


def make_training(rng, n=5):
    images = rng.integers(0, 256, size=(n, 96, 96), dtype=np.uint8)
    keypoints = rng.uniform(1, 95, size=(n, 15, 2)).astype(np.float32)
    keypoints[1, 2:] = np.nan
    return images, keypoints


def write_training(tmp_path, rng, n=5):
    images, keypoints = make_training(rng, n)
    path = tmp_path / "training.csv"
    path.write_bytes(encode_training_csv(images, keypoints))
    return path, images, keypoints


def replace_line(path, line_number, edit):
    lines = path.read_bytes().split(b"\r\n")
    lines[line_number - 1] = edit(lines[line_number - 1])
    path.write_bytes(b"\r\n".join(lines))


def test_training_round_trip_csv_and_zip(tmp_path, rng):
    path, images, keypoints = write_training(tmp_path, rng)
    for source in (path, tmp_path / "training.zip"):
        if source.suffix == ".zip":
            write_zipped_csv(source, "training.csv", path.read_bytes())
        data = read_training(source)
        assert np.array_equal(data.images, images)
        np.testing.assert_allclose(data.keypoints, keypoints, atol=1e-6)
        assert np.isnan(data.keypoints[1, 2:]).all()


def test_training_file_format_is_kaggles(tmp_path, rng):
    path, images, _ = write_training(tmp_path, rng, n=2)
    raw = path.read_bytes()
    assert raw.endswith(b"\r\n") and raw.count(b"\r\n") == 3
    header = raw.split(b"\r\n")[0].split(b",")
    assert header[0] == b"left_eye_center_x" and header[-1] == b"Image" and len(header) == 31
    second = raw.split(b"\r\n")[2].split(b",")
    assert second[4] == b"" and second[-1].split(b" ")[:3] == [str(v).encode() for v in images[1].ravel()[:3]]


def test_format_pixels_single_spaces():
    image = np.zeros((96, 96), dtype=np.uint8)
    image[0, :3] = [255, 7, 10]
    text = format_pixels(image)
    assert text.startswith(b"255 7 10 0 ") and not text.endswith(b" ") and text.count(b" ") == 9215


def test_test_file_round_trip(tmp_path, rng):
    images = rng.integers(0, 256, size=(3, 96, 96), dtype=np.uint8)
    path = tmp_path / "test.csv"
    path.write_bytes(encode_test_csv(np.array([1, 2, 3]), images))
    data = read_test(path)
    assert data.image_ids.tolist() == [1, 2, 3] and np.array_equal(data.images, images)


def test_lookup_and_submission_round_trip(tmp_path):
    import pandas as pd

    lookup = pd.DataFrame({"RowId": [1, 2, 3], "ImageId": [1, 1, 2], "FeatureName": ["nose_tip_x", "nose_tip_y", "nose_tip_x"]})
    path = tmp_path / "IdLookupTable.csv"
    path.write_bytes(encode_lookup_table(lookup))
    assert path.read_bytes().startswith(b"RowId,ImageId,FeatureName,Location\r\n1,1,nose_tip_x\r\n")
    assert read_lookup_table(path).equals(lookup)
    sub = tmp_path / "SampleSubmission.csv"
    sub.write_bytes(encode_submission(np.array([1, 2, 3]), np.array([0.0, 12.5, 95.0])))
    assert sub.read_bytes() == b"RowId,Location\n1,0\n2,12.5\n3,95\n"
    assert read_sample_submission(sub)["Location"].tolist() == [0.0, 12.5, 95.0]


def test_reads_the_real_lookup_table_and_sample_submission(real_labels_dir):
    lookup = read_lookup_table(real_labels_dir / "IdLookupTable.csv")
    sample = read_sample_submission(real_labels_dir / "SampleSubmission.csv")
    assert len(lookup) == len(sample) == 27124
    assert lookup["ImageId"].nunique() == 1783
    assert (sample["Location"] == 0).all()
    sizes = lookup.groupby("ImageId").size()
    assert (sizes == 8).sum() == 1190 and (sizes == 30).sum() == 556


def test_reads_the_real_label_columns(real_labels_dir):
    keypoints = read_keypoint_labels(real_labels_dir / "training_keypoints.csv")
    labelled = ~np.isnan(keypoints[..., 0])
    assert keypoints.shape == (7049, 15, 2)
    assert labelled.all(axis=1).sum() == 2140


# --------------------------------------------------------------------------------------------- bad input, named errors
def expect_error(path, match, line=None, reader=read_training):
    with pytest.raises(KaggleFormatError, match=match) as info:
        reader(path)
    assert str(path) in str(info.value)
    if line is not None:
        assert info.value.line == line, str(info.value)
    return info.value


def test_missing_file(tmp_path):
    expect_error(tmp_path / "training.csv", "file not found")


def test_wrong_columns(tmp_path, rng):
    path, _, _ = write_training(tmp_path, rng, n=2)
    replace_line(path, 1, lambda line: line.replace(b"nose_tip_x", b"nose_x"))
    expect_error(path, r"wrong header: missing columns \['nose_tip_x'\]; unexpected columns \['nose_x'\]", line=1)


def test_wrong_pixel_count(tmp_path, rng):
    path, _, _ = write_training(tmp_path, rng, n=3)
    replace_line(path, 3, lambda line: line.rsplit(b" ", 1)[0])
    expect_error(path, "expected 9216 pixel values \\(96x96\\), found 9215", line=3)


def test_non_numeric_pixel(tmp_path, rng):
    path, _, _ = write_training(tmp_path, rng, n=3)
    replace_line(path, 2, lambda line: line[:-5] + b" 1x2")
    expect_error(path, "non-numeric pixel value '1x2'", line=2)


def test_pixel_out_of_range(tmp_path, rng):
    path, _, _ = write_training(tmp_path, rng, n=3)
    replace_line(path, 4, lambda line: line.rsplit(b" ", 1)[0] + b" 256")
    expect_error(path, "pixel value 256 is not an integer in 0..255", line=4)


def test_coordinate_outside_image(tmp_path, rng):
    path, _, _ = write_training(tmp_path, rng, n=3)
    replace_line(path, 3, lambda line: b"130.5" + line[line.index(b","):])
    expect_error(path, "column left_eye_center_x: 130.5 is outside the image", line=3)


def test_non_numeric_coordinate(tmp_path, rng):
    path, _, _ = write_training(tmp_path, rng, n=2)
    replace_line(path, 2, lambda line: b"abc" + line[line.index(b","):])
    expect_error(path, "column left_eye_center_x: not a number: 'abc'", line=2)


def test_x_without_y(tmp_path, rng):
    path, _, _ = write_training(tmp_path, rng, n=2)
    replace_line(path, 3, lambda line: b",".join([line.split(b",")[0], b""] + line.split(b",")[2:]))
    expect_error(path, "keypoint left_eye_center has only one of x and y labelled", line=3)


def test_truncated_csv(tmp_path, rng):
    path, _, _ = write_training(tmp_path, rng, n=3)
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) - 3000])
    expect_error(path, r"found \d+ \(file truncated\?\)", line=4)


def test_truncated_in_the_coordinates(tmp_path, rng):
    path, _, _ = write_training(tmp_path, rng, n=3)
    raw = path.read_bytes()
    cut = raw.rindex(b"\r\n", 0, len(raw) - 2) + 40
    path.write_bytes(raw[:cut])
    expect_error(path, r"expected 31 fields, found \d+ \(file truncated\?\)", line=4)


def test_truncated_zip(tmp_path, rng):
    path, _, _ = write_training(tmp_path, rng, n=3)
    archive = tmp_path / "training.zip"
    write_zipped_csv(archive, "training.csv", path.read_bytes())
    archive.write_bytes(archive.read_bytes()[:5000])
    expect_error(archive, "not a readable zip archive")


def test_zip_without_a_csv(tmp_path):
    archive = tmp_path / "training.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("readme.txt", "hello")
    expect_error(archive, "expected exactly one .csv inside the zip")


def test_empty_file(tmp_path):
    (tmp_path / "training.csv").write_bytes(b"")
    expect_error(tmp_path / "training.csv", "file is empty")


def test_duplicate_image_id(tmp_path, rng):
    path = tmp_path / "test.csv"
    path.write_bytes(encode_test_csv(np.array([1, 2, 2]), rng.integers(0, 256, size=(3, 96, 96), dtype=np.uint8)))
    expect_error(path, "duplicate ImageId 2", line=4, reader=read_test)


def test_malformed_lookup_table(tmp_path):
    path = tmp_path / "IdLookupTable.csv"
    path.write_bytes(b"RowId,ImageId,FeatureName,Location\r\n1,1,nose_tip_x\r\n3,1,nose_tip_y\r\n")
    expect_error(path, "RowId 3 out of sequence, expected 2", line=3, reader=read_lookup_table)
    path.write_bytes(b"RowId,ImageId,FeatureName,Location\r\n1,1,nose_x\r\n")
    expect_error(path, "unknown FeatureName 'nose_x'", line=2, reader=read_lookup_table)
    path.write_bytes(b"RowId,ImageId,Feature\r\n1,1,nose_tip_x\r\n")
    expect_error(path, "wrong header", line=1, reader=read_lookup_table)


# ------------------------------------------------------------------------------ edge cases: named error or read right
LABELS_HEADER = ",".join(COORDINATE_COLUMNS).encode()


def labels_csv(*rows: list[str], newline: bytes = b"\r\n") -> bytes:
    """A keypoint-labels CSV (the 30 coordinate columns) with the given rows."""
    return newline.join([LABELS_HEADER, *(",".join(row).encode() for row in rows)]) + newline


@pytest.mark.parametrize("reader, header", [(read_training, b",".join(map(str.encode, TRAINING_HEADER))),
                                            (read_test, b"ImageId,Image"),
                                            (read_lookup_table, b"RowId,ImageId,FeatureName,Location"),
                                            (read_sample_submission, b"RowId,Location"),
                                            (read_keypoint_labels, LABELS_HEADER)])
@pytest.mark.parametrize("ending", [b"\r\n", b""])
def test_a_file_with_only_a_header_has_no_rows_to_read(tmp_path, reader, header, ending):
    path = tmp_path / "only-a-header.csv"
    path.write_bytes(header + ending)
    expect_error(path, r"only-a-header\.csv, line 1: no data rows after the header", line=1, reader=reader)


@pytest.mark.parametrize("text, problem", [("nan", r"not a finite number: 'nan' \(a missing value is an empty field\)"),
                                           ("NaN", r"not a finite number: 'NaN' \(a missing value is an empty field\)"),
                                           ("inf", r"not a finite number: 'inf'$"),
                                           ("-Infinity", r"not a finite number: '-Infinity'$")])
def test_nan_or_inf_text_as_a_coordinate_is_refused_where_it_stands(tmp_path, rng, text, problem):
    path, _, _ = write_training(tmp_path, rng, n=3)
    replace_line(path, 3, lambda line: b",".join([line.split(b",")[0], text.encode()] + line.split(b",")[2:]))
    expect_error(path, rf"line 3: column left_eye_center_y: {problem}", line=3)
    labels = tmp_path / "labels.csv"
    labels.write_bytes(labels_csv(["50"] * 30, [text] * 2 + ["50"] * 28))
    expect_error(labels, rf"line 3: column left_eye_center_x: {problem}", line=3, reader=read_keypoint_labels)
    submission = tmp_path / "SampleSubmission.csv"
    submission.write_bytes(f"RowId,Location\n1,0\n2,{text}\n".encode())
    expect_error(submission, rf"line 3: column Location: {problem}", line=3, reader=read_sample_submission)


@pytest.mark.parametrize("image_id", ["0", "-3", "1.5", ""])
def test_an_image_id_that_is_not_a_positive_integer_is_named(tmp_path, rng, image_id):
    path = tmp_path / "test.csv"
    path.write_bytes(encode_test_csv(np.array([1, 2]), rng.integers(0, 256, size=(2, 96, 96), dtype=np.uint8)))
    replace_line(path, 3, lambda line: image_id.encode() + line[line.index(b","):])
    expect_error(path, rf"line 3: ImageId must be a positive integer, found '{re.escape(image_id)}'", line=3,
                 reader=read_test)
    lookup = tmp_path / "IdLookupTable.csv"
    lookup.write_bytes(f"RowId,ImageId,FeatureName,Location\r\n1,{image_id},nose_tip_x\r\n".encode())
    expect_error(lookup, rf"line 2: ImageId must be a positive integer, found '{re.escape(image_id)}'", line=2,
                 reader=read_lookup_table)


def test_a_utf8_byte_order_mark_and_lf_line_endings_are_read_like_kaggles_files(tmp_path, rng):
    path, images, keypoints = write_training(tmp_path, rng, n=3)
    kaggles = path.read_bytes()
    assert kaggles.count(b"\r\n") == 4, "training.csv is CRLF, like Kaggle's"
    for variant in (b"\xef\xbb\xbf" + kaggles, kaggles.replace(b"\r\n", b"\n"), kaggles.rstrip(b"\r\n")):
        path.write_bytes(variant)
        data = read_training(path)
        assert np.array_equal(data.images, images)
        np.testing.assert_allclose(data.keypoints, keypoints, atol=1e-6)
    labels = tmp_path / "labels.csv"
    for newline in (b"\r\n", b"\n"):
        labels.write_bytes(b"\xef\xbb\xbf" + labels_csv(["50.5"] * 30, [""] * 30, newline=newline))
        read = read_keypoint_labels(labels)
        assert read.shape == (2, 15, 2) and (read[0] == 50.5).all() and np.isnan(read[1]).all()
    submission = tmp_path / "SampleSubmission.csv"
    for content in (b"RowId,Location\n1,0\n2,12.5\n", b"\xef\xbb\xbfRowId,Location\r\n1,0\r\n2,12.5\r\n"):
        submission.write_bytes(content)
        assert read_sample_submission(submission).to_dict("list") == {"RowId": [1, 2], "Location": [0.0, 12.5]}


def test_a_byte_order_mark_does_not_hide_a_wrong_header(tmp_path):
    path = tmp_path / "test.csv"
    path.write_bytes(b"\xef\xbb\xbfImageId;Image\r\n1;2\r\n")
    expect_error(path, r"line 1: wrong header: missing columns \['ImageId', 'Image'\]", line=1, reader=read_test)


@pytest.mark.parametrize("row, found", [("2,12.5,7", 3), ("2", 1)])
def test_a_sample_submission_row_with_the_wrong_field_count_is_named(tmp_path, row, found):
    path = tmp_path / "SampleSubmission.csv"
    path.write_bytes(f"RowId,Location\n1,0\n{row}\n3,0\n".encode())
    expect_error(path, rf"line 3: expected 2 fields \(RowId,Location\), found {found}$", line=3,
                 reader=read_sample_submission)


@pytest.mark.parametrize("fields", [29, 31])
def test_a_keypoint_label_row_with_the_wrong_field_count_is_named(tmp_path, fields):
    path = tmp_path / "labels.csv"
    path.write_bytes(labels_csv(["50"] * 30, ["50"] * 30, ["50"] * fields))
    expect_error(path, rf"line 4: expected 30 fields, found {fields}$", line=4, reader=read_keypoint_labels)


@pytest.mark.parametrize("content, line", [(b"RowId,Location\n1,0\n\n2,0\n", 3), (b"RowId,Location\n1,0\n2,0\n\n", 4)])
def test_a_blank_line_is_named_not_counted_as_a_short_row(tmp_path, content, line):
    path = tmp_path / "SampleSubmission.csv"
    path.write_bytes(content)
    expect_error(path, rf"line {line}: blank line", line=line, reader=read_sample_submission)
