"""Residual diagnostics of notebook 04: bias per keypoint, gross errors, predicted against true, residual histograms and
error ellipses on the mean face (the error by group of faces is :mod:`fkp_helpers.evaluation.groups`).

Residuals are ``predicted - truth`` in pixels, NaN where the keypoint is not labelled. Each figure function returns a
matplotlib Figure; writing it is ``plotting.save_figure``'s job.
"""
from __future__ import annotations

from typing import Mapping

import matplotlib.axes
import matplotlib.figure
import matplotlib.lines
import matplotlib.patches
import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np
import pandas as pd

import fkp_helpers.evaluation.metrics as metrics
from fkp_helpers.data.keypoints import IMAGE_SIZE, KEYPOINT_NAMES
from fkp_helpers.evaluation.plots import CONFIDENCE_Z
from fkp_helpers.plotting import keypoint_colours

ELLIPSE_LEVEL = 0.95
ELLIPSE_CHI2 = float(-2 * np.log(1 - ELLIPSE_LEVEL))
"""The 95 % quantile of chi-square with 2 degrees of freedom (5.991): a 2-D normal's 95 % ellipse is
``r^T inv(cov) r <= ELLIPSE_CHI2``, semi-axes ``sqrt(ELLIPSE_CHI2 * eigenvalue)``."""
AXES = ("x", "y")
AXIS_COLOURS = ("tab:blue", "tab:orange")


def _label(name: str) -> str:
    return name.replace("_", " ")


