"""The Kaggle submission: fill the rows ``IdLookupTable.csv`` asks for, check it, write it, and score it.

Predictions are clipped to ``kaggle_io.COORDINATE_RANGE`` (0..96, the range the real labels lie in) before they
are written: a coordinate outside the image can only be further from the truth. Every problem raises
:class:`SubmissionError` (a ``ValueError``) naming what is wrong and, where there is one, the RowId.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from fkp_helpers.data.kaggle_io import COORDINATE_RANGE, SUBMISSION_HEADER, encode_submission, write_atomically
from fkp_helpers.data.keypoints import ALWAYS_LABELLED_INDEX, COORDINATE_COLUMNS, N_KEYPOINTS

LOOKUP_COLUMNS = ("RowId", "ImageId", "FeatureName")


class SubmissionError(ValueError):
    """A submission (or the lookup table it is built from) is not what Kaggle expects."""


# -------------------------------------------------------------------------------------------------------- internals
def _check_lookup(lookup: pd.DataFrame) -> None:
    missing = [c for c in LOOKUP_COLUMNS if c not in lookup.columns]
    if missing:
        raise SubmissionError(f"lookup table lacks columns {missing}; expected {', '.join(LOOKUP_COLUMNS)}")
    if len(lookup) == 0:
        raise SubmissionError("lookup table has no rows")
    row_ids = lookup["RowId"].to_numpy()
    expected = np.arange(1, len(lookup) + 1)
    if not np.array_equal(row_ids, expected):
        i = int(np.flatnonzero(row_ids != expected)[0])
        raise SubmissionError(f"lookup table: RowId {row_ids[i]} out of sequence at position {i}, expected {expected[i]}")
    unknown = ~lookup["FeatureName"].isin(COORDINATE_COLUMNS).to_numpy()
    if unknown.any():
        i = int(np.flatnonzero(unknown)[0])
        raise SubmissionError(f"lookup table: RowId {row_ids[i]} asks for unknown FeatureName {lookup['FeatureName'].iloc[i]!r}")
    repeated = lookup.duplicated(["ImageId", "FeatureName"]).to_numpy()
    if repeated.any():
        i = int(np.flatnonzero(repeated)[0])
        raise SubmissionError(
            f"lookup table: RowId {row_ids[i]} asks for {lookup['FeatureName'].iloc[i]} of ImageId "
            f"{lookup['ImageId'].iloc[i]} a second time"
        )


def _lookup_positions(lookup: pd.DataFrame, image_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each lookup row: the position of its ImageId in ``image_ids`` and its column in Kaggle's 30 coordinates."""
    image_ids = np.asarray(image_ids)
    if image_ids.ndim != 1:
        raise SubmissionError(f"image_ids must be 1-D, got shape {image_ids.shape}")
    unique_ids, first = np.unique(image_ids, return_index=True)
    if len(unique_ids) != len(image_ids):
        repeated = np.setdiff1d(np.arange(len(image_ids)), first)[0]
        raise SubmissionError(f"ImageId {image_ids[repeated]} appears more than once in image_ids")
    asked = lookup["ImageId"].to_numpy()
    where = np.searchsorted(unique_ids, asked).clip(0, len(unique_ids) - 1)
    absent = unique_ids[where] != asked
    if absent.any():
        i = int(np.flatnonzero(absent)[0])
        n_images = len(np.unique(asked[absent]))
        raise SubmissionError(
            f"lookup RowId {lookup['RowId'].iloc[i]} asks for ImageId {asked[i]}, which has no prediction "
            f"({n_images} asked-for image(s) missing)"
        )
    column_of = {name: j for j, name in enumerate(COORDINATE_COLUMNS)}
    columns = lookup["FeatureName"].map(column_of).to_numpy(dtype=np.int64)
    return first[where], columns


# ------------------------------------------------------------------------------------------------------- public API
def build_submission(lookup: pd.DataFrame, image_ids: np.ndarray, predictions: np.ndarray) -> pd.DataFrame:
    """``RowId, Location`` for exactly the rows of ``lookup`` (``RowId, ImageId, FeatureName``), in its order.

    ``predictions`` ``(N, 15, 2)`` pixels belong to ``image_ids`` ``(N,)``; they must be finite and are clipped to
    0..96. Images the lookup does not ask about are ignored.
    """
    _check_lookup(lookup)
    predictions = np.asarray(predictions, dtype=np.float64)
    if predictions.shape != (len(image_ids), N_KEYPOINTS, 2):
        raise SubmissionError(f"predictions have shape {predictions.shape}, expected ({len(image_ids)}, {N_KEYPOINTS}, 2)")
    if not np.isfinite(predictions).all():
        row, k, axis = map(int, np.argwhere(~np.isfinite(predictions))[0])
        raise SubmissionError(f"prediction for ImageId {image_ids[row]}, {COORDINATE_COLUMNS[2 * k + axis]} is not finite")
    rows, columns = _lookup_positions(lookup, image_ids)
    flat = predictions.reshape(len(predictions), 2 * N_KEYPOINTS)
    locations = np.clip(flat[rows, columns], *COORDINATE_RANGE)
    return pd.DataFrame({"RowId": lookup["RowId"].to_numpy(dtype=np.int64), "Location": locations})


