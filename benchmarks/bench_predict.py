"""Speed of keypoints on photographs, step by step, for the thesis VGG and the small baseline (untrained weights).

Prints the machine, then for a 1024x1024 JPEG holding four faces (the astronaut tiled 2x2) the time per photo and
per face of each step (decode, detect, crop, predict, second pass, draw), the throughput of many faces in one model
batch, and a webcam frame (640x480, one face) against the 33 ms frame budget. Asserts nothing. Timings on shared VMs
move by +-30-50% between runs: compare rows of one run.

    python benchmarks/bench_predict.py [--repeats 7]
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from skimage import data  # noqa: E402

from fkp_helpers.evaluation.tta import predict_with_flip_tta  # noqa: E402
from fkp_helpers.photos import (  # noqa: E402
    crop_faces,
    detect_faces,
    draw_faces,
    frames_from_boxes,
    frames_from_keypoints,
    load_cascade,
    model_predict_fn,
    read_photo,
    to_gray,
    to_photo,
)
from fkp_helpers.photos.output_files import png_bytes  # noqa: E402
from fkp_helpers.training.models import build_nouri_net, build_vgg, model_inputs  # noqa: E402

WEBCAM_BUDGET_MS = 1000 / 30


def machine() -> str:
    """CPU model, AVX-512 flags (or their absence) and the cores this process may use."""
    text = Path("/proc/cpuinfo").read_text()
    model = (re.search(r"^model name\s*:\s*(.*)$", text, re.M) or [None, "unknown CPU"])[1]
    flags = sorted({flag for flag in re.findall(r"\bavx512\w*", text)})
    return (f"{model}; {len(os.sched_getaffinity(0))} cores; "
            f"{'AVX-512: ' + ' '.join(flags) if flags else 'no AVX-512 (AVX2/FMA at best)'}")


def median_ms(function, repeats: int) -> float:
    """Median wall time of ``function()`` in ms over ``repeats`` calls, after one warm-up call."""
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def jpeg_file(rgb: np.ndarray, folder: Path, name: str) -> Path:
    """Save ``rgb`` as a quality-90 JPEG."""
    path = folder / name
    Image.fromarray(rgb).save(path, quality=90)
    return path


def step_times(path: Path, predict_fn, repeats: int, flip_tta: bool) -> dict[str, float]:
    """Median ms of each step on one photo; keys decode, detect, crop, predict, second pass, draw."""
    cascade = load_cascade()
    rgb = read_photo(path)
    gray = to_gray(rgb)
    boxes = detect_faces(gray, cascade)
    frames = frames_from_boxes(boxes)
    crops = crop_faces(gray, frames)
    predict = (lambda images: predict_with_flip_tta(predict_fn, images)) if flip_tta else predict_fn
    keypoints = to_photo(np.asarray(predict(crops), dtype=np.float64), frames)
    return {
        "faces": len(boxes),
        "decode": median_ms(lambda: to_gray(read_photo(path)), repeats),
        "detect": median_ms(lambda: detect_faces(gray, cascade), repeats),
        "crop": median_ms(lambda: crop_faces(gray, frames_from_boxes(boxes)), repeats),
        "predict": median_ms(lambda: to_photo(np.asarray(predict(crops), dtype=np.float64), frames), repeats),
        "second pass": median_ms(lambda: to_photo(np.asarray(predict(crop_faces(gray, frames_from_keypoints(keypoints))),
                                                           dtype=np.float64), frames), repeats),
        "draw": median_ms(lambda: png_bytes(draw_faces(rgb, boxes, keypoints)), repeats),
    }


def print_steps(title: str, times: dict[str, float]) -> None:
    """One line per step: ms per photo and per face."""
    faces = times["faces"]
    print(f"  {title} ({faces} faces)")
    for step, ms in times.items():
        if step != "faces":
            print(f"    {step:12s} {ms:8.1f} ms/photo {ms / max(faces, 1):8.1f} ms/face")
    print(f"    {'total':12s} {sum(v for k, v in times.items() if k != 'faces'):8.1f} ms/photo")


def batch_throughput(model, predict_fn, n_faces: int, repeats: int) -> tuple[float, float]:
    """Faces per second for ``n_faces`` crops in one batch: through ``predict_keypoints`` and calling the model."""
    crops = np.random.default_rng(0).integers(0, 256, (n_faces, 96, 96), dtype=np.uint8)
    via_predict = median_ms(lambda: predict_fn(crops), repeats)
    direct = median_ms(lambda: model(model_inputs(crops), training=False), repeats)
    return 1000 * n_faces / via_predict, 1000 * n_faces / direct


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    import tensorflow as tf

    print(f"machine: {machine()}")
    print(f"TensorFlow {tf.__version__}; median of {args.repeats} runs after a warm-up; untrained weights")
    astronaut = data.astronaut()
    webcam = np.zeros((480, 640, 3), np.uint8)
    webcam[:, 64:576] = astronaut[16:496]
    with tempfile.TemporaryDirectory() as folder:
        group = jpeg_file(np.tile(astronaut, (2, 2, 1)), Path(folder), "group.jpg")
        frame = jpeg_file(webcam, Path(folder), "webcam.jpg")
        for name, model in (("VGG (build_vgg)", build_vgg()), ("Nouri's net (build_nouri_net)", build_nouri_net())):
            predict_fn = model_predict_fn(model)
            print(f"\n{name}: {model.count_params():,} parameters")
            for flip_tta in (False, True):
                print_steps(f"1024x1024 JPEG, flip TTA {'on' if flip_tta else 'off'}",
                            step_times(group, predict_fn, args.repeats, flip_tta))
            for n_faces in (1, 8, 64, 256):
                via_predict, direct = batch_throughput(model, predict_fn, n_faces, args.repeats)
                print(f"  batch of {n_faces:3d} faces: {via_predict:7.0f} faces/s via predict_keypoints, "
                      f"{direct:7.0f} faces/s calling the model directly")
            webcam_steps = step_times(frame, predict_fn, args.repeats, flip_tta=False)
            print_steps("640x480 webcam frame, flip TTA off", webcam_steps)
            live = sum(webcam_steps[k] for k in ("detect", "crop", "predict", "second pass"))
            print(f"  webcam: detect + crop + predict + second pass = {live:.1f} ms against a {WEBCAM_BUDGET_MS:.1f} ms frame "
                  f"budget: {'fits' if live <= WEBCAM_BUDGET_MS else 'does not fit'} "
                  f"({1000 / live:.0f} frames/s on this machine)")


if __name__ == "__main__":
    main()
