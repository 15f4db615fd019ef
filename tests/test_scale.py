"""Big folders: reduced features, the local swap pass, scaled training, 3,000 covers."""
import numpy as np
import pytest
from scipy.spatial.distance import cdist, pdist
from sklearn.preprocessing import StandardScaler

import helpers
from conftest import structured_covers
from tutorial_kit import fast


def standardised(images):
    return StandardScaler().fit_transform(images.reshape(len(images), -1).astype(np.float64))


def colour_tiles(n, seed=0, size=4):
    """``n`` covers of one flat random colour each (like Colour-1024's tiles)."""
    colours = np.random.default_rng(seed).integers(0, 256, (n, 1, 1, 3), dtype=np.uint8)
    return np.ascontiguousarray(np.broadcast_to(colours, (n, size, size, 3)))


@pytest.fixture
def small_exact_limit(monkeypatch):
    """Make folders of more than 20 covers take the big-folder path."""
    monkeypatch.setattr(helpers, "EXACT_UP_TO", 20)
    monkeypatch.setattr(helpers, "MAX_COMPONENTS", 5)


def test_reduced_features_keep_the_stated_variance(small_exact_limit):
    images = structured_covers(60, 12, 10, seed=1)
    features = helpers.make_features(images)
    x = standardised(images)
    assert features.values.shape == (60, 5)
    stated = features.variance_kept
    assert 0 < stated < 1
    # the kept share, measured on the standardised pixels themselves
    assert stated == pytest.approx((features.values ** 2).sum() / (x ** 2).sum(), rel=1e-4)
    # five axes keep at most what the five best (exact PCA) axes keep
    best = np.sort(np.linalg.svd(x, compute_uv=False) ** 2)[::-1][:5].sum() / (x ** 2).sum()
    assert stated <= best + 1e-6
    assert stated >= 0.9 * best
    # a projection never stretches a distance
    assert (pdist(features.values) <= pdist(x) * (1 + 1e-4) + 1e-6).all()


def test_reduced_features_scaler_and_inverse_transform(small_exact_limit):
    images = structured_covers(40, 9, 7, seed=2)
    features = helpers.make_features(images)
    flat = images.reshape(40, -1).astype(np.float64)
    np.testing.assert_allclose(features.mean, flat.mean(axis=0), rtol=1e-15)
    reference = StandardScaler().fit(flat)
    np.testing.assert_allclose(features.scale, reference.scale_, rtol=1e-15)
    # the zero vector is the mean cover
    mean_image = features.inverse_transform(np.zeros(features.values.shape[1]))[0]
    assert np.abs(mean_image - images.mean(axis=0)).max() <= 1


def test_flat_colour_tiles_keep_only_the_three_real_axes():
    # 48 pixel columns per tile, but only three colours vary: no noise axes survive
    images = colour_tiles(helpers.EXACT_UP_TO + 40, seed=3)
    features = helpers.make_features(images)
    assert features.values.shape[1] == 3
    assert features.variance_kept == pytest.approx(1.0, abs=1e-5)
    expected = pdist(standardised(images))  # the distances of all 48 columns, kept exactly
    np.testing.assert_allclose(pdist(features.values), expected, rtol=1e-4, atol=1e-4 * expected.max())


def test_identical_big_folder_is_a_clear_error(small_exact_limit):
    images = np.repeat(colour_tiles(1, seed=4), 30, axis=0)
    with pytest.raises(ValueError, match="identical"):
        helpers.make_features(images)


def test_quality_line_says_how_much_variance_was_kept(small_exact_limit):
    images = structured_covers(30, 8, 6, seed=5)
    covers = helpers.CoverSet(images, [f"c{i}.png" for i in range(30)], [])
    result = helpers.arrange_covers(covers, iterations=300)
    assert result.quality["variance_kept"] == pytest.approx(result.features.variance_kept)
    assert "variance kept by the features" in helpers.format_quality(result.quality)
    exact = helpers.arrange_covers(helpers.CoverSet(images[:20], covers.names[:20], []), iterations=300)
    assert "variance_kept" not in exact.quality


