"""Tests for fkp_helpers.data.udacity_download and the `faces` command: download when online, else instructions."""
from __future__ import annotations

import functools
import http.server
import re
import threading
import zipfile

import pytest

from fkp_helpers import cli
from fkp_helpers.data import datasets, udacity_download
from fkp_helpers.data.udacity_download import download_udacity, manual_faces_instructions
from fkp_helpers.profiles import get_profile


def test_download_writes_the_zip_atomically_and_keeps_an_existing_one(tmp_path, monkeypatch):
    served = tmp_path / "served.zip"
    with zipfile.ZipFile(served, "w") as archive:
        archive.writestr("training_frames_keypoints.csv", "image,x0\n" * 100)
    monkeypatch.setattr(udacity_download, "UDACITY_URL", served.as_uri())
    target = tmp_path / "downloads" / "train-test-data.zip"
    assert download_udacity(target) and target.read_bytes() == served.read_bytes()
    served.write_bytes(b"changed")
    assert download_udacity(target) and target.read_bytes() != b"changed"


def test_an_answer_that_is_not_a_zip_is_not_kept(tmp_path, monkeypatch, capsys):
    served = tmp_path / "portal.html"
    served.write_text("<html>log in to this network first</html>")
    monkeypatch.setattr(udacity_download, "UDACITY_URL", served.as_uri())
    target = tmp_path / "downloads" / "train-test-data.zip"
    assert not download_udacity(target, progress=False)
    assert not target.exists() and not list(target.parent.iterdir())
    assert "did not send a zip archive" in capsys.readouterr().out


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


@pytest.fixture
def served_zip(tmp_path, udacity_subset):
    """Udacity's zip, made from a few real faces, served by a local HTTP server; yields its URL."""
    served = tmp_path / "served"
    served.mkdir()
    with zipfile.ZipFile(served / "train-test-data.zip", "w") as archive:
        for path in sorted(udacity_subset.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(udacity_subset).as_posix())
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/train-test-data.zip"
    server.shutdown()
    server.server_close()


def _no_faces_at_hand(tmp_path, monkeypatch, url: str) -> None:
    monkeypatch.setattr(datasets, "RAW_DIR", tmp_path / "data" / "raw")
    monkeypatch.setattr(datasets, "REAL_FACES_DIR", tmp_path / "data" / "real-faces")
    monkeypatch.setattr(datasets, "UDACITY_ZIP_PATH", tmp_path / "data" / "downloads" / "train-test-data.zip")
    monkeypatch.setattr(datasets, "UDACITY_SOURCES", (tmp_path / "absent",))
    monkeypatch.setattr(udacity_download, "UDACITY_URL", url)


def test_the_main_job_downloads_the_real_faces_itself_when_online(tmp_path, monkeypatch, served_zip, capsys):
    _no_faces_at_hand(tmp_path, monkeypatch, served_zip)
    folder = datasets.resolve_data_dir(None, get_profile("quick"), progress=False)
    assert folder == tmp_path / "data" / "real-faces"
    out = capsys.readouterr().out
    assert re.search(r"Downloading the real faces \(\d+ MB\) from http://127\.0\.0\.1", out)
    assert (tmp_path / "data" / "downloads" / "train-test-data.zip").is_file()
    data = datasets.load_series_data(folder)
    assert data.source == "real-faces" and len(data.train.images) + len(data.test.images) > 0


def test_offline_the_main_job_says_in_one_line_why_it_falls_back_to_fkp_synth(tmp_path, monkeypatch, capsys):
    _no_faces_at_hand(tmp_path, monkeypatch, "http://127.0.0.1:9/train-test-data.zip")
    assert datasets.real_data_dir(progress=False) is None
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("Cannot download the real faces")
    assert len(lines) == 2 and "this run uses FKP-synth" in lines[1] and "make faces" in lines[1]
    assert not (tmp_path / "data" / "real-faces").exists()
