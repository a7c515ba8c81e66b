"""FKP-synth: a stand-in for the Kaggle data, written in Kaggle's exact file format.

Keypoint geometry comes from the shape model fitted to the real labels (``synth_model.py``). Each face is drawn so
that every keypoint sits on a visible feature: pupils at the eye centres, eye corners at the ends of the eye shapes,
eyebrow ends at the ends of the brow strokes, the nose tip at the bottom of the nose, mouth corners and lip centres on
the mouth outline. Labels get a recorded Gaussian jitter (``label_noise_px``), so the best achievable RMSE is known.
"""
from __future__ import annotations

import io
import json
import multiprocessing
import os
import zipfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from fkp_helpers.data.kaggle_io import (
    encode_lookup_table,
    encode_submission,
    encode_test_csv,
    encode_training_csv,
    write_atomically,
    write_zipped_csv,
)
from fkp_helpers.data.keypoints import ALWAYS_LABELLED_INDEX, IMAGE_SIZE, keypoint_index
from fkp_helpers.data.synth_model import SynthModel, load_synth_model

RENDER_CHUNK = 250
TRUTH_FILE = "fkp_synth_truth.npz"
INFO_FILE = "fkp_synth.json"
_GRID_Y, _GRID_X = np.mgrid[0:IMAGE_SIZE, 0:IMAGE_SIZE].astype(np.float32)
_K = {name: keypoint_index(name) for name in (
    "left_eye_center", "right_eye_center", "left_eye_inner_corner", "left_eye_outer_corner",
    "right_eye_inner_corner", "right_eye_outer_corner", "left_eyebrow_inner_end", "left_eyebrow_outer_end",
    "right_eyebrow_inner_end", "right_eyebrow_outer_end", "nose_tip", "mouth_left_corner", "mouth_right_corner",
    "mouth_center_top_lip", "mouth_center_bottom_lip",
)}


@dataclass(frozen=True)
class FaceStyle:
    """Appearance of one face: intensities in 0..255, a lighting gradient, blur, noise and an optional occluder."""

    skin: float = 150.0
    background: float = 60.0
    background_gradient: float = 20.0
    light_angle: float = 0.0
    light_strength: float = 0.0
    contrast: float = 1.0
    blur_sigma: float = 0.0
    noise_sd: float = 0.0
    occluder: tuple[float, float, float, float, float] | None = None
    """(centre x, centre y, half width, half height, grey value) of a rectangle drawn over the face."""


def sample_style(rng: np.random.Generator) -> FaceStyle:
    """A random appearance: skin tone, background, lighting, contrast, blur, noise, sometimes an occluder."""
    occluder = None
    if rng.random() < 0.06:
        occluder = (rng.uniform(10, 86), rng.uniform(55, 90), rng.uniform(6, 16), rng.uniform(4, 10), rng.uniform(20, 230))
    return FaceStyle(
        skin=rng.uniform(95, 205),
        background=rng.uniform(15, 235),
        background_gradient=rng.uniform(-40, 40),
        light_angle=rng.uniform(0, 2 * np.pi),
        light_strength=rng.uniform(0, 45),
        contrast=rng.uniform(0.6, 1.25),
        blur_sigma=rng.uniform(0, 1.0) if rng.random() < 0.6 else 0.0,
        noise_sd=rng.uniform(1, 8),
        occluder=occluder,
    )


# ------------------------------------------------------------------------------------------------------- primitives
def _coverage(signed_distance: np.ndarray) -> np.ndarray:
    """Anti-aliased coverage (0..1) of a shape from its signed distance in pixels (negative inside)."""
    return np.clip(0.5 - signed_distance, 0.0, 1.0)


