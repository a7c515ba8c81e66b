"""The FKP-synth model: numbers derived from the real Kaggle labels, and sampling of shapes and label masks from it.

The numbers live in ``fkp_synth_model.json`` beside this module, written by ``scripts/fit_synth_model.py``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from fkp_helpers.data.keypoints import IMAGE_SIZE, N_KEYPOINTS
from fkp_helpers.data.shapes import apply_similarity

MODEL_PATH = Path(__file__).with_name("fkp_synth_model.json")
MAX_MODE_SD = 2.5
"""Shape-mode coefficients are clipped at this many standard deviations, so no implausible face is drawn."""


def pattern_to_string(labelled: np.ndarray) -> str:
    """A row's labelled-keypoint mask ``(15,)`` as a 15-character string of 1 (labelled) and 0 (missing)."""
    return "".join("1" if v else "0" for v in labelled)


def string_to_pattern(text: str) -> np.ndarray:
    """Inverse of :func:`pattern_to_string`."""
    if len(text) != N_KEYPOINTS or set(text) - {"0", "1"}:
        raise ValueError(f"a pattern is {N_KEYPOINTS} characters of 0/1, got {text!r}")
    return np.array([c == "1" for c in text])


@dataclass(frozen=True)
class SynthModel:
    """Mean shape, shape modes, pose distributions per labelling regime, missing patterns and lookup structure."""

    mean_shape: np.ndarray
    modes: np.ndarray
    mode_sd: np.ndarray
    pose_mean: dict[str, np.ndarray]
    pose_cov: dict[str, np.ndarray]
    patterns: np.ndarray
    pattern_rows: np.ndarray
    lookup_feature_sets: list[list[str]]
    lookup_images: np.ndarray

    @property
    def pattern_probabilities(self) -> np.ndarray:
        return self.pattern_rows / self.pattern_rows.sum()

    def sample_patterns(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``(n, 15)`` boolean labelled masks drawn with the real pattern frequencies."""
        return self.patterns[rng.choice(len(self.patterns), size=n, p=self.pattern_probabilities)]

    def sample_shapes(self, rng: np.random.Generator, complete: np.ndarray) -> np.ndarray:
        """``(n, 15, 2)`` keypoints in pixels; pose drawn from the complete or four-keypoint regime per row."""
        n = len(complete)
        coefficients = np.clip(rng.standard_normal((n, len(self.mode_sd))), -MAX_MODE_SD, MAX_MODE_SD) * self.mode_sd
        shapes = self.mean_shape + np.einsum("nm,mkd->nkd", coefficients, self.modes)
        out = np.empty_like(shapes)
        for regime, rows in (("complete", complete), ("four_keypoint", ~complete)):
            pose = rng.multivariate_normal(self.pose_mean[regime], self.pose_cov[regime], size=n)
            for i in np.flatnonzero(rows):
                out[i] = apply_similarity(shapes[i], np.exp(pose[i, 0]), pose[i, 1], pose[i, 2:])
        return out

    def sample_lookup_sets(self, rng: np.random.Generator, n: int) -> list[list[str]]:
        """Feature lists for ``n`` test images, drawn with the real lookup table's frequencies."""
        p = self.lookup_images / self.lookup_images.sum()
        return [self.lookup_feature_sets[i] for i in rng.choice(len(p), size=n, p=p)]


@lru_cache(maxsize=1)
def load_synth_model(path: Path = MODEL_PATH) -> SynthModel:
    """Load the derived numbers (cached)."""
    data = json.loads(Path(path).read_text())
    if data["image_size"] != IMAGE_SIZE:
        raise ValueError(f"{path}: model fitted for {data['image_size']} px images, expected {IMAGE_SIZE}")
    return SynthModel(
        mean_shape=np.array(data["mean_shape"]),
        modes=np.array(data["modes"]),
        mode_sd=np.array(data["mode_sd"]),
        pose_mean={k: np.array(v["mean"]) for k, v in data["pose"].items()},
        pose_cov={k: np.array(v["cov"]) for k, v in data["pose"].items()},
        patterns=np.array([string_to_pattern(p["labelled"]) for p in data["missing_patterns"]]),
        pattern_rows=np.array([p["rows"] for p in data["missing_patterns"]], dtype=float),
        lookup_feature_sets=[s["features"] for s in data["lookup_feature_sets"]],
        lookup_images=np.array([s["images"] for s in data["lookup_feature_sets"]], dtype=float),
    )
