"""Each public function of helpers, fed wrong types and shapes (issue 21, cases 7 and 8).

A student's mistake gets one ValueError sentence naming the parameter, what
it got and what it needs, never a numpy or MiniSom internal; values that
would silently give a wrong picture are refused or converted by a stated rule.
"""
import numpy as np
import pytest
from conftest import random_covers
from PIL import Image

import helpers
from tutorial_kit import checks
from tutorial_kit.files import OutputError

COVERS = random_covers(6, 12, 8, seed=5)
FEATURES = helpers.make_features(COVERS)
DATA = FEATURES.values
POSITIONS = np.array([(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)])
TRAINED = helpers.train_som(DATA, 2, 3, sigma=1.0, learning_rate=0.5, iterations=100)
WEIGHTS = TRAINED.som.get_weights()
COVER_SET = helpers.CoverSet(COVERS, [f"c{i}.png" for i in range(6)], [])
TRAIN = dict(sigma=1.0, learning_rate=0.5, iterations=100)


def train(**changes):
    arguments = dict(data=DATA, rows=2, cols=3, **TRAIN)
    arguments.update(changes)
    return helpers.train_som(**arguments)


# (call, the parameter the message must name, what it must say it got)
WRONG = {
    "train_som rows='10'": (lambda: train(rows="10"), "rows", "the text '10'"),
    "train_som cols=2.5": (lambda: train(cols=2.5), "cols", "2.5"),
    "train_som iterations='100'": (lambda: train(iterations="100"), "iterations", "the text"),
    "train_som sigma=None": (lambda: train(sigma=None), "sigma", "None"),
    "train_som learning_rate='0.5'": (lambda: train(learning_rate="0.5"), "learning_rate", "text"),
    "train_som random_seed=1.5": (lambda: train(random_seed=1.5), "random_seed", "1.5"),
    "train_som random_seed=-1": (lambda: train(random_seed=-1), "random_seed", "-1"),
    "train_som curve_points=-5": (lambda: train(curve_points=-5), "curve_points", "-5"),
    "train_som rows=True": (lambda: train(rows=True), "rows", "True (a bool)"),
    "train_som data=CoverFeatures": (lambda: train(data=FEATURES), "features", "CoverFeatures"),
    "train_som ragged data": (lambda: train(data=[[1, 2], [3]]), "features", "differ in length"),
    "train_som sigma=1e-300": (lambda: train(sigma=1e-300), "sigma", "1e-300"),
    "make_features CoverSet": (lambda: helpers.make_features(COVER_SET), "images", "CoverSet"),
    "make_features text": (lambda: helpers.make_features("covers/"), "images", "the text"),
    "make_features floats": (lambda: helpers.make_features(COVERS / 255.0), "images", "float64"),
    "som_settings preset=3": (lambda: helpers.som_settings(3), "preset", "3"),
    "decay_schedule start=None": (lambda: helpers.decay_schedule("linear_decay_to_zero", None, 10),
                                  "start", "None"),
    "decay_schedule iterations=1.5": (lambda: helpers.decay_schedule("asymptotic_decay", 1.0, 1.5),
                                      "iterations", "1.5"),
    "squared_distances a='x'": (lambda: helpers.squared_distances("x", DATA), "a", "the text"),
    "grid_shape_for '10'": (lambda: helpers.grid_shape_for("10"), "n_covers", "the text '10'"),
    "place_covers data=None": (lambda: helpers.place_covers(WEIGHTS, None), "features", "None"),
    "place_covers strategy=1": (lambda: helpers.place_covers(WEIGHTS, DATA, strategy=1),
                                "placement", "1"),
    "dpq p='16'": (lambda: helpers.dpq(DATA, POSITIONS, p="16"), "p", "the text '16'"),
    "dpq positions 0.5": (lambda: helpers.dpq(DATA, POSITIONS + 0.5), "positions", "[0.5, 0.5]"),
    "dpq positions NaN": (lambda: helpers.dpq(DATA, np.where(POSITIONS == 2, np.nan, POSITIONS)),
                          "positions", "nan"),
    "dpq positions (-1, 0)": (lambda: helpers.dpq(DATA, np.where(POSITIONS == 2, -1, POSITIONS)),
                              "positions", "[0, -1]"),
    "dpq positions text": (lambda: helpers.dpq(DATA, "0,0"), "positions", "the text"),
    "neighbour_distance_ratio positions 1-D": (
        lambda: helpers.neighbour_distance_ratio(DATA, POSITIONS.ravel()), "positions", "shape"),
    "same_genre_share positions float": (
        lambda: helpers.same_genre_share(list("aabbcc"), POSITIONS * 0.5), "positions", "0.5"),
    "quality_report data=list of text": (
        lambda: helpers.quality_report(TRAINED.som, [["a"]] * 6, POSITIONS), "features", "text"),
    "make_mosaic float positions": (
        lambda: helpers.make_mosaic(COVERS, POSITIONS + 0.25, 2, 3), "positions", "0.25"),
    "make_mosaic int64 300": (
        lambda: helpers.make_mosaic(COVERS.astype(np.int64) + 100, POSITIONS, 2, 3), "images",
        "from 100 to 355"),
    "make_mosaic floats up to 255": (
        lambda: helpers.make_mosaic(COVERS.astype(float), POSITIONS, 2, 3), "images", "to 255"),
    "make_mosaic border='2'": (lambda: helpers.make_mosaic(COVERS, POSITIONS, 2, 3, border="2"),
                               "border", "the text '2'"),
    "make_mosaic background=300": (
        lambda: helpers.make_mosaic(COVERS, POSITIONS, 2, 3, background=300), "background", "300"),
    "make_mosaic images=CoverSet": (lambda: helpers.make_mosaic(COVER_SET, POSITIONS, 2, 3),
                                    "images", "CoverSet"),
    "arrange_covers features=ndarray": (
        lambda: helpers.arrange_covers(COVER_SET, features=DATA), "features", "array of float64"),
    "arrange_covers covers=ndarray": (lambda: helpers.arrange_covers(COVERS), "covers", "uint8"),
    "arrange_covers seed=1.5": (lambda: helpers.arrange_covers(COVER_SET, seed=1.5), "seed", "1.5"),
    "arrange_covers rows='2'": (lambda: helpers.arrange_covers(COVER_SET, "2", 3), "rows", "text"),
    "arrange_covers placement='nope'": (
        lambda: helpers.arrange_covers(COVER_SET, placement="nope"), "placement", "'nope'"),
    "load_covers max_side='300'": (lambda: helpers.load_covers(helpers.BUNDLED_COVERS,
                                                               max_side="300"), "max_side", "'300'"),
    "load_covers folder=3": (lambda: helpers.load_covers(3), "folder", "3"),
    "save_png int64 300": (lambda: helpers.save_png(np.full((4, 4, 3), 300), "/nonexistent/x.png"),
                           "image", "from 300 to 300"),
    "save_png 4-D": (lambda: helpers.save_png(COVERS, "/nonexistent/x.png"), "image", "shape"),
    "read_genres names=None": (lambda: helpers.read_genres(None), "names", "None"),
    "format_quality list": (lambda: helpers.format_quality([1, 2]), "report", "list"),
    "dpq_gains positions 0.5": (lambda: helpers.dpq_gains(DATA, POSITIONS + 0.5), "positions", "0.5"),
    "settings_for_grid rows='2'": (lambda: helpers.settings_for_grid("default", "2", 2), "rows", "text"),
    "neighbours_to_compare n_covers='5'": (lambda: helpers.neighbours_to_compare("5"), "n_covers", "text"),
    "can_start_on_pca n_features='2'": (lambda: helpers.can_start_on_pca("2", 2, 2), "n_features", "text"),
}


