"""Residual diagnostics (``residual_analysis``) and the error by group (``groups``) recover what synthetic residuals were built with; their figures draw labelled panels."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from fkp_helpers.data.keypoints import KEYPOINT_NAMES, keypoint_index
from fkp_helpers.evaluation import metrics, residual_analysis
from fkp_helpers.evaluation import groups as group_errors
from fkp_helpers.evaluation.plots import CONFIDENCE_Z

NOSE = keypoint_index("nose_tip")


@pytest.fixture
def truth(rng):
    """300 faces; the first 100 have only the 4 always-labelled keypoints, one face has none."""
    truth = rng.uniform(20, 76, size=(300, 15, 2))
    truth[:100, metrics.SUBSETS["other_11"]] = np.nan
    truth[100] = np.nan
    return truth


def noisy(truth, rng, sd, bias=(0.0, 0.0)):
    """Predictions ``truth + bias + N(0, sd)``, unlabelled points predicted at the frame centre."""
    predicted = truth + np.asarray(bias) + rng.normal(0, sd, truth.shape)
    return np.where(np.isnan(predicted), 48.0, predicted)


def test_residuals_are_nan_where_either_coordinate_is_unlabelled(truth, rng):
    truth = truth.copy()
    truth[150, NOSE, 1] = np.nan
    predicted = noisy(truth, rng, 1.0)
    r = residual_analysis.residuals(predicted, truth)
    assert np.isnan(r[150, NOSE]).all() and np.isnan(r[:100, 2]).all()
    labelled = metrics.labelled_mask(truth)
    np.testing.assert_allclose(r[labelled], (predicted - truth)[labelled])
    with pytest.raises(ValueError, match="finite"):
        residual_analysis.residuals(np.full_like(truth, np.nan), truth)


def test_bias_table_recovers_a_constant_bias(truth, rng):
    table = residual_analysis.bias_table(noisy(truth, rng, 1.0, bias=(2.0, -1.0)), truth)
    assert list(table.index) == list(KEYPOINT_NAMES)
    assert table.loc[KEYPOINT_NAMES[0], "n_labelled"] == 299 and table.loc[KEYPOINT_NAMES[2], "n_labelled"] == 199
    # within 4 standard errors of the truth, and the standard error is sd / sqrt(n)
    assert np.all(np.abs(table["bias_x_px"] - 2.0) < 4 * table["bias_x_se_px"])
    assert np.all(np.abs(table["bias_y_px"] + 1.0) < 4 * table["bias_y_se_px"])
    np.testing.assert_allclose(table["bias_x_se_px"], table["sd_x_px"] / np.sqrt(table["n_labelled"]))
    np.testing.assert_allclose(table[["sd_x_px", "sd_y_px"]], 1.0, atol=0.2)


def test_bias_table_by_hand_and_with_too_few_labels():
    truth = np.full((3, 15, 2), np.nan)
    truth[:, NOSE] = [[40, 50], [42, 52], [44, 54]]
    truth[0, 0] = (30, 40)
    predicted = np.full_like(truth, 48.0)
    predicted[:, NOSE] = truth[:, NOSE] + [[1, 0], [2, 0], [3, 3]]
    predicted[0, 0] = (31, 40)
    table = residual_analysis.bias_table(predicted, truth)
    assert table.loc["nose_tip", "bias_x_px"] == pytest.approx(2.0)
    assert table.loc["nose_tip", "sd_x_px"] == pytest.approx(1.0)
    assert table.loc["nose_tip", "bias_y_se_px"] == pytest.approx(np.std([0, 0, 3], ddof=1) / np.sqrt(3))
    row = table.loc[KEYPOINT_NAMES[0]]
    assert row["bias_x_px"] == 1.0 and np.isnan(row["sd_x_px"]) and np.isnan(row["bias_x_se_px"])
    assert np.isnan(table.loc[KEYPOINT_NAMES[1], "bias_x_px"]) and table.loc[KEYPOINT_NAMES[1], "n_labelled"] == 0


def test_describe_extreme_bins_reads_the_first_and_last_bin():
    bins = metrics.error_by_bins(np.arange(10.0), np.r_[np.full(5, 1.0), 2.0, 2.0, 4.0, 4.0, 4.0], n_bins=2)
    half_width = CONFIDENCE_Z * np.std([2, 2, 4, 4, 4], ddof=1) / np.sqrt(5)
    assert residual_analysis.describe_extreme_bins("brightness", bins) == (
        "brightness: faces in the lowest half (0.0 to 4.0) average 1.00 px (+-0.00), in the highest half "
        f"(5.0 to 9.0) 3.20 px (+-{half_width:.2f}); 95 % intervals.")
    assert residual_analysis.describe_extreme_bins("brightness", bins.iloc[:1]) is None
    one_face = metrics.error_by_bins(np.arange(3.0), np.array([1.0, 2.0, 3.0]), n_bins=3)
    assert "3.00 px (one face: no interval)" in residual_analysis.describe_extreme_bins("roll", one_face)


def test_describe_bias_counts_only_biases_beyond_their_interval():
    bias = pd.DataFrame({"bias_x_px": -np.linspace(0.5, 1.5, 15), "bias_x_se_px": 0.1,
                         "bias_y_px": np.r_[np.full(10, 0.05), np.full(3, -0.3), np.full(2, 0.4)],
                         "bias_y_se_px": 0.1, "sd_x_px": 2.0, "sd_y_px": np.linspace(1.0, 3.0, 15), "n_labelled": 100},
                        index=pd.Index(KEYPOINT_NAMES, name="keypoint"))
    text = residual_analysis.describe_bias(bias)
    assert f"-1.50 px (x of {KEYPOINT_NAMES[-1]}, standard error 0.10 px)" in text
    assert ("In x, 15 of 15 keypoints' predictions sit left of their labels and 0 right of them by more than 1.96 "
            "standard errors (biases from -1.50 to -0.50 px)") in text
    assert "In y, 3 of 15 keypoints' predictions sit above their labels and 2 below them" in text
    assert "from 1.00 to 3.00 px" in text
    assert "no bias to report" in residual_analysis.describe_bias(bias.assign(bias_x_px=np.nan, bias_y_px=np.nan))


def test_ellipse_parameters_match_a_known_covariance(rng):
    # major axis along (1, 1)/sqrt(2) with variance 9, minor with variance 1
    rotation = np.array([[1, -1], [1, 1]]) / np.sqrt(2)
    points = rng.normal(0, 1, (20000, 2)) * [3.0, 1.0] @ rotation.T
    width, height, angle = residual_analysis.ellipse_parameters(points)
    assert residual_analysis.ELLIPSE_CHI2 == pytest.approx(5.991, abs=1e-3)
    assert width == pytest.approx(2 * 3 * np.sqrt(5.991), rel=0.03)
    assert height == pytest.approx(2 * 1 * np.sqrt(5.991), rel=0.03)
    assert angle % 180 == pytest.approx(45, abs=2)
    inside = np.einsum("ni,ij,nj->n", points, np.linalg.inv(np.cov(points, rowvar=False)), points) <= 5.991
    assert inside.mean() == pytest.approx(0.95, abs=0.01)


def test_error_ellipses_centred_on_mean_face_plus_bias(truth, rng):
    models = {"biased": noisy(truth, rng, 1.0, bias=(3.0, 0.0)), "wide": noisy(truth, rng, 2.0)}
    fig = residual_analysis.error_ellipses(models, truth)
    ax = fig.axes[0]
    ellipses = [p for p in ax.patches if isinstance(p, matplotlib.patches.Ellipse)]
    assert len(ellipses) == 2 * len(KEYPOINT_NAMES)
    face = residual_analysis.mean_face(truth)
    biased = residual_analysis.bias_table(models["biased"], truth)
    np.testing.assert_allclose(ellipses[NOSE].center, face[NOSE] + biased.loc["nose_tip", ["bias_x_px", "bias_y_px"]])
    assert ellipses[15 + NOSE].width > 1.5 * ellipses[NOSE].width  # sd 2 against sd 1
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_ylim()[0] > ax.get_ylim()[1]  # y downwards
    assert [t.get_text() for t in ax.get_legend().get_texts()][1:] == [
        f"{name}: 95 % ellipse of the residuals" for name in models
    ]
    plt.close(fig)


def test_mean_face_ignores_unlabelled_points(truth):
    truth = truth.copy()
    truth[150, NOSE, 1] = np.nan  # half a label: its x is left out too
    face = residual_analysis.mean_face(truth)
    np.testing.assert_allclose(face[0], np.nanmean(truth[:, 0], axis=0))
    np.testing.assert_allclose(face[2], truth[101:, 2].mean(axis=0))
    assert face[NOSE, 0] == pytest.approx(np.nanmean(np.delete(truth[:, NOSE, 0], 150)))


def test_predicted_vs_true_panels(truth, rng):
    predicted = noisy(truth, rng, 1.0)
    fig = residual_analysis.predicted_vs_true(predicted, truth, max_points=50)
    assert len(fig.axes) == 30
    nose_y = fig.axes[2 * NOSE + 1]
    assert nose_y.get_title() == "nose tip y"
    assert nose_y.get_xlabel() == "true (px)" and nose_y.get_ylabel() == "predicted (px)"
    assert len(nose_y.collections[0].get_offsets()) == 50  # subsampled
    rmse = np.sqrt(np.nanmean((predicted - truth)[:, NOSE, 1] ** 2))
    assert f"RMSE {rmse:.2f} px" in [t.get_text() for t in nose_y.texts]
    plt.close(fig)


@pytest.mark.parametrize("faces", [300, 12])
def test_one_wrong_label_cannot_squash_its_predicted_vs_true_panel(faces, rng):
    truth = rng.normal(60, 4, size=(faces, 15, 2))
    predicted = truth + rng.normal(0, 1.5, truth.shape)
    clean = residual_analysis.predicted_vs_true(predicted, truth)
    truth[0, NOSE, 0] -= 30  # a wrong label, 30 px off
    fig = residual_analysis.predicted_vs_true(predicted, truth)
    panel, clean_panel = fig.axes[2 * NOSE], clean.axes[2 * NOSE]
    span, clean_span = np.diff(panel.get_xlim())[0], np.diff(clean_panel.get_xlim())[0]
    assert span < 1.5 * clean_span, "the limits follow the bulk of the points, not the wrong label"
    assert panel.get_xlim() == panel.get_ylim()
    edge = panel.collections[1].get_offsets()
    np.testing.assert_allclose(edge, [[panel.get_xlim()[0], predicted[0, NOSE, 0]]]), "drawn on the panel's edge"
    assert "1 beyond the limits" in " ".join(t.get_text() for t in panel.texts)
    assert not any("beyond" in t.get_text() for t in fig.axes[2 * NOSE + 1].texts), "other panels keep every point"
    plt.close(fig)
    plt.close(clean)


def test_residual_histograms_share_bins_and_count_every_labelled_face(truth, rng):
    predicted = noisy(truth, rng, 1.0)
    predicted[0, NOSE, 0] += 100  # an outlier lands in the outermost bin
    fig = residual_analysis.residual_histograms(predicted, truth, bin_width=0.5, limit_px=4.0)
    assert len(fig.axes) == 15
    nose = fig.axes[NOSE]
    assert nose.get_xlabel() == "residual (px), bins of 0.5 px" and nose.get_ylabel() == "faces"
    vertices = nose.patches[0].get_path().vertices  # the x step outline: (edge, count) corners
    np.testing.assert_allclose(np.unique(vertices[:, 0]), np.arange(-4, 4.01, 0.5))
    counts = vertices[1:-1:2, 1]
    assert counts.sum() == 299 and counts[-1] >= 1  # every labelled face, the outlier in the last bin
    assert [p.get_path().vertices[:, 0].min() for p in fig.axes[0].patches] == [-4.0, -4.0]
    mean_line = [line for line in nose.lines if line.get_label() == "mean x bias"][0]
    assert mean_line.get_xdata()[0] == pytest.approx(np.nanmean((predicted - truth)[:, NOSE, 0]))
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["x residual", "mean x bias", "y residual", "mean y bias"]
    plt.close(fig)


def test_scale_bins_are_quantiles_of_the_inter_pupil_distance(truth):
    labels, names = group_errors.scale_bins(truth, n_bins=4)
    iod = metrics.inter_pupil_distance(truth)
    assert labels[100] == -1 and set(labels[np.arange(300) != 100]) == {0, 1, 2, 3}
    assert np.bincount(labels[labels >= 0]).tolist() == pytest.approx([75, 75, 75, 74], abs=1)
    assert iod[labels == 0].max() <= iod[labels == 1].min() and iod[labels == 2].max() <= iod[labels == 3].min()
    assert names[0] == f"inter-pupil {np.nanmin(iod):.1f}-{np.nanquantile(iod, 0.25):.1f} px"


def test_error_by_group_matches_rmse_px_on_each_subset(truth, rng):
    models = {"a": noisy(truth, rng, 1.0), "b": noisy(truth, rng, 2.0)}
    regime = np.where(metrics.labelled_mask(truth).all(axis=1), 1, 0)
    table = group_errors.error_by_group(models, truth, regime, {0: "4 labelled", 1: "all 15"})
    assert list(table.index) == [("4 labelled", "a"), ("4 labelled", "b"), ("all 15", "a"), ("all 15", "b")]
    for label, group in ((0, "4 labelled"), (1, "all 15")):
        faces = regime == label
        for name, predicted in models.items():
            row = table.loc[(group, name)]
            assert row["rmse_px"] == pytest.approx(metrics.rmse_px(predicted[faces], truth[faces]))
    # 100 faces with 4 points + 1 face with none in regime 0; 199 faces with 15 points in regime 1
    assert table.loc[("4 labelled", "a"), "n_faces"] == 100 and table.loc[("all 15", "b"), "n_faces"] == 199
    # same number of points a face: the interval is 1.96 x std(per-face mean squared error) / sqrt(n) / (2 rmse)
    faces = regime == 1
    per_face = np.nanmean(metrics.squared_coordinate_errors(models["a"][faces], truth[faces]), axis=1)
    rmse = np.sqrt(per_face.mean())
    expected = CONFIDENCE_Z * per_face.std(ddof=1) / np.sqrt(199) / (2 * rmse)
    assert table.loc[("all 15", "a"), "ci95_px"] == pytest.approx(expected)


def test_error_by_group_without_names_and_with_an_empty_group(truth, rng):
    predicted = noisy(truth, rng, 1.0)
    groups = np.repeat([2, 1, 0], 100)
    table = group_errors.error_by_group({"m": predicted}, truth, groups, None)
    assert list(table.index.unique("group")) == ["0", "1", "2"]
    assert table.loc[("2", "m"), "n_faces"] == 100
    table = group_errors.error_by_group({"m": predicted}, truth, groups, {7: "nobody"})
    assert np.isnan(table.loc[("nobody", "m"), "rmse_px"]) and table.loc[("nobody", "m"), "n_faces"] == 0
    with pytest.raises(ValueError, match="one label a face"):
        group_errors.error_by_group({"m": predicted}, truth, groups[:10])


def test_describe_group_pair_reads_the_paired_interval_of_the_difference():
    table = pd.DataFrame({"rmse_px": [2.64, 2.649, 2.5, 2.2], "ci95_px": [0.165, 0.18, 0.1, 0.1]},
                         index=pd.MultiIndex.from_product([["a", "b"], ["masked", "dropna"]], names=["group", "model"]))
    differences = pd.DataFrame({"difference_px": [0.009, -0.3], "ci95_px": [0.02, 0.05], "n_faces": [504, 219]},
                               index=pd.Index(["a", "b"], name="group"))
    assert group_errors.describe_group_pair(table, differences, "a", "masked", "dropna") == (
        "a: masked 2.640 px (+-0.165), dropna 2.649 px (+-0.180); dropna minus masked +0.009 px (95 % interval "
        "-0.011 to +0.029, paired over the same 504 faces), which includes 0: no difference shown.")
    assert group_errors.describe_group_pair(table, differences, "b", "masked", "dropna").endswith(
        "(95 % interval -0.350 to -0.250, paired over the same 219 faces), which excludes 0: dropna lower.")
    differences.loc["b", "ci95_px"] = np.nan  # one face or one person: no interval
    assert group_errors.describe_group_pair(table, differences, "b", "masked", "dropna").endswith(
        "dropna minus masked -0.300 px (too few faces or people for an interval: 219 faces).")


def test_paired_difference_by_group_matches_the_groups_rmse_difference(truth, rng):
    first, second = noisy(truth, rng, 1.0), noisy(truth, rng, 2.0)
    groups, people = np.arange(len(truth)) % 2, np.arange(len(truth)) // 6
    differences = group_errors.paired_difference_by_group(first, second, truth, groups, {1: "odd", 0: "even"}, people)
    assert list(differences.index) == ["odd", "even"]
    for label, name in ((1, "odd"), (0, "even")):
        rows = groups == label
        difference, se = metrics.rmse_difference_and_se(metrics.squared_coordinate_errors(first[rows], truth[rows]),
                                                        metrics.squared_coordinate_errors(second[rows], truth[rows]),
                                                        people[rows])
        assert difference == pytest.approx(
            metrics.rmse_px(second[rows], truth[rows]) - metrics.rmse_px(first[rows], truth[rows]))
        assert differences.loc[name, ["difference_px", "ci95_px"]].tolist() == pytest.approx(
            [difference, CONFIDENCE_Z * se])
        assert differences.loc[name, "n_faces"] == (~np.isnan(truth[rows])).any(axis=(1, 2)).sum()


def test_frames_of_one_person_count_as_one_unit():
    """Five identical frames of each of 40 people carry the evidence of 40 faces, not 200: with the people as units
    the standard errors equal those of the 40 distinct faces; with frames as units they come out sqrt(5) too small."""
    rng = np.random.default_rng(1)
    truth = rng.uniform(20, 76, size=(40, 15, 2))
    predicted = truth + rng.normal(0.3, 2.0, truth.shape)
    other = predicted + rng.normal(0, 0.5, truth.shape)
    frames, people = np.repeat(np.arange(40), 5), np.repeat([f"p{i}" for i in range(40)], 5)
    squared = metrics.squared_coordinate_errors(predicted, truth)
    squared_other = metrics.squared_coordinate_errors(other, truth)
    _, se = metrics.rmse_and_se(squared)
    assert metrics.rmse_and_se(squared[frames], people)[1] == pytest.approx(se)
    assert metrics.rmse_and_se(squared[frames])[1] < 0.5 * se
    _, se_difference = metrics.rmse_difference_and_se(squared, squared_other)
    paired = metrics.rmse_difference_and_se(squared[frames], squared_other[frames], people)
    assert paired[1] == pytest.approx(se_difference)
    bias = residual_analysis.bias_table(predicted, truth)
    repeated = residual_analysis.bias_table(predicted[frames], truth[frames], people)
    np.testing.assert_allclose(repeated[["bias_x_se_px", "bias_y_se_px"]], bias[["bias_x_se_px", "bias_y_se_px"]])


def test_rmse_difference_se_matches_the_spread_of_repeated_differences():
    """Two models that share most of their errors on each face: the paired standard error must match the spread
    of the difference over many independent test sets, and be far below the unpaired sqrt(se1^2 + se2^2)."""
    rng = np.random.default_rng(3)
    differences, paired, unpaired = [], [], []
    for _ in range(400):
        face_scale = rng.gamma(2.0, 1.0, size=(150, 1))  # hard and easy faces, shared by both models
        shared = rng.normal(0, 1, (150, 30)) * face_scale
        first = shared**2
        second = (shared + rng.normal(0, 0.3, (150, 30)))**2
        difference, se = metrics.rmse_difference_and_se(first, second)
        differences.append(difference)
        paired.append(se)
        unpaired.append(np.hypot(metrics.rmse_and_se(first)[1], metrics.rmse_and_se(second)[1]))
    assert np.mean(paired) == pytest.approx(np.std(differences, ddof=1), rel=0.15)
    assert np.mean(paired) < 0.5 * np.mean(unpaired)


def test_rmse_difference_needs_the_same_faces_and_labels():
    squared = np.array([[1.0, 2.0], [3.0, np.nan]])
    assert metrics.rmse_difference_and_se(squared, squared) == (0.0, 0.0)
    with pytest.raises(ValueError, match="same faces and labelled coordinates"):
        metrics.rmse_difference_and_se(squared, np.array([[1.0, 2.0], [3.0, 4.0]]))
    with pytest.raises(ValueError, match="same faces"):
        metrics.rmse_difference_and_se(squared, squared[:1])


def test_rmse_and_se_weights_faces_by_their_labelled_points():
    squared = np.array([[1.0, 3.0, np.nan], [4.0, np.nan, np.nan], [np.nan] * 3])
    rmse, se = metrics.rmse_and_se(squared)
    assert rmse == pytest.approx(np.sqrt(8 / 3))
    # ratio estimator: residual totals (4 - 8/3 * 2, 4 - 8/3 * 1), mean count 1.5
    residual = np.array([4 - 16 / 3, 4 - 8 / 3])
    se_mse = np.sqrt((residual**2).sum() / 1 / 2) / 1.5
    assert se == pytest.approx(se_mse / (2 * rmse))
    assert np.isnan(metrics.rmse_and_se(squared[1:])[1]) and np.isnan(metrics.rmse_and_se(squared[2:])[0])


def test_error_by_group_figure(truth, rng):
    models = {"a": noisy(truth, rng, 1.0), "b": noisy(truth, rng, 2.0)}
    labels, names = group_errors.scale_bins(truth, n_bins=3)
    table = group_errors.error_by_group(models, truth, labels, names)
    fig = group_errors.error_by_group_figure(table, group_label="face scale")
    ax = fig.axes[0]
    bars = [c for c in ax.containers if isinstance(c, matplotlib.container.BarContainer)]
    assert [len(b) for b in bars] == [3, 3]
    np.testing.assert_allclose([bar.get_height() for bar in bars[1]], table.xs("b", level="model")["rmse_px"])
    assert ax.get_xlabel() == "face scale" and ax.get_ylabel() == "RMSE (px), 95 % interval"
    assert ax.get_xticklabels()[0].get_text() == names[0].replace(" ", "\n", 1) + f"\n(n = {(labels == 0).sum()})"
    assert ax.get_legend() is not None
    plt.close(fig)


def test_wrong_labels_are_listed_as_gross_errors_and_left_out_of_the_numbers_without_them(truth, rng):
    predicted = noisy(truth, rng, 1.0)
    wrong = truth.copy()
    wrong[200, NOSE] = [10.0, 25.0]  # a label on the wrong spot, as in one real test face
    eye = keypoint_index("left_eye_center")
    wrong[150, eye] += [30.0, 0.0]
    gross = residual_analysis.gross_errors(predicted, wrong)
    assert gross[["face", "keypoint"]].values.tolist() == [[200, "nose_tip"], [150, "left_eye_center"]], \
        "farthest first"
    assert gross.loc[0, "distance_px"] == pytest.approx(np.hypot(*(predicted[200, NOSE] - [10.0, 25.0])))
    text = residual_analysis.describe_gross_errors(predicted, wrong)
    left_out = wrong.copy()
    left_out[200, NOSE] = left_out[150, eye] = np.nan  # only these two points, not every face-keypoint pair
    before, after = residual_analysis.bias_table(predicted, wrong), residual_analysis.bias_table(predicted, left_out)
    assert text.startswith("2 labelled points lie more than 20 px from their predictions (listed above;")
    assert f"Without them the RMSE is {metrics.rmse_px(predicted, left_out):.3f} px instead of " \
           f"{metrics.rmse_px(predicted, wrong):.3f}" in text
    assert (f"nose_tip x {after.loc['nose_tip', 'bias_x_px']:+.2f} (from {before.loc['nose_tip', 'bias_x_px']:+.2f}), "
            f"y {after.loc['nose_tip', 'bias_y_px']:+.2f} (from {before.loc['nose_tip', 'bias_y_px']:+.2f}) px") in text
    assert metrics.rmse_px(predicted, wrong) > metrics.rmse_px(predicted, left_out) + 0.1, "they inflated the RMSE"
    one_wrong = truth.copy()
    one_wrong[200, NOSE] = [10.0, 25.0]
    assert residual_analysis.describe_gross_errors(predicted, one_wrong).startswith(
        "1 labelled point lies more than 20 px from its prediction (listed above;")
    assert residual_analysis.describe_gross_errors(predicted, truth) == (
        "No labelled point lies more than 20 px from its prediction.")
