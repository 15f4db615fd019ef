"""Quality: DPQ and the neighbour measures against cases worked out by hand."""
import numpy as np
import pytest

import helpers


def line(cols):
    """Positions (0, c) of covers placed in the given columns of a 1-row grid."""
    return np.array([(0, c) for c in cols])


# Four covers with 1-D features A=0, B=1, C=3, D=7.
# Feature distances: AB=1 AC=3 AD=7 BC=2 BD=6 CD=4.
# Mean distance over all ordered pairs: D = 2*(1+3+7+2+6+4)/12 = 23/6.
HAND = np.array([[0.0], [1.0], [3.0], [7.0]])
D_MEAN = 2 * (1 + 3 + 7 + 2 + 6 + 4) / 12
# Each cover's distances, nearest first (the best any layout could do):
#   A: 1 3 7   B: 1 2 6   C: 2 3 4   D: 4 6 7
# D_1 = (1+1+2+4)/4 = 2        D_2 = ((1+3)/2 + (1+2)/2 + (2+3)/2 + (4+6)/2)/4 = 11/4
# (D_3 = D, so its gain is 0 for every layout.)
BEST_GAINS = [(D_MEAN - 2) / D_MEAN, (D_MEAN - 11 / 4) / D_MEAN, 0.0]  # 11/23, 13/46, 0


def p_norm(values, p):
    return sum(v ** p for v in values) ** (1 / p)


@pytest.mark.parametrize("p", [1, 16])
def test_dpq_hand_case_sorted_line(p):
    # A B C D in columns 0 1 2 3. Neighbours by grid distance, ties broken by
    # feature distance:
    #   A: B(1) C(3) D(7)      -> 1 3 7
    #   B: A,C tie at 1 -> A(1) C(2), then D(6)  -> 1 2 6
    #   C: B,D tie at 1 -> B(2) D(4), then A(3)  -> 2 4 3   (not 2 3 4!)
    #   D: C(4) B(6) A(7)      -> 4 6 7
    # D_1 = (1+1+2+4)/4 = 2      D_2 = (2 + 1.5 + 3 + 5)/4 = 11.5/4
    grid_gains = [(D_MEAN - 2) / D_MEAN, (D_MEAN - 11.5 / 4) / D_MEAN, 0.0]  # 11/23, 1/4, 0
    expected = p_norm(grid_gains, p) / p_norm(BEST_GAINS, p)  # p = 1: 67/70
    assert helpers.dpq(HAND, line([0, 1, 2, 3]), p=p) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("p", [1, 16])
def test_dpq_hand_case_shuffled_line(p):
    # Columns: A=0, C=1, B=2, D=3 (the grid reads A C B D).
    #   A: C(3) B(1) D(7)                         -> 3 1 7
    #   C: A,B tie at 1 -> B(2) A(3), then D(4)   -> 2 3 4
    #   B: C,D tie at 1 -> C(2) D(6), then A(1)   -> 2 6 1
    #   D: B(6) C(4) A(7)                         -> 6 4 7
    # D_1 = (3+2+2+6)/4 = 13/4   D_2 = (2 + 2.5 + 4 + 5)/4 = 13.5/4
    grid_gains = [(D_MEAN - 13 / 4) / D_MEAN, (D_MEAN - 13.5 / 4) / D_MEAN, 0.0]  # 7/46, 11/92
    expected = p_norm(grid_gains, p) / p_norm(BEST_GAINS, p)  # p = 1: 5/14
    positions = np.array([(0, 0), (0, 2), (0, 1), (0, 3)])  # A, B, C, D
    assert helpers.dpq(HAND, positions, p=p) == pytest.approx(expected, rel=1e-12)


