"""Near-duplicate images (frames of one clip, re-crops of one photo) for data without person ids, by a cheap
similarity: the correlation of 24x24 area-averaged thumbnails (cosine similarity after removing each thumbnail's mean
and length), so brightness and contrast changes and shifts of a pixel or two keep a pair together.

Pairs at or above a threshold are linked and the groups are the connected components of the links; exact duplicates
always share a group (a constant image has no correlation with anything, so they are added explicitly).
``DEFAULT_THRESHOLD`` was chosen on the real Udacity / YouTube Faces frames, whose person ids give the truth
(``scripts/near_duplicate_threshold.py``).
"""
from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd

from fkp_helpers.data.keypoints import IMAGE_SIZE
from fkp_helpers.data.splits import first_appearance_ids, image_groups, linked_groups, merge_groups

THUMBNAIL_SIZE = 24
"""Side of the thumbnails compared (each pixel the mean of a 4x4 block of the 96x96 image)."""
DEFAULT_THRESHOLD = 0.96
"""Correlation of thumbnails at or above which two images are linked. On the 3575 real faces of 295 people
(``scripts/near_duplicate_threshold.py``), framed at the real labels' mean pose (all aligned alike, the hard case for
purity), 99.7% of the 361 groups of 2+ images hold one person (8 of 762 links join two people; 0.97 gives none, 0.95
gives 29 of 1041); framed as the converter does (a pose drawn per face) the 14 groups found are all pure. A copy
shifted by 1 px always links, by 2 px about half the time: this finds near-identical frames and crops, not the same
person framed differently."""
BLOCK_ROWS = 1024
"""Rows of the similarity matrix computed at once (4 MB of float32 per 1000 columns)."""


def thumbnail_features(images: np.ndarray) -> np.ndarray:
    """``(N, 576)`` float32 area-averaged 24x24 thumbnails of ``(N, 96, 96)`` images, each minus its mean and scaled to
    unit length (zero for a constant image), so their dot products are correlations."""
    factor = IMAGE_SIZE // THUMBNAIL_SIZE
    n = len(images)
    small = images.reshape(n, THUMBNAIL_SIZE, factor, THUMBNAIL_SIZE, factor).mean(axis=(2, 4), dtype=np.float32)
    features = small.reshape(n, THUMBNAIL_SIZE * THUMBNAIL_SIZE)
    features -= features.mean(axis=1, keepdims=True)
    length = np.linalg.norm(features, axis=1, keepdims=True)
    return np.divide(features, length, out=np.zeros_like(features), where=length > 1e-6)


def near_duplicate_pairs(images: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """Every pair of rows ``first < second`` whose thumbnail correlation is at least ``threshold``, with it
    (columns ``first``, ``second``, ``similarity``), computed in blocks of ``BLOCK_ROWS`` rows."""
    features = thumbnail_features(images)
    first, second, similarity = [np.empty(0, np.int64)], [np.empty(0, np.int64)], [np.empty(0, np.float32)]
    for start in range(0, len(features), BLOCK_ROWS):
        block = features[start : start + BLOCK_ROWS] @ features[start:].T  # columns from ``start``: upper triangle
        rows, columns = np.nonzero(block >= threshold)
        above = columns > rows  # each pair once, not the row with itself
        rows, columns = rows[above], columns[above]
        first.append(rows + start)
        second.append(columns + start)
        similarity.append(block[rows, columns])
    return pd.DataFrame({"first": np.concatenate(first).astype(np.int64),
                         "second": np.concatenate(second).astype(np.int64),
                         "similarity": np.concatenate(similarity).astype(np.float32)})


def near_duplicate_groups(images: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> np.ndarray:
    """Group id ``(N,)`` per ``(N, 96, 96)`` uint8 image, numbered by first appearance like ``image_groups``: images
    linked through a chain of pairs with thumbnail correlation at least ``threshold``, or with the same pixels,
    share a group."""
    pairs = near_duplicate_pairs(images, threshold)
    linked = linked_groups(len(images), pairs["first"].to_numpy(), pairs["second"].to_numpy())
    return merge_groups(linked, image_groups(images))


def group_summary(groups: np.ndarray) -> pd.DataFrame:
    """How images fall into groups: counts of images and groups, groups of two or more images and the images in
    them, the largest group (one column, ``count``)."""
    sizes = np.bincount(first_appearance_ids(list(groups)))
    several = sizes[sizes > 1]
    return pd.DataFrame({"count": {
        "images": int(sizes.sum()),
        "groups": len(sizes),
        "groups of 2+ images": len(several),
        "images in groups of 2+": int(several.sum()),
        "largest group": int(sizes.max(initial=0)),
    }})


def grouping_agreement(groups: np.ndarray, truth: Sequence[Hashable] | np.ndarray,
                       pairs: pd.DataFrame | None = None) -> pd.Series:
    """How well groups recover true ones (person or clip ids): the fraction of groups of 2+ images that hold one true
    group (purity), the images in mixed groups, the fraction of same-truth pairs of images put in one group (pair
    recall) and of pairs in one group that share the truth (pair precision); with ``pairs``
    (``near_duplicate_pairs``), also how many links join two true groups."""
    group_ids, truth_ids = first_appearance_ids(list(groups)), first_appearance_ids(list(truth))
    table = pd.DataFrame({"group": group_ids, "truth": truth_ids})
    per_group = table.groupby("group")["truth"].agg(["size", "nunique"])
    several = per_group[per_group["size"] > 1]
    mixed = several.index[several["nunique"] > 1]

    def pair_count(keys: list[str]) -> int:
        sizes = table.groupby(keys).size().to_numpy()
        return int((sizes * (sizes - 1) // 2).sum())

    both = pair_count(["group", "truth"])
    agreement = {
        "groups of 2+ images": len(several),
        "purity": float((several["nunique"] == 1).mean()) if len(several) else 1.0,
        "images in mixed groups": int(table["group"].isin(mixed).sum()),
        "pair recall": both / max(pair_count(["truth"]), 1),
        "pair precision": both / max(pair_count(["group"]), 1),
    }
    if pairs is not None:
        agreement["links"] = len(pairs)
        agreement["cross-truth links"] = int(
            (truth_ids[pairs["first"].to_numpy()] != truth_ids[pairs["second"].to_numpy()]).sum())
    return pd.Series(agreement)
