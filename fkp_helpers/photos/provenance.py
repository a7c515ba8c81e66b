"""Which data a model was trained on, read from its run folder (the model lives at ``<run_dir>/models/<name>.keras``)."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

SYNTH = "fkp-synth"
RUN_FILES = ("training_results.json", "eda_summary.json", "run_info.json")
"""Read in this order; the first that names the data decides."""


@dataclass(frozen=True)
class TrainingData:
    """``source`` (``"fkp-synth"``, ``"kaggle"``, another name, or ``"unknown"``), a sentence, and the file it came from."""

    source: str
    description: str
    found_in: Path | None = None

    @property
    def warning(self) -> str | None:
        """A plain warning when the model cannot be expected to work on photographs, else None."""
        if self.source != SYNTH:
            return None
        return ("this model was trained on FKP-synth, generated cartoon faces, not photographs: "
                "do not expect its keypoints on real photos to be right")


def _source_of(info: dict) -> tuple[str, str] | None:
    description = info.get("data") or info.get("data_dir")
    if not description:
        return None
    source = info.get("source") or (SYNTH if SYNTH in str(description).lower() else "unknown")
    return source, str(description)


def training_data_of(model_path: str | os.PathLike) -> TrainingData:
    """What the run folder of ``model_path`` says about its training data (``"unknown"`` when it says nothing)."""
    model_path = Path(model_path)
    run_dir = model_path.parent.parent if model_path.parent.name == "models" else model_path.parent
    for name in RUN_FILES:
        try:
            found = _source_of(json.loads((run_dir / name).read_text()))
        except (OSError, ValueError, AttributeError):
            continue
        if found:
            return TrainingData(*found, found_in=run_dir / name)
    return TrainingData("unknown", f"no {' / '.join(RUN_FILES)} beside {model_path} says which data trained it")
