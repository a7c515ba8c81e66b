"""The flat module names of release 0.1 (before the stage sub-packages), importable for one more release.

``import fkp_helpers.train`` (or ``from fkp_helpers.models import build_vgg``) still works: it gives a module holding
the public names of the new modules and warns once, with a ``FutureWarning`` that says where the names live now.
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings
from types import ModuleType

MOVED: dict[str, tuple[str, ...]] = {
    "keypoints": ("fkp_helpers.data.keypoints",),
    "kaggle_io": ("fkp_helpers.data.kaggle_io",),
    "pixel_decoder": ("fkp_helpers.data.pixel_decoder",),
    "shapes": ("fkp_helpers.data.shapes",),
    "splits": ("fkp_helpers.data.splits",),
    "datasets": ("fkp_helpers.data.datasets",),
    "synth_model": ("fkp_helpers.data.synth_model",),
    "synth": ("fkp_helpers.data.synth",),
    "kaggle_download": ("fkp_helpers.data.kaggle_download",),
    "missing_labels": ("fkp_helpers.eda.missing_labels",),
    "data_quality": ("fkp_helpers.eda.data_quality",),
    "eda_plots": ("fkp_helpers.eda.plots",),
    "augment_checks": ("fkp_helpers.augment.checks",),
    "models": ("fkp_helpers.training.models", "fkp_helpers.training.model_files"),
    "train": ("fkp_helpers.training", "fkp_helpers.data.keypoints", "fkp_helpers.data.splits"),
    "metrics": ("fkp_helpers.evaluation.metrics",),
    "tta": ("fkp_helpers.evaluation.tta",),
    "submission": ("fkp_helpers.evaluation.submission",),
    "evaluation_plots": ("fkp_helpers.evaluation.plots",),
}
"""Old module name (under ``fkp_helpers.``) -> the modules that now hold its public names."""

PACKAGE = "fkp_helpers"


def moved_message(old: str) -> str:
    """The warning for an import of ``fkp_helpers.<old>``."""
    places = " and ".join(MOVED[old])
    return (f"fkp_helpers.{old} has moved: import from {places} instead "
            f"(the old name still works in this release and will be removed in the next)")


class MovedModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``fkp_helpers.<old>`` for the names in ``MOVED`` and builds it from the new modules."""

    def find_spec(self, fullname: str, path=None, target=None):
        package, _, old = fullname.rpartition(".")
        if package != PACKAGE or old not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec) -> None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        old = module.__name__.rpartition(".")[2]
        warnings.warn(moved_message(old), FutureWarning, stacklevel=2)
        for new_name in MOVED[old]:
            new = importlib.import_module(new_name)
            module.__dict__.update({k: v for k, v in vars(new).items() if not k.startswith("_")})


def install() -> None:
    """Put the finder on ``sys.meta_path`` (once); real modules are always found first."""
    if not any(isinstance(finder, MovedModuleFinder) for finder in sys.meta_path):
        sys.meta_path.append(MovedModuleFinder())
