"""Which data trained a model: read from its run folder, with a plain warning for FKP-synth."""
from __future__ import annotations

import json

from fkp_helpers.photos.provenance import training_data_of


def _run(tmp_path, **files):
    (tmp_path / "models").mkdir(parents=True)
    for name, content in files.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(content))
    return tmp_path / "models" / "vgg.keras"


def test_training_results_name_fkp_synth_and_warn(tmp_path):
    data = training_data_of(_run(tmp_path, training_results={"source": "fkp-synth", "data": "FKP-synth, generated"}))
    assert data.source == "fkp-synth" and data.found_in == tmp_path / "training_results.json"
    assert "cartoon faces" in data.warning


def test_kaggle_data_gives_no_warning(tmp_path):
    data = training_data_of(_run(tmp_path, training_results={"source": "kaggle", "data": "the real Kaggle files"}))
    assert (data.source, data.warning) == ("kaggle", None)


def test_falls_back_to_eda_summary_then_run_info(tmp_path):
    data = training_data_of(_run(tmp_path, eda_summary={"data": "FKP-synth, the generated stand-in"},
                                 run_info={"data_dir": "/data/real"}))
    assert data.source == "fkp-synth" and data.found_in.name == "eda_summary.json"
    assert training_data_of(_run(tmp_path / "other", run_info={"data_dir": "/data/real"})).source == "unknown"


def test_no_run_files_is_unknown(tmp_path):
    data = training_data_of(tmp_path / "loose.keras")
    assert data.source == "unknown" and data.warning is None and "training_results.json" in data.description
