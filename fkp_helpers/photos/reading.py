"""Reading a photograph: by its content (not its extension), EXIF orientation applied, as 8-bit RGB."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

WIDE_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")
"""Grey modes with more than 8 bits per pixel: scaled from the 16-bit range 0..65535 to 0..255."""


class PhotoError(ValueError):
    """A photo cannot be used; the message names the file and the problem."""

    def __init__(self, path: str | os.PathLike, problem: str):
        self.path, self.problem = Path(path), problem
        super().__init__(f"{path}: {problem}")


def _to_rgb(image: Image.Image) -> np.ndarray:
    if image.mode in WIDE_MODES:
        wide = np.asarray(image, dtype=np.float64)
        return np.repeat(np.clip(np.rint(wide / 257.0), 0, 255).astype(np.uint8)[..., np.newaxis], 3, axis=2)
    return np.asarray(image.convert("RGB"), dtype=np.uint8)


def read_photo(path: str | os.PathLike) -> np.ndarray:
    """The photo at ``path`` as ``(H, W, 3)`` uint8 RGB, upright (EXIF orientation applied); raises ``PhotoError``."""
    path = Path(path)
    if not path.is_file():
        raise PhotoError(path, "no such file")
    try:
        with Image.open(path) as image:
            image.load()
            return _to_rgb(ImageOps.exif_transpose(image))
    except UnidentifiedImageError:
        raise PhotoError(path, "not an image Pillow can read (content, not extension, decides)") from None
    except Image.DecompressionBombError as error:
        raise PhotoError(path, f"too many pixels to read safely ({error})") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise PhotoError(path, f"unreadable or truncated image ({error})") from None


def to_gray(rgb: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` uint8 RGB to ``(H, W)`` uint8 grey (ITU-R 601 luma, as OpenCV and Pillow compute it)."""
    import cv2

    return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