def test_dpq_hand_case_on_a_two_by_two_grid():
    # A(0,0) B(0,1) C(1,0) D(1,1). Grid distances: side 1, diagonal sqrt 2.
    #   A: B,C at 1 -> B(1) C(3); D diagonal (7)  -> 1 3 7
    #   B: A,D at 1 -> A(1) D(6); C diagonal (2)  -> 1 6 2
    #   C: A,D at 1 -> A(3) D(4); B diagonal (2)  -> 3 4 2
    #   D: B,C at 1 -> C(4) B(6); A diagonal (7)  -> 4 6 7
    # D_1 = (1+1+3+4)/4 = 9/4    D_2 = (2 + 3.5 + 3.5 + 5)/4 = 14/4
    grid_gains = [(D_MEAN - 9 / 4) / D_MEAN, (D_MEAN - 14 / 4) / D_MEAN, 0.0]  # 19/46, 2/23
    positions = np.array([(0, 0), (0, 1), (1, 0), (1, 1)])
    for p in (1, 16):
        expected = p_norm(grid_gains, p) / p_norm(BEST_GAINS, p)
        assert helpers.dpq(HAND, positions, p=p) == pytest.approx(expected, rel=1e-12)


def test_dpq_gains_below_zero_count_as_zero():
    # A D B C in columns 0..3: the grid neighbours are on average farther
    # than a random cover; gains are clipped at 0, never negative.
    #   A: D(7) B(1) C(3)                      -> 7 1 3
    #   D: A,B tie at 1 -> B(6) A(7), then C(4) -> 6 7 4
    #   B: D,C tie at 1 -> C(2) D(6), then A(1) -> 2 6 1
    #   C: B(2) D(4) A(3)                      -> 2 4 3
    # D_1 = (7+6+2+2)/4 = 17/4 > 23/6: gain max(0, negative) = 0
    # D_2 = (4 + 6.5 + 4 + 3)/4 = 17.5/4 > 23/6: gain 0
    # (D_3 = 23/6 up to rounding: a gain of ~1e-16 at most)
    positions = np.array([(0, 0), (0, 2), (0, 3), (0, 1)])  # A, B, C, D
    assert helpers.dpq(HAND, positions, p=1) == pytest.approx(0.0, abs=1e-12)
    assert helpers.dpq(HAND, positions, p=16) == pytest.approx(0.0, abs=1e-12)


def test_dpq_default_is_p16():
    positions = np.array([(0, 0), (0, 2), (0, 1), (0, 3)])
    assert helpers.dpq(HAND, positions) == helpers.dpq(HAND, positions, p=16)


@pytest.mark.parametrize("n", [2, 5, 12])
def test_sorted_evenly_spaced_line_is_perfect(n):
    values = (np.arange(n) * 2.5 + 1).reshape(-1, 1)
    positions = line(range(n))
    assert helpers.dpq(values, positions) == pytest.approx(1.0)
    assert helpers.dpq(values, positions[::-1]) == pytest.approx(1.0)  # mirrored is as good
    assert helpers.dpq(values, positions, p=1) == pytest.approx(1.0)


def test_shuffled_line_is_worse_than_sorted():
    n = 12
    values = np.arange(n, dtype=float).reshape(-1, 1)
    rng = np.random.default_rng(0)
    for _ in range(5):
        order = rng.permutation(n)
        if (order == np.arange(n)).all() or (order == np.arange(n)[::-1]).all():
            continue
        assert helpers.dpq(values, line(order)) < 1.0 - 1e-9


def test_features_equal_to_grid_coordinates_are_perfect_even_with_empty_cells():
    # 7 covers on a 3x3 grid, two cells empty; each cover's features are its
    # own (row, col), so the grid order is exactly the feature order.
    cells = [(0, 0), (0, 1), (0, 2), (1, 0), (1, 2), (2, 1), (2, 2)]
    positions = np.array(cells)
    data = positions * 3.0 + 1.0
    assert helpers.dpq(data, positions) == pytest.approx(1.0)
    # moving one cover to an empty cell breaks it
    moved = positions.copy()
    moved[0] = (1, 1)
    assert helpers.dpq(data, moved) < 1.0


def test_dpq_ignores_dropped_covers():
    rng = np.random.default_rng(1)
    data = rng.normal(size=(9, 3))
    positions = rng.permutation([(r, c) for r in range(3) for c in range(3)])
    dropped = positions.copy()
    dropped[[2, 6]] = -1
    keep = np.ones(9, dtype=bool)
    keep[[2, 6]] = False
    # the 7 kept covers leave two cells of the 3x3 grid empty
    assert helpers.dpq(data, dropped) == pytest.approx(helpers.dpq(data[keep], positions[keep]), rel=1e-12)
    assert helpers.dpq(data, dropped) != pytest.approx(helpers.dpq(data, positions))


