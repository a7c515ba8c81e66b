"""Run the numbered notebooks in order with papermill, writing executed copies and artifacts to a run folder."""
from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
from datetime import datetime
from pathlib import Path
from typing import Iterator

import papermill
from traitlets.config import Config

from fkp_helpers.data.datasets import PROJECT_ROOT, resolve_data_dir
from fkp_helpers.data.kaggle_io import write_atomically
from fkp_helpers.live_progress import ENGINE_NAME, LiveProgress
from fkp_helpers.machine import describe_machine
from fkp_helpers.profiles import get_profile
from fkp_helpers.progress import PROGRESS_ENV, RESUME_ENV
from fkp_helpers.run_state import (
    INFO_FILE, RESULTS_DIR, RUNS_DIR, RunState, expected_seconds, find_resumable, is_finished, read_state,
    timed_attempt,
)

NOTEBOOK_DIR = PROJECT_ROOT / "notebooks"
FIGURES_DIR = PROJECT_ROOT / "figures"
PUBLISHED_FILES = (INFO_FILE, "training_results.json", "evaluation.json")
KERNEL_NAME = "python3"
QUIET_KERNEL_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore::DeprecationWarning"}
KERNEL_CONFIG = Config({"KernelManager": {"transport": "ipc"}})
"""The kernel talks to papermill over local sockets (files only this user can open), not TCP: nothing to encrypt,
and ipykernel's "running over TCP without encryption" warning is not printed once per notebook."""


def list_notebooks(notebook_dir: Path = NOTEBOOK_DIR) -> list[Path]:
    """The series' notebooks (``NN_topic.ipynb``), in order."""
    return sorted(p for p in notebook_dir.glob("[0-9][0-9]_*.ipynb") if p.is_file())


def new_run_dir(profile_name: str) -> Path:
    """A fresh, timestamped run folder under ``runs/``."""
    return RUNS_DIR / f"{profile_name}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"


def run_series(
    profile_name: str,
    run_dir: str | os.PathLike | None = None,
    data_dir: str | os.PathLike | None = None,
    seed: int = 0,
    notebooks: list[Path] | None = None,
    fresh: bool = False,
) -> Path:
    """Execute the notebooks with papermill into a run folder, resuming an interrupted run of the same job.

    Without ``run_dir``, the newest unfinished run of the same profile, data and seed is resumed (its finished
    notebooks are not run again, and notebook 03 reads back its finished training runs and resumes the interrupted
    one from its last epoch); ``fresh`` starts a new folder instead. A finished run is never touched.
    """
    profile = get_profile(profile_name)
    notebooks = list_notebooks() if notebooks is None else notebooks
    if not notebooks:
        raise FileNotFoundError(f"no notebooks named NN_topic.ipynb in {NOTEBOOK_DIR}")
    data = resolve_data_dir(data_dir, profile, seed)
    wanted = RunState(profile.name, str(data.resolve()), seed)
    run_dir = choose_run_dir(run_dir, wanted, notebooks, fresh)
    state = read_state(run_dir) or wanted
    if state.finished:
        print(f"[fkp] resuming {run_dir}: {', '.join(state.finished)} already finished", flush=True)
    run_dir.mkdir(parents=True, exist_ok=True)
    state.save(run_dir)
    parameters = {  # absolute, so nbval can re-execute the copies from the run folder
        "profile": profile.name,
        "data_dir": str(data.resolve()),
        "run_dir": str(run_dir.resolve()),
        "figures_dir": str((run_dir / "figures").resolve()),
        "seed": seed,
    }
    progress_file = run_dir / "progress.jsonl"
    os.environ.update(QUIET_KERNEL_ENV, **{PROGRESS_ENV: str(progress_file.resolve())})
    os.environ[RESUME_ENV] = "1" if state.finished or any((run_dir / nb.name).exists() for nb in notebooks) else "0"
    expected, estimated_from = expected_seconds(RUNS_DIR, profile.name, RESULTS_DIR / INFO_FILE)
    if estimated_from:
        print(f"[fkp] times left are estimated from {estimated_from}", flush=True)
    live = LiveProgress([nb.name for nb in notebooks], expected, progress_file)
    with interrupt_on_termination():
        for notebook in notebooks:
            if notebook.name in state.finished:
                continue
            live.start(notebook.name)
            with timed_attempt(state, run_dir, notebook.name):
                papermill.execute_notebook(
                    str(notebook), str(run_dir / notebook.name), parameters=parameters, kernel_name=KERNEL_NAME,
                    cwd=str(notebook.parent), progress_bar=False, engine_name=ENGINE_NAME, on_section=live.section,
                    config=KERNEL_CONFIG,
                )
            live.finish(state.finished[notebook.name])
    info = {"profile": profile.name, "seed": seed, "data_dir": str(data), "notebook_seconds": state.finished,
            "machine": describe_machine(), "finished": datetime.now().isoformat(timespec="seconds")}
    write_atomically(run_dir / INFO_FILE, (json.dumps(info, indent=1) + "\n").encode())  # marks the run finished
    print(f"[fkp] run finished in {sum(state.finished.values()):.0f} s: {run_dir}", flush=True)
    return run_dir


