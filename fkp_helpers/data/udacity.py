"""Real faces in Kaggle's exact file format: the Udacity "P1 Facial Keypoints" data (YouTube Faces frames).

The source (a folder in Udacity's layout, or Udacity's ``train-test-data.zip`` read without extracting) holds
``training_frames_keypoints.csv`` and ``test_frames_keypoints.csv`` (a file name, then x0,y0..x67,y67 of the iBUG-68
landmarks) and the images in ``training/`` and ``test/``, read by content (PNG or JPEG; RGBA, RGB or grey).

The conversion:
- maps the 68 landmarks to Kaggle's 15 keypoints (``landmarks68.py``);
- splits by person (the file name without its ``_NN`` suffix): the source's training and test folders share
  people, so both are pooled and a seeded ``test_fraction`` of the people become test people;
- moves every landmark left by the offset measured from the faces' mirror symmetry (``landmark_offset.py``: the
  shared landmarks sit about 1.2 source px right of their faces; y is not corrected, nothing measures it);
- frames each face like Kaggle's (``framing.py``): one antialiased similarity warp to a pose sampled from the real
  labels' pose statistics, the keypoints moved by the same transform;
- gives training rows the real missing-label patterns with their real frequencies, and test images the real lookup
  table's feature sets; the complete labels go to the hidden truth (FKP-synth's truth file format, so
  ``load_series_data`` reads it; ``label_noise_px`` is 0: no jitter is added, though the source landmarks are
  themselves a detector's output with unknown error).

Landmarks outside their image: a few faces (seven in the shared set) have landmarks up to 23 px beyond their image
edge, faces at the edge of the video frame. They are kept; frame pixels whose source lies outside the image repeat
the image's border, and are counted per face (``person_ids.csv``) and in total (the info file). A landmark more than
one image size outside its image is an error.
"""
from __future__ import annotations

import io
import json
import math
import os
import re
import shutil
import zipfile
import zlib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image
from tqdm import tqdm

from fkp_helpers.data.framing import sample_frame_transforms, transform_points, warp_to_frame
from fkp_helpers.data.kaggle_io import (
    KaggleFormatError,
    encode_lookup_table,
    encode_submission,
    encode_test_csv,
    encode_training_csv,
    split_csv_lines,
    write_atomically,
    write_zipped_csv,
)
from fkp_helpers.data.keypoints import ALWAYS_LABELLED_INDEX
from fkp_helpers.data.landmark_offset import X_OFFSET_PATH, load_x_offset, shift_x
from fkp_helpers.data.landmarks68 import N_IBUG68, kaggle_keypoints_from_ibug68
from fkp_helpers.data.synth import INFO_FILE, TRUTH_FILE, lookup_frame, write_truth
from fkp_helpers.data.synth_model import load_synth_model

UDACITY_CSVS = {"training": "training_frames_keypoints.csv", "test": "test_frames_keypoints.csv"}
"""The landmark table of each source folder."""
UDACITY_HEADER = ("", *(str(i) for i in range(2 * N_IBUG68)))
PERSON_FILE = "person_ids.csv"
GENERATOR = "udacity-p1-faces"
UDACITY_ZIP = "train-test-data.zip"
"""The name of Udacity's original download."""
SOURCE_NOTE = ("real faces: frames of the YouTube Faces Database (Wolf, Hassner and Maoz, CVPR 2011) with iBUG-68 "
               "landmarks, from Udacity's P1_Facial_Keypoints data, converted to Kaggle's 15 keypoints and file format")
LICENCE_NOTE = ("Udacity P1_Facial_Keypoints repository: MIT licence, Copyright (c) 2018 Udacity, Inc.; the YouTube "
                "Faces frames are distributed for research use. Never commit these files or anything made from them.")
X_OFFSET_KEY = "landmark_x_offset_px"
"""The info file's record of the landmark correction a conversion applied."""
_PERSON = re.compile(r"^(?P<person>.+)_\d+$")