def test_dpq_is_between_zero_and_one():
    rng = np.random.default_rng(2)
    cells = np.array([(r, c) for r in range(4) for c in range(5)])
    for n in (2, 3, 10, 17, 20):
        data = rng.normal(size=(n, 4))
        for _ in range(10):
            where = cells[rng.choice(len(cells), n, replace=False)]
            for p in (1, 2, 16):
                value = helpers.dpq(data, where, p=p)
                assert 0.0 <= value <= 1.0 + 1e-12


@pytest.mark.parametrize("p", [0, 0.5, -1, float("nan")])
def test_dpq_p_must_be_at_least_one(p):
    # p = 0 would count non-zero gains (not a norm); p < 1 is no norm either
    with pytest.raises(ValueError, match=r"p must be a number >= 1 or inf \(DPQ_p is a p-norm\), got "):
        helpers.dpq(HAND, line([0, 1, 2, 3]), p=p)


def test_dpq_p_infinity_is_the_largest_gain_ratio():
    positions = np.array([(0, 0), (0, 2), (0, 1), (0, 3)])  # A C B D: grid gains 7/46, 11/92
    assert helpers.dpq(HAND, positions, p=np.inf) == pytest.approx((7 / 46) / (11 / 23))


def test_dpq_length_mismatch():
    with pytest.raises(ValueError, match="4 feature rows but 3 positions"):
        helpers.dpq(HAND, line([0, 1, 2]))


def test_dpq_needs_two_placed_covers():
    positions = np.array([(0, 0), (-1, -1), (-1, -1), (-1, -1)])
    with pytest.raises(ValueError, match="at least two placed covers"):
        helpers.dpq(HAND, positions)


# --- neighbour_distance_ratio -----------------------------------------------------

def test_neighbour_ratio_hand_case():
    # A B C D in a row: side-by-side pairs AB=1, BC=2, CD=4, mean 7/3;
    # mean of all pairs 23/6; ratio (7/3) / (23/6) = 14/23
    assert helpers.neighbour_distance_ratio(HAND, line([0, 1, 2, 3])) == pytest.approx(14 / 23)
    # on a 2x2 grid A B / C D: pairs AB=1, CD=4, AC=3, BD=6 -> 14/4 over 23/6 = 21/23
    square = np.array([(0, 0), (0, 1), (1, 0), (1, 1)])
    assert helpers.neighbour_distance_ratio(HAND, square) == pytest.approx(21 / 23)


def test_neighbour_ratio_leaves_out_dropped_covers():
    # E=100 is dropped: it is neither a neighbour nor part of the average
    data = np.vstack([HAND, [[100.0]]])
    positions = np.vstack([line([0, 1, 2, 3]), [(-1, -1)]])
    assert helpers.neighbour_distance_ratio(data, positions) == pytest.approx(14 / 23)


def test_neighbour_ratio_is_about_one_for_random_layouts():
    rng = np.random.default_rng(3)
    data = rng.normal(size=(16, 5))
    cells = np.array([(r, c) for r in range(4) for c in range(4)])
    ratios = [helpers.neighbour_distance_ratio(data, rng.permutation(cells)) for _ in range(300)]
    assert np.mean(ratios) == pytest.approx(1.0, abs=0.03)


def test_neighbour_ratio_is_below_one_for_sorted_layouts():
    values = np.sort(np.random.default_rng(4).normal(size=(12, 1)), axis=0)
    assert helpers.neighbour_distance_ratio(values, line(range(12))) < 0.5


def test_neighbour_ratio_errors():
    with pytest.raises(ValueError, match="side by side"):
        helpers.neighbour_distance_ratio(HAND[:2], np.array([(0, 0), (1, 1)]))
    with pytest.raises(ValueError, match="positions"):
        helpers.neighbour_distance_ratio(HAND, line([0, 1, 2]))


# --- same_genre_share --------------------------------------------------------------

