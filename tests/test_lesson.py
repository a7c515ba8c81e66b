"""show_source: the notebooks show the package's own code, so the lesson and the library cannot drift apart."""
import inspect

import pytest

from fkp_helpers.lesson import show_source
from fkp_helpers.training.losses import masked_mse
from fkp_helpers.training.optimizers import warmup_cosine


def test_show_source_shows_each_object_s_code_in_order():
    shown = show_source(masked_mse, warmup_cosine)
    text = repr(shown)
    assert text.index("def masked_mse(") < text.index("def warmup_cosine(")
    assert inspect.getsource(masked_mse).rstrip() in text and inspect.getsource(warmup_cosine).rstrip() in text
    assert "<span" in shown._repr_html_()  # highlighted in JupyterLab


def test_show_source_needs_something_to_show():
    with pytest.raises(ValueError, match="at least one function or class"):
        show_source()
