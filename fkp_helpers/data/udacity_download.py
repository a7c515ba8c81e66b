"""Getting Udacity's "P1 Facial Keypoints" data (real faces with 68 landmarks) when online, or saying how to."""
from __future__ import annotations

import http.client
import os
import urllib.request
import zipfile
from pathlib import Path

from tqdm import tqdm

from fkp_helpers.data.udacity import UDACITY_ZIP

UDACITY_URL = ("https://s3.amazonaws.com/video.udacity-data.com/topher/2018/May/5aea1b91_train-test-data/"
               f"{UDACITY_ZIP}")
"""Where Udacity's course notebooks download the data (MIT-licensed repository udacity/P1_Facial_Keypoints)."""


def manual_faces_instructions(zip_path: Path, folder: Path) -> str:
    """What a user does when the download cannot happen here."""
    return f"""To run the series on real faces:
  1. Download {UDACITY_URL}
     (the same files are in the folder data/ of the GitHub repository udacity/P1_Facial_Keypoints)
  2. Put the zip at {zip_path}, or its contents (the two CSVs with training/ and test/) in {folder}
  3. Run `make faces` (python -m fkp_helpers convert-udacity SRC data/real-faces), then `make run`.
Until then the series runs on FKP-synth, the generated stand-in in the same file format."""


def download_udacity(zip_path: Path, timeout: float = 30.0, progress: bool = True) -> bool:
    """Download Udacity's zip to ``zip_path`` (atomically, with its size stated and a progress bar; an existing file
    is kept); False, with one line saying why, if it cannot be had."""
    if zip_path.exists():
        return True
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = zip_path.with_name(f".{zip_path.name}.{os.getpid()}.part")
    try:
        with urllib.request.urlopen(UDACITY_URL, timeout=timeout) as response, tmp.open("wb") as out:
            size = int(response.headers.get("Content-Length") or 0) or None
            print(f"Downloading the real faces ({f'{size / 1e6:.0f} MB' if size else 'size unknown'}) from "
                  f"{UDACITY_URL} into {zip_path} ...", flush=True)
            with tqdm(total=size, unit="B", unit_scale=True, disable=not progress, desc="real faces") as bar:
                while chunk := response.read(1 << 20):
                    out.write(chunk)
                    bar.update(len(chunk))
        if not zipfile.is_zipfile(tmp):
            raise OSError(f"{UDACITY_URL} did not send a zip archive")
        os.replace(tmp, zip_path)
        return True
    except (OSError, http.client.HTTPException) as error:
        print(f"Cannot download the real faces ({getattr(error, 'reason', None) or error}).", flush=True)
        return False
    finally:
        tmp.unlink(missing_ok=True)
