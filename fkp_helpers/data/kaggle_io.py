"""Reading and writing the Kaggle "Facial Keypoints Detection" files exactly as Kaggle ships them.

Every reader validates while it reads and raises :class:`KaggleFormatError` naming the file, the line and the
problem. Pixel strings are decoded by one compiled pass over the file's bytes (``pixel_decoder``).
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

from fkp_helpers.data.keypoints import COORDINATE_COLUMNS, IMAGE_SIZE, to_coordinate_array, to_keypoint_array
from fkp_helpers.data.pixel_decoder import NON_NUMERIC, OUT_OF_RANGE, WRONG_COUNT, decode_pixel_rows

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
    """Test image ids ``(N,)`` and images ``(N, 96, 96)`` uint8."""

    __test__ = False  # not a pytest test class

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


def _check_header(first_line: bytes, path: Path, header: tuple[str, ...]) -> None:
    found = first_line.decode("utf-8", "replace").lstrip("\ufeff").split(",")
    if tuple(found) != header:
        missing = [c for c in header if c not in found]
        extra = [c for c in found if c not in header]
        detail = f"missing columns {missing}" if missing else ""
        detail += ("; " if detail and extra else "") + (f"unexpected columns {extra}" if extra else "")
        raise KaggleFormatError(path, f"wrong header: {detail or 'columns out of order'}; expected {','.join(header)}", 1)


def _line_spans(raw: bytes) -> list[tuple[int, int]]:
    """(start, end) offsets of every line without its line ending; a trailing newline adds no empty line."""
    spans, start = [], 0
    while start < len(raw):
        end = raw.find(b"\n", start)
        end = len(raw) if end < 0 else end
        spans.append((start, end - 1 if end > start and raw[end - 1] == ord("\r") else end))
        start = end + 1
    return spans


def _data_line_spans(raw: bytes, path: Path, header: tuple[str, ...]) -> list[tuple[int, int]]:
    """Spans of the data lines of a CSV whose header is checked (CRLF or LF, trailing newline optional)."""
    spans = _line_spans(raw)
    if not spans:
        raise KaggleFormatError(path, "file is empty")
    _check_header(raw[spans[0][0] : spans[0][1]], path, header)
    if len(spans) == 1:
        raise KaggleFormatError(path, "no data rows after the header", 1)
    blank = next((i for i, (start, end) in enumerate(spans) if start == end), None)
    if blank is not None:
        raise KaggleFormatError(path, "blank line (every row after the header holds data)", blank + 1)
    return spans[1:]


def split_csv_lines(raw: bytes, path: Path, header: tuple[str, ...]) -> list[bytes]:
    """Data lines of a small CSV, header checked."""
    return [raw[start:end] for start, end in _data_line_spans(raw, path, header)]


def _read_image_table(path: Path, header: tuple[str, ...]) -> tuple[list[bytes], np.ndarray]:
    """The text before the last field of each data row, and the decoded images of the last field (``Image``)."""
    raw = read_csv_bytes(path)
    spans = _data_line_spans(raw, path, header)
    leading, pixel_starts, pixel_ends, n_rows = [], [], [], len(spans)
    for row, (start, end) in enumerate(spans):
        comma = raw.rfind(b",", start, end)
        n_fields = raw.count(b",", start, comma) + 2 if comma >= 0 else 1
        if n_fields != len(header):
            hint = " (file truncated?)" if row == n_rows - 1 else ""
            raise KaggleFormatError(path, f"expected {len(header)} fields, found {n_fields}{hint}", row + 2)
        leading.append(raw[start:comma])
        pixel_starts.append(comma + 1)
        pixel_ends.append(end)
    return leading, decode_pixels(raw, np.array(pixel_starts), np.array(pixel_ends), path)


def decode_pixels(raw: bytes, starts: np.ndarray, ends: np.ndarray, path: str | os.PathLike) -> np.ndarray:
    """Images ``(n, 96, 96)`` uint8 from the pixel strings at ``raw[starts[i]:ends[i]]`` (file line ``i + 2``)."""
    images = np.empty((len(starts), N_PIXELS), dtype=np.uint8)
    status, row, detail = decode_pixel_rows(np.frombuffer(raw, dtype=np.uint8), starts, ends, images)
    if status == NON_NUMERIC:
        raise KaggleFormatError(path, f"non-numeric pixel value {_token_at(raw, detail)!r}", row + 2)
    if status == OUT_OF_RANGE:
        raise KaggleFormatError(path, f"pixel value {_token_at(raw, detail)} is not an integer in 0..255", row + 2)
    if status == WRONG_COUNT:
        hint = " (file truncated?)" if row == len(starts) - 1 and detail < N_PIXELS else ""
        raise KaggleFormatError(path, f"expected {N_PIXELS} pixel values (96x96), found {detail}{hint}", row + 2)
    return images.reshape(-1, IMAGE_SIZE, IMAGE_SIZE)


def _token_at(raw: bytes, position: int) -> str:
    """The space-delimited token around byte ``position``, for error messages."""
    start = max(raw.rfind(b" ", 0, position), raw.rfind(b",", 0, position)) + 1
    ends = [i for i in (raw.find(b" ", position), raw.find(b"\r", position), raw.find(b"\n", position)) if i >= 0]
    return raw[start : min(ends, default=len(raw))].decode("utf-8", "replace")[:20]


# --------------------------------------------------------------------------------------------------------- coordinates
def _shown(text: bytes) -> str:
    """A field's text as an error message quotes it: its first 20 characters, in quotes."""
    return repr(text[:20].decode("utf-8", "replace"))


