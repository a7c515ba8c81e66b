"""The flat module names of release 0.1 still import, with a FutureWarning naming the new place."""
from __future__ import annotations

import importlib
import sys

import pytest

from fkp_helpers._moved import MOVED


def fresh_import(name: str):
    sys.modules.pop(name, None)
    return importlib.import_module(name)


@pytest.mark.parametrize("old", sorted(MOVED))
def test_every_old_module_imports_with_a_warning_naming_the_new_place(old):
    with pytest.warns(FutureWarning, match=f"fkp_helpers.{old} has moved: import from {MOVED[old][0]}"):
        module = fresh_import(f"fkp_helpers.{old}")
    for new_name in MOVED[old]:
        new = importlib.import_module(new_name)
        public = [name for name in vars(new) if not name.startswith("_")]
        assert all(getattr(module, name) is getattr(new, name) for name in public)


def test_old_names_that_notebooks_typed_give_the_same_objects():
    from fkp_helpers.data import complete_rows, training_split
    from fkp_helpers.training import build_vgg, load_model, train_model

    with pytest.warns(FutureWarning):
        train = fresh_import("fkp_helpers.train")
    with pytest.warns(FutureWarning):
        models = fresh_import("fkp_helpers.models")
    assert (train.train_model, train.complete_rows, train.training_split) == (train_model, complete_rows, training_split)
    assert (models.build_vgg, models.load_model) == (build_vgg, load_model)


def test_an_unknown_old_name_is_still_an_import_error():
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("fkp_helpers.no_such_module")
