"""Evaluation metrics for keypoint regression: RMSE/MAE in pixels, per keypoint and subset, PCK and NME.

Every function takes ``predicted`` and ``truth`` as ``(N, 15, 2)`` pixel arrays. ``truth`` has NaN where a keypoint
is not labelled: such a keypoint is never scored. ``predicted`` must be finite everywhere (a ``ValueError`` names
the first non-finite value). When nothing is left to score (all labels missing, or no row with both eye centres
for the inter-pupil variants) a metric returns NaN rather than raising, so that a table can show the gap.

Kaggle's metric is the RMSE over coordinates: x and y errors count separately, so
``rmse_px = sqrt(mean(dx**2 and dy**2))``, which is the root-mean-square point distance divided by sqrt(2).
Distance-based metrics (PCK, NME) use the Euclidean distance between predicted and true points.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from fkp_helpers.data.keypoints import KEYPOINT_NAMES, N_KEYPOINTS, SUBSETS, keypoint_index
from fkp_helpers.stats import mean_and_se, standard_error, units_of

LEFT_EYE, RIGHT_EYE = keypoint_index("left_eye_center"), keypoint_index("right_eye_center")
DEFAULT_PCK_RADII_PX: tuple[float, ...] = (2.0, 4.0)
DEFAULT_PCK_FRACTIONS: tuple[float, ...] = (0.05, 0.1)


# ---------------------------------------------------------------------------------------------------------- checking
def check_keypoint_arrays(predicted: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both arrays as float64 ``(N, 15, 2)``; raises ValueError on a shape mismatch or a non-finite prediction."""
    predicted, truth = np.asarray(predicted, dtype=np.float64), np.asarray(truth, dtype=np.float64)
    if truth.ndim != 3 or truth.shape[1:] != (N_KEYPOINTS, 2):
        raise ValueError(f"truth must have shape (N, {N_KEYPOINTS}, 2), got {truth.shape}")
    if predicted.shape != truth.shape:
        raise ValueError(f"predicted has shape {predicted.shape} but truth has shape {truth.shape}")
    finite = np.isfinite(predicted)
    if not finite.all():
        row, k, axis = map(int, np.argwhere(~finite)[0])
        raise ValueError(
            f"predictions must be finite: row {row}, {KEYPOINT_NAMES[k]}_{'xy'[axis]} is {predicted[row, k, axis]}"
        )
    return predicted, truth


def labelled_mask(truth: np.ndarray) -> np.ndarray:
    """``(N, 15)`` True where a keypoint is labelled (both x and y present)."""
    return ~np.isnan(np.asarray(truth, dtype=np.float64)).any(axis=-1)


def _mean_or_nan(values: np.ndarray) -> float:
    return float(values.mean()) if values.size else float("nan")


