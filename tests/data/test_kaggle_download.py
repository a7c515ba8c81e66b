import subprocess

from fkp_helpers.data import kaggle_download
from fkp_helpers.data.kaggle_download import download_competition, git_blob_id, verify_official_copies


def test_git_blob_id_matches_git(tmp_path):
    path = tmp_path / "training.zip"
    path.write_bytes(b"not really a zip\n" * 1000)
    expected = subprocess.run(["git", "hash-object", str(path)], capture_output=True, text=True, check=True).stdout.strip()
    assert git_blob_id(path) == expected


def test_unknown_copy_gets_a_warning_not_a_refusal(tmp_path, monkeypatch):
    (tmp_path / "training.zip").write_bytes(b"abc")
    (tmp_path / "test.zip").write_bytes(b"def")
    monkeypatch.setitem(kaggle_download.OFFICIAL_GIT_BLOB_IDS, "test.zip", git_blob_id(tmp_path / "test.zip"))
    lines = verify_official_copies(tmp_path)
    assert lines[0].startswith("WARNING") and "not the official copy" in lines[0] and "using it anyway" in lines[0]
    assert lines[1].endswith("verified, the official copy")


def test_download_without_credentials_explains_what_to_do(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KAGGLE_USERNAME", raising=False)
    monkeypatch.delenv("KAGGLE_KEY", raising=False)
    monkeypatch.delenv("KAGGLE_CONFIG_DIR", raising=False)
    assert download_competition(tmp_path / "raw") == 1
    out = capsys.readouterr().out
    assert "kaggle.json" in out and "accept the competition rules" in out and str(tmp_path / "raw") in out
    assert not (tmp_path / "raw").exists()


def test_the_cli_beside_the_interpreter_is_found_without_path(tmp_path, monkeypatch):
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "kaggle").write_text("#!/bin/sh\nexit 0\n")
    (bin_dir / "kaggle").chmod(0o755)
    monkeypatch.setattr(kaggle_download.sys, "executable", str(bin_dir / "python"))
    monkeypatch.setenv("PATH", "/nonexistent")
    assert kaggle_download.find_kaggle_cli() == str(bin_dir / "kaggle")


def no_credentials(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_CONFIG_DIR"):
        monkeypatch.delenv(name, raising=False)


def test_cli_present_and_credentials_absent_says_credentials(tmp_path, monkeypatch, capsys):
    no_credentials(tmp_path, monkeypatch)
    monkeypatch.setattr(kaggle_download, "find_kaggle_cli", lambda: "/venv/bin/kaggle")
    assert download_competition(tmp_path / "raw") == 1
    out = capsys.readouterr().out
    assert "no Kaggle API credentials were found" in out and "not installed" not in out


def test_credentials_present_and_cli_absent_says_not_installed(tmp_path, monkeypatch, capsys):
    no_credentials(tmp_path, monkeypatch)
    monkeypatch.setenv("KAGGLE_USERNAME", "someone")
    monkeypatch.setenv("KAGGLE_KEY", "secret")
    monkeypatch.setattr(kaggle_download, "find_kaggle_cli", lambda: None)
    assert download_competition(tmp_path / "raw") == 1
    out = capsys.readouterr().out
    assert "the kaggle CLI is not installed" in out and "credentials were found" not in out
