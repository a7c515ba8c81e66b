import numpy as np
import pytest

from fkp_helpers.data.datasets import load_series_data
from fkp_helpers.data.kaggle_io import read_keypoint_labels, read_lookup_table, read_training
from fkp_helpers.data.keypoints import ALWAYS_LABELLED_INDEX, keypoint_index
from fkp_helpers.data.synth import FaceStyle, SynthSpec, generate_fkp_synth, render_face, sample_keypoints
from fkp_helpers.data.synth_model import load_synth_model, pattern_to_string

CLEAN = FaceStyle(skin=150.0, background=60.0, background_gradient=0.0)


def sample_at(image: np.ndarray, point: np.ndarray) -> float:
    """Bilinear intensity at a sub-pixel (x, y) position (pixel centres at integers)."""
    x, y = np.clip(point, 0, 95)
    x0, y0 = int(np.floor(x)), int(np.floor(y))
    fx, fy = x - x0, y - y0
    patch = np.pad(image, ((0, 1), (0, 1)), mode="edge")[y0 : y0 + 2, x0 : x0 + 2].astype(float)
    return float(patch[0, 0] * (1 - fx) * (1 - fy) + patch[0, 1] * fx * (1 - fy) + patch[1, 0] * (1 - fx) * fy + patch[1, 1] * fx * fy)


def darkest_near(image: np.ndarray, point: np.ndarray) -> float:
    """Darkest pixel of the 3x3 block around a point: a thin anti-aliased line can fall on a neighbouring pixel."""
    x, y = np.rint(np.clip(point, 1, 94)).astype(int)
    return float(image[y - 1 : y + 2, x - 1 : x + 2].min())


@pytest.fixture(scope="module")
def clean_faces():
    model = load_synth_model()
    rng = np.random.default_rng(5)
    shapes = sample_keypoints(model, rng, np.ones(25, dtype=bool))
    return shapes, [render_face(s, CLEAN) for s in shapes]


def k(name):
    return keypoint_index(name)


def unit(v):
    return v / np.linalg.norm(v)


def test_pupils_sit_on_the_eye_centres(clean_faces):
    for shape, image in zip(*clean_faces):
        for side in ("left", "right"):
            centre = shape[k(f"{side}_eye_center")]
            assert sample_at(image, centre) < 40, "the pupil is dark"
            outer = shape[k(f"{side}_eye_outer_corner")]
            sclera = centre + 0.7 * (outer - centre)
            assert sample_at(image, sclera) > sample_at(image, centre) + 60


def test_eye_corners_are_the_ends_of_the_eye_shapes(clean_faces):
    for shape, image in zip(*clean_faces):
        for side in ("left", "right"):
            inner, outer = shape[k(f"{side}_eye_inner_corner")], shape[k(f"{side}_eye_outer_corner")]
            axis = unit(outer - inner)
            for corner, outward in ((inner, -axis), (outer, axis)):
                assert sample_at(image, corner) < CLEAN.skin - 25, "eyelid outline at the corner"
                assert sample_at(image, corner + 2.5 * outward) > CLEAN.skin - 15, "skin beyond the corner"


def test_eyebrow_ends_are_the_ends_of_the_strokes(clean_faces):
    for shape, image in zip(*clean_faces):
        for side in ("left", "right"):
            inner, outer = shape[k(f"{side}_eyebrow_inner_end")], shape[k(f"{side}_eyebrow_outer_end")]
            axis = unit(outer - inner)
            for end, outward in ((inner, -axis), (outer, axis)):
                assert sample_at(image, end - 1.0 * outward) < CLEAN.skin * 0.55, "dark brow just inside the end"
                assert sample_at(image, end + 2.0 * outward) > CLEAN.skin * 0.8, "no brow past the end"


def test_nose_tip_is_at_the_bottom_of_the_nose(clean_faces):
    for shape, image in zip(*clean_faces):
        across = unit(shape[k("left_eye_center")] - shape[k("right_eye_center")])
        down = np.array([-across[1], across[0]])
        tip = shape[k("nose_tip")]
        assert sample_at(image, tip - 1.3 * down) > CLEAN.skin + 20, "highlight just above the tip"
        assert sample_at(image, tip + 1.0 * down) < CLEAN.skin - 25, "shadow just below the tip"