def validate_submission(submission: pd.DataFrame, lookup: pd.DataFrame, sample_submission: pd.DataFrame) -> None:
    """Raise :class:`SubmissionError` unless ``submission`` has exactly the columns ``RowId, Location``, the RowIds
    of both ``lookup`` and ``sample_submission`` in the same order, and a finite Location in 0..96 on every row."""
    if tuple(submission.columns) != SUBMISSION_HEADER:
        raise SubmissionError(f"submission columns are {list(submission.columns)}, expected exactly {list(SUBMISSION_HEADER)}")
    for name, reference in (("lookup table", lookup), ("sample submission", sample_submission)):
        if len(submission) != len(reference):
            raise SubmissionError(f"submission has {len(submission)} rows, the {name} has {len(reference)}")
        ours, theirs = submission["RowId"].to_numpy(), reference["RowId"].to_numpy()
        differ = ours != theirs
        if differ.any():
            i = int(np.flatnonzero(differ)[0])
            raise SubmissionError(f"submission row {i} has RowId {ours[i]}, the {name} has RowId {theirs[i]} there")
    try:
        locations = submission["Location"].to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise SubmissionError(f"Location column is not numeric: {error}") from None
    row_ids = submission["RowId"].to_numpy()
    if np.isnan(locations).any():
        i = int(np.flatnonzero(np.isnan(locations))[0])
        raise SubmissionError(f"RowId {row_ids[i]}: Location is missing (NaN); {int(np.isnan(locations).sum())} rows in all")
    low, high = COORDINATE_RANGE
    outside = (locations < low) | (locations > high)
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        raise SubmissionError(f"RowId {row_ids[i]}: Location {locations[i]} is outside the image ({low:g}..{high:g})")


def write_submission(
    path: str | os.PathLike, submission: pd.DataFrame, lookup: pd.DataFrame, sample_submission: pd.DataFrame
) -> Path:
    """Validate ``submission``, then write it as ``RowId,Location`` CSV atomically; returns the path.

    An existing file is replaced only if it is itself a submission (its first line is ``RowId,Location``), so a
    mistyped path cannot destroy some other file; the write goes through a temporary file, so a crash never leaves
    a half-written submission.
    """
    validate_submission(submission, lookup, sample_submission)
    path = Path(path)
    if path.exists():
        with open(path, "rb") as existing:
            first_line = existing.readline().strip().decode("utf-8", "replace").lstrip("\ufeff")
        if first_line != ",".join(SUBMISSION_HEADER):
            raise SubmissionError(f"{path} exists and is not a submission (first line {first_line[:40]!r}); not overwriting it")
    write_atomically(path, encode_submission(submission["RowId"].to_numpy(), submission["Location"].to_numpy()))
    return path


def score_submission(
    submission: pd.DataFrame, lookup: pd.DataFrame, test_keypoints: np.ndarray, image_ids: np.ndarray
) -> float:
    """RMSE in pixels of ``submission`` against known test labels ``(N, 15, 2)`` of ``image_ids`` (FKP-synth).

    Every row the lookup asks for must have a label (a NaN label raises: the score would silently skip it).
    """
    _check_lookup(lookup)
    if len(submission) != len(lookup) or not np.array_equal(submission["RowId"].to_numpy(), lookup["RowId"].to_numpy()):
        raise SubmissionError("submission RowIds do not match the lookup table's; build it with build_submission")
    test_keypoints = np.asarray(test_keypoints, dtype=np.float64)
    if test_keypoints.shape != (len(image_ids), N_KEYPOINTS, 2):
        raise SubmissionError(f"test_keypoints have shape {test_keypoints.shape}, expected ({len(image_ids)}, {N_KEYPOINTS}, 2)")
    rows, columns = _lookup_positions(lookup, image_ids)
    truth = test_keypoints.reshape(len(test_keypoints), 2 * N_KEYPOINTS)[rows, columns]
    if np.isnan(truth).any():
        i = int(np.flatnonzero(np.isnan(truth))[0])
        raise SubmissionError(
            f"RowId {lookup['RowId'].iloc[i]} asks for {lookup['FeatureName'].iloc[i]} of ImageId "
            f"{lookup['ImageId'].iloc[i]}, which has no label to score against"
        )
    locations = submission["Location"].to_numpy(dtype=np.float64)
    return float(np.sqrt(np.mean((locations - truth) ** 2)))


REGIME_NAMES = ("4-keypoint regime", "complete regime")
"""``labelling_regimes``'s names: faces labelled (or asked for) on the 4 always-labelled keypoints only, or on more."""


def labelling_regimes(lookup: pd.DataFrame, image_ids: np.ndarray) -> np.ndarray:
    """The labelling regime of each test image, as its lookup rows show it: ``REGIME_NAMES[1]`` where more than the
    4 always-labelled keypoints (8 coordinates) are asked for, else ``REGIME_NAMES[0]``. In Kaggle's data, and in the
    converted real faces that copy it, the two regimes also differ in how the face is framed."""
    _check_lookup(lookup)
    positions, _ = _lookup_positions(lookup, image_ids)
    asked = np.bincount(positions, minlength=len(image_ids))
    return np.where(asked > 2 * len(ALWAYS_LABELLED_INDEX), REGIME_NAMES[1], REGIME_NAMES[0])
