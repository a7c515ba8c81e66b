"""Data augmentation for faces with keypoints: imgaug pipelines, a label-swapping horizontal flip, a Keras input pipeline.

Coordinates. The public API uses Kaggle's pixel-index convention (the centre of pixel column ``i`` is at ``x = i``, the
frame spans ``-0.5 .. 95.5``, a mirror is ``x -> 95 - x``). imgaug puts pixel centres at ``i + 0.5`` (its ``Fliplr``
maps ``x -> W - x``), so :func:`apply_augmenter` adds 0.5 before handing keypoints to imgaug and subtracts 0.5 after.

Horizontal flip. Done here with numpy (``image[:, ::-1]`` and
:func:`fkp_helpers.data.keypoints.flip_keypoints_horizontally`), outside imgaug, so that every flipped sample is known
and gets its left/right labels swapped. :func:`naive_flip` (mirror without the swap) exists only to show the bug.
Vertical flips are not offered for training: :func:`demo_vertical_flip` exists only to show why.

Missing and lost keypoints. imgaug cannot move NaN, so a missing keypoint is replaced by a placeholder for the
transform and set back to NaN afterwards: missing stays missing. A keypoint that a transform moves outside the frame
(outside ``-0.5 .. 95.5`` on either axis) becomes NaN (missing) rather than being clipped, because a clipped label
would teach the network a wrong position, while a missing one is simply masked out of the loss.

Repeatability. Every random choice comes from a ``numpy.random.Generator`` given by the caller: the augmenter is
re-seeded with ``seed_`` from it for each batch (``Sequential(..., seed=1)`` alone is not repeatable).
Augmentation runs on uint8 images (``LinearContrast`` on float images centres at 0 and overshoots).

Training uses :class:`AugmentedSequence` (a ``keras.utils.PyDataset``). The checks notebook 02 shows live in
``augment_checks``.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import imgaug.augmenters as iaa
import keras
import numpy as np
from imgaug.augmentables.kps import KeypointsOnImage

from fkp_helpers.data.keypoints import IMAGE_SIZE, flip_keypoints_horizontally, mirror_x, to_coordinate_array

IMGAUG_OFFSET = 0.5
"""Added to our pixel-index coordinates to get imgaug's (pixel centres at ``i + 0.5``); subtracted on the way back."""

FRAME_MIN, FRAME_MAX = -0.5, IMAGE_SIZE - 0.5
"""The frame in our convention; a keypoint moved outside it becomes NaN."""

SINGLE_AUGMENTERS: tuple[str, ...] = ("contrast", "blur", "contrast_blur", "brightness", "rotate", "scale",
                                      "rotate_scale", "translate")
"""Names :func:`single_augmenter` accepts (the flip is separate: :func:`flip_horizontally`)."""

SeedLike = int | np.random.Generator | np.random.SeedSequence | None


@dataclass(frozen=True)
class AugmentConfig:
    """Ranges of the augmentation pipeline (defaults: the thesis's augmenters plus the usual geometric ones)."""

    contrast: tuple[float, float] = (0.6, 1.5)
    """LinearContrast factor range."""
    blur_sigma: tuple[float, float] = (0.0, 2.0)
    """GaussianBlur sigma range."""
    blur_probability: float = 0.5
    """Share of images that get blurred at all."""
    brightness: tuple[int, int] = (-25, 25)
    """Grey levels added to every pixel."""
    rotate_degrees: float = 15.0
    """Rotation about the image centre, uniform in +-this."""
    scale: tuple[float, float] = (0.8, 1.2)
    """Zoom factor range about the image centre."""
    translate_fraction: float = 0.05
    """Shift, uniform in +-this fraction of the image size on each axis."""
    flip_probability: float = 0.5
    """Share of images mirrored horizontally (with the left/right label swap)."""
    fill_mode: str = "edge"
    """How the affine transform fills pixels it uncovers (imgaug ``mode``)."""


def _affine(config: AugmentConfig, rotate: bool = True, scale: bool = True, translate: bool = True) -> iaa.Augmenter:
    """An imgaug Affine with the chosen parts of the config's geometry (the others held at identity)."""
    shift = config.translate_fraction if translate else 0.0
    return iaa.Affine(
        rotate=(-config.rotate_degrees, config.rotate_degrees) if rotate else 0.0,
        scale=config.scale if scale else 1.0,
        translate_percent={"x": (-shift, shift), "y": (-shift, shift)},
        order=1,
        mode=config.fill_mode,
    )


def _photometric(name: str, config: AugmentConfig) -> iaa.Augmenter:
    """One photometric augmenter of the pipeline: 'contrast', 'blur' or 'brightness'."""
    if name == "contrast":
        return iaa.LinearContrast(config.contrast)
    if name == "blur":
        return iaa.Sometimes(config.blur_probability, iaa.GaussianBlur(sigma=config.blur_sigma))
    if name == "brightness":
        return iaa.Add(config.brightness)
    raise KeyError(f"unknown photometric augmenter {name!r}; expected contrast, blur or brightness")