def _parse_float(text: bytes, path: Path, line: int, column: str) -> float:
    if not text:
        return np.nan
    try:
        value = float(text)
    except ValueError:
        raise KaggleFormatError(path, f"column {column}: not a number: {_shown(text)}", line) from None
    if not np.isfinite(value):
        hint = " (a missing value is an empty field)" if np.isnan(value) else ""
        raise KaggleFormatError(path, f"column {column}: not a finite number: {_shown(text)}{hint}", line)
    return value


def _parse_coordinates(lines: list[bytes], path: Path) -> np.ndarray:
    """Parse lines of 30 comma-separated coordinates into ``(N, 15, 2)`` float32 with range and pairing checks.

    pandas' C parser reads well-formed text; any problem is then located field by field for a precise message.
    """
    try:
        coords = pd.read_csv(io.BytesIO(b"\n".join(lines)), header=None, dtype=np.float64, keep_default_na=False,
                             na_values=[""], skip_blank_lines=False).to_numpy()
    except (ValueError, pd.errors.ParserError):
        coords = None
    if coords is None or coords.shape != (len(lines), len(COORDINATE_COLUMNS)) or np.isinf(coords).any():
        coords = np.array([[_parse_float(v, path, i + 2, COORDINATE_COLUMNS[j]) for j, v in enumerate(line.split(b","))]
                           for i, line in enumerate(lines)])
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


def read_training(path: str | os.PathLike) -> TrainingSet:
    """Read Kaggle's ``training.csv`` or ``training.zip``."""
    path = Path(path)
    fields, images = _read_image_table(path, TRAINING_HEADER)
    return TrainingSet(images=images, keypoints=_parse_coordinates(fields, path))


def read_keypoint_labels(path: str | os.PathLike) -> np.ndarray:
    """Read a CSV holding only the 30 coordinate columns of ``training.csv`` into ``(N, 15, 2)`` float32."""
    path = Path(path)
    lines = split_csv_lines(read_csv_bytes(path), path, COORDINATE_COLUMNS)
    for i, line in enumerate(lines):
        if line.count(b",") != len(COORDINATE_COLUMNS) - 1:
            raise KaggleFormatError(path, f"expected {len(COORDINATE_COLUMNS)} fields, found {line.count(b',') + 1}", i + 2)
    return _parse_coordinates(lines, path)


def read_test(path: str | os.PathLike) -> TestSet:
    """Read Kaggle's ``test.csv`` or ``test.zip`` (``ImageId,Image``)."""
    path = Path(path)
    fields, images = _read_image_table(path, TEST_HEADER)
    image_ids = np.array([_parse_id(text, path, i + 2, "ImageId") for i, text in enumerate(fields)], dtype=np.int64)
    _check_unique(image_ids, path, "ImageId")
    return TestSet(image_ids=image_ids, images=images)


def _parse_id(text: bytes, path: Path, line: int, column: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise KaggleFormatError(path, f"{column} must be a positive integer, found {_shown(text)}", line)
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
    lines = split_csv_lines(read_csv_bytes(path), path, LOOKUP_HEADER)
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
    lines = split_csv_lines(read_csv_bytes(path), path, SUBMISSION_HEADER)
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