# --- the local swap pass ------------------------------------------------------

def test_polish_false_is_the_plain_assignment():
    images = structured_covers(30, 8, 6, seed=8)
    covers = helpers.CoverSet(images, [f"c{i}.png" for i in range(30)], [])
    features = helpers.make_features(images)
    plain = helpers.arrange_covers(covers, features=features, seed=1, polish=False, iterations=500)
    direct = helpers.place_covers(plain.trained.som.get_weights(), features.values)
    np.testing.assert_array_equal(plain.placement.positions, direct.positions)
    polished = helpers.arrange_covers(covers, features=features, seed=1, iterations=500, polish=True)
    assert not np.array_equal(polished.placement.positions, direct.positions)  # swaps did happen


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_local_swaps_do_not_lower_dpq_on_the_bundled_posters(seed):
    covers = helpers.load_covers(helpers.BUNDLED_COVERS)
    features = helpers.make_features(covers.images)
    plain = helpers.arrange_covers(covers, features=features, seed=seed, polish=False)
    polished = helpers.arrange_covers(covers, features=features, seed=seed, polish=True)
    assert polished.quality["dpq16"] >= plain.quality["dpq16"]
    assert sorted(map(tuple, polished.placement.positions)) == sorted(map(tuple, plain.placement.positions))


# --- training length ------------------------------------------------------------

def test_big_maps_get_twenty_iterations_per_neuron():
    images = structured_covers(12, 6, 5, seed=6)
    covers = helpers.CoverSet(images, [f"c{i}.png" for i in range(12)], [])
    features = helpers.make_features(images)
    small = helpers.arrange_covers(covers, features=features)
    assert small.settings["iterations"] == helpers.PRESETS["default"]["iterations"]
    big = helpers.arrange_covers(covers, 16, 16, features=features)
    assert big.settings["iterations"] == 20 * 16 * 16
    chosen = helpers.arrange_covers(covers, 16, 16, features=features, iterations=700)
    assert chosen.settings["iterations"] == 700
    original = helpers.arrange_covers(covers, 16, 16, features=features, preset="original",
                                      placement="greedy")
    assert original.settings["iterations"] == helpers.PRESETS["original"]["iterations"]


@pytest.mark.slow
def test_maps_beyond_32x32_get_20480_iterations():
    images = structured_covers(12, 6, 5, seed=6)
    covers = helpers.CoverSet(images, [f"c{i}.png" for i in range(12)], [])
    huge = helpers.arrange_covers(covers, 40, 40)
    assert huge.settings["iterations"] == 20 * 32 * 32


@pytest.mark.slow
def test_three_thousand_covers_each_placed_once():
    images = structured_covers(3000, 8, 6, seed=7)
    images[-1] = images[-2]  # structured_covers' duplicate is the first and last; keep it simple
    covers = helpers.CoverSet(images, [f"c{i:04d}.png" for i in range(3000)], [])
    result = helpers.arrange_covers(covers, iterations=3000)
    assert (result.rows, result.cols) == (55, 55)
    positions = result.placement.positions
    assert (positions >= 0).all() and result.placement.dropped == []
    assert len({tuple(p) for p in positions}) == 3000
    assert result.features.values.shape[1] <= helpers.MAX_COMPONENTS
    assert 0 < result.quality["variance_kept"] <= 1


def test_the_command_line_polishes_unless_told_not_to():
    from tutorial_kit.cli import _parser

    assert _parser().parse_args(["covers"]).polish is True
    assert _parser().parse_args(["covers", "--no-polish"]).polish is False


