"""The metric tables of notebook 04: every metric of each model in one row, the label-noise floor's row where the
labels' noise is known (FKP-synth), and the held-out (test) table; ``table_records`` makes them JSON.

Built from :mod:`fkp_helpers.evaluation.metrics`; arrays as there, ``(N, 15, 2)`` pixels with NaN where unlabelled.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from fkp_helpers.data.keypoints import KEYPOINT_NAMES, SUBSETS
from fkp_helpers.evaluation.metrics import (
    DEFAULT_PCK_FRACTIONS,
    DEFAULT_PCK_RADII_PX,
    _mean_or_nan,
    inter_pupil_distance,
    labelled_mask,
    mae_px,
    nme_iod,
    pck,
    pck_iod,
    per_keypoint_rmse,
    rmse_px,
    subset_rmse,
)

NOISE_FLOOR_ROW = "label noise floor"


def metric_row(
    predicted: np.ndarray,
    truth: np.ndarray,
    pck_radii_px: Sequence[float] = DEFAULT_PCK_RADII_PX,
    pck_fractions: Sequence[float] = DEFAULT_PCK_FRACTIONS,
    per_keypoint: bool = True,
) -> dict[str, float]:
    """Every metric of one model's predictions, named as the columns of :func:`evaluation_table`."""
    row = {"rmse_px": rmse_px(predicted, truth), "mae_px": mae_px(predicted, truth)}
    row.update({f"rmse_{name}_px": value for name, value in subset_rmse(predicted, truth).items() if name != "all_15"})
    row.update({f"pck_{r:g}px": pck(predicted, truth, r) for r in pck_radii_px})
    row.update({f"pck_{f:g}iod": pck_iod(predicted, truth, f) for f in pck_fractions})
    row["nme_iod"] = nme_iod(predicted, truth)
    if per_keypoint:
        row.update({f"rmse_{name}_px": v for name, v in zip(KEYPOINT_NAMES, per_keypoint_rmse(predicted, truth))})
    return row


def _iod_per_labelled_point(truth: np.ndarray) -> np.ndarray:
    """The true inter-pupil distance repeated once for each labelled keypoint of rows that have both eyes (1-D)."""
    iod = inter_pupil_distance(truth)
    usable = iod > 0
    return np.repeat(iod[usable], labelled_mask(truth)[usable].sum(axis=1))


def _rayleigh_cdf(radius: np.ndarray, noise_px: float) -> np.ndarray:
    radius = np.asarray(radius, dtype=np.float64)
    return np.ones_like(radius) if noise_px == 0 else 1 - np.exp(-(radius**2) / (2 * noise_px**2))


def noise_floor_pck_curve(
    truth: np.ndarray, noise_px: float, thresholds: Sequence[float], normalised: bool = False
) -> np.ndarray:
    """The PCK curve a perfect model would reach against labels with Gaussian noise ``noise_px`` per coordinate."""
    thresholds = np.asarray(thresholds, dtype=np.float64)
    if normalised:
        iod = _iod_per_labelled_point(truth)
        if iod.size == 0:
            return np.full(thresholds.shape, np.nan)
        return _rayleigh_cdf(thresholds[:, None] * iod[None, :], noise_px).mean(axis=1)
    if not labelled_mask(truth).any():
        return np.full(thresholds.shape, np.nan)
    return _rayleigh_cdf(thresholds, noise_px)


