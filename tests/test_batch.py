"""The batch SOM of the explorer's preview (tutorial_kit/batch.py), against references.

Two references: the batch formula written out cover by cover and neuron by
neuron (Kohonen 2013, as MiniSom's ``train_batch_offline`` implements it),
and MiniSom's own ``train_batch_offline`` where the installed MiniSom has it
(its main branch; 2.3.6 from PyPI does not).
"""
import doctest
import sys
from pathlib import Path

import numpy as np
import pytest
from minisom import MiniSom

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import helpers  # noqa: E402
from tutorial_kit import batch, exact, explorer_preview  # noqa: E402

FUNCTIONS = ("gaussian", "triangle", "bubble")


def _reference_epoch(data, weights, sigma, function, learning_rate):
    """The batch update written out: for each neuron j, the mean of all covers, cover i
    weighted by MiniSom's neighbourhood of its winner c_i at j; a neuron that no cover
    reaches keeps its weights."""
    rows, cols, _ = weights.shape
    som = MiniSom(rows, cols, weights.shape[2], sigma=max(sigma, 1.0),
                  neighborhood_function=function)
    found = [np.unravel_index(np.argmin([np.linalg.norm(x - w) for w in weights.reshape(rows * cols, -1)]),
                              (rows, cols)) for x in data]
    new = weights.copy()
    for r in range(rows):
        for c in range(cols):
            h = np.array([som.neighborhood(winner, sigma)[r, c] for winner in found])
            if h.sum() > 0:
                mean = (h[:, None] * data).sum(axis=0) / h.sum()
                new[r, c] = (1 - learning_rate) * weights[r, c] + learning_rate * mean
    return new


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize("sigma, learning_rate", [(2.0, 1.0), (1.0, 0.5), (3.0, 0.25)])
def test_one_epoch_is_the_batch_formula_written_out(function, sigma, learning_rate):
    rng = np.random.default_rng(5)
    data, weights = rng.normal(size=(23, 4)), rng.normal(size=(3, 5, 4))
    ours = batch.batch_epoch(data, weights, sigma, function, learning_rate)
    assert np.allclose(ours, _reference_epoch(data, weights, sigma, function, learning_rate),
                       rtol=1e-12, atol=1e-12)
    assert not np.allclose(ours, weights)  # the epoch moved the map


def test_a_neuron_no_cover_reaches_keeps_its_weights():
    data = np.array([[0.0], [0.1]])
    weights = np.array([[[0.0], [5.0], [9.0]]])
    new = batch.batch_epoch(data, weights, 1.0, "bubble")  # bubble of radius 1: the winner only
    assert new[0, :, 0].tolist() == [0.05, 5.0, 9.0]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_the_neighbourhood_factors_multiply_to_minisoms(function):
    rows, cols, sigma = 4, 6, 2.0
    som = MiniSom(rows, cols, 1, sigma=sigma, neighborhood_function=function)
    along_rows = batch.neighbourhood_factor(rows, sigma, function)
    along_cols = batch.neighbourhood_factor(cols, sigma, function)
    for r in range(rows):
        for c in range(cols):
            assert np.allclose(np.outer(along_rows[:, r], along_cols[:, c]),
                               som.neighborhood((r, c), sigma), rtol=1e-15, atol=0)


def test_the_winners_are_minisoms():
    rng = np.random.default_rng(1)
    data, weights = rng.normal(size=(40, 6)), rng.normal(size=(4, 5, 6))
    som = MiniSom(4, 5, 6)
    som.get_weights()[...] = weights
    expected = [np.ravel_multi_index(som.winner(x), (4, 5)) for x in data]
    assert batch.winners(data, weights).tolist() == expected


@pytest.mark.skipif(not hasattr(MiniSom, "train_batch_offline"),
                    reason="this MiniSom has no train_batch_offline (MiniSom's main branch adds it)")
@pytest.mark.parametrize("function", FUNCTIONS)
def test_several_epochs_equal_minisoms_train_batch_offline(function):
    rng = np.random.default_rng(2)
    data = rng.normal(size=(30, 5))
    epochs, sigma, learning_rate = 6, 3.0, 0.5
    som = MiniSom(4, 4, 5, sigma=sigma, learning_rate=learning_rate, neighborhood_function=function,
                  decay_function="linear_decay_to_zero", sigma_decay_function="linear_decay_to_one",
                  random_seed=3)
    start = som.get_weights().copy()
    som.train_batch_offline(data, epochs)
    sigmas = helpers.decay_schedule("linear_decay_to_one", sigma, epochs)[:epochs]
    rates = helpers.decay_schedule("linear_decay_to_zero", learning_rate, epochs)[:epochs]
    ours = batch.train_batch(data, start, sigmas, function, rates)
    assert np.allclose(ours, som.get_weights(), rtol=1e-10, atol=1e-12)


def test_the_start_is_not_changed_and_bad_settings_are_refused():
    data, start = np.array([[0.0], [1.0]]), np.array([[[0.0], [1.0]]])
    before = start.copy()
    batch.train_batch(data, start, [1.0, 1.0])
    assert np.array_equal(start, before)
    with pytest.raises(ValueError, match="must be one of .*got 'mexican_hat'"):
        batch.batch_epoch(data, start, 1.0, "mexican_hat")
    with pytest.raises(ValueError, match="sigma must be above 0, got 0"):
        batch.batch_epoch(data, start, 0.0)


@pytest.fixture(scope="module")
def twenty():
    covers = helpers.load_covers(helpers.BUNDLED_COVERS)
    covers = covers._replace(images=covers.images[:20], names=covers.names[:20])
    return covers, helpers.make_features(covers.images)


SETTINGS = dict(rows=4, cols=5, preset="default", placement="assignment", seed=42, sigma=2.0,
                learning_rate=0.5, iterations=200, neighborhood_function="gaussian")


def test_the_preview_starts_where_the_online_map_starts(twenty):
    _covers, features = twenty
    _som, start, chosen = explorer_preview.preview_start(features, SETTINGS)
    assert np.array_equal(start, exact.pca_start(features.values, 4, 5))  # train_som's PCA start
    assert chosen == helpers.som_settings(sigma=2.0, iterations=200)
    original = dict(SETTINGS, preset="original", neighborhood_function="triangle")
    _som, start, chosen = explorer_preview.preview_start(features, original)
    # the 2019 post's start: MiniSom's random weights of the seed
    assert np.array_equal(start, MiniSom(4, 5, features.values.shape[1], random_seed=42).get_weights())
    assert chosen["initialization"] == "random"


def test_the_preview_places_every_cover_and_has_no_quality_figures(twenty):
    covers, features = twenty
    starts = {}
    arrangement = explorer_preview.preview_arrangement(covers, features, SETTINGS, starts=starts)
    positions = arrangement.placement.positions
    assert len({tuple(p) for p in positions}) == 20 and (positions >= 0).all()
    assert arrangement.quality == {} and len(arrangement.trained.curve_errors) == 0
    start = list(starts.values())[0]
    assert not np.allclose(arrangement.trained.som.get_weights(), start)  # the epochs moved it
    assert helpers.dpq(features.values, positions) > 0.8  # a map, not a random layout


@pytest.mark.parametrize("module", [batch, explorer_preview])
def test_the_examples_run(module):
    result = doctest.testmod(module)
    assert result.failed == 0 and result.attempted >= 1
