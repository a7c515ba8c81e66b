"""Writing each photo's results (CSV, JSON, annotated PNG) into an output folder: atomically, never over a file."""
from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np
from PIL import Image

from fkp_helpers.data.kaggle_io import write_atomically
from fkp_helpers.photos.results import PhotoResult, result_record, result_table

OUTPUT_SUFFIXES = {"csv": ".keypoints.csv", "json": ".keypoints.json", "png": ".annotated.png"}


def unique_stems(photos: list[Path]) -> list[str]:
    """Each photo's file stem, with ``-2``, ``-3``, ... added where it would repeat an earlier photo's (also one
    that already ends so, like ``face-2``)."""
    taken: set[str] = set()
    stems = []
    for photo in photos:
        stem, copy = photo.stem, 1
        while stem in taken:
            copy += 1
            stem = f"{photo.stem}-{copy}"
        taken.add(stem)
        stems.append(stem)
    return stems


def planned_outputs(photos: list[Path], out_dir: str | os.PathLike) -> list[dict[str, Path]]:
    """The output files of each photo; ``FileExistsError`` naming them if any already exists (nothing overwritten)."""
    out_dir = Path(out_dir)
    plans = [{kind: out_dir / f"{stem}{suffix}" for kind, suffix in OUTPUT_SUFFIXES.items()} for stem in unique_stems(photos)]
    existing = [str(path) for plan in plans for path in plan.values() if path.exists()]
    if existing:
        raise FileExistsError(f"{len(existing)} output file(s) already exist and would be overwritten: "
                              f"{', '.join(existing[:5])}{' ...' if len(existing) > 5 else ''}; choose a new output folder")
    return plans


def write_new_file(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to a new file at ``path``: ``FileExistsError`` if it exists, and never a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "xb"):  # claims the name, or raises FileExistsError
        pass
    try:
        write_atomically(path, data)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def png_bytes(rgb: np.ndarray) -> bytes:
    """An ``(H, W, 3)`` uint8 image encoded as PNG."""
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(rgb, dtype=np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def write_result_files(result: PhotoResult, annotated: np.ndarray, paths: dict[str, Path]) -> dict[str, Path]:
    """Write the CSV, the JSON and the annotated PNG of one photo to ``paths`` (keys ``csv``, ``json``, ``png``)."""
    write_new_file(paths["csv"], result_table(result).to_csv(index=False).encode())
    write_new_file(paths["json"], (json.dumps(result_record(result), indent=1) + "\n").encode())
    write_new_file(paths["png"], png_bytes(annotated))
    return dict(paths)
