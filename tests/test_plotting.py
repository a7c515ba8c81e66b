import matplotlib

matplotlib.use("Agg")

import numpy as np

from fkp_helpers.eda.missing_labels import missing_counts, missing_patterns, strategy_spread
from fkp_helpers.eda.plots import (
    plot_coordinate_histograms,
    plot_correlation_heatmap,
    plot_mean_shape,
    plot_missing_counts,
    plot_pattern_matrix,
    plot_strategy_spread,
)
from fkp_helpers.plotting import face_grid, figure_path, keypoint_colours, save_figure


def faces(rng, n=8):
    keypoints = rng.uniform(10, 85, size=(n, 15, 2))
    keypoints[::2, 2:10] = np.nan
    return rng.integers(0, 256, size=(n, 96, 96), dtype=np.uint8), keypoints


def test_missing_keypoints_are_not_drawn(rng):
    images, keypoints = faces(rng, 2)
    fig = face_grid(images, keypoints, columns=2)
    offsets = [c.get_offsets() for c in fig.axes[0].collections]
    assert len(offsets[0]) == 15 - 8
    assert keypoint_colours().count("gold") == 3


def test_save_figure_writes_png_atomically(tmp_path, rng):
    images, keypoints = faces(rng)
    assert save_figure(face_grid(images, keypoints), "grid", tmp_path) is None
    assert figure_path("grid", tmp_path).read_bytes()[:4] == b"\x89PNG"
    assert [p.name for p in tmp_path.iterdir()] == ["grid.png"]
    save_figure(face_grid(images), "unused", None)
    assert not (tmp_path / "unused.png").exists()


def test_eda_figures_build(rng):
    images, keypoints = faces(rng, 20)
    for fig in (
        plot_missing_counts(missing_counts(keypoints)),
        plot_pattern_matrix(missing_patterns(keypoints)),
        plot_coordinate_histograms(keypoints),
        plot_mean_shape(images, keypoints),
        plot_correlation_heatmap(keypoints),
        plot_strategy_spread(strategy_spread(keypoints), ["nose_tip_x", "left_eye_center_y"]),
    ):
        assert fig.axes
        matplotlib.pyplot.close(fig)