def test_the_command_lines_time_limit_counts_the_iterations_a_big_map_gets():
    """400x400 cells: 5,000 steps would pass the time limit, the 20,480 it trains do not."""
    from tutorial_kit.cli import TIME_LIMIT, LimitError, _check_limits, _parser, estimate

    args = _parser().parse_args(["covers", "--rows", "400", "--cols", "400"])
    _, at_5000 = estimate(100, (185, 278), 400, 400, 5000, 0, False)
    assert at_5000 < TIME_LIMIT
    with pytest.raises(LimitError, match="training 20,480 steps"):
        _check_limits(args, n_covers=100, size=(185, 278))


# --- the assignment of a big folder (tutorial_kit.fast.windowed_assignment) ---

def _som_like_cost(n, rows, cols, seed):
    """Squared distances from n covers to the cells of a smooth map (as a trained SOM's)."""
    rng = np.random.default_rng(seed)
    r, c = np.divmod(np.arange(rows * cols), cols)
    cells = np.column_stack([r / rows, c / cols, np.sin(3 * r / rows) * np.cos(2 * c / cols)])
    covers = cells[rng.choice(rows * cols, n, replace=False)] + rng.normal(0, 0.08, (n, 3))
    return ((covers[:, None, :] - cells[None, :, :]) ** 2).sum(axis=2)


@pytest.mark.parametrize("n, rows, cols", [(300, 18, 18), (500, 20, 27), (61, 8, 8)])
def test_windowed_assignment_gives_each_cover_its_own_cell(n, rows, cols):
    cost = _som_like_cost(n, rows, cols, seed=n)
    cell_of = fast.windowed_assignment(cost, rows, cols, window=8)
    assert cell_of.shape == (n,) and len(np.unique(cell_of)) == n
    assert cell_of.min() >= 0 and cell_of.max() < rows * cols


def test_windowed_assignment_is_near_the_optimum_and_never_worse_than_its_start():
    from scipy.optimize import linear_sum_assignment

    cost = _som_like_cost(500, 20, 27, seed=4)
    covers, cells = linear_sum_assignment(cost)
    best = cost[covers, cells].sum()
    start = cost[np.arange(500), fast.nearest_free_start(cost, 27)].sum()
    windowed = cost[np.arange(500), fast.windowed_assignment(cost, 20, 27, window=8)].sum()
    assert best <= windowed <= start
    assert windowed <= 1.05 * best < start  # the windows close most of the gap


def test_a_window_as_big_as_the_grid_is_the_exact_optimum():
    from scipy.optimize import linear_sum_assignment

    cost = _som_like_cost(150, 13, 12, seed=9)
    covers, cells = linear_sum_assignment(cost)
    cell_of = fast.windowed_assignment(cost, 13, 12, window=13)
    assert cost[np.arange(150), cell_of].sum() == pytest.approx(cost[covers, cells].sum(), rel=1e-12)


def test_place_covers_switches_to_windows_past_the_limit(monkeypatch):
    # with the limit lowered, a 120-cover folder takes the windowed path, and
    # its placement is still one cover per cell, near the dense optimum
    rng = np.random.default_rng(2)
    data = rng.normal(size=(120, 3))
    weights = rng.normal(size=(11, 11, 3))
    dense = helpers.place_covers(weights, data)
    calls = []
    real = fast.windowed_assignment
    monkeypatch.setattr(fast, "DENSE_ASSIGNMENT_UP_TO", 100)
    monkeypatch.setattr(fast, "windowed_assignment", lambda *a, **k: calls.append(a) or real(*a, **k))
    windowed = helpers.place_covers(weights, data)
    assert len(calls) == 1
    assert len(np.unique(windowed.positions, axis=0)) == 120

    def total(positions):
        flat = weights.reshape(121, 3)[positions[:, 0] * 11 + positions[:, 1]]
        return ((data - flat) ** 2).sum()
    assert total(dense.positions) <= total(windowed.positions) <= 1.1 * total(dense.positions)


# --- 10,000 covers without N x N tables (issue 22) ------------------------------------

