"""Run profiles: how much data and training each run of the series uses."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    """Sizes and training settings shared by every notebook of one run."""

    name: str
    description: str
    synth_train: int
    """Rows of generated FKP-synth training data (used when no real Kaggle files are present)."""
    synth_test: int
    epochs: int
    """Epochs for each main training run (VGG with SGD, VGG with Adam)."""
    baseline_epochs: int
    """Epochs for the small baseline net and the dropna variant."""
    batch_size: int
    learning_rates: tuple[float, ...]
    """Learning rates of the Adam sweep."""
    sweep_epochs: int
    max_train_images: int | None = None
    """Cap on training rows used for fitting (None: all); the validation split is never capped."""
    val_fraction: float = 0.2
    real_data: bool = True
    """Whether the run uses real data where present (Kaggle files, else converted real faces); else FKP-synth."""


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile(
            name="smoke",
            description="tiny data, a few seconds per notebook; used by the tests",
            synth_train=96, synth_test=24, epochs=2, baseline_epochs=1, batch_size=16,
            learning_rates=(1e-3, 2e-3), sweep_epochs=1, real_data=False,
        ),
        Profile(
            name="cpu",
            description=("the main job: full-size data (real faces where at hand, else FKP-synth), 6 VGG epochs; "
                         "11 min on 2 AVX-512 cores, an estimated 45 min on 2 AVX2 cores"),
            synth_train=7049, synth_test=1783, epochs=6, baseline_epochs=4, batch_size=32,
            learning_rates=(1e-3, 2e-3), sweep_epochs=2, max_train_images=None,
        ),
        Profile(
            name="full",
            description="real Kaggle data on a GPU, epochs as in the literature",
            synth_train=7049, synth_test=1783, epochs=100, baseline_epochs=100, batch_size=64,
            learning_rates=(1e-3, 1.5e-3, 2e-3, 2.5e-3), sweep_epochs=30,
        ),
    )
}


def get_profile(name: str) -> Profile:
    """The profile called ``name``; the error lists the known ones."""
    try:
        return PROFILES[name]
    except KeyError:
        raise KeyError(f"unknown profile {name!r}; choose one of {', '.join(PROFILES)}") from None
