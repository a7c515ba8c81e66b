"""Standard errors with faces, or the people they show, as the independent units.

A statistic's standard error is computed from each face's linearised (delta-method) contribution to it. Where the
faces are frames of a few people, the frames of one person err together and are not independent evidence: the
contributions are then summed per person first (the cluster-robust standard error).
"""
from __future__ import annotations

import numpy as np


def units_of(clusters: np.ndarray | None, rows: np.ndarray) -> np.ndarray | None:
    """The units ``clusters`` gives the faces selected by ``rows`` (a mask or indices), or None where faces are the
    units."""
    return None if clusters is None else np.asarray(clusters)[rows]


def standard_error(influence: np.ndarray, clusters: np.ndarray | None = None) -> float:
    """The standard error of a statistic from each face's contribution to it (``influence``), with faces as the
    units, or the units ``clusters`` gives the faces (one label a face, e.g. its person). NaN with fewer than 2
    units."""
    influence = np.asarray(influence, dtype=np.float64)
    if clusters is not None:
        clusters = np.asarray(clusters)
        if clusters.shape != influence.shape:
            raise ValueError(f"clusters must give one unit a face ({influence.shape}), got shape {clusters.shape}")
        influence = np.bincount(np.unique(clusters, return_inverse=True)[1], weights=influence)
    n = len(influence)
    return float(np.sqrt(n / (n - 1) * np.sum(influence**2))) if n >= 2 else float("nan")


def mean_and_se(values: np.ndarray, clusters: np.ndarray | None = None) -> tuple[float, float]:
    """Mean of the non-NaN ``values`` (one a face) and its standard error: ``sd / sqrt(n)`` with faces as units,
    cluster-robust with ``clusters`` (:func:`standard_error`). NaN where too few."""
    values = np.asarray(values, dtype=np.float64)
    present = ~np.isnan(values)
    if not present.any():
        return float("nan"), float("nan")
    kept = values[present]
    mean = float(kept.mean())
    return mean, standard_error((kept - mean) / len(kept), units_of(clusters, present))
