"""Helpers for the fkp notebook series, one sub-package per stage of the story.

``data`` (keypoints, Kaggle files, FKP-synth, splits) -> ``eda`` (notebook 01) -> ``augment`` (02) -> ``training``
(03) -> ``evaluation`` (04); ``profiles``, ``plotting``, ``runner`` and ``cli`` sit around them. A stage imports only
earlier stages (checked by import-linter in the tests).
"""

