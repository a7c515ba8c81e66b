"""Augmentation speed: pipeline throughput, and the cost of augmenting while the VGG trains (goal: <= 1.10x).

Run: ``python benchmarks/bench_augment.py [--images 512] [--batch-size 64] [--repeats 2]``. Random data (timing only).
Prints, never asserts: timings on shared 2-core VMs move +-30-50% between runs, so compare ratios within one run.
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from fkp_helpers.augment import AugmentedSequence, augmentation_throughput  # noqa: E402
from fkp_helpers.data import IMAGE_SIZE, N_KEYPOINTS  # noqa: E402
from fkp_helpers.training import MaskedMSE, build_vgg  # noqa: E402

MODES = {
    "none": dict(augment=False, workers=1, use_multiprocessing=False),
    "inline": dict(augment=True, workers=1, use_multiprocessing=False),
    "threads": dict(augment=True, workers=2, use_multiprocessing=False),
    "processes": dict(augment=True, workers=2, use_multiprocessing=True),
}
"""Ways to feed fit: no augmentation; augmenting in tf.data's generator thread; in 2 worker threads; in 2 processes."""


def random_faces(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random uint8 images and in-frame keypoints (no NaN), enough for timing."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    return images, rng.uniform(20, 76, (n, N_KEYPOINTS, 2)).astype(np.float32)


def compiled_vgg() -> keras.Model:
    """The thesis VGG compiled with the project's masked loss."""
    model = build_vgg()
    model.compile(optimizer=keras.optimizers.Adam(1e-4), loss=MaskedMSE(), jit_compile=False)
    return model


def epoch_seconds(model: keras.Model, images: np.ndarray, keypoints: np.ndarray, batch_size: int, **mode) -> float:
    """Wall time of one ``fit`` epoch on an AugmentedSequence in the given mode."""
    sequence = AugmentedSequence(images, keypoints, batch_size, seed=0, max_queue_size=4, **mode)
    start = time.perf_counter()
    model.fit(sequence, epochs=1, shuffle=False, verbose=0)
    return time.perf_counter() - start


def bench_pipeline(n: int, batch_size: int) -> None:
    """Print augment_batch and AugmentedSequence throughput in this process."""
    images, keypoints = random_faces(n)
    augmentation_throughput(images[:batch_size], keypoints[:batch_size], batch_size)  # warm-up
    rate = augmentation_throughput(images, keypoints, batch_size)
    print(f"augment_batch (full pipeline + flip), single process: {rate:7.0f} images/s ({n} images, batch {batch_size})")
    sequence = AugmentedSequence(images, keypoints, batch_size, seed=0)
    start = time.perf_counter()
    for index in range(len(sequence)):
        sequence[index]
    print(f"AugmentedSequence batches (incl. float conversion):  {n / (time.perf_counter() - start):7.0f} images/s")


def bench_training(n: int, batch_size: int, repeats: int, modes: list[str]) -> None:
    """Print one VGG epoch's time in each mode (order rotated each repeat, best of ``repeats``) and the ratio to none."""
    model = compiled_vgg()
    images, keypoints = random_faces(n, seed=1)
    epoch_seconds(model, images[: 4 * batch_size], keypoints[: 4 * batch_size], batch_size, **MODES["none"])
    names = ["none"] + [m for m in modes if m != "none"]
    times: dict[str, list[float]] = {name: [] for name in names}
    for repeat in range(repeats):
        for name in names[repeat % len(names):] + names[: repeat % len(names)]:  # rotate the order each repeat
            times[name].append(epoch_seconds(model, images, keypoints, batch_size, **MODES[name]))
    base = min(times["none"])
    print(f"VGG, one epoch of {n} images, batch {batch_size}, {os.cpu_count()} CPUs (best of {repeats}):")
    for name, values in times.items():
        best = min(values)
        print(f"  {name:10s} {best:6.1f} s  {n / best:6.1f} images/s  ratio {best / base:4.2f}x  "
              f"(all: {', '.join(f'{v:.1f}' for v in values)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=512, help="images in the training epoch")
    parser.add_argument("--pipeline-images", type=int, default=2048, help="images for the throughput measurement")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=2, help="epochs timed per mode (interleaved)")
    parser.add_argument("--modes", default="threads,processes",
                        help=f"comma-separated, from {', '.join(MODES)} ('none' is always timed)")
    parser.add_argument("--skip-training", action="store_true")
    args = parser.parse_args()
    unknown = set(args.modes.split(",")) - set(MODES)
    if unknown:
        parser.error(f"unknown mode(s) {', '.join(sorted(unknown))}; choose from {', '.join(MODES)}")
    bench_pipeline(args.pipeline_images, args.batch_size)
    if not args.skip_training:
        bench_training(args.images, args.batch_size, args.repeats, args.modes.split(","))


if __name__ == "__main__":
    main()
