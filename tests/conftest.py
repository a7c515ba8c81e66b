"""Shared fixtures: a tiny FKP-synth data set and the real label files from ../shared when present."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from fkp_helpers.data.synth import SynthSpec, generate_fkp_synth
from fkp_helpers.data.udacity import UDACITY_CSVS, person_of

REAL_LABELS_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "kaggle-fkp-labels"
UDACITY = Path(__file__).resolve().parents[2] / "shared" / "data" / "udacity-p1-faces"
PEOPLE = ("Abdullah_Gul", "Adam_Sandler", "Ahmad_Masood", "Aidan_Quinn", "Eliza_Dushku")
FACES_PER_PERSON = 6
"""Per landmark table: up to 12 faces a person in all."""
OUTSIDE = ("Eliza_Dushku_20.jpg", "Eliza_Dushku_21.jpg", "Eliza_Dushku_22.jpg")
"""Faces whose landmarks reach beyond their image (by up to 23 px): kept, with frame pixels filled."""


@pytest.fixture(scope="session")
def tiny_synth_dir(tmp_path_factory) -> Path:
    """A 60-row / 20-image FKP-synth folder in Kaggle's file format (generated once per test session)."""
    folder = tmp_path_factory.mktemp("synth") / "fkp-synth"
    return generate_fkp_synth(folder, SynthSpec(n_train=60, n_test=20, seed=7), progress=False)


@pytest.fixture
def real_labels_dir() -> Path:
    """The real Kaggle label files (no images) shipped in ../shared; tests using it skip where it is absent."""
    if not (REAL_LABELS_DIR / "IdLookupTable.csv").is_file():
        pytest.skip(f"real Kaggle label files not found in {REAL_LABELS_DIR}")
    return REAL_LABELS_DIR


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


def subset_rows(lines: list[str]) -> list[str]:
    """The CSV lines of the chosen people (the faces in ``OUTSIDE`` first, then up to ``FACES_PER_PERSON`` each)."""
    by_person: dict[str, list[str]] = {}
    for line in sorted(lines, key=lambda text: text.split(",")[0] not in OUTSIDE):
        person = person_of(line.split(",")[0])
        if person in PEOPLE and len(by_person.setdefault(person, [])) < FACES_PER_PERSON:
            by_person[person].append(line)
    return [line for line in lines if any(line in chosen for chosen in by_person.values())]


@pytest.fixture(scope="session")
def udacity_subset(tmp_path_factory) -> Path:
    """A copy of a few people's faces and their CSV rows, in Udacity's layout."""
    if not (UDACITY / UDACITY_CSVS["training"]).is_file():
        pytest.skip(f"the shared Udacity faces are not in {UDACITY} (see its README for the source)")
    root = tmp_path_factory.mktemp("udacity") / "src"
    for folder, table in UDACITY_CSVS.items():
        header, *lines = (UDACITY / table).read_text().splitlines()
        rows = subset_rows(lines)
        (root / folder).mkdir(parents=True)
        (root / table).write_text("\n".join([header, *rows]) + "\n")
        for row in rows:
            name = row.split(",")[0]
            shutil.copy(UDACITY / folder / name, root / folder / name)
    return root


@pytest.fixture
def assert_legends_clear_of_axes():
    """A check that a figure has a legend and that no legend covers any of its axes (drawn first, to lay it out)."""

    def check(fig) -> None:
        fig.canvas.draw()
        legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend() is not None)]
        assert legends, "the figure has no legend"
        for legend in legends:
            box = legend.get_window_extent()
            assert not any(box.overlaps(ax.get_window_extent()) for ax in fig.axes), "a legend covers an axes"

    return check


@pytest.fixture(autouse=True)
def _close_figures():
    """Close every pyplot figure a test opened, so figures do not pile up over the session."""
    yield
    pyplot = sys.modules.get("matplotlib.pyplot")  # only where a test imported it
    if pyplot is not None:
        pyplot.close("all")
