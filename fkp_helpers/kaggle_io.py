"""Reading and writing the Kaggle "Facial Keypoints Detection" files exactly as Kaggle ships them.

Every reader validates while it reads and raises :class:`KaggleFormatError` naming the file, the line and the
problem. Pixel strings are parsed with vectorised NumPy over the whole file (no per-pixel Python loop).
"""
from __future__ import annotations

import io
import os
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from fkp_helpers.keypoints import COORDINATE_COLUMNS, IMAGE_SIZE, to_coordinate_array, to_keypoint_array

N_PIXELS = IMAGE_SIZE * IMAGE_SIZE
TRAINING_HEADER = (*COORDINATE_COLUMNS, "Image")
TEST_HEADER = ("ImageId", "Image")
LOOKUP_HEADER = ("RowId", "ImageId", "FeatureName", "Location")
SUBMISSION_HEADER = ("RowId", "Location")
COORDINATE_RANGE = (0.0, float(IMAGE_SIZE))
"""Labels must lie inside the image: the real labels span 0.69 .. 95.94."""


class KaggleFormatError(ValueError):
    """A Kaggle file is missing or not in the format Kaggle ships; the message names the file, line and problem."""

    def __init__(self, path: str | os.PathLike, problem: str, line: int | None = None):
        self.path, self.problem, self.line = Path(path), problem, line
        where = f"{path}, line {line}" if line is not None else f"{path}"
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class TrainingSet:
    """Training images ``(N, 96, 96)`` uint8 and keypoints ``(N, 15, 2)`` float32 pixels, NaN where unlabelled."""

    images: np.ndarray
    keypoints: np.ndarray

    def __len__(self) -> int:
        return len(self.images)


@dataclass(frozen=True)
class TestSet:
    __test__ = False  # not a pytest test class

    """Test image ids ``(N,)`` and images ``(N, 96, 96)`` uint8."""

    image_ids: np.ndarray
    images: np.ndarray

    def __len__(self) -> int:
        return len(self.images)


# ---------------------------------------------------------------------------------------------------- raw file access
def read_csv_bytes(path: str | os.PathLike) -> bytes:
    """The bytes of a CSV file, or of the single CSV inside a ``.zip``, with named errors for missing/broken files."""
    path = Path(path)
    if not path.is_file():
        raise KaggleFormatError(path, "file not found")
    if path.suffix.lower() != ".zip":
        return path.read_bytes()
    try:
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.namelist() if m.lower().endswith(".csv") and not m.startswith("__MACOSX")]
            if len(members) != 1:
                raise KaggleFormatError(path, f"expected exactly one .csv inside the zip, found {members or 'none'}")
            return archive.read(members[0])
    except (zipfile.BadZipFile, EOFError, zlib.error) as error:
        raise KaggleFormatError(path, f"not a readable zip archive (truncated download?): {error}") from None


def _split_lines(raw: bytes, path: Path, header: tuple[str, ...]) -> list[bytes]:
    """Data lines of a CSV (header checked, CRLF or LF, trailing newline optional)."""
    text_lines = raw.replace(b"\r\n", b"\n").split(b"\n")
    if text_lines and text_lines[-1] == b"":
        text_lines.pop()
    if not text_lines:
        raise KaggleFormatError(path, "file is empty")
    found = text_lines[0].decode("utf-8", "replace").lstrip("\ufeff").split(",")
    if tuple(found) != header:
        missing = [c for c in header if c not in found]
        extra = [c for c in found if c not in header]
        detail = f"missing columns {missing}" if missing else ""
        detail += ("; " if detail and extra else "") + (f"unexpected columns {extra}" if extra else "")
        raise KaggleFormatError(path, f"wrong header: {detail or 'columns out of order'}; expected {','.join(header)}", 1)
    if len(text_lines) == 1:
        raise KaggleFormatError(path, "no data rows after the header")
    return text_lines[1:]


