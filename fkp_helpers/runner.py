"""Run the numbered notebooks in order with papermill, writing executed copies and artifacts to a run folder."""
from __future__ import annotations

import json
import os
import shutil
import time
from datetime import datetime
from pathlib import Path

from fkp_helpers.data.datasets import PROJECT_ROOT, resolve_data_dir
from fkp_helpers.profiles import get_profile

NOTEBOOK_DIR = PROJECT_ROOT / "notebooks"
RUNS_DIR = PROJECT_ROOT / "runs"
FIGURES_DIR = PROJECT_ROOT / "figures"
KERNEL_NAME = "python3"
QUIET_KERNEL_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore::DeprecationWarning"}


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
) -> Path:
    """Execute the notebooks with papermill into ``run_dir`` (refusing to overwrite an earlier run's notebooks)."""
    import papermill

    profile = get_profile(profile_name)
    notebooks = list_notebooks() if notebooks is None else notebooks
    if not notebooks:
        raise FileNotFoundError(f"no notebooks named NN_topic.ipynb in {NOTEBOOK_DIR}")
    run_dir = Path(run_dir) if run_dir is not None else new_run_dir(profile.name)
    clashes = [nb.name for nb in notebooks if (run_dir / nb.name).exists()]
    if clashes:
        raise FileExistsError(f"{run_dir} already holds executed {', '.join(clashes)}; choose a new run folder")
    data = resolve_data_dir(data_dir, profile, seed)
    run_dir.mkdir(parents=True, exist_ok=True)
    parameters = {  # absolute, so nbval can re-execute the copies from the run folder
        "profile": profile.name,
        "data_dir": str(data.resolve()),
        "run_dir": str(run_dir.resolve()),
        "figures_dir": str((run_dir / "figures").resolve()),
        "seed": seed,
    }
    os.environ.update(QUIET_KERNEL_ENV)
    timings = {}
    for notebook in notebooks:
        print(f"[fkp] running {notebook.name} (profile {profile.name}) ...", flush=True)
        start = time.perf_counter()
        papermill.execute_notebook(
            str(notebook), str(run_dir / notebook.name), parameters=parameters, kernel_name=KERNEL_NAME,
            cwd=str(notebook.parent), progress_bar=False,
        )
        timings[notebook.name] = round(time.perf_counter() - start, 1)
        print(f"[fkp] {notebook.name} done in {timings[notebook.name]:.0f} s", flush=True)
    info = {"profile": profile.name, "seed": seed, "data_dir": str(data), "notebook_seconds": timings}
    (run_dir / "run_info.json").write_text(json.dumps(info, indent=1) + "\n")
    print(f"[fkp] run finished in {sum(timings.values()):.0f} s: {run_dir}", flush=True)
    return run_dir


def publish_run(run_dir: str | os.PathLike, notebook_dir: Path = NOTEBOOK_DIR, figures_dir: Path = FIGURES_DIR) -> None:
    """Copy a finished run's executed notebooks (execution counts and timing metadata cleared) and figures into the repo."""
    import nbformat

    run_dir = Path(run_dir)
    if not (run_dir / "run_info.json").is_file():
        raise FileNotFoundError(f"{run_dir} is not a finished run (no run_info.json)")
    for executed in sorted(run_dir.glob("[0-9][0-9]_*.ipynb")):
        notebook = nbformat.reads(portable_paths(executed.read_text()), as_version=4)
        strip_noisy_metadata(notebook)
        nbformat.write(notebook, notebook_dir / executed.name)
    figures_dir.mkdir(exist_ok=True)
    for figure in sorted((run_dir / "figures").glob("*.png")):
        shutil.copy2(figure, figures_dir / figure.name)


def portable_paths(notebook_text: str, root: Path = PROJECT_ROOT) -> str:
    """Absolute paths inside the project written as the notebooks see them from ``notebooks/`` (``../data/...``)."""
    return notebook_text.replace(f"{root.resolve()}/", "../")


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