@pytest.mark.parametrize("case", WRONG)
def test_a_wrong_type_or_shape_is_one_sentence_naming_the_parameter(case):
    call, parameter, got = WRONG[case]
    with pytest.raises(ValueError) as error:
        call()
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith((f"{parameter} ", f"{parameter}:")) or f" {parameter} " in message, \
        message
    assert got in message, message


def test_every_public_function_of_helpers_is_fed_a_wrong_value():
    import inspect
    public = {name for name, item in vars(helpers).items()
              if inspect.isfunction(item) and not name.startswith("_")
              and item.__module__ in ("helpers", "tutorial_kit.files")}
    tried = {case.split()[0] for case in WRONG}
    assert public - tried == set()


# --- silently wrong results become a rule ------------------------------------------------


def test_float_images_in_0_to_1_are_scaled_to_0_to_255():
    mosaic = helpers.make_mosaic(COVERS / 255.0, POSITIONS, 2, 3)
    np.testing.assert_array_equal(mosaic, helpers.make_mosaic(COVERS, POSITIONS, 2, 3))


def test_whole_number_arrays_in_range_and_whole_float_positions_are_taken(tmp_path):
    mosaic = helpers.make_mosaic(COVERS.astype(np.int64), POSITIONS.astype(float), 2, 3)
    np.testing.assert_array_equal(mosaic, helpers.make_mosaic(COVERS, POSITIONS, 2, 3))
    path = helpers.save_png(np.ones((3, 2)), tmp_path / "white.png")  # floats of 1.0: white
    with Image.open(path) as image:
        assert np.asarray(image).tolist() == [[255, 255]] * 3


