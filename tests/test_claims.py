"""Every number-bearing claim in the prose of notebooks 03 and 04 that code can
check, checked on the bundled covers (the notebooks print the numbers beside
the prose; these tests make sure the prose stays true when the code changes).

Claims that hold by construction of MiniSom (its neighbourhood and decay
formulas) are checked against MiniSom itself (fast); claims about the bundled
covers load them and train the same maps the notebooks train (marked slow).
"""
import numpy as np
import pytest
from minisom import MiniSom

import helpers

SEED = 42


@pytest.fixture(scope="module")
def bundled():
    covers = helpers.load_covers(helpers.BUNDLED_COVERS)
    values = helpers.make_features(covers.images).values
    rows, cols = helpers.grid_shape_for(len(values))
    return covers, values, rows, cols


@pytest.fixture(scope="module")
def maps(bundled):
    _, values, rows, cols = bundled
    return {preset: helpers.train_som(values, rows, cols, random_seed=SEED, **helpers.som_settings(preset)).som
            for preset in ("original", "default")}


# ---------------------------------------------------------------------------
# Notebook 03: the neighbourhood table, the overshoot, the decays
# ---------------------------------------------------------------------------


def _h(name, sigma, offset=(0, 0), size=11):
    som = MiniSom(size, size, 1, sigma=sigma, neighborhood_function=name)
    centre = size // 2
    return som.neighborhood((centre, centre), sigma)[centre + offset[0], centre + offset[1]]


def test_value_at_the_winner_is_1_for_gaussian_and_bubble_and_sigma_squared_for_triangle():
    assert _h("gaussian", 3) == pytest.approx(1)
    assert _h("bubble", 3) == pytest.approx(1)
    assert _h("triangle", 3) == pytest.approx(9)  # "0.5 x 9 = 4.5 times its distance"
    assert 0.5 * _h("triangle", 3) == pytest.approx(4.5)
    assert abs(1 - 4.5) == pytest.approx(3.5)  # quiz 2: "3.5 times as far away on the other side"


def test_at_sigma_1_the_triangle_moves_only_the_winner_and_the_gaussian_61_percent():
    assert _h("triangle", 1, (0, 1)) == 0 and _h("triangle", 1, (1, 0)) == 0
    assert _h("gaussian", 1, (0, 1)) == pytest.approx(np.exp(-0.5))
    assert round(100 * _h("gaussian", 1, (0, 1))) == 61


def test_bubble_is_a_square_with_a_strict_edge():
    # "1 if |dr| < sigma and |dq| < sigma": the diagonal at distance 1 is inside for sigma 2,
    # and distance sigma itself is outside
    assert _h("bubble", 2, (1, 1)) == 1
    assert _h("bubble", 2, (2, 0)) == 0


def test_the_decay_formulas_in_the_table_are_minisoms():
    T, t = 1000, np.arange(1001)
    assert np.allclose(helpers.decay_schedule("linear_decay_to_zero", 0.5, T), 0.5 * (1 - t / T))
    assert np.allclose(helpers.decay_schedule("linear_decay_to_one", 4, T), 4 + (1 - 4) * t / T)
    assert np.allclose(helpers.decay_schedule("asymptotic_decay", 3, T), 3 / (1 + 2 * t / T))
    assert np.allclose(helpers.decay_schedule("inverse_decay_to_zero", 0.5, T), 0.5 * (T / 100) / (T / 100 + t))
    assert np.allclose(helpers.decay_schedule("inverse_decay_to_one", 4, T), 4 / (1 + t * (4 - 1) / T))
    # "at the end of the post's training sigma has shrunk to a third of 3, that is 1"
    assert helpers.decay_schedule("asymptotic_decay", 3, T)[-1] == pytest.approx(1)


def test_the_original_preset_is_the_posts_code():
    # the notebook quotes MiniSom(10, 10, len(data[0]), sigma=3, learning_rate=0.5, 'triangle'), 2500 steps
    original = helpers.som_settings("original")
    assert (original["sigma"], original["learning_rate"], original["iterations"]) == (3, 0.5, 2500)
    assert original["neighborhood_function"] == "triangle"
    assert original["decay_function"] == original["sigma_decay_function"] == "asymptotic_decay"


