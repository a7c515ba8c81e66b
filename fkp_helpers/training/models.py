"""Networks for keypoint regression: the thesis's modified VGG, Nouri's net (the baseline of Daniel Nouri's 2014
tutorial) and the mean-shape floor.

Every model takes float32 images ``(B, 96, 96, 1)`` in ``[0, 1]`` and outputs ``(B, 30)`` coordinates in pixels
(Kaggle column order). Internally the last Dense layer regresses ``(y - 48) / 48``; a parameter-free
``Rescaling(48, offset=48)`` layer turns that into pixels, so no public number is ever normalised.

With a ``Standardisation`` (statistics of the training rows) the networks instead standardise their input image and
regress each coordinate standardised by its training mean and spread; both are parameter-free ``Rescaling`` layers,
so the architecture and its parameter count do not change. ``he_init`` draws the ReLU layers' kernels from He's
normal initialisation instead of Keras's default Glorot uniform. Both are training choices, not architecture.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import keras
import numpy as np

from fkp_helpers.data.keypoints import IMAGE_SIZE, N_KEYPOINTS, to_coordinate_array, to_keypoint_array
from fkp_helpers.tensorflow_setup import gpu_compute_capabilities

N_OUTPUTS = 2 * N_KEYPOINTS
COORDINATE_CENTRE = IMAGE_SIZE / 2.0
"""Pixel coordinates are regressed internally as ``(y - COORDINATE_CENTRE) / COORDINATE_SCALE``."""
COORDINATE_SCALE = IMAGE_SIZE / 2.0
INPUT_SHAPE = (IMAGE_SIZE, IMAGE_SIZE, 1)


def model_inputs(images: np.ndarray) -> np.ndarray:
    """uint8 images ``(N, 96, 96)`` to the float32 ``(N, 96, 96, 1)`` in ``[0, 1]`` that every model takes."""
    images = np.asarray(images)
    if images.shape[-2:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise ValueError(f"expected images of shape (N, {IMAGE_SIZE}, {IMAGE_SIZE}), got {images.shape}")
    scale = 255.0 if images.dtype == np.uint8 else 1.0
    return (images.astype(np.float32) / scale)[..., np.newaxis]


def model_targets(keypoints: np.ndarray) -> np.ndarray:
    """Keypoints ``(N, 15, 2)`` (NaN missing) to the float32 ``(N, 30)`` pixel targets the models regress."""
    return to_coordinate_array(np.asarray(keypoints, dtype=np.float32))


MIXED_PRECISION_POLICY = "mixed_bfloat16"
"""Body policy with ``mixed_precision=True``: bfloat16 compute, float32 weights (fast with AVX512_BF16/AMX on CPUs)."""


def bfloat16_is_native() -> bool:
    """Whether this machine computes bfloat16 natively: a GPU of compute capability 8.0 or newer, or a CPU with
    AVX512_BF16 or AMX-BF16 (elsewhere bfloat16 is emulated and slower than float32)."""
    if any(capability >= (8, 0) for capability in gpu_compute_capabilities()):
        return True
    try:
        flags = Path("/proc/cpuinfo").read_text().split("flags", 1)[1].split("\n", 1)[0].split()
    except (OSError, IndexError):
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


@dataclass(frozen=True)
class Standardisation:
    """Training-set statistics a network standardises with: the pixel mean and spread of the input images (in the
    ``[0, 1]`` units of ``model_inputs``) and each target coordinate's mean and spread in pixels."""

    input_mean: float
    input_std: float
    target_mean: tuple[float, ...]
    target_std: tuple[float, ...]


def standardisation(images: np.ndarray, keypoints: np.ndarray) -> Standardisation:
    """The ``Standardisation`` of training rows: uint8 images ``(N, 96, 96)`` and keypoints ``(N, 15, 2)`` (NaN-aware)."""
    inputs = model_inputs(images)
    targets = model_targets(keypoints).astype(np.float64)
    spread = np.nanstd(targets, axis=0)
    if not np.all(spread > 0):
        raise ValueError(f"coordinate column(s) {np.flatnonzero(~(spread > 0)).tolist()} have no spread to scale by")
    return Standardisation(float(inputs.mean()), float(inputs.std()), tuple(mean_shape(targets).tolist()),
                           tuple(spread.tolist()))


def _input_scaling(x, scaling: Standardisation | None):
    if scaling is None:
        return x
    return keras.layers.Rescaling(scale=1.0 / scaling.input_std, offset=-scaling.input_mean / scaling.input_std,
                                  name="standardise_image")(x)


def _to_pixels(scaling: Standardisation | None) -> keras.layers.Layer:
    if scaling is None:
        scale, offset = COORDINATE_SCALE, COORDINATE_CENTRE
    else:
        scale, offset = list(scaling.target_std), list(scaling.target_mean)
    return keras.layers.Rescaling(scale=scale, offset=offset, name="to_pixels", dtype="float32")


def _head(x, scaling: Standardisation | None = None) -> keras.KerasTensor:
    # Always float32: a bfloat16 output near 48 px would only resolve 0.25 px.
    x = keras.layers.Dense(N_OUTPUTS, name="normalised_keypoints", dtype="float32")(x)
    return _to_pixels(scaling)(x)


