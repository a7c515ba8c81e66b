"""Plotting: faces with keypoints, grids of faces, and the one helper that writes figures."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import matplotlib
import matplotlib.axes
import matplotlib.axis
import matplotlib.figure
import matplotlib.pyplot as plt
import numpy as np

from fkp_helpers.data.keypoints import FLIP_PAIRS, KEYPOINT_NAMES

LEFT_COLOUR, RIGHT_COLOUR, CENTRE_COLOUR = "tab:red", "tab:cyan", "gold"


def keypoint_colours() -> list[str]:
    """One colour per keypoint: the person's left side red, right side cyan, the midline gold."""
    lefts = {left for left, _ in FLIP_PAIRS}
    rights = {right for _, right in FLIP_PAIRS}
    return [LEFT_COLOUR if n in lefts else RIGHT_COLOUR if n in rights else CENTRE_COLOUR for n in KEYPOINT_NAMES]


def draw_face(
    ax: matplotlib.axes.Axes,
    image: np.ndarray,
    keypoints: np.ndarray | None = None,
    predicted: np.ndarray | None = None,
    title: str | None = None,
) -> None:
    """Show one 96x96 face with its labelled keypoints (missing ones are not drawn) and optional predictions."""
    ax.imshow(image, cmap="gray", vmin=0, vmax=255 if image.dtype == np.uint8 else None)
    if keypoints is not None:
        labelled = ~np.isnan(keypoints[:, 0])
        colours = np.array(keypoint_colours())
        ax.scatter(keypoints[labelled, 0], keypoints[labelled, 1], s=14, c=colours[labelled], edgecolors="black", linewidths=0.4)
    if predicted is not None:
        ax.scatter(predicted[:, 0], predicted[:, 1], s=18, marker="x", c="lime", linewidths=1.0)
    if title:
        ax.set_title(title, fontsize=8)
    ax.set_axis_off()


def face_grid(
    images: np.ndarray,
    keypoints: np.ndarray | None = None,
    predicted: np.ndarray | None = None,
    titles: Sequence[str] | None = None,
    columns: int = 6,
    size: float = 1.8,
) -> matplotlib.figure.Figure:
    """A grid of faces with their keypoints (and predictions, drawn as green crosses)."""
    n = len(images)
    rows = max(1, -(-n // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(columns * size, rows * size), squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        if i >= n:
            ax.set_axis_off()
            continue
        draw_face(
            ax,
            images[i],
            None if keypoints is None else keypoints[i],
            None if predicted is None else predicted[i],
            None if titles is None else titles[i],
        )
    fig.tight_layout()
    return fig


def figure_path(name: str, figures_dir: str | os.PathLike) -> Path:
    """Where :func:`save_figure` writes the figure called ``name``."""
    return Path(figures_dir) / f"{name}.png"


def save_figure(fig: matplotlib.figure.Figure, name: str, figures_dir: str | os.PathLike | None) -> None:
    """Write ``fig`` as ``figures_dir/name.png`` (atomically); does nothing if no folder is given.

    Returns nothing, so a notebook cell ending in it shows only the figure."""
    if figures_dir is None:
        return
    path = figure_path(name, figures_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp-{os.getpid()}.png")
    fig.savefig(tmp, dpi=110, bbox_inches="tight")
    os.replace(tmp, path)


def plain_log_ticks(axis: matplotlib.axis.Axis) -> None:
    """Label a log-scale axis's major and minor ticks as plain numbers (``4``, ``0.5``), not ``4 x 10^0``."""
    from matplotlib.ticker import FuncFormatter

    plain = FuncFormatter(lambda value, _: f"{value:.3g}")
    axis.set_major_formatter(plain)
    axis.set_minor_formatter(plain)
    axis.set_tick_params(which="minor", labelsize=7)
