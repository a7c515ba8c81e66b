"""The series end to end on the smoke profile: papermill runs every notebook; then nbval executes the committed
notebooks as "Run All" does and checks that the cells marked NBVAL_CHECK_OUTPUT reproduce the papermill run's outputs
exactly; an interrupted run resumes to the same numbers."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import nbformat
import pytest

from fkp_helpers.runner import list_notebooks, run_series, set_injected_profile

pytestmark = pytest.mark.slow  # minutes: the whole series on the smoke profile, twice


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    return run_series("smoke", run_dir=tmp_path_factory.mktemp("smoke") / "run")


def test_every_notebook_ran_without_errors(smoke_run):
    for source in list_notebooks():
        executed = nbformat.read(smoke_run / source.name, as_version=4)
        errors = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
        assert not errors, f"{source.name}: {errors[0]['ename']}: {errors[0]['evalue']}" if errors else ""
    info = json.loads((smoke_run / "run_info.json").read_text())
    assert set(info["notebook_seconds"]) == {p.name for p in list_notebooks()}


def test_eda_summary_matches_the_data(smoke_run):
    summary = json.loads((smoke_run / "eda_summary.json").read_text())
    assert summary["rows"] == 96 and sum(summary["regimes"].values()) == 96
    assert "FKP-synth" in summary["data"]
    assert (smoke_run / "figures" / "01_missing_patterns.png").is_file()


TF_NOISE = ("absl::InitializeLog", "I0000 ", "W0000 ", "E0000 ", "oneDNN custom operations")


def stream_texts(notebook) -> list[str]:
    return [o.get("text", "") for c in notebook.cells if c.cell_type == "code" for o in c.outputs
            if o.output_type == "stream"]


def test_executed_notebooks_carry_no_tensorflow_startup_noise(smoke_run):
    for source in list_notebooks():
        texts = stream_texts(nbformat.read(smoke_run / source.name, as_version=4))
        assert not [t for t in texts if any(noise in t for noise in TF_NOISE)], source.name


def numbers_of(run_dir):
    """The run's results without timings: training histories' metrics and the evaluation tables."""
    training = json.loads((run_dir / "training_results.json").read_text())
    best = {name: (run["best_epoch"], run["best_val_rmse_px"]) for name, run in training["runs"].items()}
    evaluation = json.loads((run_dir / "evaluation.json").read_text())
    evaluation.pop("models_dir")  # where the models were read: a path of this run's own, not a number
    return best, evaluation


def test_an_interrupted_run_resumes_to_the_numbers_of_an_uninterrupted_one(smoke_run, tmp_path):
    run_dir = tmp_path / "run"
    command = [sys.executable, "-m", "fkp_helpers", "run", "--profile", "smoke", "--run-dir", str(run_dir)]
    runner = subprocess.Popen(command, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
    history = run_dir / "histories" / "vgg_sgd_s0.csv"
    deadline = time.monotonic() + 400
    while not (history.is_file() and len(history.read_text().splitlines()) >= 2):  # epoch 1 of 2 finished
        assert runner.poll() is None and time.monotonic() < deadline, "the run ended before notebook 03 trained"
        time.sleep(0.2)
    os.killpg(runner.pid, signal.SIGTERM)
    output = runner.communicate(timeout=120)[0]
    assert runner.returncode != 0 and "run the same command again to resume" in output
    assert not (run_dir / "run_info.json").exists()
    assert set(json.loads((run_dir / "run_state.json").read_text())["finished"]) == {
        "01_eda_missing_values.ipynb", "02_augmentation.ipynb"}

    resumed = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    assert "resuming" in resumed.stdout and "01_eda_missing_values.ipynb, 02_augmentation.ipynb" in resumed.stdout
    assert "running 01_eda" not in resumed.stdout
    assert "epoch" in resumed.stdout and "left" in resumed.stdout  # live progress with time estimates
    assert numbers_of(run_dir) == numbers_of(smoke_run)


def run_all_copy(source, executed) -> nbformat.NotebookNode:
    """The committed notebook ``source`` as "Run All" runs it, with one edit (the published run's profile becomes
    smoke), carrying the outputs of the same notebook's papermill run ``executed`` for nbval to compare against."""
    notebook = nbformat.read(source, as_version=4)
    for cell, ran in zip(notebook.cells, executed.cells, strict=True):
        if "injected-parameters" in cell.metadata.get("tags", []):
            assert "run_dir" not in cell.source and "data_dir" not in cell.source, source.name
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = ran.outputs, ran.execution_count
    set_injected_profile(notebook, "smoke")
    return notebook


def test_committed_notebooks_run_all_and_reproduce_the_papermill_run(smoke_run, tmp_path):
    """nbval executes each committed notebook top to bottom with no injected parameters (as "Run All" does), on the
    smoke profile, into its own run folder (04 finds 03's outputs): no cell may fail, the cells marked
    NBVAL_CHECK_OUTPUT must reproduce the papermill run's outputs exactly, and the run's numbers must equal it."""
    notebook_dir = tmp_path / "notebooks"
    notebook_dir.mkdir()
    copies = []
    for source in list_notebooks():
        copies.append(notebook_dir / source.name)
        nbformat.write(run_all_copy(source, nbformat.read(smoke_run / source.name, as_version=4)), copies[-1])
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-kernel-name", "python3", "-p", "no:cacheprovider",
         "-q", *map(str, copies)],
        capture_output=True, text=True, cwd=notebook_dir,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert numbers_of(tmp_path / "runs" / "interactive") == numbers_of(smoke_run)


def test_after_a_finished_run_notebooks_04_and_05_run_all_on_its_results(smoke_run, tmp_path):
    """A user who opens notebook 04 or 05 after `make run` runs it with "Run All" as committed: its own run folder
    (runs/interactive) is empty, so it reads the newest finished run of the profile and writes only into its own."""
    root = tmp_path / "project"
    shutil.copytree(smoke_run, root / "runs" / "smoke-20990101-000000")
    notebook_dir = root / "notebooks"
    notebook_dir.mkdir()
    copies = []
    for source in [p for p in list_notebooks() if p.name.startswith(("04_", "05_"))]:
        copies.append(notebook_dir / source.name)
        nbformat.write(run_all_copy(source, nbformat.read(smoke_run / source.name, as_version=4)), copies[-1])
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-kernel-name", "python3", "-p", "no:cacheprovider",
         "-q", *map(str, copies)],
        capture_output=True, text=True, cwd=notebook_dir, env={**os.environ, "FKP_ROOT": str(root)},
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    interactive = root / "runs" / "interactive"
    assert json.loads((interactive / "evaluation.json").read_text())["held_out"] == numbers_of(smoke_run)[1]["held_out"]
    assert list((interactive / "photos").glob("*/*.keypoints.csv")), "notebook 05 wrote the photo's keypoints"
    assert not (interactive / "models").exists(), "the finished run's models were read, not trained again"
