import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.collections import LineCollection

from fkp_helpers.eda.missing_labels import missing_counts, missing_patterns, strategy_spread
from fkp_helpers.eda.plots import (
    plot_coordinate_histograms,
    plot_correlation_heatmap,
    plot_mean_shape,
    plot_missing_counts,
    plot_pattern_matrix,
    plot_strategy_spread,
)
from fkp_helpers.plotting import SHORT_KEYPOINT_NAMES, face_grid, figure_path, keypoint_colours, save_figure

SIDES = ["label: person's left", "label: person's right", "label: midline"]


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


def legend_texts(fig):
    return [text.get_text() for legend in fig.legends for text in legend.get_texts()]


def error_lines(fig):
    return [c for ax in fig.axes for c in ax.collections if isinstance(c, LineCollection)]


def test_face_grid_joins_each_label_to_its_prediction(rng, assert_legends_clear_of_axes):
    images, keypoints = faces(rng, 4)
    predicted = np.where(np.isnan(keypoints), 48.0, keypoints + rng.normal(0, 2, keypoints.shape))
    fig = face_grid(images, keypoints, predicted=predicted, columns=2)
    assert legend_texts(fig) == [*SIDES, "prediction", "label-to-prediction error"]
    assert_legends_clear_of_axes(fig)
    segments = [len(c.get_segments()) for c in error_lines(fig)]
    assert segments == list((~np.isnan(keypoints[..., 0])).sum(axis=1))  # one per labelled keypoint
    np.testing.assert_allclose(error_lines(fig)[0].get_segments()[0], [keypoints[0, 0], predicted[0, 0]])


def test_face_grid_legend_lists_only_the_marks_drawn(rng):
    images, keypoints = faces(rng, 2)
    assert legend_texts(face_grid(images, keypoints)) == SIDES
    imputed = face_grid(images, keypoints, predicted=np.where(np.isnan(keypoints), 48.0, keypoints),
                        predicted_label="mean-imputed position")
    assert legend_texts(imputed) == [*SIDES, "mean-imputed position"]  # predictions on their labels: no error lines
    assert all(len(c.get_segments()) == 0 for c in error_lines(imputed))
    assert legend_texts(face_grid(images, predicted=keypoints)) == ["prediction"]
    assert face_grid(images).legends == []


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


def test_correlation_heatmap_is_readable(rng):
    _, keypoints = faces(rng, 20)
    fig = plot_correlation_heatmap(keypoints)
    heatmap, colourbar = fig.axes
    assert colourbar.get_ylabel().startswith("Pearson correlation")
    image = heatmap.get_images()[0]
    assert image.get_clim() == (-1, 1) and image.get_cmap().name == "RdBu_r"  # diverging, centred at 0
    labels = [t.get_text() for t in heatmap.get_yticklabels()]
    assert labels[0] == f"{SHORT_KEYPOINT_NAMES['left_eye_center']} x" and labels[15].endswith(" y")
    assert len(labels) == 30 and max(map(len, labels)) <= 12
    corr = np.ma.getdata(image.get_array())  # x block, then y block: [0, 15] pairs the left eye centre's x and y
    assert corr[0, 15] == pytest.approx(np.corrcoef(keypoints[:, 0, 0], keypoints[:, 0, 1])[0, 1])
    matplotlib.pyplot.close(fig)


def test_every_coordinate_histogram_has_labelled_axes_and_pixel_bins(rng):
    _, keypoints = faces(rng, 20)
    fig = plot_coordinate_histograms(keypoints, bin_px=2.0)
    assert len(fig.axes) == 30
    for ax in fig.axes:
        assert ax.get_xlabel().endswith("coordinate (px)") and ax.get_ylabel() == "faces"
        bars = ax.patches
        np.testing.assert_allclose([bar.get_width() for bar in bars], 2.0)
        assert (bars[0].get_x() + 0.5) % 2.0 == pytest.approx(0.0)  # edges on the pixel grid
    assert "2-px bin" in fig._suptitle.get_text()
    matplotlib.pyplot.close(fig)


def test_eda_bar_figures_label_both_axes_and_keep_legends_off_the_bars(rng, assert_legends_clear_of_axes):
    _, keypoints = faces(rng, 20)
    spread = plot_strategy_spread(strategy_spread(keypoints), ["nose_tip_x", "left_eye_center_y"])
    assert_legends_clear_of_axes(spread)
    counts, patterns = plot_missing_counts(missing_counts(keypoints)), plot_pattern_matrix(missing_patterns(keypoints))
    for fig in (spread, counts, patterns):
        assert fig.axes[0].get_xlabel() and fig.axes[0].get_ylabel()
        matplotlib.pyplot.close(fig)
