"""Training: our step-by-step loop is MiniSom's train_random, plus a curve."""
import numpy as np
import pytest
from minisom import MiniSom

import helpers
from tutorial_kit import exact

ROWS, COLS = 3, 4
SETTINGS = dict(sigma=1.5, learning_rate=0.5, iterations=200)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(20, 4))


def train(data, **changes):
    kwargs = dict(SETTINGS, rows=ROWS, cols=COLS)
    kwargs.update(changes)
    return helpers.train_som(data, **kwargs)


def test_same_seed_gives_identical_weights_and_curve(data):
    first = train(data, random_seed=3)
    second = train(data, random_seed=3)
    np.testing.assert_array_equal(first.som.get_weights(), second.som.get_weights())
    np.testing.assert_array_equal(first.curve_iterations, second.curve_iterations)
    np.testing.assert_array_equal(first.curve_errors, second.curve_errors)


@pytest.mark.parametrize("initialization", ["random", "samples", "pca"])
def test_different_seeds_give_different_maps(data, initialization):
    first = train(data, random_seed=1, initialization=initialization)
    second = train(data, random_seed=2, initialization=initialization)
    assert not np.allclose(first.som.get_weights(), second.som.get_weights())


def minisom_reference(data, rows, cols, *, sigma, learning_rate, iterations,
                      neighborhood_function, topology, decay_function,
                      sigma_decay_function, initialization, random_seed):
    """Train with MiniSom's own API, as a reader of its README would."""
    som = MiniSom(rows, cols, data.shape[1], sigma=sigma, learning_rate=learning_rate,
                  neighborhood_function=neighborhood_function, topology=topology,
                  decay_function=decay_function, sigma_decay_function=sigma_decay_function,
                  random_seed=random_seed)
    if initialization == "samples":
        som.random_weights_init(data)
    elif initialization == "pca":
        # MiniSom's pca_weights_init, with axes computed the same on every CPU
        # (tests/test_exact.py checks it against MiniSom's own, up to each axis' sign)
        som.get_weights()[...] = exact.pca_start(data, rows, cols)
    som.train_random(data, iterations)
    return som.get_weights()


@pytest.mark.parametrize("settings", [
    # the 2019 post: random initial weights, triangle, asymptotic decay
    dict(helpers.som_settings("original"), iterations=300),
    # our default functions, with MiniSom's random initial weights
    dict(helpers.som_settings("default", initialization="random"), sigma=2.0, iterations=300),
    dict(sigma=1.0, learning_rate=0.3, iterations=157, neighborhood_function="bubble",
         topology="hexagonal", decay_function="inverse_decay_to_zero",
         sigma_decay_function="inverse_decay_to_one", initialization="random"),
    # the other two initializations go through MiniSom's own init functions
    dict(helpers.som_settings("default", initialization="samples"), sigma=2.0, iterations=250),
    dict(helpers.som_settings("default"), sigma=2.0, iterations=250),
], ids=["original", "default-random", "bubble-hexagonal", "samples", "pca"])
@pytest.mark.parametrize("seed", [0, 7])
def test_step_by_step_loop_equals_minisom_train_random(data, settings, seed):
    ours = helpers.train_som(data, ROWS, COLS, random_seed=seed, **settings)
    reference = minisom_reference(data, ROWS, COLS, random_seed=seed, **settings)
    np.testing.assert_array_equal(ours.som.get_weights(), reference)  # bit for bit


def test_curve_runs_from_zero_to_the_last_iteration():
    # covers on a plane, far from MiniSom's random start on the unit sphere
    rng = np.random.default_rng(1)
    data = np.zeros((30, 4))
    data[:, :2] = rng.uniform(-4, 4, size=(30, 2))
    data += rng.normal(0, 0.1, size=data.shape)
    trained = train(data, iterations=500, curve_points=20, initialization="random")
    steps, errors = trained.curve_iterations, trained.curve_errors
    assert steps[0] == 0
    assert steps[-1] == 500
    assert np.all(np.diff(steps) > 0)
    assert len(steps) == len(errors) <= 21
    assert np.issubdtype(steps.dtype, np.integer)
    # the last point is the finished map's quantization error
    assert errors[-1] == pytest.approx(trained.som.quantization_error(data))
    # errors fall overall: the end is well below the start, and the second
    # half of the curve is lower on average than the first half
    assert errors[-1] < 0.7 * errors[0]
    half = len(errors) // 2
    assert errors[half:].mean() < errors[:half].mean()


