"""Tests for fkp_helpers.stats: standard errors over faces or over the people they show."""
from __future__ import annotations

import numpy as np
import pytest

from fkp_helpers.stats import mean_and_se, standard_error, units_of


def test_the_mean_and_its_standard_error_skip_missing_values():
    assert mean_and_se(np.array([1.0, 2.0, np.nan, 4.0])) == pytest.approx(
        (7 / 3, np.std([1, 2, 4], ddof=1) / np.sqrt(3)))
    assert np.isnan(mean_and_se(np.array([np.nan]))[0]) and np.isnan(mean_and_se(np.array([3.0]))[1])


def test_people_not_frames_are_the_units():
    values = np.array([1.0, 1.0, 1.0, 3.0, 3.0, 3.0])  # two people, three identical frames each
    people = np.array(["a", "a", "a", "b", "b", "b"])
    assert mean_and_se(values, people)[1] == pytest.approx(mean_and_se(np.array([1.0, 3.0]))[1])
    assert mean_and_se(values)[1] < mean_and_se(values, people)[1]
    assert np.isnan(mean_and_se(values, np.array(["a"] * 6))[1]), "one person: no standard error"
    with pytest.raises(ValueError, match="one unit a face"):
        standard_error(np.zeros(3), np.array(["a", "b"]))


def test_units_of_selects_or_stays_none():
    assert units_of(None, np.array([True, False])) is None
    assert units_of(np.array(["a", "b", "c"]), np.array([2, 0])).tolist() == ["c", "a"]