# -------------------------------------------------------------------------------------------------------- residuals
def residuals(predicted: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """``(N, 15, 2)`` residuals ``predicted - truth`` in pixels, NaN (both coordinates) where unlabelled."""
    predicted, truth = metrics.check_keypoint_arrays(predicted, truth)
    return np.where(metrics.labelled_mask(truth)[..., None], predicted - truth, np.nan)


def _mean_and_sd(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Count, mean and sample sd (``ddof=1``) of each column of ``values`` over its non-NaN rows (NaN where too few)."""
    present = ~np.isnan(values)
    n = present.sum(axis=0)
    mean = np.divide(np.nansum(values, axis=0), n, out=np.full(n.shape, np.nan), where=n > 0)
    squares = np.nansum((values - mean) ** 2, axis=0)
    sd = np.sqrt(np.divide(squares, n - 1, out=np.full(n.shape, np.nan), where=n > 1))
    return n, mean, sd


def bias_table(predicted: np.ndarray, truth: np.ndarray, clusters: np.ndarray | None = None) -> pd.DataFrame:
    """One row a keypoint: mean residual (bias) in x and y with its standard error (``sd / sqrt(n)``, or
    cluster-robust with ``clusters``, a unit a face: :func:`metrics.mean_and_se`), the residual sd in x and y (all
    in pixels) and ``n_labelled``. A bias beyond ``CONFIDENCE_Z`` standard errors is unlikely to be chance."""
    r = residuals(predicted, truth)
    n, mean, sd = _mean_and_sd(r)
    se = np.array([[metrics.mean_and_se(r[:, k, axis], clusters)[1] for axis in range(2)]
                   for k in range(len(KEYPOINT_NAMES))])
    return pd.DataFrame(
        {
            "bias_x_px": mean[:, 0], "bias_x_se_px": se[:, 0], "bias_y_px": mean[:, 1], "bias_y_se_px": se[:, 1],
            "sd_x_px": sd[:, 0], "sd_y_px": sd[:, 1], "n_labelled": n[:, 0],
        },
        index=pd.Index(KEYPOINT_NAMES, name="keypoint"),
    )


def _mean_with_interval(row: pd.Series) -> str:
    """``mean px (+-half-width)`` of an ``error_by_bins`` row; no interval for a bin of one face."""
    interval = f" (+-{CONFIDENCE_Z * row['se']:.2f})" if np.isfinite(row["se"]) else " (one face: no interval)"
    return f"{row['mean_error']:.2f} px{interval}"


def describe_extreme_bins(label: str, bins: pd.DataFrame) -> str | None:
    """A sentence on an ``error_by_bins`` table: the mean error in its lowest and highest bin of the covariate, each
    with its 95 % interval; None with fewer than two bins."""
    if len(bins) < 2:
        return None
    low, high = bins.iloc[0], bins.iloc[-1]
    part = {2: "half", 3: "third", 4: "quarter", 5: "fifth"}.get(len(bins), f"of {len(bins)} bins")
    return (f"{label}: faces in the lowest {part} ({low['low']:.1f} to {low['high']:.1f}) average "
            f"{_mean_with_interval(low)}, in the highest {part} ({high['low']:.1f} to {high['high']:.1f}) "
            f"{_mean_with_interval(high)}; 95 % intervals.")


def describe_bias(bias: pd.DataFrame) -> str:
    """Sentences on a ``bias_table``: the largest mean residual with its standard error; in x and in y, how many
    keypoints' predictions sit on each side of their labels by more than ``CONFIDENCE_Z`` standard errors (image
    directions: x grows to the right, y downwards), and the range of the biases; the range of the residual sd."""
    biases = bias[["bias_x_px", "bias_y_px"]]
    if biases.isna().all().all():
        return "No keypoint has a labelled residual, so there is no bias to report."
    row, column = biases.abs().stack().idxmax()
    se = bias.loc[row, column.replace("_px", "_se_px")]
    sentences = [f"The largest mean bias is {bias.loc[row, column]:+.2f} px ({column[5]} of {row}, standard error "
                 f"{se:.2f} px)."]
    for axis, (before, after) in (("x", ("left of", "right of")), ("y", ("above", "below"))):
        values, errors = bias[f"bias_{axis}_px"], bias[f"bias_{axis}_se_px"]
        clear = values.abs() > CONFIDENCE_Z * errors
        sentences.append(
            f"In {axis}, {int((clear & (values < 0)).sum())} of {int(values.notna().sum())} keypoints' predictions sit "
            f"{before} their labels and {int((clear & (values > 0)).sum())} {after} them by more than {CONFIDENCE_Z:g} "
            f"standard errors (biases from {values.min():+.2f} to {values.max():+.2f} px).")
    sd = bias[["sd_x_px", "sd_y_px"]]
    sentences.append(f"The residual sd ranges from {sd.min().min():.2f} to {sd.max().max():.2f} px.")
    return " ".join(sentences)


GROSS_ERROR_PX = 20.0
"""A residual this long (px; over half the typical inter-pupil distance) is a gross error: a wrong label or a
prediction on the wrong feature, not the model's ordinary scatter."""


def gross_errors(predicted: np.ndarray, truth: np.ndarray, threshold_px: float = GROSS_ERROR_PX) -> pd.DataFrame:
    """One row a labelled point whose prediction lies more than ``threshold_px`` from its label: ``face`` (row of
    the arrays), ``keypoint``, the label and the prediction (x, y) and ``distance_px``, farthest first."""
    predicted, truth = metrics.check_keypoint_arrays(predicted, truth)
    distance = np.linalg.norm(residuals(predicted, truth), axis=-1)
    faces, keypoints = np.nonzero(np.nan_to_num(distance) > threshold_px)
    table = pd.DataFrame({
        "face": faces, "keypoint": [KEYPOINT_NAMES[k] for k in keypoints],
        "label_x": truth[faces, keypoints, 0], "label_y": truth[faces, keypoints, 1],
        "predicted_x": predicted[faces, keypoints, 0], "predicted_y": predicted[faces, keypoints, 1],
        "distance_px": distance[faces, keypoints]})
    return table.sort_values("distance_px", ascending=False, ignore_index=True)


def describe_gross_errors(predicted: np.ndarray, truth: np.ndarray, threshold_px: float = GROSS_ERROR_PX) -> str:
    """How many labelled points lie more than ``threshold_px`` from their prediction, and what the RMSE and the
    affected keypoints' biases are with those points left out (a single wrong label can lead a bias table)."""
    predicted, truth = metrics.check_keypoint_arrays(predicted, truth)
    gross = gross_errors(predicted, truth, threshold_px)
    if gross.empty:
        return f"No labelled point lies more than {threshold_px:g} px from its prediction."
    kept = truth.copy()
    kept[gross["face"], [KEYPOINT_NAMES.index(k) for k in gross["keypoint"]]] = np.nan
    before, after = bias_table(predicted, truth), bias_table(predicted, kept)
    biases = "; ".join(f"{k} x {after.loc[k, 'bias_x_px']:+.2f} (from {before.loc[k, 'bias_x_px']:+.2f}), "
                       f"y {after.loc[k, 'bias_y_px']:+.2f} (from {before.loc[k, 'bias_y_px']:+.2f}) px"
                       for k in dict.fromkeys(gross["keypoint"]))
    points = (f"1 labelled point lies more than {threshold_px:g} px from its prediction" if len(gross) == 1 else
              f"{len(gross)} labelled points lie more than {threshold_px:g} px from their predictions")
    return (f"{points} (listed above; picked by the model's own error, so a wrong label and a model's miss look "
            f"alike here). Without them the RMSE is "
            f"{metrics.rmse_px(predicted, kept):.3f} px instead of {metrics.rmse_px(predicted, truth):.3f}, and the "
            f"biases become {biases}.")


# ----------------------------------------------------------------------------------------------- predicted vs true
def _subsample(n: int, max_points: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted indices of at most ``max_points`` of ``n`` items, drawn without replacement."""
    return np.arange(n) if n <= max_points else np.sort(rng.choice(n, max_points, replace=False))


def robust_limits(true: np.ndarray, predicted: np.ndarray) -> tuple[float, float]:
    """Equal-scale panel limits that a wrong label cannot stretch: the range of the points whose prediction lies
    within ``GROSS_ERROR_PX`` of their label (all points where none does), plus 5 % of that range and half a pixel.
    Quantile limits (0.5 to 99.5 %) were tried first: they put a few ordinary points of every panel on its edge, and
    with few faces a quantile is the wrong label itself."""
    kept = np.abs(predicted - true) <= GROSS_ERROR_PX
    values = np.concatenate([true[kept], predicted[kept]]) if kept.any() else np.concatenate([true, predicted])
    margin = 0.05 * (values.max() - values.min()) + 0.5
    return float(values.min() - margin), float(values.max() + margin)


def _draw_predicted_vs_true(
    ax: matplotlib.axes.Axes, true: np.ndarray, predicted: np.ndarray, shown: np.ndarray, title: str
) -> None:
    """One panel: the ``shown`` points, the y = x line on equal limits (``robust_limits``), every point beyond them
    as a red cross on the edge with their count in the lower-right corner, and the RMSE of all points in the upper
    left."""
    ax.set_title(title, fontsize=8)
    ax.set_xlabel("true (px)", fontsize=7)
    ax.set_ylabel("predicted (px)", fontsize=7)
    ax.tick_params(labelsize=6)
    if not len(true):
        ax.text(0.5, 0.5, "no labels", transform=ax.transAxes, ha="center", va="center", fontsize=8)
        return
    limits = robust_limits(true, predicted)
    ax.plot(limits, limits, color="black", linewidth=0.8, linestyle="--")
    ax.scatter(true[shown], predicted[shown], s=2, alpha=0.3, color="tab:blue", linewidths=0)
    outside = (np.minimum(true, predicted) < limits[0]) | (np.maximum(true, predicted) > limits[1])
    if outside.any():
        ax.scatter(np.clip(true[outside], *limits), np.clip(predicted[outside], *limits), s=14, marker="x",
                   color="tab:red", linewidths=0.9, clip_on=False, zorder=3)
        ax.text(0.96, 0.04, f"{outside.sum()} beyond the limits:\nred, on the edge", transform=ax.transAxes,
                ha="right", va="bottom", fontsize=6, color="tab:red",
                bbox=dict(facecolor="white", edgecolor="none", alpha=0.8, pad=1))
    ax.set_xlim(limits)
    ax.set_ylim(limits)
    ax.set_aspect("equal")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(matplotlib.ticker.MaxNLocator(3))
    rmse = np.sqrt(np.mean((predicted - true) ** 2))
    ax.text(0.04, 0.96, f"RMSE {rmse:.2f} px", transform=ax.transAxes, ha="left", va="top", fontsize=7,
            bbox=dict(facecolor="white", edgecolor="none", alpha=0.8, pad=1))


def predicted_vs_true(
    predicted: np.ndarray, truth: np.ndarray, max_points: int = 2000, seed: int = 0
) -> matplotlib.figure.Figure:
    """Predicted against true value of each of the 30 coordinates (5 x 6 panels, x and y of a keypoint side by
    side) with the y = x line; each panel's RMSE (px, over all its labelled faces) in its upper-left corner. At most
    ``max_points`` faces are drawn a keypoint, the same random ones for x and y (fixed ``seed``). Each panel's limits
    are robust (``robust_limits``): points beyond them, a wrong label say, are drawn on the edge and counted, so they
    cannot squash the panel."""
    predicted, truth = metrics.check_keypoint_arrays(predicted, truth)
    labelled = metrics.labelled_mask(truth)
    rng = np.random.default_rng(seed)
    fig, axes = plt.subplots(5, 6, figsize=(10.5, 9.5))
    for k, name in enumerate(KEYPOINT_NAMES):
        rows = np.flatnonzero(labelled[:, k])
        shown = _subsample(len(rows), max_points, rng)
        for a, axis in enumerate(AXES):
            ax = axes.flat[2 * k + a]
            _draw_predicted_vs_true(ax, truth[rows, k, a], predicted[rows, k, a], shown, f"{_label(name)} {axis}")
    fig.suptitle(f"Predicted against true coordinate (dashed: y = x; at most {max_points} faces drawn per panel;\n"
                 "red crosses: points beyond the panel's limits, drawn on its edge)")
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------------------------------- histograms
def _bin_edges(r: np.ndarray, bin_width: float, limit_px: float | None) -> np.ndarray:
    """Edges of width ``bin_width`` over +-``limit_px`` (default: the 99.5 % quantile of |residual|, rounded up)."""
    if limit_px is None:
        values = np.abs(r[~np.isnan(r)])
        limit_px = float(np.quantile(values, 0.995)) if values.size else bin_width
    half_bins = max(1, int(np.ceil(limit_px / bin_width)))
    return bin_width * np.arange(-half_bins, half_bins + 1)


def residual_histograms(
    predicted: np.ndarray, truth: np.ndarray, bin_width: float = 0.5, limit_px: float | None = None
) -> matplotlib.figure.Figure:
    """Histograms of the x and y residuals of each keypoint (15 panels, the same bins in all), the mean bias of each
    as a dashed vertical line. Residuals beyond +-``limit_px`` (default: the 99.5 % quantile of |residual| over all
    keypoints, rounded up to a bin) are counted in the outermost bins."""
    r = residuals(predicted, truth)
    edges = _bin_edges(r, bin_width, limit_px)
    fig, axes = plt.subplots(3, 5, figsize=(14, 8.5), sharex=True, layout="constrained")
    for k, (ax, name) in enumerate(zip(axes.flat, KEYPOINT_NAMES)):
        for a, (axis, colour) in enumerate(zip(AXES, AXIS_COLOURS)):
            values = r[~np.isnan(r[:, k, a]), k, a]
            ax.hist(np.clip(values, edges[0], edges[-1]), bins=edges, histtype="step", color=colour,
                    label=f"{axis} residual")
            if values.size:
                ax.axvline(values.mean(), color=colour, linestyle="--", linewidth=1, label=f"mean {axis} bias")
        ax.set_title(_label(name), fontsize=9)
        ax.set_xlabel(f"residual (px), bins of {bin_width:g} px", fontsize=8)
        ax.set_ylabel("faces", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.xaxis.set_tick_params(labelbottom=True)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=4, fontsize=9)
    fig.suptitle(f"Residuals (predicted − true) per keypoint; beyond ±{edges[-1]:g} px counted in the outer bins")
    return fig


# ------------------------------------------------------------------------------------------------- error ellipses
def ellipse_parameters(points: np.ndarray) -> tuple[float, float, float]:
    """Full width and height (px) and angle (degrees, of the width axis from +x) of the 95 % ellipse of
    ``(n, 2)`` residuals under a normal fit: semi-axes ``sqrt(ELLIPSE_CHI2 * eigenvalue of their covariance)``."""
    eigenvalues, eigenvectors = np.linalg.eigh(np.cov(points, rowvar=False))
    major = eigenvectors[:, 1]
    width, height = 2 * np.sqrt(ELLIPSE_CHI2 * np.maximum(eigenvalues[::-1], 0))
    return float(width), float(height), float(np.degrees(np.arctan2(major[1], major[0])))


def mean_face(truth: np.ndarray) -> np.ndarray:
    """``(15, 2)`` mean true position of each keypoint in pixels over the faces where it is labelled."""
    return _mean_and_sd(np.where(metrics.labelled_mask(truth)[..., None], truth, np.nan))[1]


def _face_frame(ax: matplotlib.axes.Axes, positions: np.ndarray) -> matplotlib.lines.Line2D:
    """A blank 96 x 96 frame in image coordinates (y downwards) with the ``positions`` as coloured dots; returns
    their legend handle."""
    ax.set_xlim(-0.5, IMAGE_SIZE - 0.5)
    ax.set_ylim(IMAGE_SIZE - 0.5, -0.5)
    ax.set_aspect("equal")
    ax.set_xlabel("x (px)")
    ax.set_ylabel("y (px, downwards)")
    ax.scatter(positions[:, 0], positions[:, 1], s=12, c=keypoint_colours(), edgecolors="black", linewidths=0.4,
               zorder=3)
    return matplotlib.lines.Line2D([], [], linestyle="none", marker="o", markersize=4, markerfacecolor="lightgray",
                                   markeredgecolor="black", markeredgewidth=0.4,
                                   label="mean true position (person's left red, right cyan, midline gold)")


def error_ellipses(
    predictions_by_model: Mapping[str, np.ndarray], truth: np.ndarray, face: np.ndarray | None = None
) -> matplotlib.figure.Figure:
    """On the mean true face (or ``face``, ``(15, 2)`` px), each model's 95 % ellipse of the residuals of every
    keypoint (:func:`ellipse_parameters`), centred on the position plus the model's mean bias. Keypoints with fewer
    than 3 labelled faces get no ellipse."""
    face = mean_face(truth) if face is None else np.asarray(face, dtype=np.float64)
    fig, ax = plt.subplots(figsize=(7, 8))
    handles = [_face_frame(ax, face)]
    for i, (name, predicted) in enumerate(predictions_by_model.items()):
        colour = f"C{i}"
        r = residuals(predicted, truth)
        for k in range(len(KEYPOINT_NAMES)):
            points = r[~np.isnan(r[:, k, 0]), k]
            if len(points) < 3:
                continue
            width, height, angle = ellipse_parameters(points)
            ax.add_patch(matplotlib.patches.Ellipse(face[k] + points.mean(axis=0), width, height, angle=angle,
                                                    fill=False, edgecolor=colour, linewidth=1.2))
        handles.append(matplotlib.lines.Line2D([], [], color=colour, label=f"{name}: 95 % ellipse of the residuals"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.08), fontsize=8)
    ax.set_title("95 % error ellipses on the mean face\n(each centred on the mean true position + the mean bias)")
    fig.tight_layout()
    return fig