class UdacityFormatError(KaggleFormatError):
    """A Udacity source file is missing or malformed; the message names the file, line and problem."""


@dataclass(frozen=True)
class UdacityFaces:
    """The labelled faces of a source: file (``training/NAME``), person, grey image and iBUG-68 landmarks in its
    pixels."""

    files: list[str]
    persons: list[str]
    images: list[np.ndarray]
    landmarks: np.ndarray


def person_of(file_name: str) -> str:
    """The person a face file shows: its name without folder, extension and ``_NN`` frame suffix."""
    stem = Path(file_name).stem
    match = _PERSON.match(stem)
    return match["person"] if match else stem


# ------------------------------------------------------------------------------------------------------- reading
class _SourceFiles:
    """Files of a source in Udacity's layout, in a folder or inside its zip (optionally under a prefix folder)."""

    def __init__(self, src: Path):
        self.root, self.prefix, self._zip = src, "", None
        if src.is_dir():
            return
        if not src.is_file():
            raise UdacityFormatError(src, "no such folder or zip file")
        try:
            self._zip = zipfile.ZipFile(src)
        except (zipfile.BadZipFile, EOFError, OSError) as error:
            raise UdacityFormatError(src, f"not a readable zip archive (truncated download?): {error}") from None
        self._members = set(self._zip.namelist())
        tables = sorted(m for m in self._members if m.endswith(UDACITY_CSVS["training"]) and "__MACOSX" not in m)
        if not tables:
            raise UdacityFormatError(src, f"the zip holds no {UDACITY_CSVS['training']}")
        self.prefix = tables[0].removesuffix(UDACITY_CSVS["training"])

    def __enter__(self) -> _SourceFiles:
        return self

    def __exit__(self, *exc) -> None:
        if self._zip is not None:
            self._zip.close()

    def path(self, relative: str) -> Path:
        """Where a file is, for messages (inside a zip: the zip's path, then the member's)."""
        return self.root / self.prefix / relative

    def read(self, relative: str) -> bytes | None:
        """The bytes of a file, or None when it is absent."""
        if self._zip is None:
            path = self.root / relative
            return path.read_bytes() if path.is_file() else None
        name = self.prefix + relative
        if name not in self._members:
            return None
        try:
            return self._zip.read(name)
        except (zipfile.BadZipFile, EOFError, zlib.error) as error:
            problem = f"member {name} is unreadable (truncated or damaged zip?): {error}"
            raise UdacityFormatError(self.root, problem) from None


def _coordinates(fields: list[bytes], path: Path, line: int) -> np.ndarray:
    """The 136 landmark coordinates of a row as ``(68, 2)``; a non-numeric or non-finite field is an error."""
    values = []
    for column, text in enumerate(fields):
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            found = text[:20].decode("utf-8", "replace")
            raise UdacityFormatError(path, f"column {column}: expected a finite coordinate, found {found!r}", line)
        values.append(value)
    return np.array(values).reshape(N_IBUG68, 2)


def _read_table(source: _SourceFiles, folder: str) -> list[tuple[str, np.ndarray, int]]:
    """(file name, landmarks ``(68, 2)``, CSV line) for every row of a folder's landmark table."""
    path = source.path(UDACITY_CSVS[folder])
    raw = source.read(UDACITY_CSVS[folder])
    if raw is None:
        raise UdacityFormatError(path, "file not found")
    rows = []
    for line, text in enumerate(split_csv_lines(raw, path, UDACITY_HEADER), start=2):
        fields = text.split(b",")
        if len(fields) != len(UDACITY_HEADER):
            raise UdacityFormatError(path, f"expected {len(UDACITY_HEADER)} fields (image file name, then x and y of "
                                           f"{N_IBUG68} landmarks), found {len(fields)}", line)
        name = fields[0].decode("utf-8", "replace").strip()
        if not name:
            raise UdacityFormatError(path, "empty image file name", line)
        rows.append((name, _coordinates(fields[1:], path, line), line))
    return rows


