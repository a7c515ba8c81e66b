"""Figures of notebook 01: missing labels, coordinate distributions, mean shape, strategies."""
from __future__ import annotations

import matplotlib.figure
import matplotlib.patches
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import MaxNLocator

from fkp_helpers.data.keypoints import KEYPOINT_NAMES, N_KEYPOINTS
from fkp_helpers.plotting import SHORT_KEYPOINT_NAMES, draw_face, keypoint_colours

AXES = ("x", "y")


def plot_missing_counts(counts: pd.DataFrame) -> matplotlib.figure.Figure:
    """Horizontal bars: percentage of rows missing each keypoint."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    sns.barplot(data=counts, y="keypoint", x="missing_pct", color="tab:blue", ax=ax)
    ax.set_xlabel("rows missing this keypoint (%)")
    ax.set_ylabel("keypoint")
    ax.set_xlim(0, 100)
    fig.tight_layout()
    return fig


def plot_pattern_matrix(patterns: pd.DataFrame, top: int = 12) -> matplotlib.figure.Figure:
    """The commonest labelled-keypoint combinations as a matrix (dark = labelled), with their row counts."""
    shown = patterns.head(top)
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(shown) + 2))
    ax.imshow(shown[list(KEYPOINT_NAMES)].to_numpy(dtype=float), cmap="Greys", vmin=0, vmax=1.3, aspect="auto")
    ax.set_xticks(range(len(KEYPOINT_NAMES)), KEYPOINT_NAMES, rotation=70, ha="right", fontsize=7)
    ax.set_yticks(range(len(shown)), [f"{r} rows ({s:.1f}%)" for r, s in zip(shown["rows"], shown["share_pct"])], fontsize=7)
    ax.set_xlabel("keypoint")
    ax.set_ylabel("rows with the pattern")
    ax.set_title(f"the {len(shown)} commonest of {len(patterns)} labelled-keypoint patterns (dark = labelled)", fontsize=9)
    fig.tight_layout()
    return fig


def pixel_bin_edges(values: np.ndarray, bin_px: float = 1.0) -> np.ndarray:
    """Bin edges ``bin_px`` pixels apart, aligned to the pixel grid (an edge at ``-0.5``), covering ``values``."""
    first = np.floor((values.min() + 0.5) / bin_px)
    last = np.floor((values.max() + 0.5) / bin_px) + 1
    return bin_px * np.arange(first, last + 1) - 0.5


AXIS_COLOURS = ("tab:blue", "tab:orange")


def plot_coordinate_histograms(keypoints: np.ndarray, bin_px: float = 1.0) -> matplotlib.figure.Figure:
    """One panel per keypoint (5 x 3) with the histograms of its labelled x and y values overlaid in two colours, in
    bins ``bin_px`` pixels wide aligned to the pixel grid (the same width in every panel); 15 panels instead of 30
    keep the ticks and titles readable at the width a notebook shows."""
    fig, axes = plt.subplots(5, 3, figsize=(10, 12), layout="constrained")
    for k, ax in enumerate(axes.flat):
        for a, (axis, colour) in enumerate(zip(AXES, AXIS_COLOURS)):
            values = keypoints[:, k, a]
            values = values[~np.isnan(values)]
            if values.size:
                ax.hist(values, bins=pixel_bin_edges(values, bin_px), color=colour, alpha=0.6,
                        label=f"{axis} coordinate")
        ax.set_title(KEYPOINT_NAMES[k].replace("_", " "), fontsize=10)
        ax.set_xlabel("coordinate (px)", fontsize=9)
        ax.set_ylabel("faces", fontsize=9)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=4))
        ax.tick_params(labelsize=8)
    handles = [matplotlib.patches.Patch(color=colour, alpha=0.6, label=f"{axis} coordinate")
               for axis, colour in zip(AXES, AXIS_COLOURS)]
    fig.legend(handles=handles, loc="outside lower center", ncols=2, fontsize=9)
    fig.suptitle(f"Labelled values of each keypoint's x and y: faces per {bin_px:g}-px bin (bins aligned to the "
                 "pixel grid)")
    return fig


def plot_mean_shape(images: np.ndarray, keypoints: np.ndarray) -> matplotlib.figure.Figure:
    """The mean face with the mean of each keypoint's labelled positions over it, and each keypoint's cloud beside."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 4.5))
    draw_face(left, images.mean(axis=0), np.nanmean(keypoints, axis=0), title="mean face and mean keypoints")
    right.imshow(images.mean(axis=0), cmap="gray")
    colours = keypoint_colours()
    for k in range(keypoints.shape[1]):
        right.scatter(keypoints[:, k, 0], keypoints[:, k, 1], s=1, alpha=0.15, color=colours[k])
    right.set_title("every labelled keypoint (red: person's left, cyan: right, gold: midline)", fontsize=8)
    right.set_xlim(-0.5, 95.5)
    right.set_ylim(95.5, -0.5)
    right.set_axis_off()
    fig.tight_layout()
    return fig


def plot_correlation_heatmap(keypoints: np.ndarray) -> matplotlib.figure.Figure:
    """Pairwise correlation of the 30 coordinates (pairwise-complete rows): the 15 x coordinates, then the 15 y
    coordinates, a line between the two blocks, short keypoint names as tick labels."""
    by_axis = keypoints.transpose(0, 2, 1).reshape(len(keypoints), -1)
    corr = pd.DataFrame(by_axis).corr().to_numpy()
    labels = [f"{SHORT_KEYPOINT_NAMES[name]} {axis}" for axis in AXES for name in KEYPOINT_NAMES]
    fig, ax = plt.subplots(figsize=(10.5, 9.5), layout="constrained")
    image = ax.imshow(corr, cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    for line in (ax.axhline, ax.axvline):
        line(N_KEYPOINTS - 0.5, color="black", linewidth=1.5)
    ax.set_xlabel("coordinate (x block, then y block; L/R: the person's left/right)")
    ax.set_ylabel("coordinate")
    ax.set_title("How the keypoint coordinates move together")
    fig.colorbar(image, ax=ax, shrink=0.8, label="Pearson correlation (pairwise-complete rows)")
    return fig


def plot_strategy_spread(spread: pd.DataFrame, columns: list[str]) -> matplotlib.figure.Figure:
    """Grouped bars: the standard deviation of selected coordinates under each missing-value strategy."""
    fig, ax = plt.subplots(figsize=(9, 4))
    spread.loc[columns].plot.bar(ax=ax, width=0.8)
    ax.set_xlabel("coordinate")
    ax.set_ylabel("standard deviation (px)")
    ax.tick_params(axis="x", labelrotation=20, labelsize=8)
    ax.legend(title="values", fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig
