import numpy as np
import pytest

from fkp_helpers.data.shapes import alignment_residuals, apply_similarity, procrustes_mean, similarity_transform
from fkp_helpers.data.synth_model import load_synth_model


def test_similarity_transform_recovers_a_known_transform(rng):
    source = rng.normal(size=(15, 2)) * 20
    target = apply_similarity(source, 1.3, 0.2, np.array([48.0, 40.0]))
    scale, angle, translation = similarity_transform(source, target)
    assert scale == pytest.approx(1.3) and angle == pytest.approx(0.2)
    np.testing.assert_allclose(translation, [48.0, 40.0])


def test_similarity_ignores_missing_points(rng):
    source = rng.normal(size=(15, 2)) * 20
    target = apply_similarity(source, 0.8, -0.1, np.array([1.0, 2.0]))
    target[3:] = np.nan
    assert similarity_transform(source, target)[0] == pytest.approx(0.8)
    target[1:] = np.nan
    with pytest.raises(ValueError, match="at least 2 keypoints"):
        similarity_transform(source, target)


def test_procrustes_mean_of_transformed_copies_is_the_shape():
    shape = load_synth_model().mean_shape
    copies = np.stack([apply_similarity(shape, s, a, np.array([t, -t])) for s, a, t in [(1, 0, 0), (1.2, 0.3, 5), (0.9, -0.2, 9)]])
    mean = procrustes_mean(copies)
    np.testing.assert_allclose(alignment_residuals(mean[None], shape)[0], 0, atol=1e-6)
    assert abs(mean[0, 1] - mean[1, 1]) < 1e-6, "eyes levelled"


def test_alignment_residuals_flag_a_moved_keypoint():
    shape = load_synth_model().mean_shape + 48
    moved = shape.copy()
    moved[10] += [0, 12]
    moved[2] = np.nan
    residuals = alignment_residuals(moved[None], shape)[0]
    assert np.argmax(np.nan_to_num(residuals)) == 10 and np.isnan(residuals[2])
