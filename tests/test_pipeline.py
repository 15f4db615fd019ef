"""The pipeline and the small helpers the notebooks lean on: arrange_covers,
read_genres, decay_schedule and show_covers."""
import csv

import matplotlib
import numpy as np
import pytest

import helpers
from conftest import write_plain_covers

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

QUICK = dict(iterations=300)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """11 small covers (not a square count) in two sizes."""
    return write_plain_covers(tmp_path_factory.mktemp("covers"), 11)


# -- arrange_covers -----------------------------------------------------------

def test_arrange_covers_places_every_cover_once_on_the_smallest_grid(folder):
    result = helpers.arrange_covers(folder, **QUICK)
    assert (result.rows, result.cols) == helpers.grid_shape_for(11) == (3, 4)
    cells = [tuple(p) for p in result.placement.positions]
    assert len(set(cells)) == 11 and result.placement.dropped == []
    assert result.covers.names == [f"c{i:02d}.png" for i in range(11)]
    assert set(result.quality) == {"quantization_error", "topographic_error", "dpq16", "neighbour_ratio"}
    assert result.mosaic().shape == (3 * 30, 4 * 20, 3)  # the most common size: 20x30
    assert result.settings["iterations"] == 300


def test_arrange_covers_same_seed_same_grid_other_seed_other_grid(folder):
    covers = helpers.load_covers(folder)
    first = helpers.arrange_covers(covers, seed=1, **QUICK).placement.positions
    again = helpers.arrange_covers(covers, seed=1, **QUICK).placement.positions
    other = helpers.arrange_covers(covers, seed=2, **QUICK).placement.positions
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_arrange_covers_reuses_given_features(folder, monkeypatch):
    covers = helpers.load_covers(folder)
    features = helpers.make_features(covers.images)
    monkeypatch.setattr(helpers, "make_features", lambda images: pytest.fail("features made again"))
    result = helpers.arrange_covers(covers, features=features, **QUICK)
    assert result.features is features


def test_arrange_covers_refuses_a_small_grid_before_training(folder, monkeypatch):
    monkeypatch.setattr(helpers, "train_som", lambda *a, **k: pytest.fail("trained anyway"))
    with pytest.raises(ValueError, match="11 covers do not fit on a 3x3 grid.*at least 3x4"):
        helpers.arrange_covers(folder, 3, 3)


def test_arrange_covers_needs_both_rows_and_cols(folder):
    with pytest.raises(ValueError, match="both rows and cols"):
        helpers.arrange_covers(folder, rows=4)


def test_arrange_covers_with_dropping_allowed(folder):
    result = helpers.arrange_covers(folder, 3, 3, allow_drop=True, **QUICK)
    assert len(result.placement.dropped) == 2
    assert (result.placement.positions[result.placement.dropped] == -1).all()


@pytest.mark.slow  # makes the features of all 100 posters
def test_arrange_covers_reports_genres_for_the_bundled_posters():
    result = helpers.arrange_covers(iterations=300)
    share, expected = result.quality["same_genre"], result.quality["same_genre_random"]
    assert 0 <= expected < share <= 1  # even a short training beats random


# -- read_genres ---------------------------------------------------------------

