from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def lock_pins() -> set[str]:
    return {line.strip() for line in (REPO / "requirements.lock").read_text().splitlines() if line.strip() and not line.startswith("#")}


def test_environment_yml_describes_the_lock():
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    assert "conda-forge" in env["channels"]
    assert "python=3.11" in env["dependencies"]
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert {p for p in pip_section if "==" in p} == lock_pins()


def test_lock_pins_the_named_packages():
    names = {pin.split("==")[0].lower() for pin in lock_pins()}
    for package in ("tensorflow", "keras", "imaug", "pandas", "numpy", "seaborn", "matplotlib", "papermill", "nbval", "jupyterlab", "pytest"):
        assert package in names, package
    assert "imgaug" not in names, "imgaug 0.4.0 breaks on numpy 2; the maintained fork imaug provides the package"