def single_augmenter(name: str, config: AugmentConfig | None = None) -> iaa.Augmenter:
    """One augmenter of the pipeline alone (a name from ``SINGLE_AUGMENTERS``), for per-augmenter figures and checks."""
    config = config or AugmentConfig()
    geometric = {
        "rotate": dict(scale=False, translate=False),
        "scale": dict(rotate=False, translate=False),
        "rotate_scale": dict(translate=False),
        "translate": dict(rotate=False, scale=False),
    }
    if name in geometric:
        return _affine(config, **geometric[name])
    if name == "contrast_blur":
        return iaa.Sequential([_photometric("contrast", config), _photometric("blur", config)])
    if name in SINGLE_AUGMENTERS:
        return _photometric(name, config)
    raise KeyError(f"unknown augmenter {name!r}; expected one of {', '.join(SINGLE_AUGMENTERS)}")


def build_augmenter(config: AugmentConfig | None = None) -> iaa.Augmenter:
    """The full imgaug pipeline (contrast, blur, brightness, one affine); the horizontal flip is not in it."""
    config = config or AugmentConfig()
    return iaa.Sequential([_photometric(n, config) for n in ("contrast", "blur", "brightness")] + [_affine(config)])


def _check_batch(images: np.ndarray, keypoints: np.ndarray) -> None:
    """Raise ValueError unless images are (N, H, W) uint8 and keypoints (N, K, 2) for the same N."""
    if images.dtype != np.uint8 or images.ndim != 3:
        raise ValueError(f"expected (N, H, W) uint8 images, got {images.dtype} array of shape {images.shape}")
    if keypoints.ndim != 3 or keypoints.shape[0] != images.shape[0] or keypoints.shape[2] != 2:
        raise ValueError(f"expected ({images.shape[0]}, K, 2) keypoints for {images.shape[0]} images, "
                         f"got shape {keypoints.shape}")


def drop_out_of_frame(keypoints: np.ndarray, low: float = FRAME_MIN, high: float = FRAME_MAX) -> np.ndarray:
    """Set keypoints with either coordinate outside ``low .. high`` to NaN (both coordinates), never clipping."""
    result = np.array(keypoints, dtype=np.float32, copy=True)
    with np.errstate(invalid="ignore"):
        outside = ((result < low) | (result > high)).any(axis=-1)
    result[outside] = np.nan
    return result


def seed_from(rng: np.random.Generator) -> int:
    """A seed for imgaug's ``seed_`` drawn from ``rng``."""
    return int(rng.integers(0, 2**31 - 1))