def test_same_genre_share_hand_case():
    genres = ["a", "a", "b", "b"]
    # a a      side-by-side pairs: a-a, b-b (rows), a-b, a-b (columns)
    # b b      share 2/4; random: (2*1 + 2*1) / (4*3) = 1/3
    rows_layout = np.array([(0, 0), (0, 1), (1, 0), (1, 1)])
    share, expected = helpers.same_genre_share(genres, rows_layout)
    assert share == pytest.approx(2 / 4)
    assert expected == pytest.approx(4 / 12)
    # a b      every side-by-side pair differs: share 0; same expectation
    # b a
    diagonal = np.array([(0, 0), (1, 1), (0, 1), (1, 0)])
    share, expected = helpers.same_genre_share(genres, diagonal)
    assert share == 0.0
    assert expected == pytest.approx(1 / 3)


def test_same_genre_share_leaves_out_dropped_covers():
    # the dropped fifth cover ('a') changes neither the pairs nor the expectation
    genres = ["a", "a", "b", "b", "a"]
    positions = np.array([(0, 0), (0, 1), (1, 0), (1, 1), (-1, -1)])
    share, expected = helpers.same_genre_share(genres, positions)
    assert share == pytest.approx(2 / 4)
    assert expected == pytest.approx(1 / 3)


def test_same_genre_share_with_three_genres():
    # a b c in a row, then a: pairs a-b, b-c, c-a -> share 0
    # counts a=2, b=1, c=1 -> random (2*1) / (4*3) = 1/6
    share, expected = helpers.same_genre_share(["a", "b", "c", "a"], line([0, 1, 2, 3]))
    assert share == 0.0
    assert expected == pytest.approx(1 / 6)


def test_same_genre_share_length_mismatch():
    with pytest.raises(ValueError, match="3 genres but 4 positions"):
        helpers.same_genre_share(["a", "b", "a"], line([0, 1, 2, 3]))


# --- quality_report and format_quality --------------------------------------------

@pytest.fixture(scope="module")
def small_arrangement():
    rng = np.random.default_rng(5)
    data = rng.normal(size=(9, 3))
    trained = helpers.train_som(data, 3, 3, sigma=1.0, learning_rate=0.5, iterations=100)
    placement = helpers.place_covers(trained.som.get_weights(), data)
    return trained.som, data, placement.positions


def test_quality_report_keys_and_values(small_arrangement):
    som, data, positions = small_arrangement
    report = helpers.quality_report(som, data, positions)
    assert set(report) == {"quantization_error", "topographic_error", "dpq16", "neighbour_ratio"}
    assert all(isinstance(v, float) for v in report.values())
    assert report["dpq16"] == helpers.dpq(data, positions, p=16)
    assert report["neighbour_ratio"] == helpers.neighbour_distance_ratio(data, positions)
    assert report["quantization_error"] == pytest.approx(som.quantization_error(data))
    assert 0.0 <= report["topographic_error"] <= 1.0


def test_quality_report_with_genres(small_arrangement):
    som, data, positions = small_arrangement
    genres = ["x", "y", "z"] * 3
    report = helpers.quality_report(som, data, positions, genres)
    assert set(report) == {"quantization_error", "topographic_error", "dpq16", "neighbour_ratio",
                           "same_genre", "same_genre_random"}
    assert (report["same_genre"], report["same_genre_random"]) == helpers.same_genre_share(genres, positions)


def test_quality_report_of_a_sparse_layout_is_nan_where_undefined(small_arrangement):
    # three covers in corners of the 3x3 map: none side by side, so the
    # neighbour figures are undefined, but the layout itself is valid
    som, data, _ = small_arrangement
    corners = np.array([(0, 0), (0, 2), (2, 2)])
    report = helpers.quality_report(som, data[:3], corners, ["a", "a", "b"])
    assert np.isnan(report["neighbour_ratio"])
    assert np.isnan(report["same_genre"]) and np.isnan(report["same_genre_random"])
    assert report["dpq16"] == helpers.dpq(data[:3], corners)
    # one placed cover: DPQ is undefined too
    alone = np.array([(1, 1), (-1, -1), (-1, -1)])
    report = helpers.quality_report(som, data[:3], alone)
    assert np.isnan(report["dpq16"]) and np.isnan(report["neighbour_ratio"])
    assert report["quantization_error"] == pytest.approx(som.quantization_error(data[:3]))


