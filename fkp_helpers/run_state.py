"""A run folder's state: what it was started with and which notebooks finished, so an interrupted run resumes.

``run_state.json`` is written when a run starts and after each finished notebook; ``run_info.json`` marks a
finished run, which is never touched again.
"""
from __future__ import annotations

import json
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator

from fkp_helpers.data.datasets import PROJECT_ROOT
from fkp_helpers.data.kaggle_io import write_atomically
from fkp_helpers.profiles import STUDY, all_names, current_name

STATE_FILE = "run_state.json"
INFO_FILE = "run_info.json"
RUNS_DIR = PROJECT_ROOT / "runs"
RESULTS_DIR = PROJECT_ROOT / "results"
"""The published run's small metrics files (``make publish``): never data, arrays or models."""


@dataclass
class RunState:
    """The parameters a run was started with, the notebooks it has finished (with their seconds, every attempt
    counted) and the seconds spent so far on a notebook whose run was interrupted."""

    profile: str
    data_dir: str
    seed: int
    finished: dict[str, float] = field(default_factory=dict)
    spent: dict[str, float] = field(default_factory=dict)

    def same_job(self, other: "RunState") -> bool:
        """Whether ``other`` asks for the same run (profile, data and seed), whatever has finished."""
        return ((current_name(self.profile), self.data_dir, self.seed)
                == (current_name(other.profile), other.data_dir, other.seed))

    def save(self, run_dir: Path) -> None:
        """Write the state into ``run_dir`` atomically."""
        write_atomically(run_dir / STATE_FILE, (json.dumps(asdict(self), indent=1) + "\n").encode())


SAVE_SPENT_EVERY = 60.0
"""Seconds between saves of a running notebook's time: a run killed outright loses at most this much of it."""


@contextmanager
def timed_attempt(state: RunState, run_dir: Path, notebook: str, every: float = SAVE_SPENT_EVERY) -> Iterator[None]:
    """Time one attempt at ``notebook``, added to what its interrupted attempts spent. While it runs, and if it is
    interrupted, the total is saved in ``state.spent`` (every ``every`` seconds); when it succeeds, the total moves
    into ``state.finished``. The state is saved either way."""
    earlier, start, stop = state.spent.get(notebook, 0.0), time.perf_counter(), threading.Event()

    def total() -> float:
        return round(earlier + time.perf_counter() - start, 1)

    def save_until_stopped() -> None:
        while not stop.wait(every):
            state.spent[notebook] = total()
            state.save(run_dir)

    saver = threading.Thread(target=save_until_stopped, daemon=True)
    saver.start()
    finished = False
    try:
        yield
        finished = True
    finally:
        stop.set()
        saver.join()
        if finished:
            state.finished[notebook] = total()
            state.spent.pop(notebook, None)
        else:
            state.spent[notebook] = total()
        state.save(run_dir)


def read_state(run_dir: Path) -> RunState | None:
    """The state saved in ``run_dir``, or None if there is none."""
    path = run_dir / STATE_FILE
    return RunState(**json.loads(path.read_text())) if path.is_file() else None


def is_finished(run_dir: Path) -> bool:
    """Whether ``run_dir`` holds a finished run."""
    return (run_dir / INFO_FILE).is_file()


def newest_first(runs_dir: Path, profile: str = "*") -> list[Path]:
    """The run folders ``<profile>-<YYYYmmdd-HHMMSS>`` of ``runs_dir`` (any profile by default; a profile's folders
    under its earlier names too), newest first."""
    folders = {folder for name in all_names(profile) for folder in runs_dir.glob(f"{name}-*")}
    return sorted(folders, key=lambda run_dir: run_dir.name.split("-", 1)[-1], reverse=True)


def find_resumable(runs_dir: Path, wanted: RunState) -> Path | None:
    """The newest unfinished run folder of ``runs_dir`` started for the same job as ``wanted``, if any."""
    for run_dir in newest_first(runs_dir, wanted.profile):
        state = read_state(run_dir)
        if state is not None and not is_finished(run_dir) and state.same_job(wanted):
            return run_dir
    return None


def expected_seconds(runs_dir: Path, profile: str, published: Path | None = None) -> tuple[dict[str, float], str]:
    """Seconds each notebook took in the newest finished run of ``profile``, else in the published run's
    ``published`` run_info.json if it ran that profile; with where they come from ({} and "" if from nowhere)."""
    for run_dir in newest_first(runs_dir, profile):
        if is_finished(run_dir):
            seconds = json.loads((run_dir / INFO_FILE).read_text()).get("notebook_seconds", {})
            return seconds, run_dir.name if seconds else ""
    info = json.loads(published.read_text()) if published is not None and published.is_file() else {}
    if current_name(info.get("profile", "")) == current_name(profile) and info.get("notebook_seconds"):
        return info["notebook_seconds"], f"the published run ({info.get('machine', 'machine not recorded')})"
    return {}, ""


def model_chosen_in(run_dir: Path) -> Path:
    """The model file notebook 04 chose in ``run_dir`` (``evaluation.json``'s ``final_model``): in the folder it read
    the models from (``models_dir``), else in the run's own ``models/``."""
    evaluation = run_dir / "evaluation.json"
    if not evaluation.is_file():
        raise FileNotFoundError(f"{evaluation} not found: run notebooks 03 and 04 into {run_dir} first")
    chosen = json.loads(evaluation.read_text())
    model = Path(chosen.get("models_dir", run_dir / "models")) / f"{chosen['final_model']}.keras"
    if not model.is_file():
        raise FileNotFoundError(f"{model} not found although {evaluation} chose it")
    return model


def inputs_of(run_dir: str | Path, needs: str, profile: str, runs_dir: Path = RUNS_DIR,
              published: Path = RESULTS_DIR / INFO_FILE) -> Path:
    """Where a notebook reads an earlier notebook's outputs: ``run_dir`` if it holds ``needs``, else the newest finished
    run of ``profile`` that does (read, never written: so a notebook opened after ``make run`` runs on its results).
    With neither, a ``FileNotFoundError`` that says in one line what to run and how long it takes."""
    run_dir = Path(run_dir)
    if (run_dir / needs).is_file():
        return run_dir
    for candidate in newest_first(runs_dir, profile):
        if is_finished(candidate) and (candidate / needs).is_file():
            print(f"Reading the earlier notebooks' outputs from the finished run {candidate.name}.")
            return candidate
    seconds, measured_on = expected_seconds(runs_dir, profile, published)
    how_long = f" (about {sum(seconds.values()) / 60:.0f} min, going by {measured_on})" if seconds else ""
    command = "make run" if profile == STUDY.name else f"make run PROFILE={profile}"
    raise FileNotFoundError(f"No finished run of the '{profile}' profile to read yet: run `{command}` first{how_long}, "
                            "or the notebooks before this one with Run All.")


def chosen_model(runs_dir: Path) -> Path:
    """The model notebook 04 chose in the newest finished run that has one."""
    for run_dir in newest_first(runs_dir):
        if is_finished(run_dir) and (run_dir / "evaluation.json").is_file():
            return model_chosen_in(run_dir)
    raise FileNotFoundError(f"no finished run with a chosen model in {runs_dir}: run `make run` first, or pass --model")