def test_curve_with_fewer_iterations_than_points(data):
    trained = train(data, iterations=3, curve_points=50)
    np.testing.assert_array_equal(trained.curve_iterations, [0, 1, 2, 3])


def test_curve_first_point_is_the_untrained_map(data):
    trained = train(data, initialization="random", random_seed=5)
    untrained = MiniSom(ROWS, COLS, data.shape[1], random_seed=5)
    assert trained.curve_errors[0] == pytest.approx(untrained.quantization_error(data))


def test_progress_callable_sees_done_and_total_and_changes_nothing(data):
    calls = []
    with_progress = train(data, iterations=400, progress=lambda done, total: calls.append((done, total)))
    without = train(data, iterations=400)
    assert calls, "progress was never called"
    assert calls[-1] == (400, 400)
    assert all(total == 400 for _, total in calls)
    done = [d for d, _ in calls]
    assert done == sorted(done)
    assert all(0 <= d <= 400 for d in done)
    np.testing.assert_array_equal(with_progress.som.get_weights(), without.som.get_weights())
    np.testing.assert_array_equal(with_progress.curve_errors, without.curve_errors)


def test_progress_true_is_silent_for_a_small_job(data, capsys):
    train(data, iterations=50, progress=True)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


# --- invalid parameters: one clear ValueError each ---------------------------

@pytest.mark.parametrize("sigma", [0, -1, 0.0, float("nan"), float("inf")])
def test_sigma_must_be_positive(data, sigma):
    with pytest.raises(ValueError,
                       match=r"sigma must be a finite number >= 1e-100 \(2 sigma\^2 must not round"):
        train(data, sigma=sigma)


@pytest.mark.parametrize("learning_rate", [0, -0.5, float("nan"), float("inf")])
def test_learning_rate_must_be_positive(data, learning_rate):
    with pytest.raises(ValueError, match="learning_rate must be a finite number > 0"):
        train(data, learning_rate=learning_rate)


@pytest.mark.parametrize("iterations", [0, -5])
def test_iterations_must_be_at_least_one(data, iterations):
    with pytest.raises(ValueError, match="iterations must be a whole number >= 1"):
        train(data, iterations=iterations)


@pytest.mark.parametrize("iterations", [2.5, 99.9, float("nan"), float("inf")])
def test_iterations_must_be_a_whole_number(data, iterations):
    with pytest.raises(ValueError, match="iterations must be a whole number"):
        train(data, iterations=iterations)


def test_whole_float_iterations_are_accepted(data):
    as_float = train(data, iterations=120.0, random_seed=4)
    as_int = train(data, iterations=120, random_seed=4)
    np.testing.assert_array_equal(as_float.som.get_weights(), as_int.som.get_weights())


@pytest.mark.parametrize("rows, cols, name", [(0, 4, "rows"), (3, 0, "cols"), (-2, 3, "rows"),
                                              (2.5, 3, "rows"), (3, float("inf"), "cols")])
def test_grid_must_be_at_least_one_by_one(data, rows, cols, name):
    with pytest.raises(ValueError, match=f"{name} must be a whole number >= 1"):
        train(data, rows=rows, cols=cols)


def test_whole_float_grid_sizes_are_accepted(data):
    as_float = train(data, rows=3.0, cols=4.0, random_seed=2)
    as_int = train(data, rows=3, cols=4, random_seed=2)
    np.testing.assert_array_equal(as_float.som.get_weights(), as_int.som.get_weights())


def test_nan_features_are_rejected(data):
    bad = data.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"finite 2-D array .*contains NaN"):
        train(bad)


@pytest.mark.parametrize("value", [np.inf, -np.inf])
def test_infinite_features_are_rejected(data, value):
    bad = data.copy()
    bad[0, 0] = value
    with pytest.raises(ValueError, match=r"finite 2-D array .*contains infinity"):
        train(bad)


