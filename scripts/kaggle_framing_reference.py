"""Write the framing statistics of the real Kaggle labels (derived numbers only, never the label rows).

Reads ``training_keypoints.csv`` (the 30 keypoint columns of Kaggle's ``training.csv``) from
``../shared/data/kaggle-fkp-labels/`` and writes ``fkp_helpers/data/kaggle_framing.json``: inter-pupil distance, eye
centres and roll (mean, sd, 5th and 95th percentile; ``fkp_helpers.data.framing.framing_statistics``), the reference
that ``framing_table`` compares a data set with.

    python scripts/kaggle_framing_reference.py [LABELS_DIR] [--out PATH]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from fkp_helpers.data.framing import KAGGLE_FRAMING_PATH, kaggle_framing_record
from fkp_helpers.data.kaggle_io import read_keypoint_labels, write_atomically

REPO = Path(__file__).resolve().parents[1]
DEFAULT_LABELS = REPO.parent / "shared" / "data" / "kaggle-fkp-labels"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("labels_dir", nargs="?", type=Path, default=DEFAULT_LABELS)
    parser.add_argument("--out", type=Path, default=KAGGLE_FRAMING_PATH)
    args = parser.parse_args()
    record = kaggle_framing_record(read_keypoint_labels(args.labels_dir / "training_keypoints.csv"))
    write_atomically(args.out, (json.dumps(record, indent=1) + "\n").encode())
    print(f"wrote {args.out} ({record['rows_with_both_eyes']} of {record['rows']} rows with both eye centres)")


if __name__ == "__main__":
    main()
