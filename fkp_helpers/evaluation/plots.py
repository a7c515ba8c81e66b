"""Figures of notebook 04: per-keypoint errors with error bars, PCK curves, and error against image properties.

Each function returns a matplotlib Figure; writing it is ``plotting.save_figure``'s job.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.axes
import matplotlib.figure
import matplotlib.pyplot as plt
import numpy as np

import fkp_helpers.evaluation.metrics as metrics
from fkp_helpers.data.keypoints import KEYPOINT_NAMES
from fkp_helpers.evaluation.tables import noise_floor_pck_curve
from fkp_helpers.plotting import SEED_STYLES, split_seed

CONFIDENCE_Z = 1.96
"""Error bars span +-1.96 standard errors (95 % under a normal approximation)."""


def _legend_below(fig: matplotlib.figure.Figure, ax: matplotlib.axes.Axes) -> None:
    """One figure legend of ``ax``'s labelled artists below the axes, clear of the data (constrained layout)."""
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(handles), 4), fontsize=8)


def model_styles(names: Sequence[str]) -> dict[str, dict[str, str]]:
    """Each model's ``color`` (one a family: its name without the ``_s<k>`` seed suffix, see ``split_seed``),
    ``linestyle`` and ``marker`` (one a seed, ``SEED_STYLES``; a model without a seed draws as the first seed)."""
    families = list(dict.fromkeys(split_seed(name)[0] for name in names))
    seeds = sorted({seed for name in names if (seed := split_seed(name)[1]) is not None})
    styles = {}
    for name in names:
        family, seed = split_seed(name)
        linestyle, marker = SEED_STYLES[(0 if seed is None else seeds.index(seed)) % len(SEED_STYLES)]
        styles[name] = dict(color=f"C{families.index(family) % 10}", linestyle=linestyle, marker=marker)
    return styles


def per_keypoint_error_bars(
    predictions_by_model: Mapping[str, np.ndarray], truth: np.ndarray, noise_floor: float | None = None,
    clusters: np.ndarray | None = None, faces: str = "the test faces",
) -> matplotlib.figure.Figure:
    """RMSE in pixels of each keypoint for each model on ``faces`` (the title's words for them): a dot a model with its 95 % interval as a line (over the units
    ``clusters`` gives the faces, else over faces), the models side by side within a keypoint's row (dots and lines,
    unlike bars with caps, stay readable with many models); one colour a model family, one marker and interval line
    style a seed (``model_styles``)."""
    names = list(predictions_by_model)
    styles = model_styles(names)
    step = 0.8 / max(1, len(names))
    fig, ax = plt.subplots(figsize=(9, 0.5 * len(KEYPOINT_NAMES) + 1.2), layout="constrained")
    positions = np.arange(len(KEYPOINT_NAMES))
    for i, name in enumerate(names):
        errors = metrics.per_keypoint_errors(predictions_by_model[name], truth, clusters)
        style = styles[name]
        drawn = ax.errorbar(errors["rmse_px"].to_numpy(float), positions + (i - (len(names) - 1) / 2) * step,
                            xerr=CONFIDENCE_Z * errors["rmse_se_px"].fillna(0).to_numpy(float), fmt=style["marker"],
                            color=style["color"], markersize=4, elinewidth=1.2, capsize=0, label=name)
        drawn.lines[2][0].set_linestyle(style["linestyle"])  # the interval's line: solid, dashed ... a seed
    ax.set_ylim(len(KEYPOINT_NAMES) - 0.5, -0.5)  # first keypoint on top
    ax.grid(axis="x", alpha=0.3)
    if noise_floor is not None:
        ax.axvline(noise_floor, color="black", linestyle="--", linewidth=1, label="label noise floor")
    ax.set_yticks(positions, [n.replace("_", " ") for n in KEYPOINT_NAMES], fontsize=8)
    ax.set_xlabel("RMSE (pixels), 95 % interval")
    ax.set_title(f"Error per keypoint on {faces}")
    fig.legend(*ax.get_legend_handles_labels(), fontsize=8, loc="outside right upper",
               title="model (colour: family,\nmarker and line: seed)", title_fontsize=8)
    return fig


def pck_curves(
    predictions_by_model: Mapping[str, np.ndarray],
    truth: np.ndarray,
    max_radius_px: float = 10.0,
    max_fraction: float = 0.25,
    noise_floor: float | None = None,
    faces: str = "the test faces",
) -> matplotlib.figure.Figure:
    """PCK against the radius in pixels (left) and as a fraction of the inter-pupil distance (right) on ``faces`` (the
    title's words for the faces scored); one colour a model family, one line style and marker a seed (``model_styles``)."""
    radii = np.linspace(0, max_radius_px, 101)
    fractions = np.linspace(0, max_fraction, 101)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.4), sharey=True, layout="constrained")
    styles = model_styles(list(predictions_by_model))
    for i, (name, predicted) in enumerate(predictions_by_model.items()):
        style = dict(styles[name], markersize=4, markevery=(i % 10, 10), linewidth=1.3, label=name)  # markers staggered
        left.plot(radii, metrics.pck_curve(predicted, truth, radii), **style)
        right.plot(fractions, metrics.pck_curve(predicted, truth, fractions, normalised=True), **style)
    if noise_floor is not None:
        style = dict(color="black", linestyle="--", linewidth=1, label="perfect model, noisy labels")
        left.plot(radii, noise_floor_pck_curve(truth, noise_floor, radii), **style)
        right.plot(fractions, noise_floor_pck_curve(truth, noise_floor, fractions, normalised=True), **style)
    left.set_xlabel("radius (pixels)")
    right.set_xlabel("radius / inter-pupil distance")
    left.set_ylabel("fraction of labelled keypoints within radius (PCK)")
    for ax in (left, right):
        ax.set_ylim(0, 1.01)
        ax.grid(alpha=0.3)
    _legend_below(fig, left)
    fig.suptitle(f"PCK curves on {faces}")
    return fig


def error_against(
    covariates: Mapping[str, np.ndarray], errors: np.ndarray, n_bins: int = metrics.COVARIATE_BINS,
    error_label: str = "per-image RMSE (px)", clusters: np.ndarray | None = None,
) -> matplotlib.figure.Figure:
    """One panel per image property: each image's error (dots) and the mean error in equal-count bins (+-1.96 SE,
    over the units ``clusters`` gives the images, else over images)."""
    fig, axes = plt.subplots(1, len(covariates), figsize=(4.5 * len(covariates), 4), squeeze=False, sharey=True,
                             layout="constrained")
    for ax, (name, values) in zip(axes[0], covariates.items()):
        ax.scatter(values, errors, s=4, alpha=0.3, color="tab:gray", label="one face")
        binned = metrics.error_by_bins(values, errors, n_bins, clusters)
        ax.errorbar(binned["centre"], binned["mean_error"], yerr=CONFIDENCE_Z * binned["se"].fillna(0),
                    color="tab:red", marker="o", capsize=3,
                    label=f"mean in {len(binned)} equal-count bins, 95 % interval")
        ax.set_xlabel(name)
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel(error_label)
    _legend_below(fig, axes[0, 0])
    return fig
