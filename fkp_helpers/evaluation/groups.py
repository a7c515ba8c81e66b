"""The error by group of faces (labelling regime, face scale) in notebook 04: RMSE per group and model with its
interval, paired differences between two models, and their figure.

Arrays are ``(N, 15, 2)`` pixels with NaN where unlabelled; ``groups`` has one label a face.
"""
from __future__ import annotations

import textwrap
from typing import Hashable, Mapping

import matplotlib.figure
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import fkp_helpers.evaluation.metrics as metrics
from fkp_helpers.evaluation.plots import CONFIDENCE_Z
from fkp_helpers.stats import units_of


def scale_bins(truth: np.ndarray, n_bins: int = 4) -> tuple[np.ndarray, dict[int, str]]:
    """Face scale groups: ``(N,)`` labels ``0 .. n_bins-1`` of the quantile bins of the true inter-pupil distance
    (``metrics.inter_pupil_distance``, between the eye centres), -1 where an eye is unlabelled, and a name a bin
    (e.g. ``"inter-pupil 30.1-35.2 px"``) to pass as ``group_names`` to :func:`error_by_group`."""
    iod = metrics.inter_pupil_distance(truth)
    known = ~np.isnan(iod)
    edges = np.quantile(iod[known], np.linspace(0, 1, n_bins + 1)) if known.any() else np.full(n_bins + 1, np.nan)
    labels = np.full(len(iod), -1)
    labels[known] = np.clip(np.searchsorted(edges, iod[known], side="right") - 1, 0, n_bins - 1)
    return labels, {b: f"inter-pupil {edges[b]:.1f}-{edges[b + 1]:.1f} px" for b in range(n_bins)}


def _named_groups(groups: np.ndarray, n_faces: int, group_names: Mapping[Hashable, str] | None) -> dict:
    """``group_names`` (label -> name), or every label of ``groups`` by itself in sorted order; checks the shape."""
    groups = np.asarray(groups)
    if groups.shape != (n_faces,):
        raise ValueError(f"groups must have one label a face ({n_faces}), got shape {groups.shape}")
    return dict(group_names) if group_names is not None else {g: str(g) for g in np.unique(groups)}


def error_by_group(
    predictions_by_model: Mapping[str, np.ndarray],
    truth: np.ndarray,
    groups: np.ndarray,
    group_names: Mapping[Hashable, str] | None = None,
    clusters: np.ndarray | None = None,
) -> pd.DataFrame:
    """RMSE in pixels (as :func:`metrics.rmse_px`, over the labelled coordinates) of each model on each group of faces.

    ``groups`` holds a label a face; with ``group_names`` (label -> name) only the named groups are reported, in
    that order, otherwise every label in sorted order. One row a (group, model) pair, index ``(group, model)``;
    columns ``rmse_px``, ``ci95_px`` (half-width of the 95 % interval: ``CONFIDENCE_Z`` x the delta-method standard
    error of :func:`metrics.rmse_and_se`: faces as the independent units, or the units ``clusters`` gives each face,
    e.g. its person) and ``n_faces`` (faces with a label).
    ``table["rmse_px"].unstack()`` gives groups x models.
    """
    names = _named_groups(groups, len(truth), group_names)
    squared = {model: metrics.squared_coordinate_errors(p, truth) for model, p in predictions_by_model.items()}
    rows = []
    for label, group in names.items():
        members = np.asarray(groups) == label
        for model, errors in squared.items():
            in_group = errors[members]
            rmse, se = metrics.rmse_and_se(in_group, units_of(clusters, members))
            n_faces = int((~np.isnan(in_group)).any(axis=1).sum())
            rows.append({"group": group, "model": model, "rmse_px": rmse, "ci95_px": CONFIDENCE_Z * se,
                         "n_faces": n_faces})
    columns = ["group", "model", "rmse_px", "ci95_px", "n_faces"]
    return pd.DataFrame(rows, columns=columns).set_index(["group", "model"])


