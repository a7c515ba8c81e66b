"""Progress events from inside a notebook to the runner that executes it (a JSON-lines side channel).

The runner sets ``FKP_PROGRESS_FILE`` for the kernel; ``report`` appends one event a line there and does nothing
when the variable is unset (JupyterLab, tests), so the notebooks' own outputs stay free of progress noise.
"""
from __future__ import annotations

import json
import os
import time
from typing import Any

PROGRESS_ENV = "FKP_PROGRESS_FILE"
RESUME_ENV = "FKP_RESUME"
"""Set to ``1`` by the runner when it resumes an interrupted series: finished training runs are read back."""


def report(kind: str, **fields: Any) -> None:
    """Append ``{"kind": kind, "time": now, **fields}`` to the progress file, if a runner asked for one."""
    path = os.environ.get(PROGRESS_ENV)
    if not path:
        return
    with open(path, "a", encoding="utf-8") as stream:
        stream.write(json.dumps({"kind": kind, "time": time.time(), **fields}) + "\n")


def format_duration(seconds: float) -> str:
    """``42 s``, ``3 min``, ``1 h 05 min``: a duration as a person reads it."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"