def _frame(origin: np.ndarray, along: np.ndarray, x=_GRID_X, y=_GRID_Y) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates (u, v) of ``(x, y)`` (default: every pixel) in a frame at ``origin`` with unit u-axis ``along``
    and v-axis 90 degrees clockwise."""
    along = along / np.linalg.norm(along)
    dx, dy = x - origin[0], y - origin[1]
    return dx * along[0] + dy * along[1], -dx * along[1] + dy * along[0]


def _ellipse_distance(centre: np.ndarray, along: np.ndarray, a: float, b: float) -> np.ndarray:
    """Approximate signed distance (px) to an ellipse with semi-axes ``a`` along ``along`` and ``b`` across it."""
    u, v = _frame(centre, along)
    r = np.sqrt((u / a) ** 2 + (v / b) ** 2) + 1e-6
    gradient = np.sqrt((u / a**2) ** 2 + (v / b**2) ** 2) / r + 1e-6
    return (r - 1.0) / gradient


def _disk_distance(centre: np.ndarray, radius: float) -> np.ndarray:
    return np.hypot(_GRID_X - centre[0], _GRID_Y - centre[1]) - radius


def _stroke_distance(start: np.ndarray, end: np.ndarray, half_width: float) -> np.ndarray:
    """Signed distance to a straight stroke with square ends exactly at ``start`` and ``end``."""
    length = float(np.linalg.norm(end - start))
    u, v = _frame(start, end - start)
    return np.maximum(np.abs(v) - half_width, np.maximum(-u, u - length))


def _lips_distance(left: np.ndarray, right: np.ndarray, top: np.ndarray, bottom: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Signed distances to the lips region and to the line between the lips.

    The upper outline runs corner - top-lip centre - corner and the lower corner - bottom-lip centre - corner, each
    a pair of parabolic arcs with its apex exactly on the lip keypoint.
    """
    origin = (left + right) / 2
    u, v = _frame(origin, left - right)
    half = float(np.linalg.norm(left - right)) / 2

    def arc(point: np.ndarray) -> np.ndarray:
        pu, pv = _frame(origin, left - right, *point)
        pu = float(np.clip(pu, -0.6 * half, 0.6 * half))
        span = np.where(u >= pu, half - pu, half + pu)
        return pv * np.clip(1.0 - ((u - pu) / span) ** 2, 0.0, 1.0)

    upper, lower = arc(top), arc(bottom)
    lower = np.maximum(lower, upper + 1.2)
    inside = np.maximum(np.maximum(upper - v, v - lower), np.abs(u) - half)
    parting = np.maximum(np.abs(v - (upper + lower) / 2) - 0.6, np.abs(u) - half)
    return inside, parting


def _paint(canvas: np.ndarray, coverage: np.ndarray, value: float | np.ndarray) -> None:
    canvas *= 1.0 - coverage
    canvas += coverage * value


