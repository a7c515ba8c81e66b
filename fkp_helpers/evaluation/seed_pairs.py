"""Two training recipes compared seed by seed, on the same test faces.

In the optimizer study the SGD and Adam runs of one seed start from the same initial weights and see the same data
order, so each seed gives one paired difference. Two things make the mean difference uncertain: training's own
randomness (the seeds) and which people happened to be tested (the faces). ``seed_paired_differences`` gives an
interval for each: over seeds, a Student t interval on the seeds' differences; over people, the delta-method one with
the runs held fixed (``metrics.mean_rmse_difference_and_se``).
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd
import scipy.stats

from fkp_helpers.evaluation import metrics
from fkp_helpers.evaluation.plots import CONFIDENCE_Z

MEAN_ROW = "mean over seeds"


def seed_paired_differences(first: Mapping[int, np.ndarray], second: Mapping[int, np.ndarray], truth: np.ndarray,
                            clusters: np.ndarray | None = None) -> pd.DataFrame:
    """Second RMSE minus first (px), one row ``seed k`` for each seed both have (``{seed: predictions}``), with the
    half-width of its 95 % interval over the people (``clusters``; faces without), then the row ``MEAN_ROW``: the
    mean difference with its half-widths over people and over seeds (Student t on the seeds' differences, seeds - 1
    degrees of freedom; NaN with one seed). Columns ``difference_px``, ``ci95_people_px``, ``ci95_seeds_px``."""
    seeds = sorted(set(first) & set(second))
    if not seeds:
        raise ValueError(f"no seed in common: first has {sorted(first)}, second has {sorted(second)}")
    pairs = {seed: (metrics.squared_coordinate_errors(first[seed], truth),
                    metrics.squared_coordinate_errors(second[seed], truth)) for seed in seeds}
    rows = {}
    for seed, pair in pairs.items():
        difference, se = metrics.mean_rmse_difference_and_se([pair], clusters)
        rows[f"seed {seed}"] = {"difference_px": difference, "ci95_people_px": CONFIDENCE_Z * se,
                                "ci95_seeds_px": np.nan}
    mean, se_people = metrics.mean_rmse_difference_and_se(list(pairs.values()), clusters)
    differences = [row["difference_px"] for row in rows.values()]
    spread = (scipy.stats.t.ppf(0.975, len(seeds) - 1) * np.std(differences, ddof=1) / np.sqrt(len(seeds))
              if len(seeds) > 1 else np.nan)
    rows[MEAN_ROW] = {"difference_px": mean, "ci95_people_px": CONFIDENCE_Z * se_people, "ci95_seeds_px": spread}
    return pd.DataFrame.from_dict(rows, orient="index")


def describe_seed_pairs(table: pd.DataFrame, first: str, second: str, faces: str) -> str:
    """One sentence on a ``seed_paired_differences`` table: the mean difference, both intervals, and a difference
    called shown only where both intervals exclude 0."""
    row = table.loc[MEAN_ROW]
    intervals = {source: (row["difference_px"] - row[column], row["difference_px"] + row[column])
                 for source, column in (("seeds", "ci95_seeds_px"), ("people", "ci95_people_px"))}
    spans = "; ".join(f"over {source} {low:+.3f} to {high:+.3f}" if np.isfinite(low) else f"over {source}: none"
                      for source, (low, high) in intervals.items())
    excluded = [np.isfinite(low) and not low <= 0 <= high for low, high in intervals.values()]
    verdict = (f"both exclude 0: {second} is {'lower' if row['difference_px'] < 0 else 'higher'} on these {faces}"
               if all(excluded) else "at least one includes 0: no difference shown")
    return (f"{second} minus {first}, mean over {len(table) - 1} seeds: {row['difference_px']:+.3f} px (95 % intervals "
            f"{spans}); {verdict}.")
