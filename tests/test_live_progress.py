"""Tests for fkp_helpers.live_progress and fkp_helpers.progress: sections, epochs and time left in the terminal."""
from __future__ import annotations

import io

from nbformat.v4 import new_code_cell, new_markdown_cell

from fkp_helpers.live_progress import LiveProgress, heading_before
from fkp_helpers.progress import PROGRESS_ENV, format_duration, report


def test_heading_before_finds_the_section_of_a_cell():
    cells = [new_markdown_cell("# Title\ntext"), new_code_cell("a"), new_markdown_cell("plain prose"),
             new_markdown_cell("## Training runs\nmore"), new_code_cell("b")]
    assert heading_before(cells, 1) == "Title" and heading_before(cells, 4) == "Training runs"
    assert heading_before(cells, 0) is None


def test_report_writes_events_only_where_a_runner_asked(tmp_path, monkeypatch):
    monkeypatch.delenv(PROGRESS_ENV, raising=False)
    report("epoch", run="x", epoch=1)
    monkeypatch.setenv(PROGRESS_ENV, str(tmp_path / "progress.jsonl"))
    report("epoch", run="x", epoch=1, epochs=4, seconds=10.0)
    assert '"run": "x"' in (tmp_path / "progress.jsonl").read_text()


def test_epoch_lines_estimate_the_time_left_for_run_notebook_and_series(tmp_path, monkeypatch):
    progress = tmp_path / "progress.jsonl"
    monkeypatch.setenv(PROGRESS_ENV, str(progress))
    out = io.StringIO()
    live = LiveProgress(["01_a.ipynb", "03_training.ipynb", "04_b.ipynb"],
                        {"03_training.ipynb": 600.0, "04_b.ipynb": 60.0}, progress, out)
    live.notebook = "03_training.ipynb"
    report("epoch", run="vgg_sgd", epoch=2, epochs=6, seconds=60.0)
    live.poll()
    live.poll()  # an event is printed once
    line = out.getvalue().strip()
    assert line.count("\n") == 0
    assert line.startswith("[fkp] 03_training · vgg_sgd epoch 2/6 · 60 s/epoch · run ~4 min left")
    assert "notebook ~" in line and "series ~" in line
    live.notebook = "01_a.ipynb"  # nothing known about it: a lower bound, and no series estimate
    assert live.time_left(30.0) == "notebook at least 30 s left"


def test_format_duration_reads_like_a_person_would_say_it():
    assert [format_duration(s) for s in (42, 180, 3900)] == ["42 s", "3 min", "1 h 05 min"]