def decode_grey_image(data: bytes) -> np.ndarray:
    """An image file's content (PNG, JPEG, ...; grey, RGB or RGBA) as ``(H, W)`` uint8 grey; raises OSError."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            return np.asarray(image.convert("L"))
    except (SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise OSError(str(error)) from error


def _read_face(source: _SourceFiles, folder: str, name: str, landmarks: np.ndarray, line: int) -> np.ndarray:
    """The grey image of one table row, checked to exist, decode, and lie within one image size of its landmarks."""
    table, relative = source.path(UDACITY_CSVS[folder]), f"{folder}/{name}"
    data = source.read(relative)
    if data is None:
        raise UdacityFormatError(table, f"image {relative} listed here is missing", line)
    try:
        image = decode_grey_image(data)
    except OSError as error:
        raise UdacityFormatError(table, f"image {relative} is unreadable or truncated ({error})", line) from None
    height, width = image.shape
    limit = np.array([width, height])
    absurd = ((landmarks < -limit) | (landmarks > 2 * limit - 1)).any(axis=1)
    if absurd.any():
        k = int(np.flatnonzero(absurd)[0])
        raise UdacityFormatError(table, f"landmark {k} at ({landmarks[k, 0]:g}, {landmarks[k, 1]:g}) is more than one "
                                        f"image size outside the {width}x{height} image {relative}", line)
    return image


def read_udacity(src: str | os.PathLike, progress: bool = False) -> UdacityFaces:
    """Every labelled face of a source folder or zip, training table first, each checked (named errors)."""
    files, images, landmarks = [], [], []
    with _SourceFiles(Path(src)) as source:
        rows = [(folder, *row) for folder in UDACITY_CSVS for row in _read_table(source, folder)]
        for folder, name, points, line in tqdm(rows, desc="reading faces", disable=not progress, mininterval=1.0):
            images.append(_read_face(source, folder, name, points, line))
            files.append(f"{folder}/{name}")
            landmarks.append(points)
    persons = [person_of(f) for f in files]
    return UdacityFaces(files=files, persons=persons, images=images, landmarks=np.array(landmarks))


def landmarks_outside_image(faces: UdacityFaces) -> np.ndarray:
    """``(N,)`` count of each face's landmarks whose pixel lies beyond its image edge."""
    return np.array([
        int(((points < -0.5) | (points > np.array(image.shape[::-1]) - 0.5)).any(axis=1).sum())
        for points, image in zip(faces.landmarks, faces.images)
    ])


def stale_conversion(folder: str | os.PathLike) -> str | None:
    """Why a converted real-face folder does not match this version's conversion (its landmark correction differs
    from the measured offset), or None when it matches, has no info file, or is no conversion of real faces."""
    info_path = Path(folder) / INFO_FILE
    if not info_path.is_file():
        return None
    info = json.loads(info_path.read_text())
    if info.get("generator") != GENERATOR or info.get(X_OFFSET_KEY) == load_x_offset():
        return None
    return (f"{folder} was converted with a landmark x correction of {info.get(X_OFFSET_KEY, 0.0)} px, and this "
            f"version corrects {load_x_offset():.3f} px ({X_OFFSET_PATH.name}); delete the folder to convert the faces "
            "again (`make faces`), or pass its path as data_dir to run on it as it is")


def person_groups(data_dir: str | os.PathLike, subset: str = "training") -> np.ndarray | None:
    """The person of every row of ``training.csv`` (``subset="training"``) or ``test.csv`` (``"test"``), ``(N,)``
    strings in row order, from the ``person_ids.csv`` that a converted real-face data set holds beside its Kaggle
    files; None where there is none (Kaggle, FKP-synth)."""
    path = Path(data_dir) / PERSON_FILE
    if not path.is_file():
        return None
    table = pd.read_csv(path, dtype={"set": str, "person": str})
    missing = {"set", "position", "person"} - set(table.columns)
    if missing:
        raise ValueError(f"{path}: expected columns set, position, person; missing {sorted(missing)}")
    rows = table[table["set"] == subset].sort_values("position")
    positions = rows["position"].to_numpy()
    if not np.array_equal(positions, np.arange(len(rows))):
        raise ValueError(f"{path}: the {subset} positions are not 0..{len(rows) - 1} once each")
    return rows["person"].to_numpy(dtype=object)


