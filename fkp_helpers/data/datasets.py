"""Where a run's data comes from: the real Kaggle files in ``data/raw``, else the real faces converted into
``data/real-faces``, else generated FKP-synth (see :func:`resolve_data_dir`).

Parsed arrays are cached as ``.npz`` files keyed by the source file's hash, so a second load takes a fraction of a
second and a changed source file is never served stale.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from fkp_helpers.data.kaggle_io import (
    KaggleFormatError,
    TestSet,
    TrainingSet,
    read_lookup_table,
    read_sample_submission,
    read_test,
    read_training,
)
from fkp_helpers.data.near_duplicates import near_duplicate_groups
from fkp_helpers.data.synth import INFO_FILE, TRUTH_FILE, SynthSpec, generate_fkp_synth
from fkp_helpers.data.udacity import GENERATOR as UDACITY_GENERATOR
from fkp_helpers.data.udacity import UDACITY_ZIP, convert_udacity, person_groups, stale_conversion
from fkp_helpers.data.udacity_download import download_udacity
from fkp_helpers.profiles import Profile

PROJECT_ROOT = Path(os.environ.get("FKP_ROOT", Path(__file__).resolve().parents[2]))
RAW_DIR = PROJECT_ROOT / "data" / "raw"
SYNTH_ROOT = PROJECT_ROOT / "data" / "fkp-synth"
REAL_FACES_DIR = PROJECT_ROOT / "data" / "real-faces"
UDACITY_ZIP_PATH = PROJECT_ROOT / "data" / "downloads" / UDACITY_ZIP
"""Where ``make faces`` downloads Udacity's zip, and where a user may put it."""
UDACITY_FOLDER = PROJECT_ROOT / "data" / "udacity-p1-faces"
"""Where a user may put the zip's contents (the two CSVs with ``training/`` and ``test/``)."""
UDACITY_SOURCES = (UDACITY_ZIP_PATH, UDACITY_FOLDER, PROJECT_ROOT.parent / "shared" / "data" / "udacity-p1-faces")
KAGGLE_FILES = {"training": ("training.zip", "training.csv"), "test": ("test.zip", "test.csv"),
                "lookup": ("IdLookupTable.csv",), "sample": ("SampleSubmission.csv",)}
CACHE_DIR_NAME = ".fkp_cache"


@dataclass(frozen=True)
class HiddenTruth:
    """What a generated or converted data set knows and Kaggle hides: the test labels (the real faces' own landmarks,
    or FKP-synth's), and on FKP-synth also the noise-free positions, pose and brightness per image."""

    label_noise_px: float
    test_keypoints: np.ndarray
    test_true_keypoints: np.ndarray
    test_pose_angle_deg: np.ndarray
    test_brightness: np.ndarray
    train_true_keypoints: np.ndarray
    train_pose_angle_deg: np.ndarray
    train_brightness: np.ndarray


@dataclass(frozen=True)
class SeriesData:
    """Everything the notebooks read: training and test sets, lookup table, sample submission, and provenance."""

    train: TrainingSet
    test: TestSet
    lookup: pd.DataFrame
    sample_submission: pd.DataFrame
    source: str
    """``"kaggle"``, ``"real-faces"`` or ``"fkp-synth"``."""
    description: str
    data_dir: Path
    hidden_truth: HiddenTruth | None


def find_kaggle_file(data_dir: Path, role: str) -> Path | None:
    """The first existing file for ``role`` (``training``, ``test``, ``lookup``, ``sample``) in ``data_dir``."""
    return next((data_dir / name for name in KAGGLE_FILES[role] if (data_dir / name).is_file()), None)


def missing_kaggle_files(data_dir: Path) -> list[str]:
    """Roles whose file is absent from ``data_dir``, written as the file names a user should provide."""
    return [" or ".join(names) for role, names in KAGGLE_FILES.items() if find_kaggle_file(data_dir, role) is None]


def synth_dir_for(profile: Profile, seed: int = 0) -> Path:
    """Folder of the FKP-synth data set used by ``profile``."""
    return SYNTH_ROOT / f"train{profile.synth_train}-test{profile.synth_test}-seed{seed}"


