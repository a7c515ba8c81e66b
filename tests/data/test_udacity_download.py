"""Tests for fkp_helpers.data.udacity_download and the `faces` command: download when online, else instructions."""
from __future__ import annotations

from fkp_helpers import cli
from fkp_helpers.data import datasets, udacity_download
from fkp_helpers.data.udacity_download import download_udacity, manual_faces_instructions


def test_download_writes_the_zip_atomically_and_keeps_an_existing_one(tmp_path, monkeypatch):
    served = tmp_path / "served.zip"
    served.write_bytes(b"zip bytes" * 1000)
    monkeypatch.setattr(udacity_download, "UDACITY_URL", served.as_uri())
    target = tmp_path / "downloads" / "train-test-data.zip"
    assert download_udacity(target) and target.read_bytes() == served.read_bytes()
    served.write_bytes(b"changed")
    assert download_udacity(target) and target.read_bytes() != b"changed"


def test_a_failed_download_leaves_nothing_behind(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(udacity_download, "UDACITY_URL", "http://127.0.0.1:9/train-test-data.zip")
    target = tmp_path / "downloads" / "train-test-data.zip"
    assert not download_udacity(target, timeout=5)
    assert not target.exists() and not list(target.parent.iterdir())
    assert "Cannot download the real faces" in capsys.readouterr().out


def test_faces_without_a_source_says_where_to_put_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(datasets, "UDACITY_ZIP_PATH", tmp_path / "data" / "downloads" / "train-test-data.zip")
    monkeypatch.setattr(datasets, "UDACITY_FOLDER", tmp_path / "data" / "udacity-p1-faces")
    monkeypatch.setattr(datasets, "REAL_FACES_DIR", tmp_path / "data" / "real-faces")
    monkeypatch.setattr(datasets, "UDACITY_SOURCES", (tmp_path / "absent",))
    monkeypatch.setattr(udacity_download, "UDACITY_URL", "http://127.0.0.1:9/train-test-data.zip")
    assert cli.main(["faces"]) == 1
    out = capsys.readouterr().out
    assert str(tmp_path / "data" / "downloads" / "train-test-data.zip") in out and "make faces" in out
    assert not (tmp_path / "data" / "real-faces").exists()


def test_instructions_name_the_source_and_both_places():
    text = manual_faces_instructions(datasets.PROJECT_ROOT / "z.zip", datasets.PROJECT_ROOT / "f")
    assert "udacity/P1_Facial_Keypoints" in text and "z.zip" in text and "convert-udacity" in text
