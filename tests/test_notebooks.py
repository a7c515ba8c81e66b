"""The series end to end on the smoke profile: papermill runs every notebook, then nbval re-executes the copies and
checks that the cells marked NBVAL_CHECK_OUTPUT reproduce their outputs exactly."""
import json
import subprocess
import sys

import nbformat
import pytest

from fkp_helpers.runner import list_notebooks, run_series


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


def test_nbval_reproduces_the_checked_outputs(smoke_run):
    executed = [str(smoke_run / p.name) for p in list_notebooks()]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-kernel-name", "python3", "-p", "no:cacheprovider",
         "-q", *executed],
        capture_output=True, text=True, cwd=smoke_run,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
