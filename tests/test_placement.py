"""Placement: grid size, the 2019 post's greedy rule and optimal assignment."""
import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import cdist

import helpers


# --- grid_shape_for ------------------------------------------------------------

def test_grid_shape_for_examples():
    assert helpers.grid_shape_for(100) == (10, 10)
    assert helpers.grid_shape_for(1) == (1, 1)
    rows, cols = helpers.grid_shape_for(37)
    assert rows * cols >= 37
    assert abs(rows - cols) <= 1
    assert rows * cols < 7 * 7  # 6x7 = 42 fits; 7x7 would waste a row


def near_square_grids_by_area():
    """All grids r x c with |r - c| <= 1, smallest area first."""
    grids = [(r, c) for r in range(1, 30) for c in (r - 1, r, r + 1) if c >= 1]
    return sorted(grids, key=lambda g: g[0] * g[1])


def test_grid_shape_for_is_the_smallest_near_square_grid():
    grids = near_square_grids_by_area()
    wrong = {}
    for n in range(1, 201):
        rows, cols = helpers.grid_shape_for(n)
        smallest = min(r * c for r, c in grids if r * c >= n)
        if not (isinstance(rows, int) and isinstance(cols, int) and rows * cols >= n
                and abs(rows - cols) <= 1 and rows * cols == smallest
                and rows <= cols):  # landscape, like a screen
            wrong[n] = (rows, cols)
    assert wrong == {}


@pytest.mark.parametrize("n", [0, -3])
def test_grid_shape_for_needs_a_cover(n):
    with pytest.raises(ValueError, match="n_covers must be a whole number >= 1, got "):
        helpers.grid_shape_for(n)


# --- greedy, worked out by hand ----------------------------------------------------

def line_map(values, rows, cols):
    """A map whose neurons hold one number each, in row-major order."""
    return np.asarray(values, dtype=float).reshape(rows, cols, 1)


def test_greedy_against_a_hand_worked_win_map():
    # neurons (row-major):   (0,0)=0   (0,1)=10  (0,2)=20
    #                        (1,0)=30  (1,1)=40  (1,2)=50
    weights = line_map([0, 10, 20, 30, 40, 50], 2, 3)
    data = np.array([[1.0],    # cover 0 wins (0,0)
                     [21.0],   # cover 1 wins (0,2)
                     [-1.0],   # cover 2 wins (0,0) too: collides with cover 0
                     [19.0],   # cover 3 wins (0,2) too: collides with cover 1
                     [49.0]])  # cover 4 wins (1,2)
    # winners keep their cells; the empty cells, in row-major order, are
    # (0,1), (1,0), (1,1): cover 2 takes (0,1), cover 3 takes (1,0).
    expected = [(0, 0), (0, 2), (0, 1), (1, 0), (1, 2)]
    placement = helpers.place_covers(weights, data, "greedy")
    assert [tuple(p) for p in placement.positions] == expected
    assert placement.dropped == []


def test_greedy_keeps_the_first_cover_not_the_closest():
    weights = line_map([0, 10, 20, 30, 40, 50], 2, 3)
    data = np.array([[4.0],    # cover 0 wins (0,0), 4 away from its neuron
                     [0.0],    # cover 1 wins (0,0) exactly, but came second
                     [50.0]])  # cover 2 wins (1,2)
    placement = helpers.place_covers(weights, data, "greedy")
    assert tuple(placement.positions[0]) == (0, 0)  # the first cover stays
    assert tuple(placement.positions[1]) == (0, 1)  # first empty cell, row-major
    assert tuple(placement.positions[2]) == (1, 2)


def test_greedy_fills_empty_cells_in_row_major_order():
    # all five covers win neuron (1,2); cover 0 keeps it, the others fill
    # (0,0), (0,1), (0,2), (1,0) in that order
    weights = line_map([0, 10, 20, 30, 40, 50], 2, 3)
    data = np.array([[60.0], [70.0], [80.0], [90.0], [100.0]])
    placement = helpers.place_covers(weights, data, "greedy")
    expected = [(1, 2), (0, 0), (0, 1), (0, 2), (1, 0)]
    assert [tuple(p) for p in placement.positions] == expected


def test_without_collisions_both_strategies_put_covers_on_their_winners():
    weights = line_map([0, 10, 20, 30, 40, 50], 2, 3)
    data = np.array([[41.0], [2.0], [29.0], [12.0]])
    expected = [(1, 1), (0, 0), (1, 0), (0, 1)]
    for strategy in ("greedy", "assignment"):
        placement = helpers.place_covers(weights, data, strategy)
        assert [tuple(p) for p in placement.positions] == expected, strategy


def test_assignment_resolves_a_collision_by_total_cost():
    # both covers win neuron (0,0)=0, but 3 is much closer to 10 than -1 is
    weights = line_map([0, 10], 1, 2)
    data = np.array([[3.0], [-1.0]])
    placement = helpers.place_covers(weights, data, "assignment")
    # cost 9 + 1 (3 -> 10, -1 -> 0) = 50, (3 -> 0, -1 -> 10) = 9 + 121 = 130
    assert [tuple(p) for p in placement.positions] == [(0, 1), (0, 0)]