def test_the_default_preset_is_what_notebook_03_says():
    # "a gaussian neighbourhood, linear decays, more steps and a PCA start"; quiz 5 quotes
    # "a learning rate (0.5)" and the decay table marks the linear decays as the default's
    default, original = helpers.som_settings("default"), helpers.som_settings("original")
    assert default["neighborhood_function"] == "gaussian"
    assert (default["decay_function"], default["sigma_decay_function"]) == ("linear_decay_to_zero",
                                                                            "linear_decay_to_one")
    assert default["iterations"] > original["iterations"]
    assert default["initialization"] == "pca"
    assert default["learning_rate"] == 0.5


def test_len_data_instead_of_len_data0_stops_minisom():
    data = np.random.default_rng(0).normal(size=(5, 3))
    wrong = MiniSom(2, 2, len(data), random_seed=0)
    with pytest.raises(ValueError, match="Received 3 features, expected 5"):
        wrong.train_random(data, 1)


# ---------------------------------------------------------------------------
# Notebook 03: the PCA start
# ---------------------------------------------------------------------------


@pytest.mark.slow  # loads and reduces the 100 bundled covers
def test_minisoms_pca_start_is_nearly_a_point(bundled):
    _, values, rows, cols = bundled
    som = MiniSom(rows, cols, values.shape[1])
    som.pca_weights_init(values)
    reach = np.linalg.norm(som.get_weights() - values.mean(axis=0), axis=-1).max()
    assert reach == pytest.approx(np.sqrt(2))  # "within about 1.4 of the mean cover"
    spread = values.std(axis=0, ddof=1)
    assert spread[0] > 100 and spread[1] > 100  # "hundreds of units along those axes"
    # "MiniSom's PCA start sits as far from the covers as the mean cover does"
    from_mean = np.linalg.norm(values - values.mean(axis=0), axis=1).mean()
    assert som.quantization_error(values) == pytest.approx(from_mean, rel=0.01)


@pytest.mark.slow
def test_the_start_hardly_matters_with_the_default_settings(bundled):
    """Notebook 03: MiniSom's PCA start, a scaled one and random covers give about the same DPQ16."""
    _, values, rows, cols = bundled
    s = helpers.som_settings("default")
    centred = values - values.mean(axis=0)
    _, singular, axes = np.linalg.svd(centred, full_matrices=False)
    spread = singular / np.sqrt(len(values) - 1)
    scaled = (values.mean(axis=0) + np.linspace(-1, 1, rows)[:, None, None] * spread[0] * axes[0]
              + np.linspace(-1, 1, cols)[None, :, None] * spread[1] * axes[1])
    means, start_qe = {}, {}
    for name in ("pca", "scaled", "samples"):
        scores = []
        for seed in (SEED, SEED + 1, SEED + 2):
            som = MiniSom(rows, cols, values.shape[1], sigma=s["sigma"], learning_rate=s["learning_rate"],
                          neighborhood_function=s["neighborhood_function"], decay_function=s["decay_function"],
                          sigma_decay_function=s["sigma_decay_function"], random_seed=seed)
            if name == "pca":
                som.pca_weights_init(values)
            elif name == "samples":
                som.random_weights_init(values)
            else:
                som.get_weights()[:] = scaled
            start_qe.setdefault(name, som.quantization_error(values))
            som.train_random(values, s["iterations"])
            scores.append(helpers.dpq(values, helpers.place_covers(som.get_weights(), values).positions))
        means[name] = np.mean(scores)
    assert start_qe["scaled"] < start_qe["pca"]  # "the scaled start is closer"
    assert max(means.values()) - min(means.values()) < 0.02, means  # "hardly differ"


# ---------------------------------------------------------------------------
# Notebook 03: fit against smoothness
# ---------------------------------------------------------------------------


@pytest.mark.slow
def test_the_posts_map_fits_closer_and_ours_is_smoother(bundled, maps):
    _, values, _, _ = bundled
    post, ours = maps["original"], maps["default"]
    assert post.quantization_error(values) < ours.quantization_error(values)
    assert post.topographic_error(values) >= ours.topographic_error(values)


