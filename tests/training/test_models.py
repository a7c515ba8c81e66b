"""Tests for fkp_helpers.models: architectures, pixel outputs, the mean-shape floor, FLOPs, saving and loading."""
from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from fkp_helpers.training.model_files import load_model, save_model_atomically
from fkp_helpers.training.models import (
    bfloat16_is_native,
    build_mean_shape_model,
    build_nouri_net,
    build_vgg,
    copy_model,
    count_flops,
    layer_table,
    mean_shape,
    model_inputs,
    model_targets,
    output_scale,
    predict_keypoints,
    standardisation,
)

VGG_PARAMETERS = 2_738_878


@pytest.fixture(scope="module")
def vgg() -> keras.Model:
    return build_vgg()


@pytest.fixture(scope="module")
def tiny() -> keras.Model:
    keras.utils.set_random_seed(0)
    return build_vgg(width_multiplier=0.125, dense_units=(16,), name="tiny")


def test_vgg_has_the_thesis_parameter_count_and_pixel_output(vgg):
    assert vgg.count_params() == VGG_PARAMETERS
    assert vgg.output_shape == (None, 30)
    assert vgg.input_shape == (None, 96, 96, 1)
    assert [layer.name for layer in vgg.layers if isinstance(layer, keras.layers.Conv2D)] == [
        "block1_conv1", "block1_conv2", "block2_conv1", "block2_conv2",
        "block3_conv1", "block3_conv2", "block3_conv3", "block4_conv1", "block4_conv2", "block4_conv3",
    ]
    assert vgg.get_layer("flatten").output.shape == (None, 5 * 5 * 256)


def test_layer_table_lists_every_layer_with_its_parameters(vgg):
    table = layer_table(vgg)
    assert table["parameters"].sum() == VGG_PARAMETERS
    assert table.loc["block1_conv1", "output shape"] == "(94, 94, 32)"
    assert table.loc["to_pixels", "type"] == "Rescaling" and table.loc["to_pixels", "parameters"] == 0


def test_vgg_options_change_width_depth_and_normalisation():
    narrow = build_vgg(width_multiplier=0.5)
    assert narrow.get_layer("block4_conv1").kernel.shape[-1] == 128
    shallow = build_vgg(filters=(32, 64), convs_per_block=(1, 1), paddings=("valid", "valid"))
    assert sum(isinstance(layer, keras.layers.Conv2D) for layer in shallow.layers) == 2
    normed = build_vgg(batch_norm=True)
    assert any(isinstance(layer, keras.layers.BatchNormalization) for layer in normed.layers)
    assert normed.get_layer("block1_conv1").use_bias is False
    assert normed.output_shape == (None, 30)
    with pytest.raises(ValueError, match="one entry per block"):
        build_vgg(filters=(32, 64), convs_per_block=(2, 2, 3))


def test_mixed_precision_keeps_parameters_and_a_float32_output():
    model = build_vgg(mixed_precision=True)
    assert model.count_params() == VGG_PARAMETERS
    assert model.get_layer("block1_conv1").compute_dtype == "bfloat16"
    assert model.get_layer("block1_conv1").kernel.dtype == "float32"
    assert model.get_layer("normalised_keypoints").compute_dtype == "float32"
    assert model.output.dtype == "float32" and build_nouri_net(mixed_precision=True).output.dtype == "float32"


@pytest.mark.parametrize("capabilities, native", [([(9, 0)], True), ([(7, 5), (8, 0)], True), ([(7, 5)], False),
                                                  ([], False)])
def test_bfloat16_is_native_where_a_gpu_is_ampere_or_newer_on_a_cpu_without_it(monkeypatch, capabilities, native):
    monkeypatch.setattr("fkp_helpers.training.models.gpu_compute_capabilities", lambda: capabilities)
    monkeypatch.setattr("fkp_helpers.training.models.Path.read_text", lambda self: "flags : fpu sse2 avx2\n")  # CPU
    assert bfloat16_is_native() is native


@pytest.mark.parametrize("flags, native", [("fpu avx512f avx512_bf16", True), ("fpu amx_tile amx_bf16", True),
                                           ("fpu avx2 avx512f", False), (None, False)])
def test_bfloat16_is_native_on_a_cpu_with_bfloat16_instructions(monkeypatch, flags, native):
    def cpuinfo(self):
        if flags is None:
            raise PermissionError(f"{self}: not readable")
        return f"processor : 0\nflags : {flags}\nbugs : spectre_v1\n"

    monkeypatch.setattr("fkp_helpers.training.models.gpu_compute_capabilities", lambda: [])
    monkeypatch.setattr("fkp_helpers.training.models.Path.read_text", cpuinfo)
    assert bfloat16_is_native() is native


