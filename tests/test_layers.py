"""The package's stage layering: no module imports one of a later stage (import-linter's layers contract)."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(project: Path) -> subprocess.CompletedProcess:
    """Run ``lint-imports`` with ``project``'s pyproject.toml, finding ``fkp_helpers`` in ``project``."""
    if not LINT_IMPORTS.is_file():
        pytest.fail(f"{LINT_IMPORTS} not found: install the dev extras (pip install -e '.[dev]')")
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(project / "pyproject.toml"), "--no-cache"],
        cwd=project, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(project)}, capture_output=True, text=True,
    )


def test_every_stage_imports_only_earlier_stages():
    result = lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_the_contract_catches_data_importing_training(tmp_path):
    shutil.copytree(REPO / "fkp_helpers", tmp_path / "fkp_helpers", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    splits = tmp_path / "fkp_helpers" / "data" / "splits.py"
    splits.write_text(splits.read_text() + "\nfrom fkp_helpers.training.models import build_vgg  # a later stage\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "fkp_helpers.data.splits -> fkp_helpers.training.models" in result.stdout