def test_quality_report_length_mismatch(small_arrangement):
    som, data, positions = small_arrangement
    with pytest.raises(ValueError, match="positions"):
        helpers.quality_report(som, data, positions[:-1])


def test_format_quality_is_one_line_with_three_decimals():
    report = {"quantization_error": 1.23456, "topographic_error": 0.5, "dpq16": 0.98765,
              "neighbour_ratio": 0.25, "same_genre": 0.4, "same_genre_random": 0.2}
    text = helpers.format_quality(report)
    assert "\n" not in text
    assert "QE 1.235" in text
    assert "DPQ16 0.988" in text
    assert "TE 0.500" in text


def test_positions_are_checked_at_the_boundary():
    data = np.arange(6, dtype=float).reshape(3, 2)
    with pytest.raises(ValueError, match="same position"):
        helpers.dpq(data, [(0, 0), (0, 0), (0, 1)])
    with pytest.raises(ValueError, match=r"\(row, col\) pairs"):
        helpers.dpq(data, [0, 1, 2])
    with pytest.raises(ValueError, match="same position"):
        helpers.neighbour_distance_ratio(data, [(0, 1), (0, 0), (0, 1)])


def test_topographic_error_of_a_one_by_one_map_is_undefined():
    data = np.array([[0.0, 1.0], [1.0, 0.0]])
    trained = helpers.train_som(data, 1, 1, sigma=1, learning_rate=0.5, iterations=10)
    report = helpers.quality_report(trained.som, data, [(0, 0), (-1, -1)])
    assert np.isnan(report["topographic_error"]) and np.isnan(report["dpq16"])
    assert np.isfinite(report["quantization_error"])


def test_the_gain_curves_of_a_hand_worked_case():
    """Four covers at 0, 1, 2, 3 (mean distance 20/12). In a row in order, each cover's
    k nearest are its k nearest on the grid: D = 1, 1.25, 5/3, gains 0.4, 0.25, 0.
    Scrambled to columns 0, 3, 1, 2 (ties on the grid broken by feature distance):
    D = 1.5, 1.75, 5/3, gains 0.1, 0, 0, and DPQ16 = 0.1 / ||(0.4, 0.25)||_16."""
    data = [[0.0], [1.0], [2.0], [3.0]]
    ordered = helpers.dpq_gains(data, [[0, 0], [0, 1], [0, 2], [0, 3]])
    np.testing.assert_allclose(ordered.best, [0.4, 0.25, 0.0], atol=1e-12)
    np.testing.assert_allclose(ordered.grid, ordered.best, atol=1e-12)
    scrambled = helpers.dpq_gains(data, [[0, 0], [0, 3], [0, 1], [0, 2]])
    np.testing.assert_allclose(scrambled.grid, [0.1, 0.0, 0.0], atol=1e-12)
    expected = 0.1 / np.linalg.norm([0.4, 0.25], ord=16)
    assert helpers.dpq(data, [[0, 0], [0, 3], [0, 1], [0, 2]]) == pytest.approx(expected, rel=1e-12)


# --- the command line's local swaps (tutorial_kit.fast.swap_nearest) ------------------

def _random_grid(rng, n, rows, cols):
    grid = np.full(rows * cols, -1)
    grid[rng.permutation(rows * cols)[:n]] = np.arange(n)
    return grid.reshape(rows, cols)


def _swapped(grid, p, q):
    new = grid.copy()
    new[p], new[q] = grid[q], grid[p]
    return new


@pytest.mark.parametrize("seed, n, rows, cols", [(0, 30, 5, 6), (1, 25, 6, 6), (2, 56, 7, 8),
                                                 (3, 2, 1, 3), (4, 9, 3, 3)])
def test_swap_nearest_ends_where_no_single_swap_helps(seed, n, rows, cols):
    """Brute force: after the pass, no swap at any of its offsets lowers the energy
    (which also checks the pass's own bookkeeping of what a swap changes)."""
    from scipy.spatial.distance import cdist

    from tutorial_kit import fast
    rng = np.random.default_rng(seed)
    data = rng.normal(size=(n, 3))
    distances = cdist(data, data)
    grid = _random_grid(rng, n, rows, cols)
    new, rounds = fast.swap_nearest(distances, grid)
    assert sorted(new[new >= 0]) == list(range(n)) and (new >= 0).sum() == n  # every cover once
    energy = fast.nearest_energy(distances, new)
    assert energy <= fast.nearest_energy(distances, grid) + 1e-9
    assert 1 <= rounds <= 30
    for dr, dc in fast.SWAP_OFFSETS:
        for r in range(rows - dr):
            for c in range(max(0, -dc), min(cols, cols - dc)):
                after = fast.nearest_energy(distances, _swapped(new, (r, c), (r + dr, c + dc)))
                assert after >= energy - 1e-9, ((r, c), (dr, dc))