def apply_augmenter(
    augmenter: iaa.Augmenter, images: np.ndarray, keypoints: np.ndarray, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Run an imgaug augmenter (re-seeded with ``seed``) on uint8 images and NaN-aware pixel-index keypoints."""
    images, keypoints = np.asarray(images), np.asarray(keypoints, dtype=np.float32)
    _check_batch(images, keypoints)
    missing = np.isnan(keypoints).any(axis=-1)
    placeholder = np.where(missing[..., None], (images.shape[2] - 1) / 2, keypoints) + IMGAUG_OFFSET
    on_images = [KeypointsOnImage.from_xy_array(xy, shape=image.shape) for xy, image in zip(placeholder, images)]
    augmenter.seed_(seed)
    images_aug, on_images_aug = augmenter(images=images, keypoints=on_images)
    moved = np.stack([k.to_xy_array() for k in on_images_aug]).astype(np.float32) - IMGAUG_OFFSET
    moved[missing] = np.nan
    return np.asarray(images_aug, dtype=np.uint8), drop_out_of_frame(moved)


def flip_horizontally(images: np.ndarray, keypoints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mirror every image and its keypoints horizontally, swapping the left/right labels (the correct flip)."""
    return np.ascontiguousarray(np.asarray(images)[:, :, ::-1]), flip_keypoints_horizontally(
        keypoints, np.asarray(images).shape[2]).astype(np.float32)


def naive_flip(images: np.ndarray, keypoints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mirror images and keypoint x WITHOUT swapping labels: the common bug, kept only to show it."""
    flipped = np.array(keypoints, dtype=np.float32, copy=True)
    flipped[..., 0] = mirror_x(flipped[..., 0], np.asarray(images).shape[2])
    return np.ascontiguousarray(np.asarray(images)[:, :, ::-1]), flipped


def demo_vertical_flip(images: np.ndarray, keypoints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Upside-down faces (mirror y); NOT for training: such faces never occur, shown in notebook 02 to say why."""
    flipped = np.array(keypoints, dtype=np.float32, copy=True)
    flipped[..., 1] = (np.asarray(images).shape[1] - 1) - flipped[..., 1]
    return np.ascontiguousarray(np.asarray(images)[:, ::-1, :]), flipped


def naive_flip_rmse(keypoints: np.ndarray) -> float:
    """RMSE (px, over all labelled coordinates) between the naively and the correctly flipped targets."""
    keypoints = np.asarray(keypoints, dtype=np.float32)
    blank = np.zeros((len(keypoints), IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    difference = naive_flip(blank, keypoints)[1] - flip_horizontally(blank, keypoints)[1]
    return float(np.sqrt(np.nanmean(difference**2)))


def random_flip(
    images: np.ndarray, keypoints: np.ndarray, rng: np.random.Generator, probability: float = 0.5
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flip each sample correctly with ``probability``; returns images, keypoints and the boolean mask of flipped."""
    images, keypoints = np.array(images, copy=True), np.array(keypoints, dtype=np.float32, copy=True)
    flipped = rng.random(len(images)) < probability
    if flipped.any():
        images[flipped], keypoints[flipped] = flip_horizontally(images[flipped], keypoints[flipped])
    return images, keypoints, flipped


def augment_batch(
    images: np.ndarray, keypoints: np.ndarray, rng: SeedLike = None, config: AugmentConfig | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Augment a batch: random correct flip, then the imgaug pipeline; uint8 images and float32 NaN-aware keypoints."""
    config, rng = config or AugmentConfig(), np.random.default_rng(rng)
    _check_batch(np.asarray(images), np.asarray(keypoints))
    images, keypoints, _ = random_flip(images, keypoints, rng, config.flip_probability)
    return apply_augmenter(build_augmenter(config), images, keypoints, seed_from(rng))


def to_model_arrays(images: np.ndarray, keypoints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Model inputs and targets: x float32 (N, 96, 96, 1) in [0, 1], y float32 (N, 30) in pixels, NaN for missing."""
    x = np.asarray(images, dtype=np.float32)[..., None] / 255.0
    return x, to_coordinate_array(np.asarray(keypoints, dtype=np.float32))


class AugmentedSequence(keras.utils.PyDataset):
    """Keras input pipeline: batches augmented afresh each epoch, deterministic for (seed, epoch, batch index).

    ``augment=False`` (validation) yields the data unchanged and, unless ``shuffle=True``, in order. Extra keyword
    arguments (``workers``, ``use_multiprocessing``, ``max_queue_size``) go to ``keras.utils.PyDataset``.
    The epoch comes from ``set_epoch`` (``fkp_helpers.training.reproducibility.EpochSeeds`` calls it at each epoch start, before Keras
    starts its workers); without it, ``on_epoch_end`` advances it (Keras 3.15's ``fit`` also calls that once before
    the first epoch, so fit's epoch k then draws epoch k + 1: still repeatable). Pass ``shuffle=False`` to
    ``Model.fit``: this sequence shuffles itself, repeatably.
    """

    def __init__(
        self,
        images: np.ndarray,
        keypoints: np.ndarray,
        batch_size: int = 32,
        *,
        augment: bool = True,
        shuffle: bool | None = None,
        seed: int = 0,
        config: AugmentConfig | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.images, self.keypoints = np.asarray(images), np.asarray(keypoints, dtype=np.float32)
        _check_batch(self.images, self.keypoints)
        self.batch_size, self.augment, self.seed = batch_size, augment, seed
        self.shuffle = augment if shuffle is None else shuffle
        self.config = config or AugmentConfig()
        self.epoch = 0

    def __len__(self) -> int:
        """Number of batches an epoch."""
        return math.ceil(len(self.images) / self.batch_size)

    @property
    def num_samples(self) -> int:
        """Number of images an epoch."""
        return len(self.images)

    def set_epoch(self, epoch: int) -> None:
        """Draw the order and augmentations of ``epoch`` from now on."""
        self.epoch = int(epoch)

    def batch_indices(self, index: int) -> np.ndarray:
        """Rows of batch ``index`` in the current epoch (a fresh deterministic permutation each epoch if shuffling)."""
        n = len(self.images)
        order = np.random.default_rng([self.seed, self.epoch]).permutation(n) if self.shuffle else np.arange(n)
        return order[index * self.batch_size:(index + 1) * self.batch_size]

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Batch ``index``: x float32 (B, 96, 96, 1) in [0, 1], y float32 (B, 30) in pixels with NaN for missing."""
        if not 0 <= index < len(self):
            raise IndexError(f"batch index {index} out of range for {len(self)} batches")
        rows = self.batch_indices(index)
        images, keypoints = self.images[rows], self.keypoints[rows]
        if self.augment:
            images, keypoints = augment_batch(images, keypoints, [self.seed, self.epoch, index], self.config)
        return to_model_arrays(images, keypoints)

    def on_epoch_end(self) -> None:
        """Advance the epoch counter so the next epoch gets new augmentations (and a new order)."""
        self.epoch += 1


def augmentation_throughput(
    images: np.ndarray, keypoints: np.ndarray, batch_size: int = 64, config: AugmentConfig | None = None, seed: int = 0
) -> float:
    """Images per second of :func:`augment_batch` in this process, over all of ``images`` in batches."""
    start = time.perf_counter()
    for i, lo in enumerate(range(0, len(images), batch_size)):
        augment_batch(images[lo:lo + batch_size], keypoints[lo:lo + batch_size], [seed, i], config)
    return len(images) / (time.perf_counter() - start)
