"""Tests for fkp_helpers.run_state and the runner's choice of run folder: resume, never touch a finished run."""
from __future__ import annotations

import json
import time

import pytest

from fkp_helpers.run_state import (
    INFO_FILE, RunState, chosen_model, expected_seconds, find_resumable, inputs_of, model_chosen_in, newest_first,
    read_state, timed_attempt,
)
from fkp_helpers.runner import choose_run_dir

NOTEBOOK = "01_x.ipynb"


def started(run_dir, state: RunState, finished: bool = False):
    run_dir.mkdir(parents=True)
    state.save(run_dir)
    if finished:
        (run_dir / INFO_FILE).write_text(json.dumps({"notebook_seconds": state.finished}))
    return run_dir


def test_state_round_trips_and_compares_by_job(tmp_path):
    state = RunState("smoke", "/data/a", 0, {"01_x.ipynb": 3.5})
    state.save(tmp_path)
    assert read_state(tmp_path) == state and read_state(tmp_path / "none") is None
    assert state.same_job(RunState("smoke", "/data/a", 0)) and not state.same_job(RunState("smoke", "/data/a", 1))
    assert not state.same_job(RunState("smoke", "/data/b", 0)) and not state.same_job(RunState("quick", "/data/a", 0))


def test_the_newest_unfinished_run_of_the_same_job_is_resumed(tmp_path):
    wanted = RunState("smoke", "/data/a", 0)
    started(tmp_path / "smoke-20260101-000000", wanted)
    newest = started(tmp_path / "smoke-20260102-000000", RunState("smoke", "/data/a", 0, {"01_x.ipynb": 1.0}))
    started(tmp_path / "smoke-20260103-000000", RunState("smoke", "/data/other", 0))
    started(tmp_path / "smoke-20260104-000000", wanted, finished=True)
    assert find_resumable(tmp_path, wanted) == newest
    assert find_resumable(tmp_path, RunState("quick", "/data/a", 0)) is None


def test_expected_seconds_come_from_the_newest_finished_run(tmp_path):
    started(tmp_path / "quick-1", RunState("quick", "/d", 0, {"01_x.ipynb": 10.0}), finished=True)
    started(tmp_path / "quick-2", RunState("quick", "/d", 0, {"01_x.ipynb": 20.0}), finished=True)
    started(tmp_path / "quick-3", RunState("quick", "/d", 0, {"01_x.ipynb": 99.0}))
    assert expected_seconds(tmp_path, "quick") == ({"01_x.ipynb": 20.0}, "quick-2")
    assert expected_seconds(tmp_path, "smoke") == ({}, "")


def test_expected_seconds_fall_back_to_the_published_run_of_the_same_profile(tmp_path):
    published = tmp_path / "results" / INFO_FILE
    published.parent.mkdir()
    published.write_text(json.dumps({"profile": "quick", "notebook_seconds": {"01_x.ipynb": 30.0}, "machine": "Zen 4"}))
    runs = tmp_path / "runs"
    assert expected_seconds(runs, "quick", published) == ({"01_x.ipynb": 30.0}, "the published run (Zen 4)")
    assert expected_seconds(runs, "smoke", published) == ({}, "")
    started(runs / "quick-1", RunState("quick", "/d", 0, {"01_x.ipynb": 10.0}), finished=True)
    assert expected_seconds(runs, "quick", published) == ({"01_x.ipynb": 10.0}, "quick-1")  # a run here wins


def test_a_given_folder_is_resumed_refused_or_used(tmp_path):
    wanted = RunState("smoke", "/data/a", 0)
    notebooks = [tmp_path / NOTEBOOK]
    unfinished = started(tmp_path / "unfinished", wanted)
    (unfinished / NOTEBOOK).write_text("{}")
    assert choose_run_dir(unfinished, wanted, notebooks, fresh=False) == unfinished
    with pytest.raises(FileExistsError, match="already holds executed"):
        choose_run_dir(unfinished, wanted, notebooks, fresh=True)
    finished = started(tmp_path / "finished", wanted, finished=True)
    with pytest.raises(FileExistsError, match="finished run, which is never touched"):
        choose_run_dir(finished, wanted, notebooks, fresh=False)
    other = started(tmp_path / "other", RunState("smoke", "/data/b", 0))
    (other / NOTEBOOK).write_text("{}")
    with pytest.raises(FileExistsError, match="already holds executed"):
        choose_run_dir(other, wanted, notebooks, fresh=False)
    assert choose_run_dir(tmp_path / "new", wanted, notebooks, fresh=False) == tmp_path / "new"


