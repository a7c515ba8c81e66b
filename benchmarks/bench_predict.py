"""Speed of keypoints on photographs, step by step, for the thesis VGG and the small baseline (untrained weights).

Prints the machine, then for a 1024x1024 JPEG holding four faces (the astronaut tiled 2x2) the time per photo and
per face of each step (decode, detect, crop, predict, second pass, draw), the throughput of many faces in one model
batch, a webcam frame (640x480, one face) against the 33 ms frame budget (detect + frame + keypoints, no flip TTA:
a frame searched by the detector, and a frame whose face is tracked from the frame before), and a 300-frame
640x480 video through ``predict_video`` (decoding and writing included) against 30 frames/s, both with a trained
model when ``--model`` names one. Asserts nothing. Timings on shared VMs move by +-30-50% between runs: compare rows
of one run.

    python benchmarks/bench_predict.py [--repeats 7] [--model runs/<run>/models/<model>.keras]
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from skimage import data  # noqa: E402

from fkp_helpers.evaluation.tta import predict_with_flip_tta  # noqa: E402
from fkp_helpers.machine import describe_machine  # noqa: E402
from fkp_helpers.photos import (  # noqa: E402
    crop_faces,
    default_detector,
    load_keypoint_model,
    detect_faces,
    draw_faces,
    frames_from_faces,
    frames_from_keypoints,
    model_predict_fn,
    read_photo,
    to_gray,
    to_photo,
)
from fkp_helpers.photos.detection import VIDEO_SMALLEST_FACE  # noqa: E402
from fkp_helpers.photos.output_files import png_bytes  # noqa: E402
from fkp_helpers.photos.prediction import compiled_call  # noqa: E402
from fkp_helpers.photos.video import FaceTracker, predict_video  # noqa: E402
from fkp_helpers.training.models import build_nouri_net, build_vgg, model_inputs  # noqa: E402

WEBCAM_BUDGET_MS = 1000 / 30


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
    detector = default_detector()
    rgb = read_photo(path)
    gray = to_gray(rgb)
    faces = detect_faces(rgb, detector)
    boxes, frames = faces.boxes, frames_from_faces(faces)
    crops = crop_faces(gray, frames)
    predict = (lambda images: predict_with_flip_tta(predict_fn, images)) if flip_tta else predict_fn
    keypoints = to_photo(np.asarray(predict(crops), dtype=np.float64), frames)
    return {
        "faces": len(boxes),
        "decode": median_ms(lambda: to_gray(read_photo(path)), repeats),
        "detect": median_ms(lambda: detect_faces(rgb, detector), repeats),
        "crop": median_ms(lambda: crop_faces(gray, frames_from_faces(faces)), repeats),
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
    """Faces per second for ``n_faces`` crops in one batch: through ``predict_keypoints`` and the compiled direct call."""
    crops = np.random.default_rng(0).integers(0, 256, (n_faces, 96, 96), dtype=np.uint8)
    via_predict = median_ms(lambda: predict_fn(crops), repeats)
    call = compiled_call(model)
    direct = median_ms(lambda: call(model_inputs(crops)), repeats)
    return 1000 * n_faces / via_predict, 1000 * n_faces / direct


def webcam_frame(rgb: np.ndarray, predict_fn, repeats: int) -> None:
    """Median ms of a 640x480 frame through the tracker, searched by the detector and tracked, per step."""
    detector = default_detector()
    searched = FaceTracker(detector, predict_fn, redetect_every=1)
    tracked = FaceTracker(detector, predict_fn)
    tracked(rgb)
    gray = to_gray(rgb)
    faces = detect_faces(rgb, detector, VIDEO_SMALLEST_FACE)
    steps = {"to grey": median_ms(lambda: to_gray(rgb), repeats),
             "detect (video levels)": median_ms(lambda: detect_faces(rgb, detector, VIDEO_SMALLEST_FACE), repeats),
             "frame + crop": median_ms(lambda: crop_faces(gray, frames_from_faces(faces)), repeats),
             "keypoints (1 face)": median_ms(lambda: predict_fn(crop_faces(gray, frames_from_faces(faces))), repeats)}
    print("  640x480 webcam frame, one face, flip TTA off")
    for step, ms in steps.items():
        print(f"    {step:24s} {ms:7.1f} ms")
    for name, tracker in (("searched by the detector", searched), ("tracked from the frame before", tracked)):
        ms = median_ms(lambda: tracker(rgb), repeats)
        print(f"    frame {name:40s} {ms:7.1f} ms against {WEBCAM_BUDGET_MS:.1f} ms: "
              f"{'fits' if ms <= WEBCAM_BUDGET_MS else 'does not fit'} ({1000 / ms:.0f} frames/s)")


def video_throughput(rgb: np.ndarray, predict_fn, folder: Path, frames: int = 300) -> None:
    """Frames per second of ``predict_video`` on a ``frames``-frame 640x480 MP4 of ``rgb`` drifting sideways."""
    path = folder / "drift.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30, (rgb.shape[1], rgb.shape[0]))
    for index in range(frames):
        writer.write(cv2.cvtColor(np.roll(rgb, int(20 * np.sin(index / 15)), axis=1), cv2.COLOR_RGB2BGR))
    writer.release()
    start = time.perf_counter()
    done = predict_video(path, FaceTracker(default_detector(), predict_fn), folder / f"out-{time.monotonic_ns()}")
    seconds = time.perf_counter() - start
    print(f"  {done['frames']}-frame 640x480 video (decode, track, draw, encode MP4, CSV): {seconds:.1f} s, "
          f"{done['frames'] / seconds:.0f} frames/s against 30 ({done['face_rows']} face rows)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--model", type=Path, help="a trained .keras model for the webcam frame and the video")
    args = parser.parse_args()
    import tensorflow as tf

    print(f"machine: {describe_machine()}")
    print(f"TensorFlow {tf.__version__}; median of {args.repeats} runs after a warm-up; untrained weights")
    astronaut = data.astronaut()
    webcam = np.zeros((480, 640, 3), np.uint8)
    webcam[:, 64:576] = astronaut[16:496]
    with tempfile.TemporaryDirectory() as folder:
        group = jpeg_file(np.tile(astronaut, (2, 2, 1)), Path(folder), "group.jpg")
        for name, model in (("VGG (build_vgg)", build_vgg()), ("Nouri's net (build_nouri_net)", build_nouri_net())):
            predict_fn = model_predict_fn(model)
            print(f"\n{name}: {model.count_params():,} parameters")
            for flip_tta in (False, True):
                print_steps(f"1024x1024 JPEG, flip TTA {'on' if flip_tta else 'off'}",
                            step_times(group, predict_fn, args.repeats, flip_tta))
            for n_faces in (1, 8, 64, 256):
                via_predict, direct = batch_throughput(model, predict_fn, n_faces, args.repeats)
                print(f"  batch of {n_faces:3d} faces: {via_predict:7.0f} faces/s via predict_keypoints, "
                      f"{direct:7.0f} faces/s calling the compiled model directly")
        model = load_keypoint_model(args.model) if args.model else build_nouri_net()
        print(f"\nA webcam frame and a video with {args.model or 'an untrained Nouri net'}"
              f"{'' if args.model else ': its keypoints are not a face, so tracking drops it (pass --model)'}")
        predict_fn = model_predict_fn(model)
        webcam_frame(webcam, predict_fn, args.repeats)
        video_throughput(webcam, predict_fn, Path(folder))


if __name__ == "__main__":
    main()
