"""How much the optimizer study's answer depends on the picked peak rates: notebook 03's VGG runs again at multiples
of the peak each optimizer's rate trials picked (in runs before the trials: its range test), for both optimizers, the
same seeds, data, split and schedule.

Run after a main run: ``python scripts/rate_sensitivity.py runs/<profile>-... [--factors 0.333 3] [--seeds 0 1]`` (8
runs by default: 19 minutes on a 2-core AVX-512 machine for a quick-profile run, about 20 hours for a study run). It
reads what the run used: the profile, seed, precision and picked rates (``training_results.json``), the split
(``split.npz``) and the data folder (``run_info.json``); trains into ``<run>/rate_sensitivity/`` (never over the run's
own models) and prints the best validation RMSE of every run beside the run's own at factor 1. Validation only: the
test people stay unused.
``--factors 1 --seeds 2`` trains a further seed at the picked rates instead.
"""
from __future__ import annotations

import argparse
import functools
import json
from pathlib import Path

import numpy as np
import pandas as pd

from fkp_helpers.augment import AugmentedSequence
from fkp_helpers.data import load_series_data
from fkp_helpers.profiles import get_profile
from fkp_helpers.run_state import INFO_FILE
from fkp_helpers.training import (
    build_vgg,
    initial_model,
    model_inputs,
    model_targets,
    standardisation,
    train_scheduled,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a finished main run (its training_results.json)")
    parser.add_argument("--factors", type=float, nargs="+", default=[1 / 3, 3.0], help="multiples of each picked peak")
    parser.add_argument("--seeds", type=int, nargs="+", default=None, help="default: the run's study seeds")
    args = parser.parse_args()
    summary = json.loads((args.run / "training_results.json").read_text())
    settings = get_profile(summary["profile"])
    data = load_series_data(json.loads((args.run / INFO_FILE).read_text())["data_dir"])
    images, keypoints = data.train.images, data.train.keypoints
    split = np.load(args.run / "split.npz")
    train_index, val_index = split["train_index"], split["val_index"]
    val = model_inputs(images[val_index]), model_targets(keypoints[val_index])
    build = functools.partial(build_vgg, mixed_precision=summary["precision"] == "mixed_bfloat16", he_init=True,
                              scaling=standardisation(images[train_index], keypoints[train_index]))
    seeds = args.seeds if args.seeds is not None else [summary["seed"] + i for i in range(settings.seeds)]
    rows = []
    for optimizer, peak in summary["peak_learning_rates"].items():
        for seed in seeds:
            own = summary["runs"].get(f"vgg_{optimizer}_s{seed}")
            if own is not None:
                rows.append({"optimizer": optimizer, "seed": seed, "factor": 1.0, "peak": own["learning_rate"],
                             "best_val_rmse_px": own["best_val_rmse_px"]})
            for factor in args.factors:
                batches = AugmentedSequence(images[train_index], keypoints[train_index], settings.batch_size, seed=seed)
                result = train_scheduled(initial_model(build, seed), batches, val, optimizer, factor * peak,
                                         settings.epochs, seed, args.run / "rate_sensitivity",
                                         f"vgg_{optimizer}_s{seed}_x{factor:.3g}")
                rows.append({"optimizer": optimizer, "seed": seed, "factor": factor, "peak": result.learning_rate,
                             "best_val_rmse_px": result.best_val_rmse_px})
    table = pd.DataFrame(rows).sort_values(["optimizer", "seed", "factor"])
    table.to_csv(args.run / "rate_sensitivity" / "summary.csv", index=False)
    print(f"{data.description}; profile {summary['profile']}, {settings.epochs} epochs a run; mean shape "
          f"{summary['mean_shape_val_rmse_px']:.3f} px on validation")
    print(table.round(4).to_string(index=False))


if __name__ == "__main__":
    main()
