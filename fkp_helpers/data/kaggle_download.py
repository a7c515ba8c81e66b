"""Getting the real competition files with the official ``kaggle`` CLI, and checking a user's copy."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

COMPETITION = "facial-keypoints-detection"
RULES_URL = f"https://www.kaggle.com/c/{COMPETITION}/rules"
DATA_URL = f"https://www.kaggle.com/c/{COMPETITION}/data"
OFFICIAL_GIT_BLOB_IDS = {
    "training.zip": "42912e715e7d885eb8514c081f3d774533fea85b",
    "test.zip": "1bba825f7cca64dbc255634cec1ee0a80600d359",
}
COMPETITION_FILES = ("training.zip", "test.zip", "IdLookupTable.csv", "SampleSubmission.csv")


def git_blob_id(path: str | os.PathLike) -> str:
    """The id ``git hash-object`` gives a file: SHA-1 of ``blob <size>\\0`` followed by the content."""
    path = Path(path)
    digest = hashlib.sha1(f"blob {path.stat().st_size}\0".encode())
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_official_copies(folder: str | os.PathLike) -> list[str]:
    """One line per known zip in ``folder``: verified, or a warning that it is not the official copy."""
    lines = []
    for name, official in OFFICIAL_GIT_BLOB_IDS.items():
        path = Path(folder) / name
        if not path.is_file():
            continue
        found = git_blob_id(path)
        if found == official:
            lines.append(f"{path}: verified, the official copy")
        else:
            lines.append(f"WARNING {path}: not the official copy (git blob {found}, expected {official}); using it anyway")
    return lines


def credentials_file() -> Path | None:
    """The kaggle credentials file the CLI would read, if there is one."""
    candidates = [Path(os.environ["KAGGLE_CONFIG_DIR"]) / "kaggle.json"] if "KAGGLE_CONFIG_DIR" in os.environ else []
    candidates += [Path.home() / ".kaggle" / "kaggle.json", Path.home() / ".config" / "kaggle" / "kaggle.json"]
    return next((p for p in candidates if p.is_file()), None)


def has_credentials() -> bool:
    """Whether the kaggle CLI can authenticate (environment variables or a credentials file)."""
    return bool(os.environ.get("KAGGLE_USERNAME") and os.environ.get("KAGGLE_KEY")) or credentials_file() is not None


def manual_instructions(dest: Path) -> str:
    """What a user does to get the data when the automatic download cannot."""
    return f"""To use the real Kaggle data:
  1. Sign in at kaggle.com and accept the competition rules: {RULES_URL}
  2. Create an API token (Account -> API -> Create New Token) and save it as ~/.kaggle/kaggle.json
     (chmod 600), or set KAGGLE_USERNAME and KAGGLE_KEY; then run `make data` again.
  Or download by hand from {DATA_URL} and put these files in {dest}:
     {', '.join(COMPETITION_FILES)}
Until then the series runs on FKP-synth, the generated stand-in in the same file format."""


def find_kaggle_cli() -> str | None:
    """The kaggle CLI beside the running interpreter (a virtual environment's ``bin/``), else on PATH."""
    beside = Path(sys.executable).with_name("kaggle")
    return str(beside) if beside.is_file() and os.access(beside, os.X_OK) else shutil.which("kaggle")


def download_competition(dest: str | os.PathLike) -> int:
    """Download the competition files into ``dest`` with the kaggle CLI; returns a process exit code.

    Existing files in ``dest`` are kept, never overwritten.
    """
    dest = Path(dest)
    kaggle = find_kaggle_cli()
    if kaggle is None or not has_credentials():
        reason = "the kaggle CLI is not installed" if kaggle is None else "no Kaggle API credentials were found"
        print(f"Cannot download: {reason}.\n\n{manual_instructions(dest)}")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        result = subprocess.run(
            [kaggle, "competitions", "download", "-c", COMPETITION, "-p", tmp], capture_output=True, text=True
        )
        if result.returncode != 0:
            print(f"kaggle CLI failed (exit {result.returncode}):\n{result.stdout}{result.stderr}\n{manual_instructions(dest)}")
            return result.returncode
        dest.mkdir(parents=True, exist_ok=True)
        for archive in Path(tmp).glob("*.zip"):
            with zipfile.ZipFile(archive) as bundle:
                for name in bundle.namelist():
                    target = dest / Path(name).name
                    if target.exists():
                        print(f"kept existing {target}")
                        continue
                    target.write_bytes(bundle.read(name))
                    print(f"wrote {target}")
    print("\n".join(verify_official_copies(dest)))
    return 0