def test_mouth_keypoints_lie_on_the_mouth(clean_faces):
    for shape, image in zip(*clean_faces):
        left, right = shape[k("mouth_left_corner")], shape[k("mouth_right_corner")]
        axis = unit(left - right)
        for corner, outward in ((left, axis), (right, -axis)):
            assert darkest_near(image, corner - 0.8 * outward) < CLEAN.skin * 0.75, "lips at the corner"
            assert sample_at(image, corner + 2.0 * outward) > CLEAN.skin * 0.9, "skin past the corner"
        top, bottom = shape[k("mouth_center_top_lip")], shape[k("mouth_center_bottom_lip")]
        inward = unit(bottom - top)
        if np.linalg.norm(bottom - top) > 3:
            assert sample_at(image, top + 1.0 * inward) < CLEAN.skin * 0.7, "lip just inside the top-lip centre"
            assert sample_at(image, bottom - 1.0 * inward) < CLEAN.skin * 0.7, "lip just inside the bottom-lip centre"
        if np.linalg.norm(top - shape[k("nose_tip")]) > 8:  # else the nose shadow may sit there
            assert sample_at(image, top - 2.0 * inward) > CLEAN.skin * 0.85, "skin above the top lip"
        assert sample_at(image, bottom + 2.0 * inward) > CLEAN.skin * 0.85, "skin below the bottom lip"


def test_pattern_frequencies_match_the_real_labels():
    model = load_synth_model()
    patterns = model.sample_patterns(np.random.default_rng(0), 50_000)
    counts = patterns.sum(axis=1)
    assert abs((counts == 15).mean() - 2140 / 7049) < 0.01
    assert abs((counts == 4).mean() - 4755 / 7049) < 0.01
    four = patterns[counts == 4]
    assert four[:, ALWAYS_LABELLED_INDEX].all(), "the 4-keypoint regime labels exactly the always-labelled keypoints"


def test_model_patterns_are_the_real_patterns(real_labels_dir):
    keypoints = read_keypoint_labels(real_labels_dir / "training_keypoints.csv")
    from collections import Counter

    real = Counter(pattern_to_string(row) for row in ~np.isnan(keypoints[..., 0]))
    model = load_synth_model()
    assert {pattern_to_string(p): int(n) for p, n in zip(model.patterns, model.pattern_rows)} == dict(real)
    assert len(real) == 50 and sum(real.values()) == 7049


def test_lookup_sets_have_the_real_structure(real_labels_dir):
    model = load_synth_model()
    sets = model.sample_lookup_sets(np.random.default_rng(0), 1783)
    sizes = np.array([len(s) for s in sets])
    assert abs((sizes == 8).sum() - 1190) < 90 and abs((sizes == 30).sum() - 556) < 90
    real = read_lookup_table(real_labels_dir / "IdLookupTable.csv")
    real_sets = {tuple(g) for _, g in real.groupby("ImageId")["FeatureName"]}
    assert {tuple(s) for s in sets} <= real_sets


def test_generated_files_read_back_with_the_real_patterns(tiny_synth_dir):
    data = load_series_data(tiny_synth_dir)
    model = load_synth_model()
    known = {pattern_to_string(p) for p in model.patterns}
    assert {pattern_to_string(row) for row in ~np.isnan(data.train.keypoints[..., 0])} <= known
    assert len(data.train) == 60 and len(data.test) == 20 and data.source == "fkp-synth"
    lookup_sizes = data.lookup.groupby("ImageId").size()
    assert set(lookup_sizes.index) == set(data.test.image_ids.tolist())
    assert len(data.sample_submission) == len(data.lookup)


def test_labels_carry_the_recorded_jitter(tiny_synth_dir):
    data = load_series_data(tiny_synth_dir)
    truth = data.hidden_truth
    assert truth.label_noise_px == 1.0
    residual = data.train.keypoints - truth.train_true_keypoints
    rms = np.sqrt(np.nanmean(residual**2))
    assert 0.75 < rms < 1.25, rms
    test_rms = np.sqrt(np.mean((truth.test_keypoints - truth.test_true_keypoints) ** 2))
    assert 0.8 < test_rms < 1.2, test_rms


def test_deterministic_for_a_seed_and_never_overwrites(tmp_path):
    spec = SynthSpec(n_train=8, n_test=4, seed=3)
    a, b = generate_fkp_synth(tmp_path / "a", spec, progress=False), generate_fkp_synth(tmp_path / "b", spec, progress=False)
    for name in ("training.zip", "test.zip", "IdLookupTable.csv", "SampleSubmission.csv"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    other = generate_fkp_synth(tmp_path / "c", SynthSpec(n_train=8, n_test=4, seed=4), progress=False)
    assert (a / "training.zip").read_bytes() != (other / "training.zip").read_bytes()
    before = (a / "training.zip").read_bytes()
    with pytest.raises(FileExistsError, match="refusing to overwrite"):
        generate_fkp_synth(a, spec, progress=False)
    assert (a / "training.zip").read_bytes() == before


def test_duplicates_are_exact_copies(tmp_path):
    folder = generate_fkp_synth(tmp_path / "d", SynthSpec(n_train=200, n_test=2, seed=1, duplicate_fraction=0.05), progress=False)
    images = read_training(folder / "training.zip").images
    flat = images.reshape(len(images), -1)
    assert len(np.unique(flat, axis=0)) <= 200 - 5
