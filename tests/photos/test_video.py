"""Keypoints on a video: one CSV row per face per frame, an annotated video, tracking between searches, bad files."""
from __future__ import annotations

import csv

import cv2
import numpy as np
import pytest
from skimage import data

from fkp_helpers.photos.calibration import kaggle_eye_centres
from fkp_helpers.photos.detection import VIDEO_SMALLEST_FACE, default_detector, pyramid_sides
from fkp_helpers.photos.reading import PhotoError
from fkp_helpers.photos import video as video_module
from fkp_helpers.photos.video import FaceTracker, csv_header, is_video, predict_video, show_webcam

N_FRAMES = 12


def mean_face(crops: np.ndarray) -> np.ndarray:
    """A stand-in model: every crop's keypoints sit where Kaggle's framing puts a face (eyes at their mean)."""
    eyes = kaggle_eye_centres()
    points = np.repeat(eyes.mean(axis=0)[np.newaxis], 15, axis=0)
    points[0], points[1] = eyes  # left_eye_center, right_eye_center
    points[2:] += np.linspace(-10, 20, 13)[:, np.newaxis]  # spread, so a box around them has a size
    return np.repeat(points[np.newaxis], len(crops), axis=0)


@pytest.fixture(scope="module")
def drifting_video(tmp_path_factory):
    """A 12-frame 640x480 MP4 of the astronaut drifting sideways, made here with OpenCV."""
    path = tmp_path_factory.mktemp("video") / "drift.mp4"
    frame = np.zeros((480, 640, 3), np.uint8)
    frame[:, 64:576] = data.astronaut()[16:496]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30, (640, 480))
    for index in range(N_FRAMES):
        writer.write(cv2.cvtColor(np.roll(frame, 4 * index, axis=1), cv2.COLOR_RGB2BGR))
    writer.release()
    return path


class CountingDetector:
    """The real detector, counting its calls."""

    def __init__(self):
        self.detector, self.windows_calls = default_detector(), 0

    def __call__(self, windows):
        self.windows_calls += 1
        return self.detector(windows)


def test_video_gets_a_row_per_face_per_frame_and_an_annotated_copy(drifting_video, tmp_path):
    done = predict_video(drifting_video, FaceTracker(default_detector(), mean_face, redetect_every=4), tmp_path / "out")
    assert done["frames"] == N_FRAMES and done["face_rows"] == N_FRAMES
    with open(done["csv"], newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == csv_header() and len(rows[0]) == 7 + 30
    assert [int(row[0]) for row in rows[1:]] == list(range(N_FRAMES))
    left_eye_x = np.array([float(row[7]) for row in rows[1:]])
    searched = left_eye_x[::4]  # the stand-in model cannot follow a face; the searches at frames 0, 4, 8 do
    assert np.all(np.diff(searched) > 8), "each search finds the face where the drift (4 px a frame) took it"
    capture = cv2.VideoCapture(str(done["video"]))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == N_FRAMES
    assert (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))) == (640, 480)
    capture.release()


def test_tracker_searches_only_every_nth_frame():
    frame = np.zeros((480, 640, 3), np.uint8)
    frame[:, 64:576] = data.astronaut()[16:496]
    counting = CountingDetector()
    tracker = FaceTracker(counting, mean_face, redetect_every=5)
    for _ in range(10):
        boxes, keypoints = tracker(frame)
        assert len(boxes) == len(keypoints) == 1
    levels = len(pyramid_sides(frame.shape, VIDEO_SMALLEST_FACE))
    assert levels == 2 and counting.windows_calls == 2 * levels  # searched at frames 0 and 5 only


def test_existing_outputs_are_refused_and_kept(drifting_video, tmp_path):
    (tmp_path / "drift.keypoints.csv").write_text("mine")
    with pytest.raises(FileExistsError, match="nothing was overwritten"):
        predict_video(drifting_video, FaceTracker(default_detector(), mean_face), tmp_path)
    assert (tmp_path / "drift.keypoints.csv").read_text() == "mine"


@pytest.mark.parametrize("content", [b"", b"not a video at all" * 100])
def test_unreadable_video_is_a_named_error(tmp_path, content):
    path = tmp_path / "broken.mp4"
    path.write_bytes(content)
    with pytest.raises(PhotoError, match="broken.mp4: not a video OpenCV can read"):
        predict_video(path, FaceTracker(default_detector(), mean_face), tmp_path / "out")


def test_videos_are_told_by_their_ending():
    assert is_video("a/clip.MP4") and is_video("b.avi") and not is_video("photo.jpg")


class FakeCamera:
    """A camera that gives the astronaut frame ``frames`` times, then nothing."""

    def __init__(self, frames: int):
        self.left = frames
        self.frame = np.zeros((480, 640, 3), np.uint8)
        self.frame[:, 64:576] = data.astronaut()[16:496, :, ::-1]
        self.released = False

    def isOpened(self) -> bool:  # noqa: N802 (OpenCV's name)
        return True

    def read(self):
        self.left -= 1
        return (self.left >= 0), (self.frame if self.left >= 0 else None)

    def release(self) -> None:
        self.released = True


def test_webcam_shows_annotated_frames_until_q(monkeypatch):
    camera, shown, keys = FakeCamera(10), [], iter([-1, -1, ord("q")])
    monkeypatch.setattr(video_module.cv2, "VideoCapture", lambda device: camera)
    monkeypatch.setattr(video_module.cv2, "imshow", lambda window, bgr: shown.append(bgr.copy()))
    monkeypatch.setattr(video_module.cv2, "waitKey", lambda ms: next(keys))
    monkeypatch.setattr(video_module.cv2, "destroyAllWindows", lambda: None)
    assert show_webcam(0, FaceTracker(default_detector(), mean_face)) == 3
    assert camera.released and len(shown) == 3
    assert np.any(shown[0] != camera.frame), "the frame shown carries the annotation"


def test_missing_camera_is_a_named_error(monkeypatch):
    class NoCamera(FakeCamera):
        def isOpened(self) -> bool:  # noqa: N802
            return False

    monkeypatch.setattr(video_module.cv2, "VideoCapture", lambda device: NoCamera(0))
    with pytest.raises(RuntimeError, match="no camera at index 3"):
        show_webcam(3, FaceTracker(default_detector(), mean_face))


def test_a_face_whose_eyes_collapse_is_reported_but_searched_for_again():
    frame = np.zeros((480, 640, 3), np.uint8)
    frame[:, 64:576] = data.astronaut()[16:496]
    counting = CountingDetector()
    tracker = FaceTracker(counting, lambda crops: np.full((len(crops), 15, 2), 48.0), redetect_every=10)
    for _ in range(3):
        boxes, keypoints = tracker(frame)
        assert len(keypoints) == 1, "the detected face is still reported"
    assert counting.windows_calls == 3 * 2, "nothing to track: every frame is searched"