def test_read_genres_of_the_bundled_posters():
    with open(helpers.DATA_DIR / "covers.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    names = [rows[5]["file"], rows[0]["file"]]
    assert helpers.read_genres(names) == [rows[5]["genre"], rows[0]["genre"]]


def test_read_genres_is_none_for_other_covers_or_no_catalogue(tmp_path):
    assert helpers.read_genres(["poster_000.jpg", "my_own_cover.jpg"]) is None
    assert helpers.read_genres(["poster_000.jpg"], catalogue=tmp_path / "missing.csv") is None
    own = tmp_path / "own.csv"
    own.write_text("file,genre\na.jpg,drama\nb.jpg,comedy\n", encoding="utf-8")
    assert helpers.read_genres(["b.jpg", "a.jpg"], catalogue=own) == ["comedy", "drama"]


# -- decay_schedule --------------------------------------------------------------

@pytest.mark.parametrize("name, start, end", [
    ("asymptotic_decay", 0.5, 0.5 / 3),      # start / (1 + T / (T/2)): a third of the start
    ("linear_decay_to_zero", 0.5, 0.0),
    ("linear_decay_to_one", 3.0, 1.0),
    ("inverse_decay_to_one", 3.0, 1.0),      # 3 / (1 + T * (3 - 1) / T) = 1
    ("inverse_decay_to_zero", 0.5, 0.5 / 101),  # C = T/100: 0.5 * C / (C + T)
])
def test_decay_schedule_starts_and_ends_where_minisom_says(name, start, end):
    values = helpers.decay_schedule(name, start, 1000)
    assert values.shape == (1001,)
    assert values[0] == pytest.approx(start)
    assert values[-1] == pytest.approx(end)
    assert (np.diff(values) <= 1e-12).all()  # never grows


def test_decay_schedule_rejects_bad_input():
    with pytest.raises(ValueError, match="unknown decay function"):
        helpers.decay_schedule("exponential", 1, 10)
    with pytest.raises(ValueError, match="iterations"):
        helpers.decay_schedule("linear_decay_to_zero", 1, 0)


# -- show_covers -------------------------------------------------------------------

def test_show_covers_draws_each_cover_with_its_title():
    small = np.zeros((30, 20, 3), np.uint8)
    large = np.full((60, 40, 3), 255, np.uint8)
    axes = helpers.show_covers([small, large], ["dark", "light"])
    assert [ax.get_title() for ax in axes] == ["dark", "light"]
    assert [ax.get_images()[0].get_array().shape for ax in axes] == [(30, 20, 3), (60, 40, 3)]


def test_show_covers_checks_its_arguments():
    cover = np.zeros((30, 20, 3), np.uint8)
    with pytest.raises(ValueError, match="2 covers but 1 titles"):
        helpers.show_covers([cover, cover], ["one"])
    with pytest.raises(ValueError, match="no covers"):
        helpers.show_covers([])
    _, axes = plt.subplots(1, 3)
    with pytest.raises(ValueError, match="2 covers but 3 axes"):
        helpers.show_covers([cover, cover], axes=axes)


@pytest.mark.parametrize("iterations", [float("nan"), float("inf"), 2.5])
def test_decay_schedule_needs_a_whole_number_of_iterations(iterations):
    with pytest.raises(ValueError, match="iterations must be a whole number"):
        helpers.decay_schedule("linear_decay_to_zero", 1, iterations)


def test_arrange_covers_refuses_features_of_other_covers(folder):
    covers = helpers.load_covers(folder)
    features = helpers.make_features(covers.images[:5])
    with pytest.raises(ValueError, match="features of 5 covers given for 11 covers"):
        helpers.arrange_covers(covers, features=features, **QUICK)


def test_helpers_sections_follow_the_notebooks_and_use_only_earlier_ones():
    """The teaching module reads top to bottom: its seven sections in notebook order, and
    nothing in one section uses what a later section defines."""
    import ast
    import re

    source = open(helpers.__file__, encoding="utf-8").read()
    starts = [(source[:m.start()].count("\n") + 1, int(m.group(1)))
              for m in re.finditer(r"^# (\d)\. \w", source, flags=re.MULTILINE)]
    assert [number for _, number in starts] == [1, 2, 3, 4, 5, 6, 7]

    def section(line):
        return max([number for start, number in starts if start <= line], default=0)

    tree = ast.parse(source)
    defined = {node.name: section(node.lineno) for node in tree.body
               if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    uses_later = [(node.name, name.id) for node in tree.body if hasattr(node, "name")
                  for name in ast.walk(node)
                  if isinstance(name, ast.Name) and defined.get(name.id, 0) > section(node.lineno)]
    assert uses_later == []