def choose_run_dir(run_dir: str | os.PathLike | None, wanted: RunState, notebooks: list[Path], fresh: bool) -> Path:
    """The folder to run in: the given one (resumed if it holds this job unfinished), the newest unfinished run of
    this job, or a new one; refuses a finished run and a folder holding another job's notebooks."""
    if run_dir is None:
        found = None if fresh else find_resumable(RUNS_DIR, wanted)
        return found or new_run_dir(wanted.profile)
    run_dir = Path(run_dir)
    if is_finished(run_dir):
        raise FileExistsError(f"{run_dir} holds a finished run, which is never touched; choose a new run folder")
    state = read_state(run_dir)
    if state is not None and state.same_job(wanted) and not fresh:
        return run_dir
    clashes = [nb.name for nb in notebooks if (run_dir / nb.name).exists()]
    if clashes:
        raise FileExistsError(f"{run_dir} already holds executed {', '.join(clashes)}; choose a new run folder")
    return run_dir


@contextlib.contextmanager
def interrupt_on_termination() -> Iterator[None]:
    """Treat SIGTERM and SIGHUP (a closed terminal, a lost SSH session) like Ctrl-C, and say how to resume."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    except KeyboardInterrupt:
        print("[fkp] interrupted; run the same command again to resume (make run, or --fresh to start anew)",
              flush=True)
        raise
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def publish_run(run_dir: str | os.PathLike, notebook_dir: Path = NOTEBOOK_DIR, figures_dir: Path = FIGURES_DIR,
                results_dir: Path = RESULTS_DIR) -> None:
    """Copy a finished run's executed notebooks (execution counts and timing metadata cleared), figures and metrics
    files (``PUBLISHED_FILES``, paths inside the project made relative to it) into the repo."""
    import nbformat

    run_dir = Path(run_dir)
    if not is_finished(run_dir):
        raise FileNotFoundError(f"{run_dir} is not a finished run (no run_info.json)")
    for executed in sorted(run_dir.glob("[0-9][0-9]_*.ipynb")):
        notebook = nbformat.reads(portable_paths(executed.read_text()), as_version=4)
        strip_noisy_metadata(notebook)
        keep_portable_parameters(notebook)
        nbformat.write(notebook, notebook_dir / executed.name)
    figures_dir.mkdir(exist_ok=True)
    for figure in sorted((run_dir / "figures").glob("*.png")):
        shutil.copy2(figure, figures_dir / figure.name)
    results_dir.mkdir(exist_ok=True)
    for name in PUBLISHED_FILES:
        if (run_dir / name).is_file():
            text = (run_dir / name).read_text().replace(f"{PROJECT_ROOT.resolve()}/", "")
            write_atomically(results_dir / name, text.encode())


def portable_paths(notebook_text: str, root: Path = PROJECT_ROOT) -> str:
    """Absolute paths inside the project written as the notebooks see them from ``notebooks/`` (``../data/...``)."""
    return notebook_text.replace(f"{root.resolve()}/", "../")


PORTABLE_PARAMETERS = ("profile", "seed")
"""The injected parameters a published notebook keeps: the run's paths belong to the machine that made it."""


def keep_portable_parameters(notebook) -> None:
    """Reduce papermill's injected-parameters cell to the profile and seed, in place, so that "Run All" in
    JupyterLab reruns the published run on any machine: data and run folder fall back to the parameters cell's
    defaults (data resolved or generated on first use, outputs in ``../runs/interactive``)."""
    for cell in notebook.cells:
        if "injected-parameters" in cell.metadata.get("tags", []):
            kept = [line for line in cell.source.splitlines() if line.split("=")[0].strip() in PORTABLE_PARAMETERS]
            cell.source = "\n".join(["# Parameters of the published run; paths keep the defaults above, so the",
                                     "# notebook runs on any machine (outputs go to ../runs/interactive)", *kept])


def set_injected_profile(notebook, profile: str) -> None:
    """Make the injected-parameters cell run ``profile`` instead of the published run's, in place: the one-line edit a
    reader makes to try the published notebook on a shorter profile."""
    for cell in notebook.cells:
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.source = re.sub(r'^profile = ".*"$', f'profile = "{profile}"', cell.source, flags=re.MULTILINE)


def strip_noisy_metadata(notebook) -> None:
    """Clear execution counts and per-run metadata (timings, papermill state) from a notebook, in place."""
    notebook.metadata.pop("papermill", None)
    for cell in notebook.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.execution_count = None
            for output in cell.outputs:
                if "execution_count" in output:
                    output["execution_count"] = None