def noise_floor_row(
    truth: np.ndarray,
    noise_px: float,
    pck_radii_px: Sequence[float] = DEFAULT_PCK_RADII_PX,
    pck_fractions: Sequence[float] = DEFAULT_PCK_FRACTIONS,
    per_keypoint: bool = True,
) -> dict[str, float]:
    """Expected metrics of a perfect model scored against labels carrying Gaussian noise of ``noise_px`` per coordinate.

    With independent N(0, s^2) noise on each coordinate, the point error is Rayleigh(s): RMSE = s,
    MAE = s*sqrt(2/pi), P(d <= r) = 1 - exp(-r^2 / (2 s^2)), E[d] = s*sqrt(pi/2). No model can beat these on
    average, so they are the floor to read the other rows against. Uses the same labelled keypoints as the metrics.
    """
    if noise_px < 0:
        raise ValueError(f"noise_px must be >= 0, got {noise_px}")
    s = float(noise_px)
    labelled = labelled_mask(truth)

    def when(labels: np.ndarray, value: float) -> float:
        return value if labels.any() else float("nan")

    row = {"rmse_px": when(labelled, s), "mae_px": when(labelled, s * np.sqrt(2 / np.pi))}
    row.update({f"rmse_{name}_px": when(labelled[:, index], s) for name, index in SUBSETS.items() if name != "all_15"})
    px_curve = noise_floor_pck_curve(truth, s, pck_radii_px)
    row.update({f"pck_{r:g}px": float(v) for r, v in zip(pck_radii_px, px_curve)})
    iod_curve = noise_floor_pck_curve(truth, s, pck_fractions, normalised=True)
    row.update({f"pck_{f:g}iod": float(v) for f, v in zip(pck_fractions, iod_curve)})
    row["nme_iod"] = _mean_or_nan(s * np.sqrt(np.pi / 2) / _iod_per_labelled_point(truth))
    if per_keypoint:
        row.update({f"rmse_{name}_px": when(labelled[:, k], s) for k, name in enumerate(KEYPOINT_NAMES)})
    return row


def evaluation_table(
    predictions_by_model: Mapping[str, np.ndarray],
    truth: np.ndarray,
    noise_floor: float | None = None,
    pck_radii_px: Sequence[float] = DEFAULT_PCK_RADII_PX,
    pck_fractions: Sequence[float] = DEFAULT_PCK_FRACTIONS,
    per_keypoint: bool = True,
) -> pd.DataFrame:
    """One row a model (index ``model``), every metric a column; with ``noise_floor`` (pixels of label noise per
    coordinate, known on FKP-synth) a last row ``"label noise floor"`` holds what a perfect model would score.

    Columns: ``rmse_px`` (Kaggle's metric, all 15 keypoints), ``mae_px``, ``rmse_always_labelled_4_px``,
    ``rmse_other_11_px``, ``pck_<r>px``, ``pck_<f>iod``, ``nme_iod``, then (``per_keypoint``) ``rmse_<keypoint>_px``.
    """
    rows = {
        name: metric_row(predicted, truth, pck_radii_px, pck_fractions, per_keypoint)
        for name, predicted in predictions_by_model.items()
    }
    if noise_floor is not None:
        if NOISE_FLOOR_ROW in rows:
            raise ValueError(f"a model may not be called {NOISE_FLOOR_ROW!r}")
        rows[NOISE_FLOOR_ROW] = noise_floor_row(truth, noise_floor, pck_radii_px, pck_fractions, per_keypoint)
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "model"
    return table


def held_out_table(
    predictions_by_model: Mapping[str, np.ndarray],
    labels: np.ndarray,
    noise_free: np.ndarray | None = None,
    noise_floor: float | None = None,
) -> pd.DataFrame:
    """Every model scored once on the held-out test faces: ``evaluation_table`` (without per-keypoint columns)
    against their hidden ``labels``, and, where the noise-free positions are known (FKP-synth), a column
    ``rmse_vs_noise_free_px``: the distance from the truth itself, which noisy labels hide (errors add in quadrature,
    so a model at ``r`` px against labels with ``s`` px noise is about ``sqrt(r**2 - s**2)`` from the truth)."""
    table = evaluation_table(predictions_by_model, labels, noise_floor=noise_floor, per_keypoint=False)
    if noise_free is not None:
        versus_truth = {name: rmse_px(predicted, noise_free) for name, predicted in predictions_by_model.items()}
        if noise_floor is not None:
            versus_truth[NOISE_FLOOR_ROW] = 0.0
        table["rmse_vs_noise_free_px"] = pd.Series(versus_truth)
    return table


def table_records(table: pd.DataFrame) -> list[dict]:
    """The rows of a metrics table as JSON-ready dicts (index as the first field, NaN as None)."""
    records = table.reset_index().to_dict(orient="records")
    return [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()} for r in records]