# ---------------------------------------------------------------------------------------------------- converting
def split_people(persons: list[str], rng: np.random.Generator, test_fraction: float) -> np.ndarray:
    """``(N,)`` mask of the faces of test people: a seeded ``test_fraction`` of the distinct people (at least one)."""
    people = sorted(set(persons))
    n_test = min(max(1, round(test_fraction * len(people))), len(people) - 1) if len(people) > 1 else 0
    test_people = set(rng.permutation(people)[:n_test].tolist())
    return np.array([p in test_people for p in persons])


def _frame_faces(images: list[np.ndarray], transforms: np.ndarray, progress: bool) -> tuple[np.ndarray, np.ndarray]:
    """Every image warped into the frame, and the count of frame pixels outside each source."""
    framed = [warp_to_frame(image, matrix)
              for image, matrix in tqdm(zip(images, transforms), total=len(images), desc="framing faces",
                                        disable=not progress, mininterval=1.0)]
    return np.stack([f[0] for f in framed]), np.array([f[1] for f in framed])


@dataclass(frozen=True)
class _Converted:
    """Both sides of a conversion in output order, with their source rows and filled-pixel counts."""

    train_rows: np.ndarray
    train_images: np.ndarray
    train_true: np.ndarray
    train_labels: np.ndarray
    test_rows: np.ndarray
    test_images: np.ndarray
    test_true: np.ndarray
    lookup: pd.DataFrame
    filled: np.ndarray


def _convert(faces: UdacityFaces, seed: int, test_fraction: float, progress: bool) -> _Converted:
    """Split, draw missing patterns and lookup sets, sample poses and frame every face (all from ``seed``)."""
    model = load_synth_model()
    rng = np.random.default_rng(seed)
    is_test = split_people(faces.persons, rng, test_fraction)
    train_rows, test_rows = rng.permutation(np.flatnonzero(~is_test)), rng.permutation(np.flatnonzero(is_test))
    patterns = model.sample_patterns(rng, len(train_rows))
    feature_sets = model.sample_lookup_sets(rng, len(test_rows))
    complete = np.concatenate([patterns.sum(axis=1) > len(ALWAYS_LABELLED_INDEX),
                               [len(s) > 2 * len(ALWAYS_LABELLED_INDEX) for s in feature_sets]])
    order = np.concatenate([train_rows, test_rows]).astype(int)
    keypoints = kaggle_keypoints_from_ibug68(faces.landmarks[order])
    transforms = sample_frame_transforms(model, rng, keypoints, complete)
    images, filled = _frame_faces([faces.images[i] for i in order], transforms, progress)
    framed = transform_points(keypoints, transforms)
    n = len(train_rows)
    labels = framed[:n].copy()
    labels[~patterns] = np.nan
    return _Converted(train_rows=train_rows, train_images=images[:n], train_true=framed[:n], train_labels=labels,
                      test_rows=test_rows, test_images=images[n:], test_true=framed[n:],
                      lookup=lookup_frame(feature_sets, np.arange(1, len(test_rows) + 1)),
                      filled=filled[np.argsort(order)])


def _person_table(faces: UdacityFaces, result: _Converted) -> bytes:
    """``person_ids.csv``: the set, position (row of training.csv, or ImageId - 1), person, source file and filled
    pixels of every converted face."""
    parts = [pd.DataFrame({"set": side, "position": np.arange(len(rows)), "rows": rows})
             for side, rows in (("training", result.train_rows), ("test", result.test_rows))]
    table = pd.concat(parts, ignore_index=True)
    rows = table.pop("rows").to_numpy()
    table["person"] = [faces.persons[i] for i in rows]
    table["source_file"] = [faces.files[i] for i in rows]
    table["filled_pixels"] = result.filled[rows]
    return table.to_csv(index=False, lineterminator="\n").encode()