def resolve_data_dir(data_dir: str | os.PathLike | None, profile: Profile, seed: int = 0, progress: bool = True) -> Path:
    """The folder a run reads: ``data_dir`` if given; else, for a profile that uses real data (every one but ``smoke``),
    the real Kaggle files in ``data/raw``, then the real faces converted into ``data/real-faces`` (converted now
    from a Udacity source at hand, see :func:`udacity_source`, or downloaded first when online); else FKP-synth, generated once for the profile and
    reused. The ``smoke`` profile always runs on FKP-synth (the fast test data)."""
    if data_dir is not None:
        data_dir = Path(data_dir)
        if not data_dir.is_dir():
            raise FileNotFoundError(f"{data_dir}: no such data folder")
        missing = missing_kaggle_files(data_dir)
        if missing:
            raise FileNotFoundError(f"{data_dir}: missing {', '.join(missing)}")
        return data_dir
    if profile.real_data:
        real = real_data_dir(progress)
        if real is not None:
            return real
    return ensure_synth(synth_dir_for(profile, seed), SynthSpec(profile.synth_train, profile.synth_test, seed), progress)


def real_data_dir(progress: bool = True) -> Path | None:
    """``data/raw`` if it holds the Kaggle files, else ``data/real-faces`` (converting a Udacity source at hand on
    first use, or Udacity's zip, downloaded now when online), else None, after one line saying why and how to get
    real faces. A partial set of Kaggle files is an error, not a silent fallback."""
    if RAW_DIR.is_dir() and any(RAW_DIR.iterdir()):
        missing = missing_kaggle_files(RAW_DIR)
        if missing:
            raise FileNotFoundError(
                f"{RAW_DIR} holds some Kaggle files but not {', '.join(missing)}; add them (see `fkp download`) "
                "or empty the folder to use the real faces or FKP-synth"
            )
        return RAW_DIR
    if not (REAL_FACES_DIR / INFO_FILE).is_file():
        source = udacity_source()
        if source is None and download_udacity(UDACITY_ZIP_PATH, progress=progress):
            source = UDACITY_ZIP_PATH
        if source is None:
            print("No real faces at hand and none could be downloaded: this run uses "
                  f"FKP-synth, the generated stand-in. For real faces put Udacity's {UDACITY_ZIP} in "
                  f"{UDACITY_ZIP_PATH.parent} and run `make faces` (docs/data.md).", flush=True)
            return None
        print(f"Converting the real faces of {source} into {REAL_FACES_DIR} (once) ...", flush=True)
        convert_udacity(source, REAL_FACES_DIR, progress=progress)
    stale = stale_conversion(REAL_FACES_DIR)
    if stale:
        raise FileExistsError(stale)
    return REAL_FACES_DIR


def udacity_source() -> Path | None:
    """The first Udacity "P1 Facial Keypoints" source found: the original zip in ``data/downloads``, a folder in
    the original layout in ``data/udacity-p1-faces``, or the project's shared copy beside the repository."""
    return next((path for path in UDACITY_SOURCES if path.exists()), None)


