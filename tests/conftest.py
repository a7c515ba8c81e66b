"""Shared fixtures: a tiny FKP-synth data set and the real label files from ../shared when present."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fkp_helpers.data.synth import SynthSpec, generate_fkp_synth

REAL_LABELS_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "kaggle-fkp-labels"


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
