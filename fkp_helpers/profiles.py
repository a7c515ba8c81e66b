"""Run profiles: how much data and training each run of the series uses."""
from __future__ import annotations

from dataclasses import dataclass, replace

HALF_DECADE = 10 ** 0.5
"""The step between trial rates (``rate_factors``), and of a grid's extension beyond its edge."""


@dataclass(frozen=True)
class Profile:
    """Sizes and training settings shared by every notebook of one run."""

    name: str
    description: str
    synth_train: int
    """Rows of generated FKP-synth training data (used when no real Kaggle files are present)."""
    synth_test: int
    epochs: int
    """Epochs of each run of the optimizer study (the VGG with SGD and with Adam: every rate trial and every seed)."""
    baseline_epochs: int
    """Epochs of Nouri's net (masked loss); its dropna twin gets about as many steps (whole epochs)."""
    batch_size: int
    seeds: int
    """Seeds (initial weights, data order, augmentation) per optimizer in the study."""
    range_test_steps: int
    """Steps of each optimizer's learning-rate range test."""
    rate_factors: tuple[float, ...] = (1 / HALF_DECADE, 1.0)
    """The rate trials' peaks, as multiples of each optimizer's range-test reading (``rate_grid``)."""
    grid_extensions: int = 0
    """How many more trials, half a decade further out, an optimizer gets while its best trial sits at an edge of
    its grid (``rate_trials``); 0: the grid stays as it is."""
    max_train_images: int | None = None
    """Cap on training rows used for fitting (None: all); the validation split is never capped."""
    val_fraction: float = 0.2
    real_data: bool = True
    """Whether the run uses real data where present (Kaggle files, else converted real faces); else FKP-synth."""
    mixed_precision: bool | None = False
    """bfloat16 compute: False (float32 everywhere: the same kind of numbers on every CPU), or None (where the
    hardware computes bfloat16 natively)."""


STUDY = Profile(
    name="study",
    description=("the main job, the optimizer study: full-size data (real faces where at hand, else FKP-synth), "
                 "float32, 240 epochs a run (for now: the pilots rejected 120, kept 240 for SGD and check it for "
                 "Adam), 4 rates half a decade apart per optimizer (more while the best sits at an edge), 3 seeds; "
                 "about two days on 2 cores"),
    synth_train=7049, synth_test=1783, epochs=240, baseline_epochs=240, batch_size=32, seeds=3,
    range_test_steps=50, rate_factors=(1 / HALF_DECADE**2, 1 / HALF_DECADE, 1.0, HALF_DECADE), grid_extensions=3,
)

PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        STUDY,
        replace(
            STUDY, name="quick", epochs=3, baseline_epochs=5, seeds=2, rate_factors=(1 / HALF_DECADE, 1.0),
            grid_extensions=0,
            description=("a first look in about 25 min: the study's data and protocol on 3 epochs a run, two rates "
                         "and 2 seeds per optimizer; far below the measured budget, so its numbers are not the study"),
        ),
        Profile(
            name="smoke",
            description="tiny data, a few seconds per notebook; used by the tests",
            synth_train=96, synth_test=24, epochs=2, baseline_epochs=1, batch_size=16, seeds=2,
            range_test_steps=20, real_data=False,
        ),
        replace(
            STUDY, name="full", seeds=5, mixed_precision=None,
            description="the study with 5 seeds and bfloat16 where the hardware computes it natively (a GPU)",
        ),
    )
}


RENAMED = {"cpu": "quick"}
"""Earlier names of profiles, so that the records of earlier runs (``runs/cpu-*``) still read."""


def current_name(name: str) -> str:
    """A profile's name today, for a name it once had (``RENAMED``); other names as they are."""
    return RENAMED.get(name, name)


def all_names(name: str) -> list[str]:
    """A profile's name and every name it once had: the prefixes of its run folders."""
    return [name, *(old for old, new in RENAMED.items() if new == name)]


def get_profile(name: str) -> Profile:
    """The profile called ``name`` (or once called it: ``RENAMED``); the error lists the known ones."""
    try:
        return PROFILES[current_name(name)]
    except KeyError:
        raise KeyError(f"unknown profile {name!r}; choose one of {', '.join(PROFILES)}") from None