# ---------------------------------------------------------------------------
# Notebook 04
# ---------------------------------------------------------------------------


def _random_arrangements(n, rows, cols, draws=20, seed=SEED):
    rng = np.random.default_rng(seed)
    return [np.column_stack(np.divmod(rng.permutation(rows * cols)[:n], cols)) for _ in range(draws)]


@pytest.mark.slow
def test_our_smoother_map_has_more_empty_and_crowded_neurons(bundled, maps):
    _, values, _, _ = bundled
    counts = {name: som.activation_response(values) for name, som in maps.items()}
    assert (counts["default"] == 0).sum() > (counts["original"] == 0).sum()
    assert (counts["default"] > 1).sum() > (counts["original"] > 1).sum()


@pytest.mark.slow
def test_greedy_keeps_more_covers_on_their_winner_but_moves_the_others_further(bundled, maps):
    _, values, _, _ = bundled
    for som in maps.values():
        winners = np.array([som.winner(v) for v in values])
        moved = {strategy: np.linalg.norm(helpers.place_covers(som.get_weights(), values, strategy).positions
                                          - winners, axis=1) for strategy in ("greedy", "assignment")}
        assert (moved["greedy"] > 0).mean() < (moved["assignment"] > 0).mean()
        assert moved["greedy"].mean() > moved["assignment"].mean()
        assert moved["greedy"].max() > moved["assignment"].max()


@pytest.mark.slow
def test_the_fill_matters_most_for_the_smoother_map_and_random_is_far_lower(bundled, maps):
    _, values, rows, cols = bundled
    score = {(name, strategy): helpers.dpq(values, helpers.place_covers(som.get_weights(), values, strategy).positions)
             for name, som in maps.items() for strategy in ("greedy", "assignment")}
    for name in maps:  # the assignment beats the greedy fill on both maps
        assert score[name, "assignment"] > score[name, "greedy"]
    gain = {name: score[name, "assignment"] - score[name, "greedy"] for name in maps}
    assert gain["default"] > gain["original"]  # "most for our smoother map"
    random_dpq = [helpers.dpq(values, p) for p in _random_arrangements(len(values), rows, cols)]
    assert max(random_dpq) < min(score.values())  # "random arrangements score far lower"
    assert max(random_dpq) - min(random_dpq) > 0.05  # "one draw alone can land anywhere in that range"


@pytest.mark.slow  # loads and reduces the 100 bundled covers
def test_random_neighbours_are_as_far_apart_as_an_average_pair(bundled):
    """Notebook 04: 'a random layout gives about 1' for neighbour/all distance."""
    _, values, rows, cols = bundled
    ratios = [helpers.neighbour_distance_ratio(values, p) for p in _random_arrangements(len(values), rows, cols)]
    assert np.mean(ratios) == pytest.approx(1, abs=0.05)


@pytest.mark.slow  # loads and reduces the 100 bundled covers
def test_a_random_arrangements_gain_curve_stays_near_zero(bundled):
    """Notebook 04: the random arrangement's gain curve, read in the prose."""
    _, values, rows, cols = bundled
    positions = _random_arrangements(len(values), rows, cols)[0]
    n = len(values)
    d = np.sqrt(helpers.squared_distances(values, values))
    g = helpers.squared_distances(positions.astype(float), positions.astype(float))
    off = ~np.eye(n, dtype=bool)
    d, g = d[off].reshape(n, n - 1), g[off].reshape(n, n - 1)
    by_grid = np.take_along_axis(d, np.lexsort((d, g), axis=1), axis=1)
    d_k = (np.cumsum(by_grid, axis=1) / np.arange(1, n)).mean(axis=0)
    gains = np.maximum(0, (d.mean() - d_k) / d.mean())
    best = np.maximum(0, (d.mean() - (np.cumsum(np.sort(d, axis=1), axis=1) / np.arange(1, n)).mean(axis=0)) / d.mean())
    # "beyond the cells around a cover (k > 8) its curve stays near 0", but not at k = 1, where
    # the grid order breaks the tie between 4 direct neighbours by feature distance
    assert gains[8:].max() < 0.1
    assert 0 < gains[0] < best[0]