def _gaussian_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur as two small matrix products (edges renormalised)."""
    if sigma <= 0.05:
        return image
    offsets = np.arange(IMAGE_SIZE)
    kernel = np.exp(-0.5 * ((offsets[:, None] - offsets[None, :]) / sigma) ** 2)
    kernel /= kernel.sum(axis=1, keepdims=True)
    return kernel @ image @ kernel.T


# ------------------------------------------------------------------------------------------------------------ a face
def render_face(keypoints: np.ndarray, style: FaceStyle = FaceStyle(), rng: np.random.Generator | None = None) -> np.ndarray:
    """Draw a 96x96 uint8 face whose features sit exactly on the 15 ``keypoints`` (pixel-index coordinates)."""
    k = {name: np.asarray(keypoints[i], dtype=np.float32) for name, i in _K.items()}
    eye_mid = (k["left_eye_center"] + k["right_eye_center"]) / 2
    across = k["left_eye_center"] - k["right_eye_center"]
    iod = float(np.linalg.norm(across))
    down = np.array([-across[1], across[0]]) / iod
    skin = style.skin

    canvas = style.background + style.background_gradient * (_GRID_Y / IMAGE_SIZE - 0.5)
    head_centre = eye_mid + down * 0.45 * iod
    _paint(canvas, _coverage(_ellipse_distance(head_centre, across, 1.2 * iod, 1.55 * iod)), skin)
    _paint(canvas, _coverage(_ellipse_distance(eye_mid - down * 1.05 * iod, across, 1.25 * iod, 0.5 * iod)), 0.35 * skin)  # hair

    for side in ("left", "right"):
        inner, outer = k[f"{side}_eye_inner_corner"], k[f"{side}_eye_outer_corner"]
        half = max(float(np.linalg.norm(outer - inner)) / 2, 1.5)
        eye = _ellipse_distance((inner + outer) / 2, outer - inner, half, 0.45 * half)
        _paint(canvas, _coverage(eye + 0.8), min(skin + 70, 250))  # sclera
        iris = _coverage(_disk_distance(k[f"{side}_eye_center"], 0.42 * half)) * _coverage(eye + 0.8)
        _paint(canvas, iris, 0.3 * skin)
        _paint(canvas, _coverage(_disk_distance(k[f"{side}_eye_center"], 0.2 * half + 0.6)), 10.0)  # pupil
        _paint(canvas, _coverage(np.abs(eye) - 0.6), 0.4 * skin)  # eyelid outline, ends at the corners
        brow = _stroke_distance(k[f"{side}_eyebrow_inner_end"], k[f"{side}_eyebrow_outer_end"], 1.3)
        _paint(canvas, _coverage(brow), 0.3 * skin)

    tip = k["nose_tip"]
    bridge_top = eye_mid + down * 0.25 * iod
    _paint(canvas, 0.35 * _coverage(_stroke_distance(bridge_top, tip - down * 0.25 * iod, 0.06 * iod)), 0.8 * skin)
    nostril_offset = across / iod * 0.17 * iod
    for sign in (-1, 1):
        _paint(canvas, _coverage(_disk_distance(tip - down * 0.07 * iod + sign * nostril_offset, 0.07 * iod + 0.4)), 0.35 * skin)
    _paint(canvas, _coverage(_disk_distance(tip - down * 1.3, 1.6)), min(skin + 55, 250))  # highlight above the tip
    _paint(canvas, _coverage(_ellipse_distance(tip + down * 0.9, across, 0.13 * iod + 1, 0.7)), 0.45 * skin)  # shadow under it

    lips, parting = _lips_distance(k["mouth_left_corner"], k["mouth_right_corner"], k["mouth_center_top_lip"], k["mouth_center_bottom_lip"])
    _paint(canvas, _coverage(lips), 0.55 * skin)
    _paint(canvas, _coverage(parting), 0.2 * skin)

    if style.occluder is not None:
        cx, cy, hw, hh, value = style.occluder
        box = np.maximum(np.abs(_GRID_X - cx) - hw, np.abs(_GRID_Y - cy) - hh)
        _paint(canvas, _coverage(box), value)
    lighting = style.light_strength * (
        np.cos(style.light_angle) * (_GRID_X / IMAGE_SIZE - 0.5) + np.sin(style.light_angle) * (_GRID_Y / IMAGE_SIZE - 0.5)
    )
    image = _gaussian_blur(canvas + lighting, style.blur_sigma)
    image = 128.0 + style.contrast * (image - 128.0)
    if style.noise_sd > 0:
        image = image + (rng or np.random.default_rng(0)).normal(0.0, style.noise_sd, image.shape)
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------------------------------------- a dataset
@dataclass(frozen=True)
class SynthSpec:
    """What to generate: sizes, seed, label jitter and the share of exact duplicate training images."""

    n_train: int = 7049
    n_test: int = 1783
    seed: int = 0
    label_noise_px: float = 1.0
    duplicate_fraction: float = 0.01


def _acceptable(shapes: np.ndarray, margin: float = 1.0, min_lip_gap: float = 2.0) -> np.ndarray:
    """Rows whose keypoints all lie inside the frame and whose bottom lip is clearly below the top lip."""
    inside = ((shapes >= margin) & (shapes <= IMAGE_SIZE - 1 - margin)).all(axis=(1, 2))
    across = shapes[:, _K["left_eye_center"]] - shapes[:, _K["right_eye_center"]]
    down = np.stack([-across[:, 1], across[:, 0]], axis=1) / np.linalg.norm(across, axis=1, keepdims=True)
    lip_gap = ((shapes[:, _K["mouth_center_bottom_lip"]] - shapes[:, _K["mouth_center_top_lip"]]) * down).sum(axis=1)
    return inside & (lip_gap >= min_lip_gap)


def sample_keypoints(model: SynthModel, rng: np.random.Generator, complete: np.ndarray) -> np.ndarray:
    """True keypoints for each row, redrawn until every face is acceptable (inside the frame, lips in order)."""
    shapes = model.sample_shapes(rng, complete)
    bad = ~_acceptable(shapes)
    while bad.any():
        shapes[bad] = model.sample_shapes(rng, complete[bad])
        bad = ~_acceptable(shapes)
    return shapes


def _render_chunk(shapes: np.ndarray, styles: list[FaceStyle], noise_seeds: np.ndarray) -> np.ndarray:
    return np.stack([render_face(k, st, np.random.default_rng(seed)) for k, st, seed in zip(shapes, styles, noise_seeds)])


def _render_all(shapes: np.ndarray, rng: np.random.Generator, desc: str, progress: bool, workers: int) -> np.ndarray:
    """Render every face; styles and noise seeds are drawn up front, so the result does not depend on ``workers``."""
    styles = [sample_style(rng) for _ in range(len(shapes))]
    noise_seeds = rng.integers(0, 2**63, size=len(shapes))
    chunks = [slice(i, i + RENDER_CHUNK) for i in range(0, len(shapes), RENDER_CHUNK)]
    bar = tqdm(total=len(shapes), desc=desc, disable=not progress, mininterval=1.0)
    parts = []
    if workers > 1 and len(chunks) > 1:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            for part in pool.map(_render_chunk, *zip(*[(shapes[c], styles[c], noise_seeds[c]) for c in chunks])):
                parts.append(part)
                bar.update(len(part))
    else:
        for c in chunks:
            parts.append(_render_chunk(shapes[c], styles[c], noise_seeds[c]))
            bar.update(len(parts[-1]))
    bar.close()
    return np.concatenate(parts) if parts else np.empty((0, IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)


def _jitter(shapes: np.ndarray, rng: np.random.Generator, sd: float) -> np.ndarray:
    labels = shapes + rng.normal(0.0, sd, shapes.shape)
    return np.clip(labels, 0.0, float(IMAGE_SIZE))


def _pose_angle_deg(shapes: np.ndarray) -> np.ndarray:
    across = shapes[:, _K["left_eye_center"]] - shapes[:, _K["right_eye_center"]]
    return np.degrees(np.arctan2(across[:, 1], across[:, 0]))


def lookup_frame(feature_sets: list[list[str]], image_ids: np.ndarray) -> pd.DataFrame:
    """Kaggle's lookup table: one row per (test image, feature it asks for), RowIds 1..n in order."""
    rows = [(image_id, feature) for image_id, features in zip(image_ids, feature_sets) for feature in features]
    frame = pd.DataFrame(rows, columns=["ImageId", "FeatureName"])
    frame.insert(0, "RowId", np.arange(1, len(frame) + 1))
    return frame