def paired_difference_by_group(
    first: np.ndarray,
    second: np.ndarray,
    truth: np.ndarray,
    groups: np.ndarray,
    group_names: Mapping[Hashable, str] | None = None,
    clusters: np.ndarray | None = None,
) -> pd.DataFrame:
    """The second model's RMSE minus the first's on each group of faces (groups and ``clusters`` as in
    :func:`error_by_group`), paired over the same faces (:func:`metrics.rmse_difference_and_se`). One row a group:
    ``difference_px``, ``ci95_px`` (half-width of its 95 % interval) and ``n_faces``."""
    names = _named_groups(groups, len(truth), group_names)
    first_errors = metrics.squared_coordinate_errors(first, truth)
    second_errors = metrics.squared_coordinate_errors(second, truth)
    rows = []
    for label, group in names.items():
        in_group = np.asarray(groups) == label
        difference, se = metrics.rmse_difference_and_se(first_errors[in_group], second_errors[in_group],
                                                         units_of(clusters, in_group))
        n_faces = int((~np.isnan(first_errors[in_group])).any(axis=1).sum())
        rows.append({"group": group, "difference_px": difference, "ci95_px": CONFIDENCE_Z * se, "n_faces": n_faces})
    return pd.DataFrame(rows, columns=["group", "difference_px", "ci95_px", "n_faces"]).set_index("group")


def describe_group_pair(table: pd.DataFrame, differences: pd.DataFrame, group: str, first: str, second: str) -> str:
    """``group: first a px (+-x), second b px (+-y); second - first d px (95 % interval lo to hi, paired over n
    faces)``, and whether that interval includes 0, read off an :func:`error_by_group` table and a
    :func:`paired_difference_by_group` table (its ``second`` minus ``first``)."""
    a, b, d = table.loc[(group, first)], table.loc[(group, second)], differences.loc[group]
    low, high = d["difference_px"] - d["ci95_px"], d["difference_px"] + d["ci95_px"]
    head = (f"{group}: {first} {a['rmse_px']:.3f} px (+-{a['ci95_px']:.3f}), {second} {b['rmse_px']:.3f} px "
            f"(+-{b['ci95_px']:.3f}); {second} minus {first} {d['difference_px']:+.3f} px")
    if not np.isfinite(d["ci95_px"]):
        return head + f" (too few faces or people for an interval: {int(d['n_faces'])} faces)."
    verdict = ("includes 0: no difference shown" if low <= 0 <= high else
               f"excludes 0: {second} {'lower' if high < 0 else 'higher'}")
    return head + (f" (95 % interval {low:+.3f} to {high:+.3f}, paired over the same {int(d['n_faces'])} faces), "
                   f"which {verdict}.")


def error_by_group_figure(
    table: pd.DataFrame, group_label: str = "group of faces", title: str = "Error by group of faces"
) -> matplotlib.figure.Figure:
    """Grouped bars of an :func:`error_by_group` table: a bar a model in each group, 95 % error bars, the number of
    faces under each group's name (wrapped at 18 characters), the legend right of the axes."""
    groups = list(table.index.unique("group"))
    models = list(table.index.unique("model"))
    width = 0.8 / len(models)
    positions = np.arange(len(groups))
    fig, ax = plt.subplots(figsize=(2.0 + 1.4 * len(groups) + 0.3 * len(models), 4.2))
    for i, model in enumerate(models):
        rows = table.xs(model, level="model").reindex(groups)
        ax.bar(positions + (i - (len(models) - 1) / 2) * width, rows["rmse_px"], width=width,
               yerr=rows["ci95_px"].fillna(0), capsize=3, label=model)
    n_faces = table.xs(models[0], level="model")["n_faces"].reindex(groups)
    ax.set_xticks(positions, [f"{textwrap.fill(str(g), 18)}\n(n = {n})" for g, n in zip(groups, n_faces)],
                  fontsize=8)
    ax.set_xlabel(group_label)
    ax.set_ylabel("RMSE (px), 95 % interval")
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1), fontsize=8, borderaxespad=0)
    fig.tight_layout()
    return fig