# -------------------------------------------------------------------------------------------------------- pixel parse
def parse_pixel_strings(blob: bytes, path: str | os.PathLike, first_line: int, n_rows: int) -> np.ndarray:
    """Parse ``n_rows`` newline-separated rows of space-separated pixel values into ``(n_rows, 96, 96)`` uint8.

    ``first_line`` is the file line number of the first row, used in error messages.
    """
    chars = np.frombuffer(blob, dtype=np.uint8)
    is_digit = (chars >= ord("0")) & (chars <= ord("9"))
    is_newline = chars == ord("\n")
    newline_at = np.flatnonzero(is_newline)

    def line_of(position: int) -> int:
        return first_line + int(np.searchsorted(newline_at, position, side="right"))

    bad = ~(is_digit | is_newline | (chars == ord(" ")))
    if bad.any():
        position = int(np.argmax(bad))
        start = blob.rfind(b" ", 0, position) + 1
        end = min(i for i in (blob.find(b" ", position), blob.find(b"\n", position), len(blob)) if i >= 0)
        token = blob[start:end].decode("utf-8", "replace")[:20]
        raise KaggleFormatError(path, f"non-numeric pixel value {token!r}", line_of(position))

    after = np.empty_like(is_digit)
    after[:-1], after[-1] = is_digit[1:], False
    ends = np.flatnonzero(is_digit & ~after) + 1
    before = np.empty_like(is_digit)
    before[1:], before[0] = is_digit[:-1], False
    starts = np.flatnonzero(is_digit & ~before)
    del after, before, is_digit, bad

    rows = np.searchsorted(newline_at, starts, side="right")
    counts = np.bincount(rows, minlength=n_rows)
    wrong = np.flatnonzero(counts != N_PIXELS)
    if wrong.size:
        row = int(wrong[0])
        hint = " (file truncated?)" if row == n_rows - 1 and counts[row] < N_PIXELS else ""
        raise KaggleFormatError(
            path, f"expected {N_PIXELS} pixel values (96x96), found {counts[row]}{hint}", first_line + row
        )

    lengths = ends - starts
    digits = chars - np.uint8(ord("0"))
    values = digits[ends - 1].astype(np.int32)
    values += np.where(lengths >= 2, 10 * digits[ends - 2].astype(np.int32), 0)
    values += np.where(lengths >= 3, 100 * digits[ends - 3].astype(np.int32), 0)
    out_of_range = (values > 255) | (lengths > 3)
    if out_of_range.any():
        token = int(np.argmax(out_of_range))
        text = blob[starts[token] : ends[token]].decode()
        raise KaggleFormatError(path, f"pixel value {text} is not an integer in 0..255", line_of(int(starts[token])))
    return values.astype(np.uint8).reshape(n_rows, IMAGE_SIZE, IMAGE_SIZE)


# --------------------------------------------------------------------------------------------------------- coordinates
def _parse_float(text: bytes, path: Path, line: int, column: str) -> float:
    if not text:
        return np.nan
    try:
        value = float(text)
    except ValueError:
        raise KaggleFormatError(path, f"column {column}: not a number: {text[:20].decode('utf-8', 'replace')!r}", line) from None
    if not np.isfinite(value):
        raise KaggleFormatError(path, f"column {column}: not a finite number: {value}", line)
    return value


def _parse_coordinates(fields: list[list[bytes]], path: Path) -> np.ndarray:
    """Parse the 30 coordinate fields of each training line into ``(N, 15, 2)`` with range and pairing checks."""
    coords = np.array(
        [
            [_parse_float(v, path, i + 2, COORDINATE_COLUMNS[j]) for j, v in enumerate(row)]
            for i, row in enumerate(fields)
        ],
        dtype=np.float64,
    ).reshape(len(fields), len(COORDINATE_COLUMNS))
    low, high = COORDINATE_RANGE
    outside = (coords < low) | (coords > high)
    if outside.any():
        row, col = map(int, np.argwhere(outside)[0])
        raise KaggleFormatError(
            path, f"column {COORDINATE_COLUMNS[col]}: {coords[row, col]} is outside the image ({low:g}..{high:g})", row + 2
        )
    keypoints = to_keypoint_array(coords)
    unpaired = np.isnan(keypoints[..., 0]) != np.isnan(keypoints[..., 1])
    if unpaired.any():
        row, k = map(int, np.argwhere(unpaired)[0])
        name = COORDINATE_COLUMNS[2 * k].removesuffix("_x")
        raise KaggleFormatError(path, f"keypoint {name} has only one of x and y labelled", row + 2)
    return keypoints.astype(np.float32)


def _split_fields(lines: list[bytes], n_fields: int, path: Path) -> tuple[list[list[bytes]], bytes]:
    """Split each line into ``n_fields - 1`` leading fields and the trailing pixel string."""
    leading, pixels = [], []
    for i, line in enumerate(lines):
        parts = line.split(b",")
        if len(parts) != n_fields:
            hint = " (file truncated?)" if i == len(lines) - 1 else ""
            raise KaggleFormatError(path, f"expected {n_fields} fields, found {len(parts)}{hint}", i + 2)
        leading.append(parts[:-1])
        pixels.append(parts[-1])
    return leading, b"\n".join(pixels)


