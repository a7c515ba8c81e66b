import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from fkp_helpers.cli import build_parser, main
from fkp_helpers.runner import PROJECT_ROOT, list_notebooks, publish_run, run_series


def test_notebooks_are_numbered_and_ordered():
    names = [p.name for p in list_notebooks()]
    assert names and names == sorted(names) and names[0].startswith("01_")


def test_every_notebook_has_one_parameters_cell_with_the_shared_names():
    for path in list_notebooks():
        notebook = nbformat.read(path, as_version=4)
        tagged = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, path.name
        names = [line.split("=")[0].strip() for line in tagged[0].source.splitlines() if "=" in line]
        assert names[:5] == ["profile", "data_dir", "run_dir", "figures_dir", "seed"], path.name
        assert notebook.cells[0].cell_type == "markdown" and notebook.cells[0].source.startswith("# ")


def test_run_refuses_to_overwrite_an_earlier_run(tmp_path):
    first = list_notebooks()[0]
    (tmp_path / first.name).write_text("{}")
    with pytest.raises(FileExistsError, match="already holds executed"):
        run_series("smoke", run_dir=tmp_path, notebooks=[first])
    assert (tmp_path / first.name).read_text() == "{}"


def test_publish_strips_noise_and_makes_paths_portable(tmp_path):
    run_dir, notebook_dir, figures_dir, results_dir = tmp_path / "run", tmp_path / "nb", tmp_path / "fig", tmp_path / "res"
    (run_dir / "figures").mkdir(parents=True)
    notebook_dir.mkdir()
    cell = new_code_cell(f'run_dir = "{PROJECT_ROOT.resolve()}/runs/quick-1"', execution_count=7)
    cell.outputs = [new_output("execute_result", {"text/plain": "3"}, execution_count=7)]
    cell.metadata["papermill"] = {"duration": 1.0}
    notebook = new_notebook(cells=[cell])
    notebook.metadata["papermill"] = {"start_time": "x"}
    nbformat.write(notebook, run_dir / "01_x.ipynb")
    (run_dir / "figures" / "01_a.png").write_bytes(b"\x89PNG")
    (run_dir / "training_results.json").write_text(json.dumps({"model": f"{PROJECT_ROOT.resolve()}/runs/quick-1/m.keras"}))
    (run_dir / "split.npz").write_bytes(b"arrays")
    with pytest.raises(FileNotFoundError, match="not a finished run"):
        publish_run(run_dir, notebook_dir, figures_dir, results_dir)
    (run_dir / "run_info.json").write_text(json.dumps({"profile": "quick"}))
    publish_run(run_dir, notebook_dir, figures_dir, results_dir)
    published = nbformat.read(notebook_dir / "01_x.ipynb", as_version=4)
    assert published.cells[0].source == 'run_dir = "../runs/quick-1"'
    assert published.cells[0].execution_count is None and published.cells[0].outputs[0]["execution_count"] is None
    assert "papermill" not in published.metadata and "papermill" not in published.cells[0].metadata
    assert (figures_dir / "01_a.png").read_bytes() == b"\x89PNG"
    # the metrics files, with the project's paths relative to it; never arrays or models
    assert json.loads((results_dir / "training_results.json").read_text()) == {"model": "runs/quick-1/m.keras"}
    assert sorted(p.name for p in results_dir.iterdir()) == ["run_info.json", "training_results.json"]


def test_cli_parses_and_generates_synth(tmp_path, capsys):
    args = build_parser().parse_args(["run", "--profile", "smoke", "--seed", "3"])
    assert (args.profile, args.seed, args.publish) == ("smoke", 3, False)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--profile", "huge"])
    assert main(["synth", str(tmp_path / "s"), "--n-train", "4", "--n-test", "2"]) == 0
    assert (tmp_path / "s" / "training.zip").is_file() and "wrote FKP-synth" in capsys.readouterr().out


def test_cli_reports_bad_input_in_one_line(tmp_path, capsys):
    (tmp_path / "training.csv").write_text("nonsense\n")
    assert main(["run", "--profile", "smoke", "--data-dir", str(tmp_path), "--run-dir", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("fkp run: error: ") and "missing test.zip or test.csv" in err and "Traceback" not in err


def test_a_run_prints_no_kernel_transport_warning(tmp_path, capfd):
    notebook = tmp_path / "01_tiny.ipynb"
    cells = [new_code_cell('profile = "smoke"\nseed = 0'), new_code_cell("print(profile)")]
    cells[0].metadata["tags"] = ["parameters"]
    kernelspec = {"name": "python3", "language": "python", "display_name": "Python 3"}
    nbformat.write(new_notebook(cells=cells, metadata={"kernelspec": kernelspec}), notebook)
    run_dir = run_series("smoke", run_dir=tmp_path / "run", notebooks=[notebook])
    executed = nbformat.read(run_dir / notebook.name, as_version=4)
    assert executed.cells[-1].outputs[0]["text"] == "smoke\n"
    printed = capfd.readouterr()
    assert "01_tiny.ipynb done" in printed.out
    assert "without encryption" not in printed.out + printed.err