def fake_devices(monkeypatch, gpus: list[tuple[int, int]]) -> None:
    """Make TensorFlow report one CPU and a GPU of each compute capability in ``gpus``."""
    import tensorflow as tf

    devices = [tf.config.PhysicalDevice("/physical_device:CPU:0", "CPU")] + [
        tf.config.PhysicalDevice(f"/physical_device:GPU:{i}", "GPU") for i in range(len(gpus))]

    def list_physical_devices(device_type=None):
        return [device for device in devices if device_type in (None, device.device_type)]

    def get_device_details(device):
        index = int(device.name.rsplit(":", 1)[1])
        return {"device_name": "fake", "compute_capability": gpus[index]} if device.device_type == "GPU" else {}

    monkeypatch.setattr(tf.config, "list_physical_devices", list_physical_devices)
    monkeypatch.setattr(tf.config.experimental, "get_device_details", get_device_details)


@pytest.mark.parametrize("gpus", [[], [(8, 9)], [(7, 5), (9, 0)]], ids=["cpu-only", "one-gpu", "two-gpus"])
def test_the_gpus_tensorflow_reports_decide_capabilities_bfloat16_and_xla(monkeypatch, tiny, gpus):
    from tensorflow.python.framework import config as tf_framework_config

    from fkp_helpers.tensorflow_setup import gpu_compute_capabilities
    from fkp_helpers.training.loop import compile_model

    fake_devices(monkeypatch, gpus)
    monkeypatch.setattr("fkp_helpers.training.models.Path.read_text", lambda self: "flags : fpu sse2 avx2\n")
    monkeypatch.setattr(tf_framework_config, "is_op_determinism_enabled", lambda: False)
    assert gpu_compute_capabilities() == gpus
    assert bfloat16_is_native() is any(capability >= (8, 0) for capability in gpus)
    assert compile_model(copy_model(tiny), "adam", 1e-3).jit_compile is bool(gpus), "XLA only where there is a GPU"


def test_this_machine_gets_xla_exactly_where_tensorflow_sees_a_gpu(tiny):
    import tensorflow as tf
    from tensorflow.python.framework.config import is_op_determinism_enabled

    from fkp_helpers.tensorflow_setup import gpu_compute_capabilities, uses_tensorflow
    from fkp_helpers.training.loop import compile_model

    capabilities = gpu_compute_capabilities()
    assert uses_tensorflow() and len(capabilities) == len(tf.config.list_physical_devices("GPU"))
    assert all(len(pair) == 2 and all(isinstance(part, int) for part in pair) for pair in capabilities)
    expected = bool(capabilities) and not is_op_determinism_enabled()  # Keras turns XLA off for deterministic ops
    assert compile_model(copy_model(tiny), "adam", 1e-3).jit_compile is expected


def test_output_is_pixels_around_the_centre(tiny):
    model = copy_model(tiny)
    head = model.get_layer("normalised_keypoints")
    head.set_weights([np.zeros_like(w) for w in head.get_weights()])
    np.testing.assert_array_equal(model.predict(np.zeros((2, 96, 96, 1)), verbose=0), np.full((2, 30), 48.0))
    head.set_weights([head.get_weights()[0], np.ones(30)])  # normalised +1 is the right/bottom edge
    np.testing.assert_array_equal(model.predict(np.zeros((1, 96, 96, 1)), verbose=0), np.full((1, 30), 96.0))


def test_nouri_net_is_the_three_conv_two_dense_baseline():
    model = build_nouri_net()
    assert model.output_shape == (None, 30)
    assert sum(isinstance(layer, keras.layers.Conv2D) for layer in model.layers) == 3
    assert sum(isinstance(layer, keras.layers.Dense) for layer in model.layers) == 3  # two hidden + output
    assert count_flops(model) < count_flops(build_vgg()) / 5


def test_mean_shape_is_nan_aware_and_the_mean_model_predicts_it():
    targets = np.array([[10.0] * 30, [20.0] * 30, [np.nan] * 30], dtype=np.float32)
    targets[0, 5] = np.nan
    mean = mean_shape(targets)
    assert mean[5] == 20.0 and mean[0] == 15.0
    np.testing.assert_array_equal(mean_shape(targets.reshape(3, 15, 2)), mean)
    model = build_mean_shape_model(targets)
    images = np.random.default_rng(0).random((4, 96, 96, 1), dtype=np.float32)
    np.testing.assert_allclose(model.predict(images, verbose=0), np.tile(mean, (4, 1)))
    assert model.count_params() == 60 and not model.trainable_weights
    with pytest.raises(ValueError, match=r"coordinate column\(s\) \[0\]"):
        mean_shape(np.where(np.arange(30) == 0, np.nan, 1.0)[None, :])