# ------------------------------------------------------------------------------------------------------------- readers
def read_training(path: str | os.PathLike) -> TrainingSet:
    """Read Kaggle's ``training.csv`` or ``training.zip``."""
    path = Path(path)
    lines = _split_lines(read_csv_bytes(path), path, TRAINING_HEADER)
    fields, pixel_blob = _split_fields(lines, len(TRAINING_HEADER), path)
    keypoints = _parse_coordinates(fields, path)
    images = parse_pixel_strings(pixel_blob, path, first_line=2, n_rows=len(lines))
    return TrainingSet(images=images, keypoints=keypoints)


def read_keypoint_labels(path: str | os.PathLike) -> np.ndarray:
    """Read a CSV holding only the 30 coordinate columns of ``training.csv`` into ``(N, 15, 2)`` float32."""
    path = Path(path)
    lines = _split_lines(read_csv_bytes(path), path, COORDINATE_COLUMNS)
    fields = []
    for i, line in enumerate(lines):
        parts = line.split(b",")
        if len(parts) != len(COORDINATE_COLUMNS):
            raise KaggleFormatError(path, f"expected {len(COORDINATE_COLUMNS)} fields, found {len(parts)}", i + 2)
        fields.append(parts)
    return _parse_coordinates(fields, path)


def read_test(path: str | os.PathLike) -> TestSet:
    """Read Kaggle's ``test.csv`` or ``test.zip`` (``ImageId,Image``)."""
    path = Path(path)
    lines = _split_lines(read_csv_bytes(path), path, TEST_HEADER)
    fields, pixel_blob = _split_fields(lines, len(TEST_HEADER), path)
    image_ids = np.array([_parse_id(row[0], path, i + 2, "ImageId") for i, row in enumerate(fields)], dtype=np.int64)
    _check_unique(image_ids, path, "ImageId")
    images = parse_pixel_strings(pixel_blob, path, first_line=2, n_rows=len(lines))
    return TestSet(image_ids=image_ids, images=images)