def _initializer(he_init: bool) -> str:
    return "he_normal" if he_init else "glorot_uniform"


def _conv(x, filters: int, kernel_size: int, padding: str, batch_norm: bool, name: str, dtype: str,
          he_init: bool = False):
    init = _initializer(he_init)
    if not batch_norm:
        return keras.layers.Conv2D(filters, kernel_size, padding=padding, activation="relu", kernel_initializer=init,
                                   name=name, dtype=dtype)(x)
    x = keras.layers.Conv2D(filters, kernel_size, padding=padding, use_bias=False, kernel_initializer=init, name=name,
                            dtype=dtype)(x)
    x = keras.layers.BatchNormalization(name=f"{name}_bn", dtype=dtype)(x)
    return keras.layers.ReLU(name=f"{name}_relu", dtype=dtype)(x)


def _dense(x, units: int, batch_norm: bool, name: str, dtype: str, he_init: bool = False):
    init = _initializer(he_init)
    if not batch_norm:
        return keras.layers.Dense(units, activation="relu", kernel_initializer=init, name=name, dtype=dtype)(x)
    x = keras.layers.Dense(units, use_bias=False, kernel_initializer=init, name=name, dtype=dtype)(x)
    x = keras.layers.BatchNormalization(name=f"{name}_bn", dtype=dtype)(x)
    return keras.layers.ReLU(name=f"{name}_relu", dtype=dtype)(x)


def _body_dtype(mixed_precision: bool) -> str:
    return MIXED_PRECISION_POLICY if mixed_precision else "float32"


def build_vgg(
    width_multiplier: float = 1.0,
    batch_norm: bool = False,
    filters: Sequence[int] = (32, 64, 128, 256),
    convs_per_block: Sequence[int] = (2, 2, 3, 3),
    paddings: Sequence[str] = ("valid", "valid", "same", "same"),
    dense_units: Sequence[int] = (128, 64),
    dropout: float = 0.2,
    mixed_precision: bool = False,
    name: str = "vgg",
    scaling: Standardisation | None = None,
    he_init: bool = False,
) -> keras.Model:
    """The thesis's modified VGG (defaults: 2,738,878 parameters); width, depth and batch norm configurable.

    Blocks of 3x3 ReLU convolutions (``convs_per_block[i]`` convolutions of ``filters[i] * width_multiplier``
    channels, padding ``paddings[i]``) each followed by 2x2 max pooling; then Flatten, ReLU Dense layers with
    dropout, and a 30-unit linear output rescaled to pixels. With ``batch_norm`` every convolution and hidden Dense
    layer is followed by BatchNormalization before its ReLU (and has no bias). With ``mixed_precision`` every layer
    but the float32 output head computes in bfloat16 (weights stay float32; same parameter count). ``scaling`` and
    ``he_init``: see the module docstring.
    """
    if not len(filters) == len(convs_per_block) == len(paddings):
        raise ValueError(
            f"filters, convs_per_block and paddings need one entry per block; got {len(filters)}, "
            f"{len(convs_per_block)} and {len(paddings)}"
        )
    if width_multiplier <= 0:
        raise ValueError(f"width_multiplier must be positive, got {width_multiplier}")
    dtype = _body_dtype(mixed_precision)
    inputs = keras.Input(INPUT_SHAPE, name="image")
    x = _input_scaling(inputs, scaling)
    for block, (block_filters, n_convs, padding) in enumerate(zip(filters, convs_per_block, paddings), start=1):
        width = max(1, round(block_filters * width_multiplier))
        for conv in range(1, n_convs + 1):
            x = _conv(x, width, 3, padding, batch_norm, name=f"block{block}_conv{conv}", dtype=dtype, he_init=he_init)
        x = keras.layers.MaxPooling2D(2, name=f"block{block}_pool", dtype=dtype)(x)
    x = keras.layers.Flatten(name="flatten", dtype=dtype)(x)
    for i, units in enumerate(dense_units, start=1):
        x = _dense(x, units, batch_norm, name=f"dense{i}", dtype=dtype, he_init=he_init)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"dropout{i}", dtype=dtype)(x)
    return keras.Model(inputs, _head(x, scaling), name=name)


