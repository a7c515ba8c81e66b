"""Command line: ``python -m fkp_helpers {run,publish,predict,synth,faces,convert-udacity,download,verify}``."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fkp_helpers.profiles import PROFILES, STUDY


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-command per job."""
    parser = argparse.ArgumentParser(prog="fkp", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the notebook series with papermill")
    run.add_argument("--profile", default=STUDY.name, choices=sorted(PROFILES))
    run.add_argument("--run-dir", type=Path, help="run folder (default: runs/<profile>-<timestamp>)")
    run.add_argument("--data-dir", type=Path, help="Kaggle-format data folder (default: data/raw, else FKP-synth)")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--fresh", action="store_true", help="start a new run folder instead of resuming an interrupted run")
    run.add_argument("--publish", action="store_true", help="afterwards copy notebooks and figures into the repo")
    publish = commands.add_parser("publish", help="copy a finished run's notebooks and figures into the repo")
    publish.add_argument("run_dir", type=Path)
    predict = commands.add_parser("predict", help="keypoints on photographs, videos or a webcam: detect, frame, predict, draw")
    predict.add_argument("photos", type=Path, nargs="*", help="image files (JPEG, PNG, ...; read by content) and video "
                         "files (.mp4, .mov, .avi, ...: an annotated video and one CSV row per face per frame)")
    predict.add_argument("--webcam", type=int, metavar="INDEX", help="show the annotated stream of this camera")
    predict.add_argument("--model", type=Path, help="a .keras model of this project (default: the model notebook 04 "
                         "chose in the newest finished run)")
    predict.add_argument("--out", type=Path, default=Path("predictions"), help="output folder (default: predictions)")
    predict.add_argument("--no-flip-tta", action="store_true", help="skip flip test-time augmentation")
    predict.add_argument("--single-pass", action="store_true", help="skip the second pass that re-frames each face")
    synth = commands.add_parser("synth", help="generate FKP-synth data in Kaggle's file format")
    synth.add_argument("out_dir", type=Path)
    synth.add_argument("--n-train", type=int, default=7049)
    synth.add_argument("--n-test", type=int, default=1783)
    synth.add_argument("--seed", type=int, default=0)
    synth.add_argument("--label-noise-px", type=float, default=1.0)
    convert = commands.add_parser("convert-udacity", help="convert Udacity's real faces (folder or zip) to Kaggle's format")
    convert.add_argument("src", type=Path, help="a folder in Udacity's layout, or its train-test-data.zip")
    convert.add_argument("out", type=Path, help="a new folder (never overwritten)")
    convert.add_argument("--seed", type=int, default=0)
    convert.add_argument("--x-offset-px", type=float, default=None,
                         help="move every landmark left by this many source px (default: the offset measured from "
                              "the faces' mirror symmetry, fkp_helpers/data/udacity_x_offset.json; 0: none)")
    commands.add_parser("faces", help="get Udacity's real faces (found, or downloaded when online) into data/real-faces")
    download = commands.add_parser("download", help="download the real competition files with the kaggle CLI")
    download.add_argument("--dest", type=Path, help="default: data/raw")
    verify = commands.add_parser("verify", help="check Kaggle zips against the official copies")
    verify.add_argument("folder", type=Path, nargs="?")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``fkp`` command: a bad input file or folder is reported in one line, without a traceback."""
    args = build_parser().parse_args(argv)
    try:
        return run_command(args)
    except (OSError, ValueError, KeyError) as error:  # KaggleFormatError is a ValueError naming file and line
        print(f"fkp {args.command}: error: {error}", file=sys.stderr)
        return 2


def run_command(args: argparse.Namespace) -> int:
    """Carry out one parsed sub-command."""
    if args.command == "run":
        from fkp_helpers.runner import publish_run, run_series

        run_dir = run_series(args.profile, args.run_dir, args.data_dir, args.seed, fresh=args.fresh)
        if args.publish:
            publish_run(run_dir)
        return 0
    if args.command == "publish":
        from fkp_helpers.runner import publish_run

        publish_run(args.run_dir)
        return 0
    if args.command == "synth":
        from fkp_helpers.data.synth import SynthSpec, generate_fkp_synth

        generate_fkp_synth(args.out_dir, SynthSpec(args.n_train, args.n_test, args.seed, args.label_noise_px))
        print(f"wrote FKP-synth to {args.out_dir}")
        return 0
    if args.command == "predict":
        return predict_command(args)
    if args.command in ("faces", "convert-udacity"):
        return real_faces_command(args)
    from fkp_helpers.data.datasets import RAW_DIR
    from fkp_helpers.data.kaggle_download import download_competition, verify_official_copies

    if args.command == "download":
        return download_competition(args.dest or RAW_DIR)
    lines = verify_official_copies(args.folder or RAW_DIR)
    print("\n".join(lines) or f"no training.zip or test.zip in {args.folder or RAW_DIR}")
    return 0


def tracker_for(model: Path):
    """A face tracker with the default detector and the model at ``model``."""
    from fkp_helpers.photos import default_detector, load_keypoint_model, model_predict_fn
    from fkp_helpers.photos.video import FaceTracker

    return FaceTracker(default_detector(), model_predict_fn(load_keypoint_model(model)))


def video_outcome(path: Path, model: Path, out: Path):
    """``predict_video``'s files for one video (a line is printed), or the ``PhotoError`` that stopped it."""
    from fkp_helpers.photos import PhotoError
    from fkp_helpers.photos.video import predict_video

    try:
        done = predict_video(path, tracker_for(model), out)
    except PhotoError as error:
        return error
    print(f"{path}: {done['frames']} frames, {done['face_rows']} face rows -> {done['video']}, {done['csv']}")
    return done


def webcam_command(model: Path, device: int) -> int:
    """``predict --webcam INDEX``: the annotated stream in a window until q or Esc."""
    import cv2

    from fkp_helpers.photos.video import show_webcam

    try:
        shown = show_webcam(device, tracker_for(model))
    except (RuntimeError, cv2.error) as error:  # no camera, or no display for the window
        print(f"fkp predict: error: {error}", file=sys.stderr)
        return 1
    print(f"showed {shown} frames from camera {device}")
    return 0


def predict_command(args: argparse.Namespace) -> int:
    """``predict PHOTO ... [--model M] [--out DIR]``: keypoints of every face, as CSV, JSON and an annotated PNG.

    A photo that cannot be used (unreadable, too small, no face) gets its own line on stderr and the others are
    processed; the exit status is then 1.
    """
    import warnings

    from fkp_helpers.photos import PhotoError, predict_each_photo, training_data_of
    from fkp_helpers.photos.video import is_video
    from fkp_helpers.run_state import chosen_model
    from fkp_helpers.runner import RUNS_DIR

    if not args.photos and args.webcam is None:
        print("fkp predict: error: name photos or videos, or --webcam INDEX", file=sys.stderr)
        return 2
    model = args.model or chosen_model(RUNS_DIR)
    trained_on = training_data_of(model)
    print(f"model {model}, trained on {trained_on.description}")
    if args.webcam is not None:
        return webcam_command(model, args.webcam)
    photos = [path for path in args.photos if not is_video(path)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the same warning is printed below, once
        outcomes = predict_each_photo(photos, model, args.out, flip_tta=not args.no_flip_tta,
                                      second_pass=not args.single_pass) if photos else []
        outcomes += [video_outcome(path, model, args.out) for path in args.photos if is_video(path)]
    if trained_on.warning:
        print(f"warning: {trained_on.warning}")
    failed = [outcome for outcome in outcomes if isinstance(outcome, PhotoError)]
    for outcome in outcomes:
        if isinstance(outcome, PhotoError):
            print(f"fkp predict: error: {outcome}", file=sys.stderr)
        elif not isinstance(outcome, dict):  # a video's line is printed as it finishes
            files = ", ".join(str(path) for path in outcome.files.values())
            print(f"{outcome.photo}: {len(outcome.boxes)} face(s) -> {files}")
    if failed:
        print(f"fkp predict: {len(failed)} of {len(outcomes)} file(s) failed", file=sys.stderr)
    return 1 if failed else 0


def real_faces_command(args: argparse.Namespace) -> int:
    """``convert-udacity SRC OUT``, or ``faces``: find (or download) a Udacity source, convert it once."""
    from fkp_helpers.data.datasets import REAL_FACES_DIR, UDACITY_FOLDER, UDACITY_ZIP_PATH, udacity_source
    from fkp_helpers.data.udacity import convert_udacity, stale_conversion
    from fkp_helpers.data.udacity_download import download_udacity, manual_faces_instructions

    if args.command == "convert-udacity":
        convert_udacity(args.src, args.out, seed=args.seed, x_offset_px=args.x_offset_px)
        print(f"wrote the real faces in Kaggle's format to {args.out}")
        return 0
    if REAL_FACES_DIR.exists():
        stale = stale_conversion(REAL_FACES_DIR)
        print(stale or f"{REAL_FACES_DIR} already holds converted real faces; `make run` uses them")
        return 1 if stale else 0
    source = udacity_source() or (UDACITY_ZIP_PATH if download_udacity(UDACITY_ZIP_PATH) else None)
    if source is None:
        print(manual_faces_instructions(UDACITY_ZIP_PATH, UDACITY_FOLDER))
        return 1
    convert_udacity(source, REAL_FACES_DIR)
    print(f"converted {source} into {REAL_FACES_DIR}; `make run` now runs the series on these real faces")
    return 0


if __name__ == "__main__":
    sys.exit(main())
