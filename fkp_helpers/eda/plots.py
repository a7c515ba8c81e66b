"""Figures of notebook 01: missing labels, coordinate distributions, mean shape, strategies."""
from __future__ import annotations

import matplotlib.figure
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from fkp_helpers.data.keypoints import COORDINATE_COLUMNS, KEYPOINT_NAMES
from fkp_helpers.plotting import draw_face, keypoint_colours


def plot_missing_counts(counts: pd.DataFrame) -> matplotlib.figure.Figure:
    """Horizontal bars: percentage of rows missing each keypoint."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    sns.barplot(data=counts, y="keypoint", x="missing_pct", color="tab:blue", ax=ax)
    ax.set_xlabel("rows missing this keypoint (%)")
    ax.set_ylabel("")
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
    ax.set_title(f"the {len(shown)} commonest of {len(patterns)} labelled-keypoint patterns (dark = labelled)", fontsize=9)
    fig.tight_layout()
    return fig


def plot_coordinate_histograms(keypoints: np.ndarray) -> matplotlib.figure.Figure:
    """One small histogram per coordinate (the thesis's 30-panel grid), labelled values only."""
    coords = keypoints.reshape(len(keypoints), -1)
    fig, axes = plt.subplots(5, 6, figsize=(13, 9))
    for column, ax in enumerate(axes.ravel()):
        values = coords[:, column]
        ax.hist(values[~np.isnan(values)], bins=30, color="tab:blue")
        ax.set_title(COORDINATE_COLUMNS[column], fontsize=7)
        ax.tick_params(labelsize=6)
    fig.tight_layout()
    return fig


def plot_mean_shape(images: np.ndarray, keypoints: np.ndarray) -> matplotlib.figure.Figure:
    """The mean face with the mean of each keypoint's labelled positions over it, and each keypoint's cloud beside."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 4.5))
    draw_face(left, images.mean(axis=0), np.nanmean(keypoints, axis=0), title="mean face and mean keypoints")
    right.imshow(images.mean(axis=0), cmap="gray")
    colours = keypoint_colours()
    for k in range(keypoints.shape[1]):
        right.scatter(keypoints[:, k, 0], keypoints[:, k, 1], s=1, alpha=0.15, color=colours[k])
    right.set_title("every labelled keypoint (red: person's left, cyan: right)", fontsize=8)
    right.set_xlim(-0.5, 95.5)
    right.set_ylim(95.5, -0.5)
    right.set_axis_off()
    fig.tight_layout()
    return fig


def plot_correlation_heatmap(keypoints: np.ndarray) -> matplotlib.figure.Figure:
    """Pairwise correlation of the 30 coordinates (pairwise-complete rows)."""
    frame = pd.DataFrame(keypoints.reshape(len(keypoints), -1), columns=list(COORDINATE_COLUMNS))
    fig, ax = plt.subplots(figsize=(10, 8.5))
    sns.heatmap(frame.corr(), cmap="RdBu_r", vmin=-1, vmax=1, square=True, ax=ax, cbar_kws={"shrink": 0.7},
                xticklabels=True, yticklabels=True)
    ax.tick_params(labelsize=6)
    fig.tight_layout()
    return fig


def plot_strategy_spread(spread: pd.DataFrame, columns: list[str]) -> matplotlib.figure.Figure:
    """Grouped bars: the standard deviation of selected coordinates under each missing-value strategy."""
    fig, ax = plt.subplots(figsize=(9, 4))
    spread.loc[columns].plot.bar(ax=ax, width=0.8)
    ax.set_ylabel("standard deviation (px)")
    ax.tick_params(axis="x", labelrotation=20, labelsize=7)
    fig.tight_layout()
    return fig
