import json
import shutil

import numpy as np
import pytest

from fkp_helpers.data import datasets
from fkp_helpers.data.datasets import (
    cached_arrays, load_series_data, missing_kaggle_files, resolve_data_dir, split_groups,
)
from fkp_helpers.data.synth import INFO_FILE
from fkp_helpers.data.udacity import X_OFFSET_KEY, convert_udacity
from fkp_helpers.data.kaggle_io import KaggleFormatError, read_training
from fkp_helpers.profiles import get_profile


def test_cache_is_used_and_keyed_by_content(tiny_synth_dir, tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(tiny_synth_dir, folder, ignore=shutil.ignore_patterns(".fkp_cache"))
    calls = []

    def reader(path):
        calls.append(path)
        return read_training(path)

    first = cached_arrays(folder / "training.zip", reader, ("images", "keypoints"))
    second = cached_arrays(folder / "training.zip", reader, ("images", "keypoints"))
    assert len(calls) == 1
    assert np.array_equal(first["images"], second["images"])
    np.testing.assert_array_equal(first["keypoints"], second["keypoints"])
    # a changed source file is re-read, never served stale
    (folder / "training.zip").write_bytes((tiny_synth_dir / "training.zip").read_bytes()[:-10] + b"0" * 10)
    with pytest.raises(KaggleFormatError, match=r"copy/training\.zip: not a readable zip archive \(truncated download"):
        cached_arrays(folder / "training.zip", reader, ("images", "keypoints"))


def test_load_series_data_names_missing_files(tiny_synth_dir, tmp_path):
    shutil.copytree(tiny_synth_dir, tmp_path / "d")
    (tmp_path / "d" / "test.zip").unlink()
    assert missing_kaggle_files(tmp_path / "d") == ["test.zip or test.csv"]
    with pytest.raises(KaggleFormatError, match="missing test.zip or test.csv"):
        load_series_data(tmp_path / "d")


def test_resolve_prefers_real_files_and_refuses_partial_sets(tmp_path, monkeypatch, tiny_synth_dir):
    raw = tmp_path / "raw"
    monkeypatch.setattr(datasets, "RAW_DIR", raw)
    monkeypatch.setattr(datasets, "SYNTH_ROOT", tmp_path / "synth")
    monkeypatch.setattr(datasets, "REAL_FACES_DIR", tmp_path / "real-faces")
    monkeypatch.setattr(datasets, "UDACITY_SOURCES", (tmp_path / "no-such-source",))
    smoke, quick = get_profile("smoke"), get_profile("quick")
    generated = resolve_data_dir(None, smoke, progress=False)
    assert generated.parent == tmp_path / "synth" and (generated / "training.zip").is_file()
    stamp = (generated / "training.zip").stat().st_mtime_ns
    assert resolve_data_dir(None, smoke, progress=False) == generated
    assert (generated / "training.zip").stat().st_mtime_ns == stamp, "generated once, then reused"
    raw.mkdir()
    shutil.copy(tiny_synth_dir / "training.zip", raw)
    with pytest.raises(FileNotFoundError, match="holds some Kaggle files but not test.zip or test.csv"):
        resolve_data_dir(None, quick)
    for name in ("test.zip", "IdLookupTable.csv", "SampleSubmission.csv"):
        shutil.copy(tiny_synth_dir / name, raw)
    assert resolve_data_dir(None, quick) == raw
    assert resolve_data_dir(None, smoke, progress=False) == generated, "the smoke profile always runs on FKP-synth"
    data = load_series_data(raw)
    assert data.source == "kaggle" and data.hidden_truth is None and "real Kaggle files" in data.description


def test_real_faces_come_after_kaggle_files_and_are_converted_once(tmp_path, monkeypatch, udacity_subset):
    monkeypatch.setattr(datasets, "RAW_DIR", tmp_path / "raw")
    monkeypatch.setattr(datasets, "REAL_FACES_DIR", tmp_path / "real-faces")
    monkeypatch.setattr(datasets, "UDACITY_SOURCES", (tmp_path / "absent.zip", udacity_subset))
    folder = resolve_data_dir(None, get_profile("quick"), progress=False)
    assert folder == tmp_path / "real-faces"
    stamp = (folder / "training.zip").stat().st_mtime_ns
    assert resolve_data_dir(None, get_profile("quick"), progress=False) == folder
    assert (folder / "training.zip").stat().st_mtime_ns == stamp, "converted once, then reused"
    data = load_series_data(folder)
    assert data.source == "real-faces" and "faces and landmarks are real" in data.description
    assert "missing labels follow Kaggle's patterns" in data.description
    info_path = folder / INFO_FILE
    info = json.loads(info_path.read_text())
    info.pop(X_OFFSET_KEY)
    info_path.write_text(json.dumps(info))
    with pytest.raises(FileExistsError, match="converted with a landmark x correction of 0.0 px.*delete the folder"):
        resolve_data_dir(None, get_profile("quick"), progress=False)
    assert (folder / "training.zip").stat().st_mtime_ns == stamp, "an outdated conversion is named, never replaced"


def test_lookup_asking_for_unknown_images_is_named(tiny_synth_dir, tmp_path):
    folder = tmp_path / "d"
    shutil.copytree(tiny_synth_dir, folder)
    lookup = folder / "IdLookupTable.csv"
    next_row = lookup.read_bytes().count(b"\r\n")
    lookup.write_bytes(lookup.read_bytes() + f"{next_row},999,nose_tip_x\r\n".encode())
    with pytest.raises(KaggleFormatError, match="IdLookupTable.csv: asks for ImageIds not in the test file: \\[999\\]"):
        load_series_data(folder)


def test_split_groups_follow_what_the_data_knows(tmp_path, tiny_synth_dir, udacity_subset):
    groups, sentence = split_groups(load_series_data(tiny_synth_dir))
    assert groups is None and sentence.startswith("by image")
    kaggle = tmp_path / "kaggle"
    kaggle.mkdir()
    for name in ("training.zip", "test.zip", "IdLookupTable.csv", "SampleSubmission.csv"):
        shutil.copy(tiny_synth_dir / name, kaggle)
    data = load_series_data(kaggle)
    groups, sentence = split_groups(data)
    assert len(groups) == len(data.train) and sentence.startswith("by near-duplicate group")
    faces = load_series_data(convert_udacity(udacity_subset, tmp_path / "faces", progress=False))
    groups, sentence = split_groups(faces)
    assert len(set(groups)) < len(groups) and sentence.startswith("by person")