def test_the_chosen_model_is_the_one_notebook_04_chose_in_the_newest_finished_run(tmp_path):
    for name, model in (("quick-20260101-000000", "vgg_adam"), ("smoke-20260102-000000", "nouri_net")):
        run_dir = started(tmp_path / name, RunState("x", "/d", 0), finished=True)
        (run_dir / "evaluation.json").write_text(json.dumps({"final_model": model}))
        (run_dir / "models").mkdir()
        (run_dir / "models" / f"{model}.keras").write_bytes(b"model")
    unfinished = started(tmp_path / "quick-20260103-000000", RunState("x", "/d", 0))
    (unfinished / "evaluation.json").write_text(json.dumps({"final_model": "other"}))
    assert chosen_model(tmp_path) == tmp_path / "smoke-20260102-000000" / "models" / "nouri_net.keras"
    with pytest.raises(FileNotFoundError, match="other.keras not found"):
        model_chosen_in(unfinished)
    with pytest.raises(FileNotFoundError, match="run `make run` first"):
        chosen_model(tmp_path / "empty")


def test_a_notebook_reads_its_inputs_from_its_run_or_the_newest_finished_run(tmp_path, capsys):
    runs, interactive = tmp_path / "runs", tmp_path / "runs" / "interactive"
    interactive.mkdir(parents=True)
    older = started(runs / "quick-20260101-000000", RunState("quick", "/d", 0), finished=True)
    newer = started(runs / "quick-20260102-000000", RunState("quick", "/d", 0), finished=True)
    unfinished = started(runs / "quick-20260103-000000", RunState("quick", "/d", 0))
    for run in (older, newer, unfinished):
        (run / "training_results.json").write_text("{}")
    assert inputs_of(interactive, "training_results.json", "quick", runs) == newer
    assert "finished run quick-20260102-000000" in capsys.readouterr().out
    (interactive / "training_results.json").write_text("{}")
    assert inputs_of(interactive, "training_results.json", "quick", runs) == interactive  # its own run first


def test_with_no_run_the_error_says_in_one_line_what_to_run_and_how_long(tmp_path):
    published = tmp_path / "run_info.json"
    published.write_text(json.dumps({"profile": "study", "notebook_seconds": {"01": 60.0, "03": 1380.0},
                                     "machine": "Zen 4, 2 cores"}))
    with pytest.raises(FileNotFoundError) as error:
        inputs_of(tmp_path / "interactive", "evaluation.json", "study", tmp_path / "runs", published)
    message = str(error.value)
    assert "\n" not in message and "run `make run` first (about 24 min, going by the published run (Zen 4, 2 cores))" in message
    with pytest.raises(FileNotFoundError, match="run `make run PROFILE=quick` first"):
        inputs_of(tmp_path / "interactive", "evaluation.json", "quick", tmp_path / "runs", published)


def test_the_chosen_model_is_found_where_notebook_04_read_the_models(tmp_path):
    source, evaluated = tmp_path / "quick-1", tmp_path / "interactive"
    (source / "models").mkdir(parents=True)
    (source / "models" / "net.keras").write_bytes(b"model")
    evaluated.mkdir()
    (evaluated / "evaluation.json").write_text(json.dumps({"final_model": "net", "models_dir": str(source / "models")}))
    (evaluated / "models").mkdir()
    (evaluated / "models" / "net.keras").write_bytes(b"left by an interrupted notebook 03 here")
    assert model_chosen_in(evaluated) == source / "models" / "net.keras"  # the model notebook 04 scored


def test_runs_under_a_profiles_earlier_name_are_found_and_resumed(tmp_path):
    old = started(tmp_path / "cpu-20261201-000000", RunState("cpu", "/d", 0, {"01_x.ipynb": 10.0}))
    newer = started(tmp_path / "quick-20261202-000000", RunState("quick", "/d", 0), finished=True)
    assert newest_first(tmp_path, "quick") == [newer, old]
    assert find_resumable(tmp_path, RunState("quick", "/d", 0)) == old, "the unfinished cpu run is this job"


def test_a_notebooks_time_adds_up_over_interrupted_attempts_and_is_saved_while_it_runs(tmp_path):
    state = RunState("smoke", "/data/a", 0)
    with pytest.raises(KeyboardInterrupt), timed_attempt(state, tmp_path, NOTEBOOK, every=0.05):
        time.sleep(0.2)
        assert read_state(tmp_path).spent[NOTEBOOK] > 0  # saved while the attempt runs
        raise KeyboardInterrupt
    first = read_state(tmp_path).spent[NOTEBOOK]
    assert first >= 0.2
    resumed = read_state(tmp_path)
    with timed_attempt(resumed, tmp_path, NOTEBOOK, every=60):
        time.sleep(0.3)
    saved = read_state(tmp_path)
    assert saved.finished[NOTEBOOK] >= first + 0.3, "the interrupted attempt's seconds count too"
    assert NOTEBOOK not in saved.spent
