"""The package's code shown where a lesson explains it: one source (the package), read in the notebook."""
from __future__ import annotations

import inspect
from typing import Any

from IPython.display import Code


def show_source(*objects: Any) -> Code:
    """The source of each function or class, in the order given, as Python code: highlighted in JupyterLab,
    plain text in a terminal or a saved notebook's text output."""
    if not objects:
        raise ValueError("show_source needs at least one function or class")
    return Code("\n\n".join(inspect.getsource(obj).rstrip() for obj in objects) + "\n", language="python")