def _parse_id(text: bytes, path: Path, line: int, column: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise KaggleFormatError(path, f"{column} must be a positive integer, found {text[:20].decode('utf-8', 'replace')!r}", line)
    return value


def _check_unique(ids: np.ndarray, path: Path, column: str) -> None:
    _, first, counts = np.unique(ids, return_index=True, return_counts=True)
    if (counts > 1).any():
        duplicate = int(np.flatnonzero(counts > 1)[0])
        later = np.flatnonzero(ids == ids[first[duplicate]])[1]
        raise KaggleFormatError(path, f"duplicate {column} {ids[later]}", int(later) + 2)


def read_lookup_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read ``IdLookupTable.csv`` as a frame ``RowId, ImageId, FeatureName`` (RowIds 1..n in order)."""
    path = Path(path)
    lines = _split_lines(read_csv_bytes(path), path, LOOKUP_HEADER)
    row_ids, image_ids, features = [], [], []
    known = set(COORDINATE_COLUMNS)
    for i, line in enumerate(lines):
        parts = line.split(b",")
        if len(parts) not in (3, 4):
            raise KaggleFormatError(path, f"expected 3 or 4 fields (RowId,ImageId,FeatureName[,Location]), found {len(parts)}", i + 2)
        row_ids.append(_parse_id(parts[0], path, i + 2, "RowId"))
        image_ids.append(_parse_id(parts[1], path, i + 2, "ImageId"))
        feature = parts[2].decode("utf-8", "replace")
        if feature not in known:
            raise KaggleFormatError(path, f"unknown FeatureName {feature!r}", i + 2)
        features.append(feature)
    _check_row_ids(np.array(row_ids), path)
    frame = pd.DataFrame({"RowId": row_ids, "ImageId": image_ids, "FeatureName": features})
    repeated = frame.duplicated(["ImageId", "FeatureName"])
    if repeated.any():
        i = int(np.flatnonzero(repeated.to_numpy())[0])
        raise KaggleFormatError(path, f"ImageId {image_ids[i]} asks for {features[i]} twice", i + 2)
    return frame


def _check_row_ids(row_ids: np.ndarray, path: Path) -> None:
    expected = np.arange(1, len(row_ids) + 1)
    if not np.array_equal(row_ids, expected):
        i = int(np.flatnonzero(row_ids != expected)[0])
        raise KaggleFormatError(path, f"RowId {row_ids[i]} out of sequence, expected {expected[i]}", i + 2)


def read_sample_submission(path: str | os.PathLike) -> pd.DataFrame:
    """Read ``SampleSubmission.csv`` (``RowId,Location``) with RowIds checked to run 1..n."""
    path = Path(path)
    lines = _split_lines(read_csv_bytes(path), path, SUBMISSION_HEADER)
    row_ids, locations = [], []
    for i, line in enumerate(lines):
        parts = line.split(b",")
        if len(parts) != 2:
            raise KaggleFormatError(path, f"expected 2 fields (RowId,Location), found {len(parts)}", i + 2)
        row_ids.append(_parse_id(parts[0], path, i + 2, "RowId"))
        locations.append(_parse_float(parts[1], path, i + 2, "Location"))
    _check_row_ids(np.array(row_ids), path)
    return pd.DataFrame({"RowId": row_ids, "Location": locations})


# ------------------------------------------------------------------------------------------------------------- writers
_PIXEL_TEXT = np.zeros((256, 4), dtype=np.uint8)
for _value in range(256):
    _text = f"{_value} ".encode()
    _PIXEL_TEXT[_value, : len(_text)] = np.frombuffer(_text, dtype=np.uint8)


def format_pixels(image: np.ndarray) -> bytes:
    """One image as Kaggle's pixel string: row-major values separated by single spaces."""
    flat = np.asarray(image, dtype=np.uint8).ravel()
    if flat.size != N_PIXELS:
        raise ValueError(f"expected {N_PIXELS} pixels, got {flat.size}")
    text = _PIXEL_TEXT[flat].ravel()
    return text[text != 0][:-1].tobytes()


def format_coordinate(value: float) -> str:
    """A coordinate as Kaggle writes it (12 significant digits, empty when missing)."""
    return "" if np.isnan(value) else f"{value:.12g}"


def write_atomically(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file, so a crash never leaves a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def encode_training_csv(images: np.ndarray, keypoints: np.ndarray) -> bytes:
    """``training.csv`` content for images ``(N, 96, 96)`` and keypoints ``(N, 15, 2)`` (CRLF, like Kaggle)."""
    coords = to_coordinate_array(np.asarray(keypoints, dtype=np.float64))
    out = io.BytesIO()
    out.write((",".join(TRAINING_HEADER) + "\r\n").encode())
    for image, row in zip(images, coords, strict=True):
        out.write(",".join(format_coordinate(v) for v in row).encode() + b"," + format_pixels(image) + b"\r\n")
    return out.getvalue()


def encode_test_csv(image_ids: np.ndarray, images: np.ndarray) -> bytes:
    """``test.csv`` content (``ImageId,Image``, CRLF)."""
    out = io.BytesIO()
    out.write((",".join(TEST_HEADER) + "\r\n").encode())
    for image_id, image in zip(image_ids, images, strict=True):
        out.write(f"{int(image_id)},".encode() + format_pixels(image) + b"\r\n")
    return out.getvalue()


def encode_lookup_table(lookup: pd.DataFrame) -> bytes:
    """``IdLookupTable.csv`` content: Kaggle's header, CRLF, and an empty Location left off each data row."""
    lines = [",".join(LOOKUP_HEADER)]
    lines += [f"{r},{i},{f}" for r, i, f in zip(lookup["RowId"], lookup["ImageId"], lookup["FeatureName"], strict=True)]
    return ("\r\n".join(lines) + "\r\n").encode()


def encode_submission(row_ids: np.ndarray, locations: np.ndarray) -> bytes:
    """``RowId,Location`` content with LF line endings, like Kaggle's ``SampleSubmission.csv``."""
    lines = [",".join(SUBMISSION_HEADER)]
    lines += [f"{int(r)},{format_location(v)}" for r, v in zip(row_ids, locations, strict=True)]
    return ("\n".join(lines) + "\n").encode()


def format_location(value: float) -> str:
    """A submission value: integers as Kaggle's sample writes them (``0``), others with 12 significant digits."""
    return f"{value:.12g}"


def write_zipped_csv(zip_path: str | os.PathLike, csv_name: str, content: bytes) -> None:
    """Write ``content`` as ``csv_name`` inside a new deflated zip at ``zip_path`` (atomically)."""
    buffer = io.BytesIO()
    member = zipfile.ZipInfo(csv_name, date_time=(1980, 1, 1, 0, 0, 0))  # fixed time: same input, same bytes
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(member, content, compress_type=zipfile.ZIP_DEFLATED, compresslevel=6)
    write_atomically(zip_path, buffer.getvalue())