def test_swap_nearest_weighs_the_nearest_neighbour_most():
    """1-D features 0, 1, 10, 11 on a 1x4 grid: [0, 1, 10, 11] and [1, 0, 11, 10] both
    give every cover its nearest neighbour; the plain sum of neighbour distances prefers
    the first (1 + 9 + 1 = 11 against 1 + 11 + 1 = 13), and so do the nearest-first
    weights, which count each cover's second neighbour too, at 0.3."""
    from scipy.spatial.distance import cdist

    from tutorial_kit import fast
    data = np.array([[0.0], [1.0], [10.0], [11.0]])
    distances = cdist(data, data)
    start = np.array([[1, 0, 3, 2]])  # 1, 0, 11, 10
    new, _ = fast.swap_nearest(distances, start)
    assert new.tolist() in ([[0, 1, 2, 3]], [[3, 2, 1, 0]])
    assert fast.nearest_energy(distances, new) < fast.nearest_energy(distances, start)
    # only the nearest neighbour counted: both layouts are equally good, nothing moves
    same, rounds = fast.swap_nearest(distances, start, weights=(1.0, 0.0, 0.0, 0.0))
    np.testing.assert_array_equal(same, start)
    assert rounds == 1


def test_swap_pass_leaves_dropped_covers_out():
    from tutorial_kit import fast
    rng = np.random.default_rng(7)
    data = rng.normal(size=(12, 3))
    positions = np.array([(r, c) for r in range(3) for c in range(4)])
    positions[[2, 9]] = -1  # dropped
    new = fast.swap_pass(data, positions, 3, 4)
    assert (new[[2, 9]] == -1).all()
    placed = np.delete(new, [2, 9], axis=0)
    assert len({tuple(p) for p in placed}) == 10 and (placed >= 0).all()


def test_feature_distances_are_cdists_and_give_the_same_swaps():
    """A big folder's swaps compute distances when needed (no N x N table): the same
    numbers as cdist, so with the same stand-in for a missing neighbour, the same grid."""
    from scipy.spatial.distance import cdist

    from tutorial_kit import fast
    rng = np.random.default_rng(11)
    data = rng.normal(size=(40, 6)) * 50
    distances = cdist(data, data)
    computed = fast.FeatureDistances(data, chunk=7)  # several chunks
    x, y = rng.integers(-1, 40, size=(2, 9, 5))
    expected = np.where((x >= 0) & (y >= 0), distances[x, y], computed.missing)
    assert np.array_equal(computed(x, y), expected)
    grid = _random_grid(rng, 40, 6, 8)
    mean = distances.sum() / (40 * 39)
    from_table = fast.swap_nearest(distances, grid)
    from_features = fast.swap_nearest(fast.FeatureDistances(data, missing=mean, chunk=7), grid)
    np.testing.assert_array_equal(from_table[0], from_features[0])
    assert from_table[1] == from_features[1]


def test_swap_pass_past_the_table_limit_uses_feature_distances(monkeypatch):
    from tutorial_kit import fast
    seen = []
    real = fast.swap_nearest
    monkeypatch.setattr(fast, "swap_nearest", lambda d, g, **k: seen.append(type(d)) or real(d, g, **k))
    data = np.random.default_rng(2).normal(size=(12, 3))
    positions = np.array([(r, c) for r in range(3) for c in range(4)])
    fast.swap_pass(data, positions, 3, 4)
    monkeypatch.setattr(fast, "SWAP_TABLE_UP_TO", 11)
    new = fast.swap_pass(data, positions, 3, 4)
    assert seen == [np.ndarray, fast.FeatureDistances]
    assert sorted(map(tuple, new)) == sorted(map(tuple, positions))
