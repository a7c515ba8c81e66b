"""Model files for photos: ours load; foreign shapes, damaged and missing files get ModelFileError."""
from __future__ import annotations

import keras
import pytest

from fkp_helpers.photos.model_check import ModelFileError, load_keypoint_model
from fkp_helpers.training.model_files import save_model_atomically


def test_our_model_loads(tiny_model_path):
    assert load_keypoint_model(tiny_model_path).output_shape == (None, 30)


@pytest.mark.parametrize("input_shape, outputs", [((64, 64, 1), 30), ((96, 96, 3), 30), ((96, 96, 1), 10)])
def test_foreign_shapes_are_refused(tmp_path, input_shape, outputs):
    inputs = keras.Input(input_shape)
    model = keras.Model(inputs, keras.layers.Dense(outputs)(keras.layers.GlobalAveragePooling2D()(inputs)))
    path = save_model_atomically(model, tmp_path / "foreign.keras")
    with pytest.raises(ModelFileError, match="not an fkp keypoint model") as error:
        load_keypoint_model(path)
    assert error.value.path == path


@pytest.mark.parametrize("content", [b"not a zip file", b"PK\x03\x04 truncated zip"])
def test_damaged_files_are_refused(tmp_path, content):
    (tmp_path / "damaged.keras").write_bytes(content)
    with pytest.raises(ModelFileError, match="unreadable"):
        load_keypoint_model(tmp_path / "damaged.keras")


def test_missing_file(tmp_path):
    with pytest.raises(ModelFileError, match="no such model file"):
        load_keypoint_model(tmp_path / "absent.keras")