# --- assignment is optimal ---------------------------------------------------------

def total_cost(weights, data, positions):
    neurons = weights[positions[:, 0], positions[:, 1]]
    return ((data - neurons) ** 2).sum()


@pytest.mark.parametrize("seed", range(5))
def test_assignment_is_optimal_against_brute_force(seed):
    rng = np.random.default_rng(seed)
    weights = rng.normal(size=(2, 3, 2))
    data = rng.normal(size=(5, 2))
    cells = [(r, c) for r in range(2) for c in range(3)]
    best = min(total_cost(weights, data, np.array(choice))
               for choice in itertools.permutations(cells, 5))
    placement = helpers.place_covers(weights, data, "assignment")
    assert total_cost(weights, data, placement.positions) == pytest.approx(best)
    greedy = helpers.place_covers(weights, data, "greedy")
    assert total_cost(weights, data, greedy.positions) >= best - 1e-12


# --- bad input ---------------------------------------------------------------------

def test_weights_and_features_must_match():
    with pytest.raises(ValueError, match="do not match"):
        helpers.place_covers(np.zeros((2, 2, 3)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="do not match"):
        helpers.place_covers(np.zeros((4, 3)), np.zeros((4, 3)))


def test_unknown_strategy():
    with pytest.raises(ValueError, match="placement must be one of"):
        helpers.place_covers(np.zeros((2, 2, 1)), np.zeros((3, 1)), "random")


def test_bad_features_are_rejected():
    with pytest.raises(ValueError, match="contains NaN"):
        helpers.place_covers(np.zeros((2, 2, 1)), np.array([[0.0], [np.nan]]))


@pytest.mark.parametrize("strategy", helpers.PLACEMENTS)
def test_more_covers_than_cells_names_the_smallest_grid(strategy):
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="use at least 3x4") as error:  # the smallest grid for 10
        helpers.place_covers(rng.normal(size=(3, 3, 2)), rng.normal(size=(10, 2)), strategy)
    assert "10 covers" in str(error.value) and "3x3" in str(error.value)


@pytest.mark.parametrize("strategy", helpers.PLACEMENTS)
@pytest.mark.parametrize("n, rows, cols", [(10, 3, 3), (12, 2, 4), (7, 1, 1)])
def test_allow_drop_drops_exactly_the_covers_that_do_not_fit(strategy, n, rows, cols):
    rng = np.random.default_rng(n)
    data = rng.normal(size=(n, 3))
    placement = helpers.place_covers(rng.normal(size=(rows, cols, 3)), data, strategy,
                                     allow_drop=True)
    dropped = placement.dropped
    assert len(dropped) == n - rows * cols
    assert len(set(dropped)) == len(dropped)
    assert all(0 <= i < n for i in dropped)
    for i in range(n):
        if i in dropped:
            assert tuple(placement.positions[i]) == (-1, -1)
        else:
            r, c = placement.positions[i]
            assert 0 <= r < rows and 0 <= c < cols
    kept = [tuple(p) for i, p in enumerate(placement.positions) if i not in dropped]
    assert len(set(kept)) == rows * cols  # every cell used once


@pytest.mark.parametrize("strategy", helpers.PLACEMENTS)
def test_allow_drop_changes_nothing_when_covers_fit(strategy):
    rng = np.random.default_rng(1)
    weights, data = rng.normal(size=(3, 3, 2)), rng.normal(size=(8, 2))
    plain = helpers.place_covers(weights, data, strategy)
    dropping = helpers.place_covers(weights, data, strategy, allow_drop=True)
    np.testing.assert_array_equal(plain.positions, dropping.positions)
    assert dropping.dropped == []


def test_assignment_drops_the_covers_that_fit_worst():
    # one neuron at 0: the cover nearest to it stays, the others are dropped
    weights = line_map([0], 1, 1)
    data = np.array([[5.0], [-0.5], [3.0]])
    placement = helpers.place_covers(weights, data, "assignment", allow_drop=True)
    assert placement.dropped == [0, 2]
    assert tuple(placement.positions[1]) == (0, 0)


# --- squared_distances -------------------------------------------------------------

def test_squared_distances_match_scipy():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(7, 4)), rng.normal(size=(5, 4))
    np.testing.assert_allclose(helpers.squared_distances(a, b), cdist(a, b, "sqeuclidean"),
                               atol=1e-12)
    same = helpers.squared_distances(a, a)
    assert (same >= 0).all()
    np.testing.assert_allclose(np.diag(same), 0, atol=1e-12)


# --- property: every cover gets its own cell inside the grid -------------------------