def ensure_synth(folder: Path, spec: SynthSpec, progress: bool = True) -> Path:
    """Generate FKP-synth into ``folder`` unless it is already complete (generation is atomic: temp folder, rename)."""
    if (folder / INFO_FILE).is_file():
        return folder
    tmp = folder.with_name(f".{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        generate_fkp_synth(tmp, spec, progress=progress)
        tmp.rename(folder)
    except OSError:
        if not (folder / INFO_FILE).is_file():  # another process did not win the race either
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def file_digest(path: Path) -> str:
    """BLAKE2b hex digest of a file's bytes."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "blake2b").hexdigest()


def cached_arrays(path: Path, reader: Callable[[Path], object], fields: tuple[str, ...]) -> dict[str, np.ndarray]:
    """``fields`` of ``reader(path)`` as arrays, from an ``.npz`` cache beside ``path`` keyed by its content hash."""
    cache = path.parent / CACHE_DIR_NAME / f"{path.name}.{file_digest(path)[:24]}.npz"
    if cache.is_file():
        with np.load(cache) as stored:
            return {name: stored[name] for name in fields}
    parsed = reader(path)
    arrays = {name: getattr(parsed, name) for name in fields}
    try:
        cache.parent.mkdir(exist_ok=True)
        tmp = cache.with_name(f".{cache.stem}.tmp-{os.getpid()}.npz")
        np.savez(tmp, **arrays)
        os.replace(tmp, cache)
    except OSError:
        pass  # a read-only data folder just goes without a cache
    return arrays


def load_training_set(path: Path) -> TrainingSet:
    """Kaggle training file, cached."""
    return TrainingSet(**cached_arrays(path, read_training, ("images", "keypoints")))


def load_test_set(path: Path) -> TestSet:
    """Kaggle test file, cached."""
    return TestSet(**cached_arrays(path, read_test, ("image_ids", "images")))


def load_hidden_truth(data_dir: Path) -> HiddenTruth | None:
    """The hidden truth of an FKP-synth or converted real-face folder, or None for real Kaggle data."""
    if not (data_dir / TRUTH_FILE).is_file():
        return None
    info = read_info(data_dir)
    with np.load(data_dir / TRUTH_FILE) as truth:
        return HiddenTruth(label_noise_px=float(info["label_noise_px"]),
                          **{name: truth[name] for name in HiddenTruth.__dataclass_fields__ if name != "label_noise_px"})


def read_info(data_dir: Path) -> dict | None:
    """The info file a generated or converted data set holds beside its Kaggle files (None for Kaggle's own)."""
    info_file = data_dir / INFO_FILE
    return json.loads(info_file.read_text()) if info_file.is_file() else None


def source_of(info: dict | None) -> str:
    """``kaggle``, ``real-faces`` (converted Udacity photographs) or ``fkp-synth``, from a data set's info file."""
    if info is None:
        return "kaggle"
    return "real-faces" if info.get("generator") == UDACITY_GENERATOR else "fkp-synth"


def describe_source(data_dir: Path, info: dict | None, n_train: int, n_test: int) -> str:
    """One sentence saying which data a run used."""
    source = source_of(info)
    if source == "kaggle":
        return f"the real Kaggle files in {data_dir} ({n_train} training rows, {n_test} test images)"
    if source == "real-faces":
        return (f"real faces: {n_train} training and {n_test} test photographs of {info['n_train_people']} and "
                f"{info['n_test_people']} different people (YouTube Faces frames published by Udacity, split by "
                f"person, seed {info['seed']}), framed like Kaggle's crops; the faces and landmarks are real, the "
                "missing labels follow Kaggle's patterns")
    return (f"FKP-synth, the generated stand-in in Kaggle's file format (seed {info['seed']}, {n_train} training rows, "
            f"{n_test} test images, label jitter {info['label_noise_px']:g} px), not the real Kaggle images")


def load_series_data(data_dir: str | os.PathLike) -> SeriesData:
    """Read every file a run needs from ``data_dir`` (see :func:`resolve_data_dir`), with named errors."""
    data_dir = Path(data_dir)
    missing = missing_kaggle_files(data_dir)
    if missing:
        raise KaggleFormatError(data_dir, f"missing {', '.join(missing)}")
    train = load_training_set(find_kaggle_file(data_dir, "training"))
    test = load_test_set(find_kaggle_file(data_dir, "test"))
    lookup = read_lookup_table(find_kaggle_file(data_dir, "lookup"))
    unknown = sorted(set(lookup["ImageId"]) - set(test.image_ids.tolist()))
    if unknown:
        raise KaggleFormatError(find_kaggle_file(data_dir, "lookup"), f"asks for ImageIds not in the test file: {unknown[:5]}")
    truth, info = load_hidden_truth(data_dir), read_info(data_dir)
    return SeriesData(
        train=train,
        test=test,
        lookup=lookup,
        sample_submission=read_sample_submission(find_kaggle_file(data_dir, "sample")),
        source=source_of(info),
        description=describe_source(data_dir, info, len(train), len(test)),
        data_dir=data_dir,
        hidden_truth=truth,
    )


def split_groups(data: SeriesData) -> tuple[np.ndarray | None, str]:
    """What a train/validation split must keep on one side, and how to say it: the people of converted real faces,
    near-duplicate groups on Kaggle's images (frames of one clip, re-crops of one photo), or, on FKP-synth, whose
    faces are drawn independently, only exact duplicates (None: the split's default)."""
    persons = person_groups(data.data_dir)
    if persons is not None:
        return persons, f"by person ({len(set(persons))} people; no validation person is seen in training)"
    if data.source == "kaggle":
        groups = near_duplicate_groups(data.train.images)
        return groups, f"by near-duplicate group ({len(set(groups))} groups of similar images kept on one side)"
    return None, "by image (exact duplicates kept on one side)"
