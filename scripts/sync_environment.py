"""Write environment.yml (conda-forge Python + pip section) from requirements.lock, so both describe one set."""
from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYTHON_VERSION = "3.11"


def environment_yaml(pins: list[str]) -> str:
    """The environment.yml text for the given ``name==version`` pins."""
    lines = ["# Generated from requirements.lock by scripts/sync_environment.py; do not edit by hand.",
             "name: fkp", "channels:", "  - conda-forge", "dependencies:", f"  - python={PYTHON_VERSION}", "  - pip",
             "  - pip:"]
    lines += [f"      - {pin}" for pin in pins]
    lines.append("      - -e .[dev]")
    return "\n".join(lines) + "\n"


def read_pins(lock: Path) -> list[str]:
    """The ``name==version`` lines of a pip lock file."""
    return [line.strip() for line in lock.read_text().splitlines() if line.strip() and not line.startswith("#")]


if __name__ == "__main__":
    (REPO / "environment.yml").write_text(environment_yaml(read_pins(REPO / "requirements.lock")))
    print(f"wrote {REPO / 'environment.yml'}")
