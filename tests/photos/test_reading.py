"""Reading photos by content: modes, EXIF orientation, and named errors for files that are not usable images."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from fkp_helpers.photos.reading import PhotoError, read_photo, to_gray


def _gradient() -> np.ndarray:
    return np.tile(np.arange(0, 240, 4, dtype=np.uint8), (40, 1))  # 40 x 60, dark left, bright right


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA", "P"])
def test_common_modes_read_as_rgb(tmp_path, mode):
    Image.fromarray(_gradient()).convert(mode).save(tmp_path / "photo.png")
    photo = read_photo(tmp_path / "photo.png")
    assert photo.shape == (40, 60, 3) and photo.dtype == np.uint8
    assert np.abs(to_gray(photo).astype(int) - _gradient()).max() <= 2


def test_16_bit_grey_is_scaled_to_8_bits(tmp_path):
    wide = (_gradient().astype(np.uint16) * 257)
    Image.fromarray(wide).save(tmp_path / "wide.png")
    assert Image.open(tmp_path / "wide.png").mode == "I;16"
    np.testing.assert_array_equal(read_photo(tmp_path / "wide.png")[..., 0], _gradient())


def test_content_not_extension_decides(tmp_path):
    Image.fromarray(_gradient()).save(tmp_path / "really_a_png.jpg", format="PNG")
    assert read_photo(tmp_path / "really_a_png.jpg").shape == (40, 60, 3)


def test_exif_orientation_is_applied(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: rotate 90 degrees clockwise to view
    Image.fromarray(_gradient()).save(tmp_path / "turned.jpg", exif=exif, quality=95)
    gray = to_gray(read_photo(tmp_path / "turned.jpg"))
    assert gray.shape == (60, 40)
    assert gray[2, :].mean() < 20 and gray[-3, :].mean() > 200  # the dark left edge is now at the top


@pytest.mark.parametrize("content, problem", [
    (b"name,x\nnot,an image\n", "not an image"),
    (None, "truncated"),
])
def test_unusable_files_get_named_errors(tmp_path, content, problem):
    path = tmp_path / "bad.jpg"
    if content is None:
        Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 200), dtype=np.uint8)).save(path, quality=90)
        content = path.read_bytes()[: path.stat().st_size // 2]
    path.write_bytes(content)
    with pytest.raises(PhotoError, match=problem) as error:
        read_photo(path)
    assert error.value.path == path and str(path) in str(error.value)


def test_missing_file(tmp_path):
    with pytest.raises(PhotoError, match="no such file"):
        read_photo(tmp_path / "absent.png")