@pytest.mark.parametrize("bad, reason", [(np.zeros((0, 3)), "got 0 rows"), (np.zeros(5), "got a 1-D array"),
                                         (np.zeros((2, 2, 2)), "got a 3-D array"),
                                         (np.zeros((3, 0)), "0 columns"),
                                         ([[1, "a"], [2, 3]], "got an array of text")])
def test_features_must_be_a_table(bad, reason):
    with pytest.raises(ValueError, match="2-D array") as error:
        helpers.train_som(bad, 2, 2, **SETTINGS)
    assert reason in str(error.value) and "\n" not in str(error.value)  # one line


def test_unknown_initialization(data):
    with pytest.raises(ValueError, match="initialization must be one of"):
        train(data, initialization="zeros")


def test_unknown_neighbourhood_function(data):
    with pytest.raises(ValueError, match="not supported"):
        train(data, neighborhood_function="square")


# --- presets -----------------------------------------------------------------

@pytest.mark.parametrize("seed", [0, 42])
def test_original_preset_trains_the_map_of_the_2019_post(data, seed):
    """The post's call, MiniSom(..., sigma=3, learning_rate=0.5, neighborhood_function=
    'triangle') and train_random(data, 2500), with MiniSom's defaults for the rest."""
    post = MiniSom(ROWS, COLS, data.shape[1], sigma=3, learning_rate=0.5,
                   neighborhood_function="triangle", random_seed=seed)
    post.train_random(data, 2500)
    ours = helpers.train_som(data, ROWS, COLS, random_seed=seed, **helpers.som_settings("original"))
    np.testing.assert_allclose(ours.som.get_weights(), post.get_weights(), rtol=1e-12, atol=1e-12)


def test_settings_are_train_som_arguments(data):
    # every preset can be passed straight to train_som
    for preset in helpers.PRESETS:
        settings = helpers.som_settings(preset, iterations=10, sigma=1.0)
        trained = helpers.train_som(data, ROWS, COLS, **settings)
        assert trained.som.get_weights().shape == (ROWS, COLS, data.shape[1])


def test_som_settings_overrides_and_ignores_none():
    before = dict(helpers.PRESETS["original"])
    settings = helpers.som_settings("original", sigma=2.0, iterations=None)
    assert settings == dict(before, sigma=2.0)  # None keeps the preset's iterations
    assert helpers.PRESETS["original"] == before  # the preset itself is not changed


def test_som_settings_default_preset():
    assert helpers.som_settings() == helpers.PRESETS["default"]


def test_unknown_preset():
    with pytest.raises(ValueError, match="unknown preset 'fancy'"):
        helpers.som_settings("fancy")


def test_unknown_setting():
    with pytest.raises(ValueError, match=r"unknown setting\(s\) \['sigmaa'\]"):
        helpers.som_settings("default", sigmaa=2)


