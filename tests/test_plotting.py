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
from fkp_helpers.plotting import (
    SHORT_KEYPOINT_NAMES,
    face_grid,
    figure_path,
    keypoint_colours,
    save_figure,
    split_seed,
)

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


def test_predictions_on_their_labels_are_not_drawn_and_labels_stay_visible(rng):
    images, keypoints = faces(rng, 1)
    imputed = np.where(np.isnan(keypoints), 48.0, keypoints)  # mean imputation keeps every label
    fig = face_grid(images, keypoints, predicted=imputed)
    _, labels, crosses = fig.axes[0].collections
    np.testing.assert_allclose(crosses.get_offsets(), imputed[0, np.isnan(keypoints[0, :, 0])])
    assert len(labels.get_offsets()) == 7, "every label drawn"
    matplotlib.pyplot.close(fig)


def test_error_lines_stand_out_from_the_marks_they_join(rng):
    images, keypoints = faces(rng, 1)
    fig = face_grid(images, keypoints, predicted=keypoints + 3.0)
    lines, labels, crosses = fig.axes[0].collections
    line_colour = tuple(lines.get_colors()[0])
    other_colours = {tuple(c) for c in (*labels.get_facecolors(), *crosses.get_edgecolors())}
    assert line_colour not in other_colours and lines.get_linewidths()[0] >= 1.0
    assert lines.get_path_effects(), "a dark edge keeps the line visible on light skin"
    assert crosses.get_linewidths()[0] < 1.0 and crosses.get_sizes()[0] > labels.get_sizes()[0], \
        "thin crosses wider than the dots: a label under its prediction shows between the arms"
    matplotlib.pyplot.close(fig)


def test_long_titles_wrap_so_neighbouring_titles_never_overlap(rng):
    images, _ = faces(rng, 12)
    titles = [f"row {1000 + i}: mean 109, std 86, sharp 2.3" for i in range(6)]
    titles += [f"row {2000 + i}: right_eyebrow_outer_end 16px" for i in range(6)]
    fig = face_grid(images, titles=titles)
    fig.canvas.draw()
    boxes = [ax.title.get_window_extent() for ax in fig.axes]
    assert all("\n" in ax.get_title() for ax in fig.axes), "too long for one line of a 1.8-inch panel"
    assert [ax.get_title().replace("\n", " ") for ax in fig.axes] == titles, "wrapped at spaces, nothing lost"
    for i, box in enumerate(boxes):
        assert not any(box.overlaps(other) for other in boxes[i + 1:]), f"title {i} overlaps a neighbour"
    assert face_grid(images[:1], titles=["row 5"]).axes[0].get_title() == "row 5", "short titles stay on one line"
    matplotlib.pyplot.close(fig)


def test_split_seed_reads_the_seed_suffix():
    assert split_seed("vgg_sgd_s1") == ("vgg_sgd", 1) and split_seed("vgg_sgd_long_s0") == ("vgg_sgd_long", 0)
    assert split_seed("nouri_net_dropna") == ("nouri_net_dropna", None)
    assert split_seed("mean_shape") == ("mean_shape", None)


def test_save_figure_writes_png_atomically(tmp_path, rng):
    images, keypoints = faces(rng)
    assert save_figure(face_grid(images, keypoints), "grid", tmp_path) is None
    assert figure_path("grid", tmp_path).read_bytes()[:4] == b"\x89PNG"
    assert [p.name for p in tmp_path.iterdir()] == ["grid.png"]
    save_figure(face_grid(images), "unused", None)
    assert not (tmp_path / "unused.png").exists()


def bar_lengths(ax, horizontal: bool = False) -> list[float]:
    """The length of each bar drawn in ``ax`` (width of horizontal bars, height of vertical ones), in drawing order."""
    return [patch.get_width() if horizontal else patch.get_height() for patch in ax.patches]


def test_missing_counts_figure_draws_one_bar_per_keypoint_at_its_missing_share(rng):
    _, keypoints = faces(rng, 20)  # every other face misses keypoints 2..9
    counts = missing_counts(keypoints)
    fig = plot_missing_counts(counts)
    [ax] = fig.axes
    assert bar_lengths(ax, horizontal=True) == pytest.approx(counts["missing_pct"].tolist())
    assert sorted(bar_lengths(ax, horizontal=True)) == [0.0] * 7 + [50.0] * 8
    assert [t.get_text() for t in ax.get_yticklabels()] == counts["keypoint"].tolist()
    assert ax.get_xlim() == (0, 100) and ax.get_xlabel() == "rows missing this keypoint (%)"
    matplotlib.pyplot.close(fig)