# ------------------------------------------------------------------------------------------------------ pixel errors
def point_distances(predicted: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """``(N, 15)`` Euclidean distance in pixels between predicted and true points, NaN where unlabelled."""
    predicted, truth = check_keypoint_arrays(predicted, truth)
    return np.sqrt(((predicted - truth) ** 2).sum(axis=-1))


def squared_coordinate_errors(predicted: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """``(N, 15)`` mean of ``dx**2`` and ``dy**2`` per point (the contribution to Kaggle's RMSE), NaN where unlabelled."""
    predicted, truth = check_keypoint_arrays(predicted, truth)
    return ((predicted - truth) ** 2).mean(axis=-1)


def rmse_px(predicted: np.ndarray, truth: np.ndarray, keypoints: Sequence[int] | np.ndarray | None = None) -> float:
    """Kaggle's RMSE in pixels over all labelled coordinates (of the given keypoint indices); NaN if none is labelled."""
    squared = squared_coordinate_errors(predicted, truth)
    if keypoints is not None:
        squared = squared[:, np.asarray(keypoints)]
    return float(np.sqrt(_mean_or_nan(squared[~np.isnan(squared)])))


def mae_px(predicted: np.ndarray, truth: np.ndarray) -> float:
    """Mean absolute coordinate error in pixels over all labelled coordinates; NaN if none is labelled."""
    predicted, truth = check_keypoint_arrays(predicted, truth)
    errors = np.abs(predicted - truth)
    return _mean_or_nan(errors[~np.isnan(errors)])


def per_keypoint_rmse(predicted: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """``(15,)`` RMSE in pixels of each keypoint over the rows where it is labelled (NaN for a never-labelled one)."""
    squared = squared_coordinate_errors(predicted, truth)
    return np.array([np.sqrt(_mean_or_nan(column[~np.isnan(column)])) for column in squared.T])


def _rmse_influence(squared: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """RMSE in pixels of ``squared`` (``(N, K)`` squared coordinate errors, NaN where unlabelled), the mask of faces
    with a label, and each such face's linearised (delta-method) contribution to the RMSE,
    ``(t_i - mse * c_i) / (2 * rmse * sum(c))`` for its sum of squared errors ``t_i`` over its ``c_i`` labelled
    coordinates (zeros when the RMSE is 0). With no labelled face: NaN and no contributions."""
    counts = (~np.isnan(squared)).sum(axis=1)
    faces = counts > 0
    totals, counts = np.nansum(squared, axis=1)[faces], counts[faces]
    if len(counts) == 0:
        return float("nan"), faces, np.zeros(0)
    mse = totals.sum() / counts.sum()
    rmse = float(np.sqrt(mse))
    if rmse == 0:
        return rmse, faces, np.zeros(len(counts))
    return rmse, faces, (totals - mse * counts) / (2 * rmse * counts.sum())


def rmse_and_se(squared: np.ndarray, clusters: np.ndarray | None = None) -> tuple[float, float]:
    """RMSE in pixels of ``squared`` (``(N, K)`` squared coordinate errors, NaN where unlabelled) and its standard error.

    The RMSE is the one of :func:`rmse_px` (over all labelled entries). The mean squared error is a ratio of two sums
    over faces, squared errors / labelled points, so its standard error is the ratio-estimator (delta-method) one,
    which is ``std(per-face mean, ddof=1) / sqrt(n)`` when every face has the same number of labelled points and
    faces are the units; then ``se(rmse) = se(mean squared error) / (2 * rmse)``. ``clusters`` (a unit a face, e.g.
    its person) makes it cluster-robust (:func:`standard_error`).
    NaN standard error with fewer than 2 units with a label (both NaN with none); 0 when the RMSE is 0.
    """
    rmse, faces, influence = _rmse_influence(squared)
    return rmse, standard_error(influence, units_of(clusters, faces))


def rmse_difference_and_se(squared_first: np.ndarray, squared_second: np.ndarray,
                           clusters: np.ndarray | None = None) -> tuple[float, float]:
    """The second model's RMSE minus the first's (px), both scored on the same faces and labels (``(N, K)`` squared
    coordinate errors, NaN where unlabelled, in the same places), and the standard error of that difference.

    Paired: each face contributes to both RMSEs, so the difference's delta-method standard error is taken over the
    faces' differences of contributions (as in :func:`rmse_and_se`, cluster-robust with ``clusters``). Two models
    that err alike on the same faces get a narrower interval for their difference than their separate intervals
    suggest.
    """
    return mean_rmse_difference_and_se([(squared_first, squared_second)], clusters)


def mean_rmse_difference_and_se(pairs: Sequence[tuple[np.ndarray, np.ndarray]],
                                clusters: np.ndarray | None = None) -> tuple[float, float]:
    """The mean over ``pairs`` of second RMSE minus first (each pair as in :func:`rmse_difference_and_se`, all on the
    same faces), and its standard error over the faces (or ``clusters``): the faces' differences of contributions,
    averaged over the pairs, are the units' contributions to the mean difference. With several seeds of two
    optimizers, it says how much the mean difference hangs on which people were tested, with the runs held fixed."""
    differences, influences, faces = [], [], None
    for squared_first, squared_second in pairs:
        if squared_first.shape != squared_second.shape or (np.isnan(squared_first) != np.isnan(squared_second)).any():
            raise ValueError("a paired difference needs both models' errors on the same faces and labelled "
                             f"coordinates; got shapes {squared_first.shape} and {squared_second.shape} or different "
                             "missing labels")
        first, faces, first_influence = _rmse_influence(squared_first)
        second, _, second_influence = _rmse_influence(squared_second)
        differences.append(second - first)
        influences.append(second_influence - first_influence)
    return float(np.mean(differences)), standard_error(np.mean(influences, axis=0), units_of(clusters, faces))


def per_keypoint_errors(predicted: np.ndarray, truth: np.ndarray, clusters: np.ndarray | None = None) -> pd.DataFrame:
    """One row a keypoint: ``rmse_px``, its standard error ``rmse_se_px`` and ``n_labelled``.

    The standard error is the delta-method one of :func:`rmse_and_se`, ``se(mean squared error) / (2 * rmse)``, over
    the labelled rows (cluster-robust with ``clusters``; NaN with fewer than 2 units).
    """
    squared = squared_coordinate_errors(predicted, truth)
    n = (~np.isnan(squared)).sum(axis=0)
    rmse = per_keypoint_rmse(predicted, truth)
    se = np.array([rmse_and_se(squared[:, [k]], clusters)[1] for k in range(N_KEYPOINTS)])
    return pd.DataFrame({"rmse_px": rmse, "rmse_se_px": se, "n_labelled": n}, index=pd.Index(KEYPOINT_NAMES, name="keypoint"))


def subset_rmse(
    predicted: np.ndarray, truth: np.ndarray, subsets: Mapping[str, np.ndarray] = SUBSETS
) -> dict[str, float]:
    """RMSE in pixels of each named keypoint subset (default: ``keypoints.SUBSETS``)."""
    return {name: rmse_px(predicted, truth, index) for name, index in subsets.items()}


def per_image_rmse(predicted: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """``(N,)`` RMSE in pixels of each image over its labelled coordinates; NaN for an image with no label."""
    squared = squared_coordinate_errors(predicted, truth)
    counts = (~np.isnan(squared)).sum(axis=1)
    totals = np.nansum(squared, axis=1)
    return np.where(counts > 0, np.sqrt(totals / np.maximum(counts, 1)), np.nan)


def best_and_worst(errors: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the ``n`` smallest errors (best first) and the ``n`` largest (worst first), NaN errors skipped."""
    errors = np.asarray(errors, dtype=np.float64)
    valid = np.flatnonzero(~np.isnan(errors))
    ordered = valid[np.argsort(errors[valid], kind="stable")]
    return ordered[:n], ordered[::-1][:n]


COVARIATE_BINS = 5
"""Equal-count bins of an image property, in the figure and the sentences about it alike (fifths)."""


def error_by_bins(covariate: np.ndarray, errors: np.ndarray, n_bins: int = COVARIATE_BINS,
                  clusters: np.ndarray | None = None) -> pd.DataFrame:
    """Errors grouped into ``n_bins`` equal-count bins of ``covariate``: bin range, count, mean error and its SE
    (:func:`mean_and_se`, cluster-robust with ``clusters``, a unit a row).

    Rows where either value is NaN are skipped. One row a bin, in increasing covariate order.
    """
    covariate, errors = np.asarray(covariate, dtype=np.float64), np.asarray(errors, dtype=np.float64)
    if covariate.shape != errors.shape:
        raise ValueError(f"covariate has shape {covariate.shape} but errors have shape {errors.shape}")
    keep = ~(np.isnan(covariate) | np.isnan(errors))
    covariate, errors = covariate[keep], errors[keep]
    units = units_of(clusters, keep)
    order = np.argsort(covariate, kind="stable")
    rows = []
    for part in np.array_split(order, min(n_bins, len(order))) if len(order) else []:
        mean, se = mean_and_se(errors[part], units_of(units, part))
        rows.append({
            "low": covariate[part].min(), "high": covariate[part].max(), "centre": float(np.median(covariate[part])),
            "n": len(part), "mean_error": mean, "se": se,
        })
    return pd.DataFrame(rows, columns=["low", "high", "centre", "n", "mean_error", "se"])


def eye_line_angle_deg(keypoints: np.ndarray) -> np.ndarray:
    """``(N,)`` in-plane head roll in degrees: the angle of the line from the right to the left eye centre."""
    keypoints = np.asarray(keypoints, dtype=np.float64)
    across = keypoints[:, LEFT_EYE] - keypoints[:, RIGHT_EYE]
    return np.degrees(np.arctan2(across[:, 1], across[:, 0]))


# ------------------------------------------------------------------------------------------------------ PCK and NME
def inter_pupil_distance(truth: np.ndarray) -> np.ndarray:
    """``(N,)`` true distance between left and right eye centres in pixels; NaN where either eye is unlabelled."""
    truth = np.asarray(truth, dtype=np.float64)
    return np.sqrt(((truth[:, LEFT_EYE] - truth[:, RIGHT_EYE]) ** 2).sum(axis=-1))


def _normalised_distances(predicted: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Labelled point distances divided by their row's inter-pupil distance, rows without both eyes left out (1-D)."""
    distances = point_distances(predicted, truth)
    iod = inter_pupil_distance(truth)
    usable = iod > 0  # False for NaN (an eye missing) and for degenerate zero distances
    normalised = distances[usable] / iod[usable, None]
    return normalised[~np.isnan(normalised)]


def pck(predicted: np.ndarray, truth: np.ndarray, radius_px: float) -> float:
    """Fraction of labelled keypoints predicted within ``radius_px`` pixels (Euclidean, ``<=``); NaN if none labelled."""
    distances = point_distances(predicted, truth)
    distances = distances[~np.isnan(distances)]
    return _mean_or_nan(distances <= radius_px)


def pck_iod(predicted: np.ndarray, truth: np.ndarray, fraction: float) -> float:
    """Fraction of labelled keypoints within ``fraction`` x the true inter-pupil distance of their face.

    Rows without both eye centres labelled are excluded; NaN if no row is left.
    """
    return _mean_or_nan(_normalised_distances(predicted, truth) <= fraction)


def pck_curve(predicted: np.ndarray, truth: np.ndarray, thresholds: Sequence[float], normalised: bool = False) -> np.ndarray:
    """PCK at each threshold: radii in pixels, or (``normalised=True``) fractions of the inter-pupil distance."""
    if normalised:
        distances = _normalised_distances(predicted, truth)
    else:
        distances = point_distances(predicted, truth)
        distances = distances[~np.isnan(distances)]
    thresholds = np.asarray(thresholds, dtype=np.float64)
    if distances.size == 0:
        return np.full(thresholds.shape, np.nan)
    return (distances[None, :] <= thresholds[:, None]).mean(axis=1)


def per_keypoint_pck(predicted: np.ndarray, truth: np.ndarray, radius_px: float) -> np.ndarray:
    """``(15,)`` fraction of each keypoint's labelled rows predicted within ``radius_px``; NaN if never labelled."""
    distances = point_distances(predicted, truth)
    return np.array([_mean_or_nan(column[~np.isnan(column)] <= radius_px) for column in distances.T])


def per_keypoint_failures(predicted: np.ndarray, truth: np.ndarray, radius_px: float,
                          clusters: np.ndarray | None = None) -> pd.DataFrame:
    """:func:`per_keypoint_errors` plus each keypoint's ``failure_rate`` (the share of its labelled rows predicted more
    than ``radius_px`` away) and that share's standard error ``failure_rate_se`` (:func:`mean_and_se` of the
    failures, over faces or the units ``clusters`` gives them), most failing first."""
    report = per_keypoint_errors(predicted, truth, clusters)
    distances = point_distances(predicted, truth)
    failed = np.where(np.isnan(distances), np.nan, distances > radius_px)
    shares = [mean_and_se(failed[:, k], clusters) for k in range(N_KEYPOINTS)]
    report["failure_rate"] = [share for share, _ in shares]
    report["failure_rate_se"] = [se for _, se in shares]
    return report.sort_values("failure_rate", ascending=False)


def nme_iod(predicted: np.ndarray, truth: np.ndarray) -> float:
    """Normalised mean error: mean over labelled keypoints of distance / true inter-pupil distance.

    Rows without both eye centres labelled are excluded; NaN if no row is left. A fraction (0.05 = 5 % of the IOD).
    """
    return _mean_or_nan(_normalised_distances(predicted, truth))