@pytest.mark.parametrize("border", [0, 3])
def test_the_grid_streamed_a_row_at_a_time_is_the_mosaic(border):
    images = np.random.default_rng(border).integers(0, 256, (7, 5, 4, 3), dtype=np.uint8)
    positions = np.array([[0, 0], [2, 1], [1, 2], [-1, -1], [2, 2], [0, 2], [1, 0]])
    result = helpers.Arrangement(helpers.CoverSet(images, list("abcdefg"), []), None, None,
                                 helpers.Placement(positions, [3]), 3, 3, {}, {})
    np.testing.assert_array_equal(np.concatenate(list(result.mosaic_bands(border))),
                                  result.mosaic(border))


def test_windows_computed_from_the_features_place_as_the_whole_table():
    rng = np.random.default_rng(5)
    cells = rng.normal(size=(20 * 27, 4))
    data = cells[rng.choice(len(cells), 500, replace=False)] + rng.normal(0, 0.1, (500, 4))
    whole = fast.windowed_assignment(cdist(data, cells, "sqeuclidean"), 20, 27, window=8)
    lazy = fast.SquaredDistances(data, cells)
    cost = cdist(data, cells, "sqeuclidean")
    by_parts = fast.windowed_assignment(lazy, 20, 27, window=8)
    assert len(np.unique(by_parts)) == 500
    # (BLAS may round the parts differently: the same total, to rounding)
    assert cost[np.arange(500), by_parts].sum() == pytest.approx(cost[np.arange(500), whole].sum(),
                                                                 rel=1e-9)


def test_map_errors_by_blocks_equal_minisoms(monkeypatch):
    from minisom import MiniSom

    rng = np.random.default_rng(3)
    data = rng.normal(size=(400, 6))
    som = MiniSom(9, 8, 6, random_seed=1)
    # a trained map: random_weights_init copies some covers onto two neurons, and
    # between such exact ties the "second best" depends on numpy's sort (numpy 1.24 and
    # 2.x order them differently), so the topographic error would be ill-defined
    som.train_random(data, 500)
    monkeypatch.setattr(fast, "row_blocks", lambda n, length: [slice(0, 150), slice(150, n)])
    qe, te = fast.map_errors(som, data)
    assert 0.1 < te < 0.9  # some covers' best two neurons are apart: the count is tested
    assert qe == pytest.approx(som.quantization_error(data), rel=1e-9)
    assert te == som.topographic_error(data)


def test_dpq_of_a_big_folder_is_measured_on_a_stated_sample(monkeypatch):
    rng = np.random.default_rng(4)
    data = rng.normal(size=(600, 3))
    positions = np.column_stack(np.divmod(np.argsort(data[:, 0], kind="stable"), 25))
    exact = helpers.dpq(data, positions)
    monkeypatch.setattr(helpers, "DPQ_EXACT_UP_TO", 500)
    monkeypatch.setattr(helpers, "DPQ_SAMPLE", 300)
    sampled = helpers.dpq(data, positions)
    assert sampled != exact and sampled == pytest.approx(exact, abs=0.02)
    ratio = helpers.neighbour_distance_ratio(data, positions)
    monkeypatch.setattr(helpers, "DPQ_EXACT_UP_TO", 10 ** 6)
    assert ratio == pytest.approx(helpers.neighbour_distance_ratio(data, positions), rel=0.02)


def test_windowed_assignment_is_the_same_on_one_thread_or_two():
    """The windows of a phase do not overlap, so solving them at once changes nothing."""
    rng = np.random.default_rng(7)
    data, cells = rng.normal(size=(380, 4)), rng.normal(size=(20 * 20, 4))
    cost = cdist(data, cells, "sqeuclidean")
    one = fast.windowed_assignment(cost, 20, 20, window=8, workers=1)
    two = fast.windowed_assignment(cost, 20, 20, window=8, workers=2)
    np.testing.assert_array_equal(one, two)
    assert len(set(one.tolist())) == 380
    assert [len(g) for g in fast._disjoint_groups([0, 16, 32, 48, 64, 68], 32)] == [3, 2, 1]