def test_count_flops_is_two_macs_of_convolutions_and_dense_layers(vgg):
    per_layer = count_flops(vgg, per_layer=True)
    assert per_layer["block1_conv1"] == 2 * 94 * 94 * 3 * 3 * 1 * 32
    assert per_layer["block4_conv3"] == 2 * 10 * 10 * 3 * 3 * 256 * 256  # "same" padding, before pooling
    assert per_layer["dense1"] == 2 * 6400 * 128
    assert count_flops(vgg) == sum(per_layer.values()) == 984_233_984


def test_inputs_targets_and_predicted_keypoints_have_the_public_shapes(tiny):
    images = np.full((3, 96, 96), 255, dtype=np.uint8)
    x = model_inputs(images)
    assert x.shape == (3, 96, 96, 1) and x.dtype == np.float32 and x.max() == 1.0
    keypoints = np.zeros((3, 15, 2), dtype=np.float32)
    keypoints[0, 1] = (5.0, 7.0)
    y = model_targets(keypoints)
    assert y.shape == (3, 30) and tuple(y[0, 2:4]) == (5.0, 7.0)
    assert predict_keypoints(tiny, images).shape == (3, 15, 2)
    with pytest.raises(ValueError, match="96, 96"):
        model_inputs(np.zeros((2, 48, 48), dtype=np.uint8))


def test_copy_model_has_the_same_weights_and_is_independent(tiny):
    clone = copy_model(tiny)
    for a, b in zip(tiny.get_weights(), clone.get_weights()):
        np.testing.assert_array_equal(a, b)
    clone.get_layer("block1_conv1").kernel.assign(np.zeros((3, 3, 1, 4)))
    assert np.any(tiny.get_layer("block1_conv1").kernel.numpy() != 0)


def test_save_is_atomic_and_load_round_trips_in_safe_mode(tiny, tmp_path):
    path = save_model_atomically(tiny, tmp_path / "models" / "tiny.keras")
    assert sorted(p.name for p in path.parent.iterdir()) == ["tiny.keras"]
    loaded = load_model(path)
    x = np.random.default_rng(1).random((4, 96, 96, 1), dtype=np.float32)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), tiny.predict(x, verbose=0))
    with pytest.raises(ValueError, match=r"\.keras"):
        save_model_atomically(tiny, tmp_path / "tiny.h5")
    with pytest.raises(FileNotFoundError, match="no model file"):
        load_model(tmp_path / "missing.keras")


def test_a_failed_save_leaves_the_old_file_and_no_temporary_file(tiny, tmp_path, monkeypatch):
    path = save_model_atomically(tiny, tmp_path / "tiny.keras")
    before = path.read_bytes()

    def broken_save(filepath, *args, **kwargs):
        Path(filepath).write_bytes(b"partial")
        raise OSError("disk full")

    model = copy_model(tiny)
    monkeypatch.setattr(model, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_model_atomically(model, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.keras"]


def test_standardised_vgg_keeps_the_architecture_and_outputs_pixels_at_the_training_statistics(tmp_path):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (20, 96, 96), dtype=np.uint8)
    keypoints = rng.normal(48, [[[5.0, 9.0]] * 15], (20, 15, 2)).astype(np.float32)
    keypoints[0, 3] = np.nan
    scaling = standardisation(images, keypoints)
    assert scaling.input_mean == pytest.approx(model_inputs(images).mean(), rel=1e-5)
    np.testing.assert_allclose(scaling.target_std, np.nanstd(model_targets(keypoints), axis=0), rtol=1e-5)
    keras.utils.set_random_seed(0)
    model = build_vgg(scaling=scaling, he_init=True)
    assert model.count_params() == VGG_PARAMETERS, "standardising is parameter-free"
    assert model.get_layer("block1_conv1").kernel_initializer.__class__.__name__ == "HeNormal"
    np.testing.assert_allclose(output_scale(model), scaling.target_std, rtol=1e-6)
    zero_head = copy_model(model)
    head = zero_head.get_layer("normalised_keypoints")
    head.set_weights([np.zeros_like(w) for w in head.get_weights()])
    np.testing.assert_allclose(zero_head.predict(model_inputs(images[:2]), verbose=0)[0], scaling.target_mean, rtol=1e-5)
    path = save_model_atomically(model, tmp_path / "standardised.keras")
    np.testing.assert_array_equal(load_model(path).predict(model_inputs(images[:2]), verbose=0),
                                  model.predict(model_inputs(images[:2]), verbose=0))
    assert output_scale(build_vgg(width_multiplier=0.125, dense_units=(16,))) == 48.0


def test_standardisation_refuses_a_coordinate_without_spread():
    keypoints = np.full((4, 15, 2), 40.0, dtype=np.float32)
    with pytest.raises(ValueError, match="no spread"):
        standardisation(np.zeros((4, 96, 96), dtype=np.uint8), keypoints)