def _info(faces: UdacityFaces, result: _Converted, seed: int, test_fraction: float, x_offset_px: float) -> bytes:
    """The info file: source, seed, counts, landmark correction, filled pixels, licence."""
    persons = np.array(faces.persons)
    info = {
        "generator": GENERATOR,
        "source": SOURCE_NOTE,
        "licence": LICENCE_NOTE,
        "seed": seed,
        "test_fraction": test_fraction,
        "n_train": len(result.train_rows),
        "n_test": len(result.test_rows),
        "n_train_people": len(set(persons[result.train_rows])),
        "n_test_people": len(set(persons[result.test_rows])),
        "label_noise_px": 0.0,
        "label_noise_note": "no jitter added; the source landmarks are a detector's output with unknown error",
        X_OFFSET_KEY: x_offset_px,
        "landmark_x_offset_note": (f"every source landmark moved left by this many source px before framing (the "
                                   f"offset measured from the faces' mirror symmetry, {X_OFFSET_PATH.name}); "
                                   "y is not corrected"),
        "faces_with_landmarks_outside_source": int((landmarks_outside_image(faces) > 0).sum()),
        "filled_pixels": int(result.filled.sum()),
        "faces_with_filled_pixels": int((result.filled > 0).sum()),
        "person_file": PERSON_FILE,
    }
    return (json.dumps(info, indent=1) + "\n").encode()


def _write(folder: Path, faces: UdacityFaces, result: _Converted, seed: int, test_fraction: float,
           x_offset_px: float) -> None:
    """Every output file into ``folder``."""
    image_ids = np.arange(1, len(result.test_rows) + 1)
    training_csv = encode_training_csv(result.train_images, result.train_labels)
    write_zipped_csv(folder / "training.zip", "training.csv", training_csv)
    write_zipped_csv(folder / "test.zip", "test.csv", encode_test_csv(image_ids, result.test_images))
    write_atomically(folder / "IdLookupTable.csv", encode_lookup_table(result.lookup))
    write_atomically(folder / "SampleSubmission.csv",
                     encode_submission(result.lookup["RowId"].to_numpy(), np.zeros(len(result.lookup))))
    write_truth(folder / TRUTH_FILE, result.train_true, result.train_images, result.test_true, result.test_true,
                result.test_images, image_ids)
    write_atomically(folder / PERSON_FILE, _person_table(faces, result))
    write_atomically(folder / INFO_FILE, _info(faces, result, seed, test_fraction, x_offset_px))


def convert_udacity(src: str | os.PathLike, out: str | os.PathLike, seed: int = 0, test_fraction: float = 0.2,
                    progress: bool = True, x_offset_px: float | None = None) -> Path:
    """Write the Udacity faces of ``src`` (folder or zip) into a new folder ``out`` in Kaggle's file format, with
    the hidden truth, ``person_ids.csv`` and an info file; byte-identical for a seed; refuses an existing ``out``.
    Landmarks move left by ``x_offset_px`` source px (None: the measured offset, :func:`load_x_offset`)."""
    out = Path(out)
    if out.exists():
        raise FileExistsError(f"{out} already exists; refusing to overwrite")
    x_offset_px = load_x_offset() if x_offset_px is None else float(x_offset_px)
    faces = read_udacity(src, progress)
    faces = replace(faces, landmarks=shift_x(faces.landmarks, x_offset_px))
    result = _convert(faces, seed, test_fraction, progress)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        _write(tmp, faces, result, seed, test_fraction, x_offset_px)
        if out.exists():
            raise FileExistsError(f"{out} appeared during the conversion; refusing to overwrite")
        tmp.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out
