"""Plotting: faces with keypoints, grids of faces, and the one helper that writes figures."""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Sequence

import matplotlib
import matplotlib.axes
import matplotlib.axis
import matplotlib.figure
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import patheffects
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.collections import LineCollection
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D

from fkp_helpers.data.keypoints import FLIP_PAIRS, KEYPOINT_NAMES

LEFT_COLOUR, RIGHT_COLOUR, CENTRE_COLOUR = "tab:red", "tab:cyan", "gold"
PREDICTION_COLOUR = "lime"
PREDICTION_SIZE, PREDICTION_LINE_WIDTH = 22, 0.8
"""Thin crosses a little wider than a label's dot: the dot shows between the arms of a prediction on top of it."""
LABEL_SIZE = 10
ERROR_COLOUR, ERROR_LINE_WIDTH = "magenta", 1.3
ERROR_LINE_EDGE = [patheffects.Stroke(linewidth=ERROR_LINE_WIDTH + 1.2, foreground="black"), patheffects.Normal()]
"""The label-to-prediction line: a colour no label or prediction has, edged in black to show on light and dark skin."""
TITLE_FONTSIZE = 8
TITLE_SHARE = 0.95
"""A face's title may use this share of its panel's width before it wraps onto another line."""

SIDE_LABELS = {
    LEFT_COLOUR: "label: person's left",
    RIGHT_COLOUR: "label: person's right",
    CENTRE_COLOUR: "label: midline",
}
"""Legend text of each label colour."""

SHORT_KEYPOINT_NAMES: dict[str, str] = {
    "left_eye_center": "L eye",
    "right_eye_center": "R eye",
    "left_eye_inner_corner": "L eye in",
    "left_eye_outer_corner": "L eye out",
    "right_eye_inner_corner": "R eye in",
    "right_eye_outer_corner": "R eye out",
    "left_eyebrow_inner_end": "L brow in",
    "left_eyebrow_outer_end": "L brow out",
    "right_eyebrow_inner_end": "R brow in",
    "right_eyebrow_outer_end": "R brow out",
    "nose_tip": "nose",
    "mouth_left_corner": "mouth L",
    "mouth_right_corner": "mouth R",
    "mouth_center_top_lip": "top lip",
    "mouth_center_bottom_lip": "bottom lip",
}
"""Tick-label names of the keypoints (L/R: the person's left/right)."""


SEED_STYLES = (("-", "o"), ("--", "s"), (":", "^"), ("-.", "D"))
"""Line style and marker of the first, second, ... seed of a model or run family (its colour is the family's)."""


def split_seed(name: str) -> tuple[str, int | None]:
    """A model or run name's family and seed: ``vgg_sgd_s1`` -> ``("vgg_sgd", 1)``; no ``_s<k>`` suffix: the whole
    name and None."""
    found = re.fullmatch(r"(.+)_s(\d+)", name)
    return (found.group(1), int(found.group(2))) if found else (name, None)


def keypoint_colours() -> list[str]:
    """One colour per keypoint: the person's left side red, right side cyan, the midline gold."""
    lefts = {left for left, _ in FLIP_PAIRS}
    rights = {right for _, right in FLIP_PAIRS}
    return [LEFT_COLOUR if n in lefts else RIGHT_COLOUR if n in rights else CENTRE_COLOUR for n in KEYPOINT_NAMES]