def generate_fkp_synth(
    out_dir: str | os.PathLike, spec: SynthSpec = SynthSpec(), progress: bool = True, workers: int | None = None
) -> Path:
    """Write ``training.zip``, ``test.zip``, ``IdLookupTable.csv``, ``SampleSubmission.csv`` and the hidden truth.

    Deterministic for ``spec.seed`` (whatever ``workers``, which defaults to the CPU count). Files already in
    ``out_dir`` are never overwritten: the call refuses instead.
    """
    workers = workers or os.cpu_count() or 1
    out_dir = Path(out_dir)
    names = ("training.zip", "test.zip", "IdLookupTable.csv", "SampleSubmission.csv", TRUTH_FILE, INFO_FILE)
    existing = [n for n in names if (out_dir / n).exists()]
    if existing:
        raise FileExistsError(f"{out_dir} already holds {', '.join(existing)}; refusing to overwrite")
    model = load_synth_model()
    rng = np.random.default_rng(spec.seed)

    patterns = model.sample_patterns(rng, spec.n_train)
    train_complete = patterns.sum(axis=1) > len(ALWAYS_LABELLED_INDEX)
    train_true = sample_keypoints(model, rng, train_complete)
    train_images = _render_all(train_true, rng, "FKP-synth training faces", progress, workers)
    n_dup = int(round(spec.duplicate_fraction * spec.n_train))
    if n_dup and spec.n_train > 1:
        copies = rng.choice(spec.n_train, size=n_dup, replace=False)
        sources = (copies + rng.integers(1, spec.n_train, size=n_dup)) % spec.n_train
        train_images[copies], train_true[copies] = train_images[sources], train_true[sources]
    train_labels = _jitter(train_true, rng, spec.label_noise_px)
    train_labels[~patterns] = np.nan

    feature_sets = model.sample_lookup_sets(rng, spec.n_test)
    test_complete = np.array([len(s) > 2 * len(ALWAYS_LABELLED_INDEX) for s in feature_sets])
    test_true = sample_keypoints(model, rng, test_complete)
    test_images = _render_all(test_true, rng, "FKP-synth test faces", progress, workers)
    test_labels = _jitter(test_true, rng, spec.label_noise_px)
    image_ids = np.arange(1, spec.n_test + 1)
    lookup = lookup_frame(feature_sets, image_ids)

    write_zipped_csv(out_dir / "training.zip", "training.csv", encode_training_csv(train_images, train_labels))
    write_zipped_csv(out_dir / "test.zip", "test.csv", encode_test_csv(image_ids, test_images))
    write_atomically(out_dir / "IdLookupTable.csv", encode_lookup_table(lookup))
    write_atomically(out_dir / "SampleSubmission.csv", encode_submission(lookup["RowId"].to_numpy(), np.zeros(len(lookup))))
    write_truth(out_dir / TRUTH_FILE, train_true, train_images, test_true, test_labels, test_images, image_ids)
    write_atomically(out_dir / INFO_FILE, (json.dumps({"generator": "FKP-synth", **asdict(spec)}, indent=1) + "\n").encode())
    return out_dir


def write_truth(path: Path, train_true: np.ndarray, train_images: np.ndarray, test_true: np.ndarray,
                test_labels: np.ndarray, test_images: np.ndarray, image_ids: np.ndarray) -> None:
    """The hidden truth: noise-free positions, test labels, and per-image pose and appearance for error analysis."""
    _write_npz(path, {
        "train_true_keypoints": train_true.astype(np.float32),
        "train_pose_angle_deg": _pose_angle_deg(train_true),
        "train_brightness": train_images.mean(axis=(1, 2)),
        "test_image_ids": image_ids,
        "test_true_keypoints": test_true.astype(np.float32),
        "test_keypoints": test_labels.astype(np.float32),
        "test_pose_angle_deg": _pose_angle_deg(test_true),
        "test_brightness": test_images.mean(axis=(1, 2)),
    })


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """A compressed ``.npz`` with fixed member times (same arrays, same bytes), written atomically."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, array in arrays.items():
            member = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            member.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(member, "w", force_zip64=True) as handle:
                np.lib.format.write_array(handle, np.asanyarray(array), allow_pickle=False)
    write_atomically(path, buffer.getvalue())