@st.composite
def placement_problems(draw):
    n = draw(st.integers(1, 40))
    dims = draw(st.integers(1, 5))
    rows = draw(st.integers(1, 8))
    cols = draw(st.integers(-(-n // rows), -(-n // rows) + 3))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    # few distinct values make many collisions and ties
    coarse = draw(st.booleans())
    data = rng.integers(-2, 3, size=(n, dims)).astype(float) if coarse else rng.normal(size=(n, dims))
    weights = rng.normal(size=(rows, cols, dims))
    return weights, data


@settings(max_examples=150, deadline=None, database=None)
@given(problem=placement_problems(), strategy=st.sampled_from(helpers.PLACEMENTS))
def test_every_cover_gets_exactly_one_cell_of_its_own(problem, strategy):
    weights, data = problem
    rows, cols = weights.shape[:2]
    placement = helpers.place_covers(weights, data, strategy)
    positions = placement.positions
    assert positions.shape == (len(data), 2)
    assert placement.dropped == []
    assert ((positions[:, 0] >= 0) & (positions[:, 0] < rows)).all()
    assert ((positions[:, 1] >= 0) & (positions[:, 1] < cols)).all()
    assert len({tuple(p) for p in positions}) == len(data)


# --- scipy's distances and assignment without scipy's imports (tutorial_kit/fast.py) ----

@settings(max_examples=200, deadline=None, database=None)
@given(m=st.integers(0, 30), k=st.integers(1, 30), features=st.integers(0, 40),
       scale=st.sampled_from([1e-6, 1.0, 255.0, 1e6]), seed=st.integers(0, 2**32 - 1),
       fortran=st.booleans(), integers=st.booleans())
def test_our_distances_equal_scipys_to_the_last_bit(m, k, features, scale, seed, fortran, integers):
    from scipy.spatial.distance import pdist
    from tutorial_kit import fast
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(m, features)) * scale, rng.normal(size=(k, features)) * scale
    if integers:  # grid positions, as dpq_gains passes them
        a, b = a.astype(np.int64), b.astype(np.int64)
    if fortran:
        a = np.asfortranarray(a)
    assert np.array_equal(fast.cdist(a, b, "sqeuclidean"), cdist(a, b, "sqeuclidean"))
    assert np.array_equal(fast.cdist(a, b), cdist(a, b))
    assert np.array_equal(fast.pdist(b), pdist(b))


def test_distances_come_from_scipys_compiled_module_without_its_package(monkeypatch):
    """The functions are loaded from scipy/spatial/_distance_pybind's file; scipy.spatial's
    package (0.3 s of imports) is not imported for them. (Older scipy's extension module
    enters itself in sys.modules as it loads: the one name allowed.)"""
    import subprocess
    import sys
    script = ("import sys, numpy as np; sys.path.insert(0, sys.argv[1]); from tutorial_kit import fast; "
              "a = np.arange(12.0).reshape(4, 3); d = fast.cdist(a, a); p = fast.pdist(a); "
              "print(sorted(m for m in sys.modules if m.startswith('scipy.spatial') "
              "and m != 'scipy.spatial._distance_pybind'), "
              "list(fast._LOADED), d[0, 1] ** 2 == 27, len(p))")
    done = subprocess.run([sys.executable, "-c", script, str(Path(helpers.__file__).parent)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["[]", "['scipy.spatial._distance_pybind']", "True", "6"]
    from tutorial_kit import fast
    with pytest.raises(ValueError, match="metric"):
        fast.cdist(np.zeros((2, 2)), np.zeros((2, 2)), "cityblock")
    with pytest.raises(ValueError, match="same number of columns"):  # scipy's own check
        fast.cdist(np.zeros((2, 2)), np.zeros((2, 3)))


def test_distances_fall_back_to_the_public_import(monkeypatch):
    import importlib.util
    from scipy.spatial.distance import pdist
    from tutorial_kit import fast
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)  # no such file found
    monkeypatch.setattr(fast, "_LOADED", {})
    a = np.random.default_rng(4).normal(size=(7, 5))
    assert np.array_equal(fast.cdist(a, a[:3]), cdist(a, a[:3]))
    assert np.array_equal(fast.pdist(a), pdist(a))
    assert "scipy.spatial._distance_pybind" in fast._LOADED


def test_linear_sum_assignment_is_scipys_own_function():
    from scipy.optimize import linear_sum_assignment
    from tutorial_kit import fast
    assert fast._load_scipy("scipy.optimize._lsap", ["linear_sum_assignment"]) == [linear_sum_assignment]
    cost = np.random.default_rng(3).normal(size=(6, 9))
    assert all(np.array_equal(x, y) for x, y in zip(fast.linear_sum_assignment(cost),
                                                    linear_sum_assignment(cost)))


def test_linear_sum_assignment_falls_back_to_the_public_import(monkeypatch):
    import importlib.util
    from scipy.optimize import linear_sum_assignment
    from tutorial_kit import fast
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)  # no such file found
    assert fast._load_scipy("scipy.optimize._lsap", ["linear_sum_assignment"]) == [linear_sum_assignment]
