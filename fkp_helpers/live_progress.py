"""What a batch run shows in the terminal: notebook, section, training run, epoch k of N and the time left.

The sections come from the notebook's markdown headings as papermill reaches each cell (a papermill engine that
reports cell starts); epochs come from the kernel's progress events (``fkp_helpers.progress``). Time left uses the
epochs still to run and, where a finished run of the same profile exists, how long each notebook took there.
"""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Callable, TextIO

from papermill.engines import NBClientEngine, papermill_engines

from fkp_helpers.progress import format_duration

ENGINE_NAME = "fkp-sections"


def heading_before(cells: list, index: int) -> str | None:
    """The first line of the last markdown heading cell before ``cells[index]``, without its ``#`` marks."""
    for cell in reversed(cells[:index]):
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith("#"):
            return cell.source.lstrip().splitlines()[0].lstrip("#").strip()
    return None


class SectionReportingEngine(NBClientEngine):
    """papermill's nbclient engine, calling ``on_section(heading)`` when execution enters a new section."""

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, on_section: Callable[[str], None] | None = None, **kwargs):
        if on_section is not None:
            original, current = nb_man.cell_start, {"heading": None}

            def cell_start(cell, cell_index=None, **start_kwargs):
                heading = heading_before(nb_man.nb.cells, cell_index or 0)
                if heading and heading != current["heading"]:
                    current["heading"] = heading
                    on_section(heading)
                return original(cell, cell_index, **start_kwargs)

            nb_man.cell_start = cell_start
        return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)


papermill_engines.register(ENGINE_NAME, SectionReportingEngine)


class LiveProgress:
    """Prints the series' progress lines; ``expected`` holds each notebook's seconds in an earlier finished run."""

    def __init__(self, notebooks: list[str], expected: dict[str, float], progress_file: Path,
                 stream: TextIO | None = None):
        self.notebooks, self.expected, self.progress_file = notebooks, expected, progress_file
        self.stream, self._offset, self._stop = stream, 0, threading.Event()
        self.notebook, self._started = "", time.time()

    def say(self, text: str) -> None:
        """One line to the terminal, prefixed like every runner line."""
        print(f"[fkp] {text}", file=self.stream, flush=True)

    def section(self, heading: str) -> None:
        """Announce a new section of the running notebook."""
        self.say(f"{Path(self.notebook).stem} · {heading}")

    def later_seconds(self) -> float | None:
        """Expected seconds of the notebooks after the running one, or None if any is unknown."""
        later = self.notebooks[self.notebooks.index(self.notebook) + 1:]
        return sum(self.expected[n] for n in later) if all(n in self.expected for n in later) else None

    def time_left(self, run_left: float = 0.0) -> str:
        """``notebook ~N left · series ~M left`` from the expected durations and the epochs still to run."""
        elapsed = time.time() - self._started
        known = self.notebook in self.expected
        notebook_left = max(self.expected[self.notebook] - elapsed, run_left) if known else run_left
        text = f"notebook {'~' if known else 'at least '}{format_duration(notebook_left)} left"
        later = self.later_seconds()
        if later is not None and known:
            text += f" · series ~{format_duration(notebook_left + later)} left"
        return text

    def epoch_line(self, event: dict) -> str:
        """The line for one finished epoch of a training run."""
        seconds, epoch, epochs = event.get("seconds") or 0.0, event["epoch"], event.get("epochs") or event["epoch"]
        run_left = (epochs - epoch) * seconds
        return (f"{Path(self.notebook).stem} · {event['run']} epoch {epoch}/{epochs} · {seconds:.0f} s/epoch · "
                f"run ~{format_duration(run_left)} left · {self.time_left(run_left)}")

    def poll(self) -> None:
        """Print a line for each progress event written since the last poll."""
        if not self.progress_file.is_file():
            return
        with self.progress_file.open(encoding="utf-8") as stream:
            stream.seek(self._offset)
            lines = stream.readlines()
            if lines and not lines[-1].endswith("\n"):
                lines.pop()  # half-written; read it next time
            self._offset += sum(len(line.encode()) for line in lines)
        for line in lines:
            event = json.loads(line)
            if event.get("kind") == "epoch":
                self.say(self.epoch_line(event))

    def start(self, notebook: str) -> None:
        """A notebook begins: say so, with the time expected, and start watching its progress events."""
        self.notebook, self._started = notebook, time.time()
        self._stop.clear()
        estimate = (f" · {self.time_left()}" if notebook in self.expected
                    else " (no finished or published run of this profile to estimate its time from)")
        self.say(f"running {notebook}{estimate}")
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def finish(self, seconds: float) -> None:
        """The notebook ended: stop watching and report its time."""
        self._stop.set()
        self._thread.join()
        self.poll()
        self.say(f"{self.notebook} done in {format_duration(seconds)}")

    def _watch(self) -> None:
        while not self._stop.wait(1.0):
            self.poll()
