"""The optimizer study's training budget, measured: pilot runs of notebook 03's VGG on a ladder of budgets.

Each pilot is a study run as notebook 03 trains it (the real faces or whatever ``resolve_data_dir`` gives the
profile, the same split by person, standardised inputs and targets, He initialisation, augmentation, batch 32,
5 % warmup then cosine decay over the whole budget, seed 0, float32 unless ``--bf16``), one per optimizer and budget,
at the peak rate the quick profile's rate trials picked on the real faces (SGD 0.0091, Adam 0.0012). The budgets
double (30, 60, 120, 240, 480 epochs by default), so each run has a twin at twice its budget. The first ladder also
had 15; it was dropped once SGD's 30-epoch run ended 17 % above its 60-epoch twin: with the curve still falling that
much after 30 epochs, no budget under 60 can be where the VGG stops improving, whatever its own twin would say.

The criterion, fixed before the first pilot ran: the study's budget B is the shortest budget of the ladder at which
each optimizer's best validation RMSE is within 2 % of its own run at 2B. The longest rung has no twin, so it can
only be the twin of the one below it.

    python scripts/budget_pilots.py                      # every missing rung, longest first; hours on 2 cores
    python scripts/budget_pilots.py --budgets 60 --optimizers sgd

Results go to ``results/budget_pilots.json`` (merged: a rung already there is not trained again unless ``--redo``)
and the figure to ``figures/03_budget_pilots.png``; models and histories stay in ``runs/budget-pilots/`` (resumable
while that folder lasts). Validation only: the test people are not read.
"""
from __future__ import annotations

import argparse
import functools
import json
from pathlib import Path

from fkp_helpers.augment import AugmentedSequence
from fkp_helpers.data import PROJECT_ROOT, load_series_data, resolve_data_dir, split_groups, training_split, write_atomically
from fkp_helpers.evaluation import rmse_px
from fkp_helpers.machine import describe_machine
from fkp_helpers.plotting import save_figure
from fkp_helpers.profiles import STUDY, get_profile
from fkp_helpers.training import (
    build_mean_shape_model,
    build_vgg,
    initial_model,
    model_inputs,
    model_targets,
    predict_keypoints,
    standardisation,
    train_scheduled,
)
from fkp_helpers.training.pilots import PILOTS_FILE, budget_table, choose_budget, plot_pilots, read_pilots, run_record

RESULTS = PILOTS_FILE.relative_to(PROJECT_ROOT)
"""Where the record goes, under ``--out`` (default: the project)."""
PILOT_RATES = {"sgd": 0.0091, "adam": 0.0012}
"""The peaks the quick profile's rate trials picked on the real faces (published notebook 03)."""


def read_record(path: Path) -> dict:
    """The pilots recorded so far in ``path`` (empty where there is none yet)."""
    return read_pilots(path) if path.is_file() else {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", type=int, nargs="+", default=[480, 240, 120, 60, 30], help="epochs, trained in this order")
    parser.add_argument("--optimizers", nargs="+", default=list(PILOT_RATES), choices=list(PILOT_RATES))
    parser.add_argument("--profile", default=STUDY.name, help=f"data and batch size of this profile (default: {STUDY.name})")
    parser.add_argument("--bf16", action="store_true", help="bfloat16 compute (a separate record per precision)")
    parser.add_argument("--redo", action="store_true", help="train rungs already recorded again")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT,
                        help="where results/, figures/ and runs/ go (default: the project)")
    args = parser.parse_args()

    settings, seed = get_profile(args.profile), 0
    data = load_series_data(resolve_data_dir(None, settings, seed))
    images, keypoints = data.train.images, data.train.keypoints
    groups, _ = split_groups(data)
    split = training_split(images, settings.val_fraction, seed, settings.max_train_images, groups=groups)
    train_index, val_index = split["train_index"], split["val_index"]
    val = model_inputs(images[val_index]), model_targets(keypoints[val_index])
    precision = "mixed_bfloat16" if args.bf16 else "float32"
    build = functools.partial(build_vgg, mixed_precision=args.bf16, he_init=True,
                              scaling=standardisation(images[train_index], keypoints[train_index]))
    floor = rmse_px(predict_keypoints(build_mean_shape_model(keypoints[train_index]), images[val_index]),
                    keypoints[val_index])

    results = args.out / RESULTS
    setup = dict(profile=args.profile, criterion="B: the shortest budget at which each optimizer's best validation "
                 "RMSE is within 2 % of its own run at 2B", seed=seed, batch_size=settings.batch_size,
                 data=data.description, train_images=len(train_index), val_images=len(val_index),
                 mean_shape_val_rmse_px=floor)
    recorded = read_record(results)
    for field in ("data", "batch_size"):
        if recorded.get(field, setup[field]) != setup[field]:
            parser.error(f"{results} records pilots with another {field} ({recorded[field]!r}, here {setup[field]!r}); "
                         "pass --out to keep them apart")
    run_dir = args.out / "runs" / "budget-pilots"
    for epochs in args.budgets:
        for optimizer in args.optimizers:
            key = f"{optimizer}_{epochs}ep_{precision}"
            if key in read_record(results).get("runs", {}) and not args.redo:
                print(f"{key}: recorded in {results}; skipped", flush=True)
                continue
            batches = AugmentedSequence(images[train_index], keypoints[train_index], settings.batch_size, seed=seed)
            result = train_scheduled(initial_model(build, seed), batches, val, optimizer, PILOT_RATES[optimizer],
                                     epochs, seed, run_dir, key, progress_every=max(1, epochs // 10))
            record = read_record(results)  # as it is now: notes added while this pilot trained are kept
            record.update(setup)
            record.setdefault("runs", {})[key] = run_record(result, precision=precision, machine=describe_machine())
            results.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(results, (json.dumps(record, indent=1) + "\n").encode())
            table = budget_table(record)
            print(table.to_string(), f"\nStudy budget by the criterion: {choose_budget(table) or 'not settled yet'}",
                  flush=True)
            save_figure(plot_pilots(record), "03_budget_pilots", args.out / "figures")


if __name__ == "__main__":
    main()