def test_pattern_matrix_shows_each_pattern_with_its_row_count(rng):
    _, keypoints = faces(rng, 20)
    patterns = missing_patterns(keypoints)
    fig = plot_pattern_matrix(patterns)
    [ax] = fig.axes
    shown = ax.get_images()[0].get_array()
    expected = np.ones((2, 15))
    expected[1, 2:10] = 0  # all 15 labelled, then the faces missing keypoints 2..9 (dark = labelled)
    np.testing.assert_array_equal(shown, expected)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["10 rows (50.0%)", "10 rows (50.0%)"]
    assert ax.get_title() == "the 2 commonest of 2 labelled-keypoint patterns (dark = labelled)"
    matplotlib.pyplot.close(fig)


def test_coordinate_histograms_count_every_labelled_value_in_its_panel(rng):
    _, keypoints = faces(rng, 20)
    fig = plot_coordinate_histograms(keypoints)
    assert len(fig.axes) == 15 and fig.axes[0].get_title() == "left eye center"
    assert fig.axes[0].get_xlabel() == "coordinate (px)"
    labelled = (~np.isnan(keypoints)).sum(axis=0)  # (15, 2): keypoint k's x and y
    for k, ax in enumerate(fig.axes):
        x_bars = [patch for patch in ax.patches if patch.get_facecolor() == ax.patches[0].get_facecolor()]
        assert [sum(p.get_height() for p in x_bars), sum(bar_lengths(ax)) - sum(p.get_height() for p in x_bars)] == \
            labelled[k].tolist(), "x and y overlaid in two colours, every labelled value counted"
    assert set(labelled.ravel()) == {10, 20}
    edges = [patch.get_x() for patch in fig.axes[0].patches[:3]]
    assert np.allclose(np.diff(edges), 1.0) and edges[0] % 1 == 0.5, "1-px bins on the pixel grid"
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["x coordinate", "y coordinate"]
    matplotlib.pyplot.close(fig)


def test_mean_shape_figure_draws_the_mean_keypoints_and_every_labelled_one(rng):
    images, keypoints = faces(rng, 20)
    fig = plot_mean_shape(images, keypoints)
    left, right = fig.axes
    np.testing.assert_allclose(left.get_images()[0].get_array(), images.mean(axis=0))
    np.testing.assert_allclose(left.collections[0].get_offsets(), np.nanmean(keypoints, axis=0))
    assert len(right.collections) == 15
    for k, cloud in enumerate(right.collections):
        drawn = np.ma.getdata(cloud.get_offsets())[~np.ma.getmaskarray(cloud.get_offsets()).any(axis=1)]
        np.testing.assert_allclose(drawn, keypoints[~np.isnan(keypoints[:, k, 0]), k])
    assert left.get_title() == "mean face and mean keypoints"
    matplotlib.pyplot.close(fig)


def test_strategy_spread_figure_draws_each_strategys_spread(rng):
    _, keypoints = faces(rng, 20)
    spread = strategy_spread(keypoints)
    columns = ["nose_tip_x", "left_eye_inner_corner_y"]
    fig = plot_strategy_spread(spread, columns)
    [ax] = fig.axes
    assert bar_lengths(ax) == pytest.approx(spread.loc[columns].to_numpy().T.ravel().tolist())  # one colour a strategy
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(spread.columns)
    assert [t.get_text() for t in ax.get_xticklabels()] == columns
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
    assert len(fig.axes) == 15
    for ax in fig.axes:
        assert ax.get_xlabel() == "coordinate (px)" and ax.get_ylabel() == "faces"
        bars = ax.patches
        np.testing.assert_allclose([bar.get_width() for bar in bars], 2.0)
        assert (bars[0].get_x() + 0.5) % 2.0 == pytest.approx(0.0)  # edges on the pixel grid
    assert "2-px bin" in fig._suptitle.get_text()
    matplotlib.pyplot.close(fig)


def test_coordinate_histograms_are_readable_at_notebook_width(rng):
    _, keypoints = faces(rng, 20)
    fig = plot_coordinate_histograms(keypoints)
    assert fig.get_figwidth() <= 10.5, "a notebook shows about 10 inches at the saved resolution"
    for ax in fig.axes:
        assert ax.title.get_fontsize() >= 9 and min(t.get_fontsize() for t in ax.get_xticklabels()) >= 8
    matplotlib.pyplot.close(fig)


def test_eda_bar_figures_label_both_axes_and_keep_legends_off_the_bars(rng, assert_legends_clear_of_axes):
    _, keypoints = faces(rng, 20)
    spread = plot_strategy_spread(strategy_spread(keypoints), ["nose_tip_x", "left_eye_center_y"])
    assert_legends_clear_of_axes(spread)
    counts, patterns = plot_missing_counts(missing_counts(keypoints)), plot_pattern_matrix(missing_patterns(keypoints))
    for fig in (spread, counts, patterns):
        assert fig.axes[0].get_xlabel() and fig.axes[0].get_ylabel()
        matplotlib.pyplot.close(fig)