def error_segments(keypoints: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """``(m, 2, 2)`` line segments from each labelled keypoint to its predicted position (``(..., 15, 2)`` inputs);
    keypoints without a label or a prediction, or predicted exactly on their label, get none."""
    both = ~np.isnan(keypoints).any(axis=-1) & ~np.isnan(predicted).any(axis=-1)
    drawn = both & (keypoints != predicted).any(axis=-1)
    return np.stack([keypoints[drawn], predicted[drawn]], axis=1)


def off_label(keypoints: np.ndarray | None, predicted: np.ndarray) -> np.ndarray:
    """Which of the ``(15, 2)`` predictions to draw: all but those exactly on their label (a kept label, as mean
    imputation keeps them, is not a prediction)."""
    if keypoints is None:
        return np.ones(len(predicted), dtype=bool)
    return ~(predicted == keypoints).all(axis=-1)


def draw_face(
    ax: matplotlib.axes.Axes,
    image: np.ndarray,
    keypoints: np.ndarray | None = None,
    predicted: np.ndarray | None = None,
    title: str | None = None,
) -> None:
    """Show one 96x96 face with its labelled keypoints (missing ones are not drawn), optional predictions (thin green
    crosses on top, so a label under its prediction still shows between the arms; none where a prediction equals its
    label) and, where both are given, a black-edged magenta line from each label to its prediction."""
    ax.imshow(image, cmap="gray", vmin=0, vmax=255 if image.dtype == np.uint8 else None)
    if keypoints is not None and predicted is not None:
        ax.add_collection(LineCollection(error_segments(keypoints, predicted), colors=ERROR_COLOUR,
                                         linewidths=ERROR_LINE_WIDTH, path_effects=ERROR_LINE_EDGE, zorder=2))
    if keypoints is not None:
        labelled = ~np.isnan(keypoints[:, 0])
        colours = np.array(keypoint_colours())
        ax.scatter(keypoints[labelled, 0], keypoints[labelled, 1], s=LABEL_SIZE, c=colours[labelled],
                   edgecolors="black", linewidths=0.4, zorder=3)
    if predicted is not None:
        shown = off_label(keypoints, predicted)
        ax.scatter(predicted[shown, 0], predicted[shown, 1], s=PREDICTION_SIZE, marker="x", c=PREDICTION_COLOUR,
                   linewidths=PREDICTION_LINE_WIDTH, zorder=4)
    if title:
        ax.set_title(title, fontsize=TITLE_FONTSIZE)
    ax.set_axis_off()


def face_legend_handles(
    keypoints: np.ndarray | None, predicted: np.ndarray | None, predicted_label: str = "prediction"
) -> list[Line2D]:
    """Legend entries of the marks :func:`draw_face` draws for these keypoints and predictions (none: bare faces)."""
    handles = []
    if keypoints is not None and not np.isnan(keypoints).all():
        handles += [Line2D([], [], linestyle="none", marker="o", markersize=5, markerfacecolor=colour,
                           markeredgecolor="black", markeredgewidth=0.4, label=label)
                    for colour, label in SIDE_LABELS.items()]
    if predicted is not None:
        handles.append(Line2D([], [], linestyle="none", marker="x", markersize=6, color=PREDICTION_COLOUR,
                              markeredgewidth=PREDICTION_LINE_WIDTH, label=predicted_label))
    if keypoints is not None and predicted is not None and len(error_segments(keypoints, predicted)):
        error = f"label-to-{predicted_label} error"
        handles.append(Line2D([], [], color=ERROR_COLOUR, linewidth=ERROR_LINE_WIDTH, path_effects=ERROR_LINE_EDGE,
                              label=error))
    return handles


def text_width_in(fig: matplotlib.figure.Figure, text: str, fontsize: float) -> float:
    """Width in inches of the widest line of ``text`` set in ``fig``'s default font at ``fontsize`` points."""
    renderer = RendererAgg(1, 1, fig.dpi)  # measures text as every raster backend draws it
    font = FontProperties(size=fontsize)
    widths = [renderer.get_text_width_height_descent(line, font, ismath=False)[0] for line in text.split("\n")]
    return max(widths) / fig.dpi


def wrap_to_width(fig: matplotlib.figure.Figure, text: str, fontsize: float, width_in: float) -> str:
    """``text`` broken at spaces into lines no wider than ``width_in`` inches (its own line breaks kept; a single
    longer word keeps a line of its own)."""
    lines: list[str] = []
    for given in text.split("\n"):
        lines.append("")
        for word in given.split():
            joined = f"{lines[-1]} {word}" if lines[-1] else word
            if lines[-1] and text_width_in(fig, joined, fontsize) > width_in:
                lines.append(word)
            else:
                lines[-1] = joined
    return "\n".join(lines)


def face_grid(
    images: np.ndarray,
    keypoints: np.ndarray | None = None,
    predicted: np.ndarray | None = None,
    titles: Sequence[str] | None = None,
    columns: int = 6,
    size: float = 1.8,
    predicted_label: str = "prediction",
) -> matplotlib.figure.Figure:
    """A grid of faces with their keypoints (and predictions, drawn as green crosses joined to their labels), with
    one legend of the marks below the grid; ``predicted_label`` names the crosses there. Titles wider than a panel
    are wrapped onto more lines, so neighbouring titles never overlap."""
    n = len(images)
    rows = max(1, -(-n // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(columns * size, rows * size), squeeze=False, layout="constrained")
    for i, ax in enumerate(axes.ravel()):
        if i >= n:
            ax.set_axis_off()
            continue
        title = None if titles is None else wrap_to_width(fig, titles[i], TITLE_FONTSIZE, TITLE_SHARE * size)
        draw_face(
            ax,
            images[i],
            None if keypoints is None else keypoints[i],
            None if predicted is None else predicted[i],
            title,
        )
    handles = face_legend_handles(keypoints, predicted, predicted_label)
    if handles:
        fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), columns), fontsize=8)
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
