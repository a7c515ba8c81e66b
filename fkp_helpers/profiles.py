"""Run profiles: how much data and training each run of the series uses."""
from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Profile:
    """Sizes and training settings shared by every notebook of one run."""

    name: str
    description: str
    synth_train: int
    """Rows of generated FKP-synth training data (used when no real Kaggle files are present)."""
    synth_test: int
    epochs: int
    """Epochs of each run of the optimizer study (the VGG with SGD and with Adam, one run per seed); the longer
    check run gets twice as many."""
    baseline_epochs: int
    """Epochs of the small baseline net (masked loss); its dropna variant gets about as many steps (whole epochs)."""
    batch_size: int
    seeds: int
    """Seeds (initial weights, data order, augmentation) per optimizer in the study."""
    range_test_steps: int
    """Steps of each optimizer's learning-rate range test."""
    max_train_images: int | None = None
    """Cap on training rows used for fitting (None: all); the validation split is never capped."""
    val_fraction: float = 0.2
    real_data: bool = True
    """Whether the run uses real data where present (Kaggle files, else converted real faces); else FKP-synth."""
    mixed_precision: bool | None = False
    """bfloat16 compute: False (float32 everywhere: the same kind of numbers on every CPU), or None (where the
    hardware computes bfloat16 natively)."""


CPU = Profile(
    name="cpu",
    description=("the main job: full-size data (real faces where at hand, else FKP-synth), float32, "
                 "2 seeds x 3 epochs per optimizer"),
    synth_train=7049, synth_test=1783, epochs=3, baseline_epochs=5, batch_size=32, seeds=2,
    range_test_steps=50, max_train_images=None,
)

PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile(
            name="smoke",
            description="tiny data, a few seconds per notebook; used by the tests",
            synth_train=96, synth_test=24, epochs=2, baseline_epochs=1, batch_size=16, seeds=2,
            range_test_steps=20, real_data=False,
        ),
        CPU,
        replace(
            CPU, name="long", epochs=8, baseline_epochs=10,
            description=("the cpu profile with 8 epochs per study run (16 for the longer run) and 10 for the baseline: "
                         "the study's convergence check; 45 min on 2 AVX-512 cores, where the cpu profile takes 25"),
        ),
        Profile(
            name="full",
            description="real Kaggle data on a GPU, epochs as in the literature",
            synth_train=7049, synth_test=1783, epochs=60, baseline_epochs=100, batch_size=64, seeds=5,
            range_test_steps=300, mixed_precision=None,
        ),
    )
}


def get_profile(name: str) -> Profile:
    """The profile called ``name``; the error lists the known ones."""
    try:
        return PROFILES[name]
    except KeyError:
        raise KeyError(f"unknown profile {name!r}; choose one of {', '.join(PROFILES)}") from None