def build_nouri_net(
    filters: Sequence[int] = (32, 64, 128),
    kernel_sizes: Sequence[int] = (3, 2, 2),
    dense_units: Sequence[int] = (500, 500),
    dropout: float = 0.0,
    mixed_precision: bool = False,
    name: str = "nouri_net",
    scaling: Standardisation | None = None,
    he_init: bool = False,
) -> keras.Model:
    """The classic Nouri-tutorial baseline ("net3"): 3 conv + 2x2 max-pool stages, 2 ReLU Dense layers, 30 outputs.

    Few FLOPs (0.09 GFLOP/image) but 8.05 M parameters, nearly all in the first Dense layer. ``scaling`` and
    ``he_init``: see the module docstring.
    """
    if len(filters) != len(kernel_sizes):
        raise ValueError(f"filters and kernel_sizes need one entry per stage; got {len(filters)} and {len(kernel_sizes)}")
    dtype = _body_dtype(mixed_precision)
    inputs = keras.Input(INPUT_SHAPE, name="image")
    x = _input_scaling(inputs, scaling)
    for i, (n_filters, size) in enumerate(zip(filters, kernel_sizes), start=1):
        x = _conv(x, n_filters, size, "valid", False, name=f"conv{i}", dtype=dtype, he_init=he_init)
        x = keras.layers.MaxPooling2D(2, name=f"pool{i}", dtype=dtype)(x)
    x = keras.layers.Flatten(name="flatten", dtype=dtype)(x)
    for i, units in enumerate(dense_units, start=1):
        x = _dense(x, units, False, name=f"dense{i}", dtype=dtype, he_init=he_init)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"dropout{i}", dtype=dtype)(x)
    return keras.Model(inputs, _head(x, scaling), name=name)


def mean_shape(targets: np.ndarray) -> np.ndarray:
    """NaN-aware training mean of each coordinate, ``(30,)`` pixels; takes ``(N, 30)`` or ``(N, 15, 2)``."""
    targets = np.asarray(targets, dtype=np.float64)
    if targets.ndim == 3:
        targets = to_coordinate_array(targets)
    if targets.ndim != 2 or targets.shape[1] != N_OUTPUTS:
        raise ValueError(f"expected targets of shape (N, {N_OUTPUTS}) or (N, {N_KEYPOINTS}, 2), got {targets.shape}")
    labelled = np.sum(~np.isnan(targets), axis=0)
    if np.any(labelled == 0):
        raise ValueError(f"no labelled value for coordinate column(s) {np.flatnonzero(labelled == 0).tolist()}")
    return np.nanmean(targets, axis=0).astype(np.float32)


def build_mean_shape_model(targets: np.ndarray, name: str = "mean_shape") -> keras.Model:
    """The floor every model must beat: a Keras model that ignores the image and predicts ``mean_shape(targets)``."""
    inputs = keras.Input(INPUT_SHAPE, name="image")
    pooled = keras.layers.GlobalAveragePooling2D(name="pool")(inputs)
    constant = keras.layers.Dense(
        N_OUTPUTS,
        kernel_initializer="zeros",
        bias_initializer=keras.initializers.Constant(mean_shape(targets).tolist()),
        trainable=False,
        name="mean_shape",
    )(pooled)
    return keras.Model(inputs, constant, name=name)


def copy_model(model: keras.Model) -> keras.Model:
    """A fresh, uncompiled model with the same architecture and the same current weights (e.g. initial weights)."""
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    return clone


def _leaf_layers(model: keras.Model) -> list[keras.layers.Layer]:
    leaves = []
    for layer in model.layers:
        leaves.extend(_leaf_layers(layer) if isinstance(layer, keras.Model) else [layer])
    return leaves


def count_flops(model: keras.Model, per_layer: bool = False) -> int | dict[str, int]:
    """Forward-pass FLOPs for one image, counted analytically: 2 x multiply-accumulates of Conv2D and Dense layers.

    Pooling, activations, normalisation and bias adds are not counted (under 1% for these nets). A training step
    costs about 3x the forward pass (forward, gradient w.r.t. activations, gradient w.r.t. weights).
    """
    flops: dict[str, int] = {}
    for layer in _leaf_layers(model):
        if isinstance(layer, keras.layers.Conv2D):
            kh, kw, c_in, c_out = layer.kernel.shape
            _, h_out, w_out, _ = layer.output.shape
            flops[layer.name] = 2 * h_out * w_out * kh * kw * c_in * c_out // layer.groups
        elif isinstance(layer, keras.layers.Dense):
            n_in, n_out = layer.kernel.shape
            positions = int(np.prod(layer.output.shape[1:-1], dtype=np.int64))
            flops[layer.name] = 2 * positions * n_in * n_out
    return flops if per_layer else int(sum(flops.values()))


def layer_table(model: keras.Model) -> "pd.DataFrame":
    """Plain-text model summary: one row per layer with its type, output shape and parameter count."""
    import pandas as pd

    return pd.DataFrame(
        [{"layer": layer.name, "type": type(layer).__name__, "output shape": str(tuple(layer.output.shape[1:])),
          "parameters": layer.count_params()} for layer in _leaf_layers(model)]
    ).set_index("layer")


def output_scale(model: keras.Model) -> float | list[float]:
    """The pixel scale of ``model``'s regressed units (its ``to_pixels`` layer): what its loss divides errors by."""
    try:
        return model.get_layer("to_pixels").scale
    except ValueError:
        return COORDINATE_SCALE


def predict_keypoints(model: keras.Model, images: np.ndarray, batch_size: int = 128) -> np.ndarray:
    """Predicted keypoints ``(N, 15, 2)`` in pixels for uint8 images ``(N, 96, 96)``."""
    coords = model.predict(model_inputs(images), batch_size=batch_size, verbose=0)
    return to_keypoint_array(np.asarray(coords, dtype=np.float32))
