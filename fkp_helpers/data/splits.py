"""Train/validation splits by image, with exact duplicate images kept on one side, or by any grouping of the rows
(person ids, near-duplicate groups) with whole groups on one side."""
from __future__ import annotations

import hashlib
from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


def first_appearance_ids(labels: Sequence[Hashable] | np.ndarray) -> np.ndarray:
    """Group id ``(N,)`` per row: rows with equal labels share an id, numbered by first appearance."""
    first_id: dict[Hashable, int] = {}
    return np.array([first_id.setdefault(label, len(first_id)) for label in labels], dtype=np.int64)


def image_groups(images: np.ndarray) -> np.ndarray:
    """Group id ``(N,)`` per image: exact duplicates (same pixels) share an id, numbered by first appearance."""
    return first_appearance_ids(
        [hashlib.blake2b(np.ascontiguousarray(image).tobytes(), digest_size=16).digest() for image in images])


def linked_groups(n_rows: int, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Group id ``(N,)`` per row: the connected components of the links ``first[k] -- second[k]``, numbered by first
    appearance."""
    links = coo_matrix((np.ones(len(first), dtype=np.int8), (first, second)), shape=(n_rows, n_rows))
    _, components = connected_components(links, directed=False)
    return first_appearance_ids(components.tolist())


def merge_groups(*groupings: np.ndarray) -> np.ndarray:
    """Group id ``(N,)`` per row: rows that share a group in any of the groupings (integer ids ``(N,)``) share one,
    also through chains of rows, numbered by first appearance."""
    n_rows = len(groupings[0])
    first, second = [], []
    for groups in groupings:
        _, first_row, inverse = np.unique(groups, return_index=True, return_inverse=True)
        first.append(first_row[inverse])  # every row linked to the first row of its group
        second.append(np.arange(n_rows))
    return linked_groups(n_rows, np.concatenate(first), np.concatenate(second))


def _check_groups(groups: Sequence[Hashable] | np.ndarray, n_rows: int) -> np.ndarray:
    """Group ids by first appearance of a label per row; a wrong length or a missing label is an error."""
    if len(groups) != n_rows:
        raise ValueError(f"groups has {len(groups)} labels for {n_rows} images")
    missing = np.flatnonzero(pd.isna(pd.Series(list(groups), dtype=object)).to_numpy())
    if len(missing):
        raise ValueError(f"groups has missing labels (None or NaN) at rows {missing[:10].tolist()}")
    return first_appearance_ids(list(groups))


def train_val_split(images: np.ndarray, val_fraction: float = 0.2, seed: int = 0,
                    groups: Sequence[Hashable] | np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Sorted train and validation row indices; whole duplicate groups go to one side, chosen with ``seed``.

    ``groups`` (one hashable label per row: person ids, near-duplicate groups) keeps every group on one side too,
    merged with the exact duplicates; None splits by exact duplicates alone, as before ``groups`` existed."""
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be between 0 and 1, got {val_fraction}")
    split_groups = image_groups(images)
    if groups is not None:
        split_groups = merge_groups(split_groups, _check_groups(groups, len(images)))
    n_groups = int(split_groups.max()) + 1
    order = np.random.default_rng(seed).permutation(n_groups)
    sizes = np.bincount(split_groups, minlength=n_groups)
    cumulative = np.cumsum(sizes[order])
    val_groups = order[: int(np.searchsorted(cumulative, round(val_fraction * len(images)))) + 1]
    is_val = np.isin(split_groups, val_groups)
    return np.flatnonzero(~is_val), np.flatnonzero(is_val)


def training_split(
    images: np.ndarray, val_fraction: float, seed: int, max_train_images: int | None = None,
    groups: Sequence[Hashable] | np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Split by image (duplicates, and ``groups`` when given, on one side: ``train_val_split``), then cap the
    training rows.

    Returns sorted ``train_index`` (rows used for fitting), ``val_index`` (never capped) and ``train_pool_index``
    (all training-side rows; the cap takes a random subset of it, seeded by ``seed``).
    """
    pool, val = train_val_split(images, val_fraction, seed, groups)
    train = pool
    if max_train_images is not None and len(pool) > max_train_images:
        train = np.sort(np.random.default_rng([seed, 1]).choice(pool, size=max_train_images, replace=False))
    return {"train_index": train, "val_index": val, "train_pool_index": pool}