def test_diverging_training_raises_a_clear_error_without_numpy_warnings(data):
    """Steps far beyond the target (triangle, big sigma, learning rate 2) blow the weights up."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's overflow warnings must not escape
        with pytest.raises(ValueError, match="training diverged"):
            helpers.train_som(data, 6, 6, sigma=7, learning_rate=2.0, iterations=2000,
                              neighborhood_function="triangle", initialization="samples")


@pytest.mark.slow  # two full default trainings of a 10x10 map
def test_runaway_neurons_count_as_divergence_even_when_finite():
    """mexican_hat at the default learning rate pushes unused neurons far out (about 1e170,
    still finite): placement would then overflow, so training must say it diverged."""
    runaway = np.random.default_rng(0).normal(size=(100, 30))
    with pytest.raises(ValueError, match="training diverged"):
        helpers.train_som(runaway, 10, 10, **helpers.som_settings("default", neighborhood_function="mexican_hat"))
    # the same data with a gaussian neighbourhood trains normally
    helpers.train_som(runaway, 10, 10, **helpers.som_settings("default"))


@pytest.mark.parametrize("neighborhood", ["gaussian", "mexican_hat", "triangle", "bubble"])
@pytest.mark.parametrize("topology", ["rectangular", "hexagonal"])
@pytest.mark.filterwarnings("ignore:triangle neighborhood function does not")
def test_fast_loop_equals_minisom_bit_for_bit_on_a_bigger_map(neighborhood, topology):
    # tutorial_kit.fast.train_steps replaces MiniSom's update(x, winner(x), t, T)
    # loop; on a 13x9 map with 37 features (beyond any SIMD width) every weight
    # must still come out exactly as MiniSom's own train_random leaves it
    data = np.random.default_rng(3).normal(size=(60, 37))
    settings = dict(helpers.som_settings("default"), iterations=400,
                    sigma=2.5 if neighborhood in ("gaussian", "mexican_hat") else 3.0,
                    learning_rate=0.05 if neighborhood == "mexican_hat" else 0.5,
                    neighborhood_function=neighborhood, topology=topology)
    ours = helpers.train_som(data, 13, 9, random_seed=5, **settings)
    reference = minisom_reference(data, 13, 9, random_seed=5, **settings)
    assert np.isfinite(reference).all()
    np.testing.assert_array_equal(ours.som.get_weights(), reference)


def test_a_minisom_without_the_internals_trains_through_update_to_the_same_map(data, monkeypatch):
    """The fast loop reads MiniSom 2.3.6's private attributes; without one, the public API serves."""
    from tutorial_kit import fast
    settings = dict(helpers.som_settings("default"), sigma=2.0, iterations=250)
    fast_map = helpers.train_som(data, ROWS, COLS, random_seed=3, **settings).som.get_weights()
    monkeypatch.setattr(fast, "MINISOM_INTERNALS", fast.MINISOM_INTERNALS + ("_not_in_this_minisom",))
    with pytest.warns(RuntimeWarning, match="no _not_in_this_minisom: training through its public update"):
        public_map = helpers.train_som(data, ROWS, COLS, random_seed=3, **settings).som.get_weights()
    np.testing.assert_array_equal(public_map, fast_map)


def test_the_training_loop_runs_blas_on_one_thread(data, monkeypatch):
    """Two BLAS threads only compete with the loop for its small products (tutorial_kit/fast.py)."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from tutorial_kit import fast
    seen, train_steps = [], fast.train_steps

    def recording(*args):
        seen.append({info["num_threads"] for info in threadpoolctl.threadpool_info()
                     if info["user_api"] == "blas"})
        train_steps(*args)

    monkeypatch.setattr(fast, "train_steps", recording)
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        helpers.train_som(data, ROWS, COLS, **SETTINGS)
        after = {info["num_threads"] for info in threadpoolctl.threadpool_info() if info["user_api"] == "blas"}
    assert seen and all(threads == {1} for threads in seen)
    assert after == {2}  # the limit ends with the training


@pytest.mark.parametrize("rows, cols, windowed", [(32, 32, False), (36, 36, True)])
def test_a_big_map_moves_only_the_neurons_within_reach_and_stays_minisoms(rows, cols, windowed,
                                                                           monkeypatch):
    """Past 32x32 neurons, each step moves only the window where the gaussian is above 1e-8
    of its peak (fast.train_steps_windowed): MiniSom's map up to that, not bit for bit."""
    from tutorial_kit import fast
    calls, real = [], fast.train_steps_windowed
    monkeypatch.setattr(fast, "train_steps_windowed", lambda *args: calls.append(1) or real(*args))
    data = np.random.default_rng(8).normal(size=(300, 12))
    settings = dict(helpers.som_settings("default"), iterations=3000)
    ours = helpers.train_som(data, rows, cols, random_seed=2, **settings).som.get_weights()
    reference = minisom_reference(data, rows, cols, random_seed=2, **settings)
    assert bool(calls) == windowed
    if not windowed:
        np.testing.assert_array_equal(ours, reference)
        return
    assert np.abs(ours - reference).max() < 1e-8 * np.abs(reference).max()
    # every cover has the same best neuron on both maps
    best = [helpers.squared_distances(data, w.reshape(rows * cols, -1)).argmin(axis=1)
            for w in (ours, reference)]
    np.testing.assert_array_equal(*best)