def test_dpq_no_longer_takes_nan_for_a_dropped_cover():
    dropped = POSITIONS.astype(float)
    dropped[0] = -1
    assert helpers.dpq(DATA, dropped) == helpers.dpq(DATA, dropped.astype(int))
    dropped[0] = np.nan
    with pytest.raises(ValueError, match=r"positions must be whole numbers .* got \[nan, nan\] for"
                                         r" cover 0"):
        helpers.dpq(DATA, dropped)


def test_save_png_never_replaces_a_cover_or_another_picture(tmp_path):
    cover = tmp_path / "cover.png"
    Image.fromarray(COVERS[0]).save(cover)
    before = cover.read_bytes()
    with pytest.raises(OutputError, match="already exists and was not written by save_png"):
        helpers.save_png(COVERS[1], cover)
    assert cover.read_bytes() == before
    grid = helpers.save_png(COVERS[1], tmp_path / "grid.png")
    helpers.save_png(COVERS[2], grid)  # its own PNG: replaced
    with Image.open(grid) as image:
        np.testing.assert_array_equal(np.asarray(image), COVERS[2])


# --- the rules themselves ----------------------------------------------------------------


@pytest.mark.parametrize("name, good, expected", [
    ("rows", 10.0, 10), ("rows", np.int32(3), 3), ("seed", 2**32 - 1, 2**32 - 1),
    ("sigma", 1e-100, 1e-100), ("p", np.inf, np.inf), ("border", 0, 0)])
def test_a_rule_converts_what_it_accepts(name, good, expected):
    value = checks.value(name, good)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize("name, bad", [("rows", 0), ("rows", np.inf), ("seed", 2**32),
                                       ("sigma", 0.0), ("p", 0.99), ("background", 256),
                                       ("iterations", np.float64("nan")), ("border", -1)])
def test_a_rule_refuses_out_of_range(name, bad):
    with pytest.raises(ValueError, match=f"^{name} must be "):
        checks.value(name, bad)


@pytest.mark.filterwarnings("ignore:Warning. sigma might be too high")  # sigma 8 on 5x5: meant
@pytest.mark.parametrize("settings, says", [
    (dict(sigma=5.0, learning_rate=0.5, neighborhood_function="mexican_hat"),
     "the mexican_hat neighbourhood pushes the winner's neighbours away"),
    (dict(sigma=8.0, learning_rate=0.5, neighborhood_function="triangle"),
     "MiniSom's triangle is sigma^2 = 64 at the winner, so at learning_rate 0.5 each step moves "
     "it 32 times"),
    (dict(sigma=2.0, learning_rate=50.0, neighborhood_function="gaussian"),
     "at learning_rate 50 each step overshoots"),
])
def test_a_diverged_training_says_which_setting_made_it_diverge(settings, says):
    data = np.random.default_rng(0).normal(size=(20, 5))
    with pytest.raises(ValueError, match="training diverged") as error:
        helpers.train_som(data, 5, 5, iterations=2000, initialization="samples", **settings)
    assert says in str(error.value)
    assert "lower the learning rate or choose another" not in str(error.value)


def test_a_diverged_training_of_one_cover_says_why():
    """Issue 21: the 2019 post's settings diverge on one cover (triangle, sigma 3, rate 0.5)."""
    one = np.random.default_rng(0).normal(size=(1, 10))
    with pytest.raises(ValueError) as error:
        helpers.train_som(one, 10, 10, **helpers.som_settings("original"))
    assert str(error.value) == (
        "training diverged: MiniSom's triangle is sigma^2 = 9 at the winner, so at learning_rate "
        "0.5 each step moves it 4.5 times its distance to the cover and the weights grew without "
        "bound (with 1 cover, the steps overshoot the same way every time); keep learning_rate x "
        "sigma^2 under 2")
