"""Missing-label analysis: per-keypoint counts, the patterns that occur, and what each missing-value strategy keeps."""
from __future__ import annotations

import numpy as np
import pandas as pd

from fkp_helpers.data.keypoints import (
    ALWAYS_LABELLED_INDEX,
    COORDINATE_COLUMNS,
    KEYPOINT_NAMES,
    N_KEYPOINTS,
    to_coordinate_array,
)

STRATEGIES = ("dropna", "mean_imputation", "forward_fill", "masked_loss")
"""Missing-value strategies compared in notebook 01: the seeds' three and the masked loss we train with."""


def labelled_mask(keypoints: np.ndarray) -> np.ndarray:
    """``(N, 15)`` True where a keypoint is labelled."""
    return ~np.isnan(np.asarray(keypoints)[..., 0])


def unpaired_coordinates(coordinates: np.ndarray) -> int:
    """How many keypoints of ``(N, 30)`` coordinates have exactly one of x and y missing."""
    missing = np.isnan(np.asarray(coordinates, dtype=float)).reshape(len(coordinates), N_KEYPOINTS, 2)
    return int((missing[..., 0] != missing[..., 1]).sum())


def missing_counts(keypoints: np.ndarray) -> pd.DataFrame:
    """Missing labels per keypoint: count and percentage of rows, most missing first."""
    missing = (~labelled_mask(keypoints)).sum(axis=0)
    frame = pd.DataFrame({"keypoint": KEYPOINT_NAMES, "missing": missing, "missing_pct": 100 * missing / len(keypoints)})
    return frame.sort_values(["missing", "keypoint"], ascending=[False, True], ignore_index=True)


def regime_of(labelled: np.ndarray) -> np.ndarray:
    """Labelling regime per row: ``all 15``, ``4 always-labelled only`` or ``other``."""
    n = labelled.sum(axis=1)
    only_four = (n == len(ALWAYS_LABELLED_INDEX)) & labelled[:, ALWAYS_LABELLED_INDEX].all(axis=1)
    return np.where(n == N_KEYPOINTS, "all 15", np.where(only_four, "4 always-labelled only", "other"))


def missing_patterns(keypoints: np.ndarray) -> pd.DataFrame:
    """Every combination of labelled keypoints that occurs, with its row count, share and regime, commonest first."""
    labelled = labelled_mask(keypoints)
    patterns, inverse, counts = np.unique(labelled, axis=0, return_inverse=True, return_counts=True)
    frame = pd.DataFrame(patterns, columns=list(KEYPOINT_NAMES))
    frame.insert(0, "rows", counts)
    frame.insert(1, "share_pct", 100 * counts / len(labelled))
    frame.insert(2, "n_labelled", patterns.sum(axis=1))
    frame.insert(3, "regime", regime_of(patterns))
    return frame.sort_values(["rows", "n_labelled"], ascending=False, ignore_index=True)


def regime_counts(keypoints: np.ndarray) -> pd.Series:
    """Rows per labelling regime."""
    regimes = pd.Series(regime_of(labelled_mask(keypoints)))
    return regimes.value_counts().reindex(["all 15", "4 always-labelled only", "other"], fill_value=0)


def apply_strategy(keypoints: np.ndarray, strategy: str) -> tuple[np.ndarray, np.ndarray]:
    """The rows kept and the targets a strategy trains on: ``(row_index, keypoints)``; NaN remains only where masked."""
    keypoints = np.asarray(keypoints, dtype=float)
    rows = np.arange(len(keypoints))
    if strategy == "dropna":
        keep = labelled_mask(keypoints).all(axis=1)
        return rows[keep], keypoints[keep]
    if strategy == "mean_imputation":
        return rows, np.where(np.isnan(keypoints), np.nanmean(keypoints, axis=0), keypoints)
    if strategy == "forward_fill":
        frame = pd.DataFrame(to_coordinate_array(keypoints), columns=list(COORDINATE_COLUMNS)).ffill()
        filled = frame.to_numpy().reshape(keypoints.shape)
        keep = ~np.isnan(filled).any(axis=(1, 2))  # rows before the first label of a column have nothing to copy
        return rows[keep], filled[keep]
    if strategy == "masked_loss":
        return rows, keypoints
    raise ValueError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")


def strategy_summary(keypoints: np.ndarray) -> pd.DataFrame:
    """Per strategy: rows kept, real labelled coordinates used, invented coordinates, and share of all real labels."""
    real_labels = int(labelled_mask(keypoints).sum()) * 2
    records = []
    for strategy in STRATEGIES:
        rows, targets = apply_strategy(keypoints, strategy)
        real_used = int(labelled_mask(keypoints[rows]).sum()) * 2
        invented = int((~np.isnan(targets)).sum()) - real_used
        records.append({"strategy": strategy, "rows_kept": len(rows), "rows_kept_pct": 100 * len(rows) / len(keypoints),
                        "real_coordinates_used": real_used, "real_coordinates_pct": 100 * real_used / real_labels,
                        "invented_coordinates": invented})
    return pd.DataFrame(records)


def strategy_spread(keypoints: np.ndarray) -> pd.DataFrame:
    """Standard deviation of each keypoint's coordinates under each strategy, and under the real labels alone.

    Imputation shrinks the spread (invented values pile up at one place); dropna changes it by keeping one regime.
    """
    spreads = {"real labels": np.nanstd(keypoints, axis=0)}
    for strategy in STRATEGIES[:3]:
        spreads[strategy] = np.nanstd(apply_strategy(keypoints, strategy)[1], axis=0)
    return pd.DataFrame({name: s.reshape(-1) for name, s in spreads.items()}, index=list(COORDINATE_COLUMNS))


def imputation_victims(keypoints: np.ndarray, n: int) -> np.ndarray:
    """Rows of the 4-keypoint regime whose labelled keypoints lie farthest from their means: faces framed unlike the
    average face, where mean imputation invents the 11 other keypoints farthest from the face."""
    labelled = labelled_mask(keypoints)
    candidates = np.flatnonzero(regime_of(labelled) == "4 always-labelled only")
    means = np.nanmean(keypoints[:, ALWAYS_LABELLED_INDEX], axis=0)
    offsets = np.linalg.norm(keypoints[candidates][:, ALWAYS_LABELLED_INDEX] - means, axis=-1).mean(axis=1)
    return candidates[np.argsort(-offsets)[:n]]
