"""Rendering: the mosaic array, PNG saving and showing with matplotlib."""
import os

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

import helpers  # noqa: E402

H, W = 4, 5


@pytest.fixture
def covers():
    """Three covers: two with random pixels (values 20-230) and one plain
    colour (1, 2, 3) that appears nowhere else."""
    rng = np.random.default_rng(0)
    images = rng.integers(20, 231, size=(3, H, W, 3), dtype=np.uint8)
    images[2] = (1, 2, 3)
    return images


def cell(mosaic, r, c, border=0):
    top, left = r * (H + border), c * (W + border)
    return mosaic[top:top + H, left:left + W]


@pytest.mark.parametrize("border", [0, 1, 3])
def test_mosaic_shape(covers, border):
    mosaic = helpers.make_mosaic(covers, [(0, 0), (1, 2), (0, 1)], 2, 3, border=border)
    assert mosaic.shape == (2 * H + border, 3 * W + 2 * border, 3)
    assert mosaic.dtype == np.uint8


@pytest.mark.parametrize("border", [0, 2])
def test_each_cover_at_its_place_and_empty_cells_blank(covers, border):
    positions = [(1, 2), (0, 0), (-1, -1)]  # cover 2 is dropped
    mosaic = helpers.make_mosaic(covers, positions, 2, 3, border=border, background=9)
    np.testing.assert_array_equal(cell(mosaic, 1, 2, border), covers[0])
    np.testing.assert_array_equal(cell(mosaic, 0, 0, border), covers[1])
    for r, c in [(0, 1), (0, 2), (1, 0), (1, 1)]:
        assert (cell(mosaic, r, c, border) == 9).all(), f"cell {(r, c)} is not blank"
    # the dropped cover's colour appears nowhere
    assert not (mosaic == (1, 2, 3)).all(axis=-1).any()
    if border:
        # border lines are the background too
        assert (mosaic[H:H + border] == 9).all()
        assert (mosaic[:, W:W + border] == 9).all()
        assert (mosaic[:, 2 * W + border:2 * W + 2 * border] == 9).all()


def test_mosaic_default_background_is_white(covers):
    mosaic = helpers.make_mosaic(covers[:1], [(0, 1)], 1, 2)
    assert (cell(mosaic, 0, 0) == 255).all()
    np.testing.assert_array_equal(cell(mosaic, 0, 1), covers[0])


def test_mosaic_does_not_change_its_inputs(covers):
    before = covers.copy()
    positions = np.array([(0, 0), (0, 1), (1, 0)])
    helpers.make_mosaic(covers, positions, 2, 2, border=1)
    np.testing.assert_array_equal(covers, before)
    np.testing.assert_array_equal(positions, [(0, 0), (0, 1), (1, 0)])


def test_mosaic_length_mismatch(covers):
    with pytest.raises(ValueError, match="3 images but 2 positions"):
        helpers.make_mosaic(covers, [(0, 0), (0, 1)], 2, 2)


@pytest.mark.parametrize("border", [-1, -5, 1.5, float("nan")])
def test_mosaic_border_must_be_a_whole_number_of_pixels(covers, border):
    with pytest.raises(ValueError, match=f"border must be a whole number >= 0, got {border}"):
        helpers.make_mosaic(covers, [(0, 0), (0, 1), (1, 0)], 2, 2, border=border)


@pytest.mark.parametrize("rows, cols", [(0, 2), (2, 0)])
def test_mosaic_bad_grid(covers, rows, cols):
    with pytest.raises(ValueError, match="must be a whole number >= 1"):
        helpers.make_mosaic(covers[:0], np.zeros((0, 2), dtype=int), rows, cols)


def test_mosaic_accepts_whole_float_grid_sizes(covers):
    positions = [(0, 0), (0, 1), (1, 0)]
    np.testing.assert_array_equal(helpers.make_mosaic(covers, positions, 2.0, 2.0),
                                  helpers.make_mosaic(covers, positions, 2, 2))


def test_save_png_reads_back_identical(tmp_path, covers):
    mosaic = helpers.make_mosaic(covers, [(0, 0), (0, 1), (1, 1)], 2, 2, border=1)
    path = helpers.save_png(mosaic, tmp_path / "grid.png")
    assert path == tmp_path / "grid.png"
    with Image.open(path) as image:
        assert image.format == "PNG"
        back = np.asarray(image.convert("RGB"))
    np.testing.assert_array_equal(back, mosaic)
    assert os.listdir(tmp_path) == ["grid.png"]  # no .part file left behind


def current_umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_saved_png_has_the_usual_permissions(tmp_path, covers):
    # like any new file (mode 666 minus the umask), not private like a temp file
    path = helpers.save_png(covers[0], tmp_path / "grid.png")
    assert path.stat().st_mode & 0o777 == 0o666 & ~current_umask()


def test_save_png_overwrites_its_own_png(tmp_path, covers):
    target = tmp_path / "grid.png"
    helpers.save_png(covers[1], target)
    helpers.save_png(covers[0], str(target))
    with Image.open(target) as image:
        np.testing.assert_array_equal(np.asarray(image), covers[0])
    assert sorted(os.listdir(tmp_path)) == ["grid.png"]


def test_save_png_creates_missing_folders(tmp_path, covers):
    target = tmp_path / "output" / "deeper" / "grid.png"
    helpers.save_png(covers[1], target)
    with Image.open(target) as image:
        np.testing.assert_array_equal(np.asarray(image), covers[1])


def test_failed_save_leaves_no_part_file(tmp_path):
    bad = np.zeros((2, 2, 5), dtype=np.uint8)  # five channels: not an image
    with pytest.raises((TypeError, ValueError, OSError)):
        helpers.save_png(bad, tmp_path / "grid.png")
    assert os.listdir(tmp_path) == []


def test_show_mosaic_returns_axes_with_title(covers):
    mosaic = helpers.make_mosaic(covers, [(0, 0), (0, 1), (1, 0)], 2, 2)
    ax = helpers.show_mosaic(mosaic, title="three covers")
    assert isinstance(ax, matplotlib.axes.Axes)
    assert ax.get_title() == "three covers"
    images = ax.get_images()
    assert len(images) == 1
    np.testing.assert_array_equal(images[0].get_array(), mosaic)
    assert not ax.axison
    ax.figure.canvas.draw()  # rendering works (and, under -W error, warns of nothing)


def test_show_mosaic_draws_into_a_given_axes(covers):
    _, given = plt.subplots()
    ax = helpers.show_mosaic(covers[0], ax=given)
    assert ax is given
    assert ax.get_title() == ""
    assert len(ax.get_images()) == 1


def test_make_mosaic_refuses_positions_outside_the_grid_or_shared():
    images = np.zeros((2, 4, 3, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match="outside the 2x2 grid"):
        helpers.make_mosaic(images, [(0, 0), (2, 0)], 2, 2)
    with pytest.raises(ValueError, match="same position"):
        helpers.make_mosaic(images, [(1, 1), (1, 1)], 2, 2)
