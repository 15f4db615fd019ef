"""The interactive explorer (helpers section 8), driven through the ipywidgets API.

No browser and no kernel: widgets work without a frontend, and setting a
control's ``value`` runs the same observers a slider release would. The covers
are 16 small generated images, so each update trains in well under a second.
"""
import io
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import helpers  # noqa: E402
from tutorial_kit import explorer as explorer_module  # noqa: E402

JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _write_covers(folder, n, seed):
    """n small covers: four colour families with stripes, as PNG files."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    families = np.array([[200, 40, 40], [40, 160, 60], [40, 60, 200], [220, 200, 60]])
    for i in range(n):
        base = families[i % len(families)] + rng.integers(-30, 30, size=3)
        image = np.empty((45, 30, 3), dtype=np.int64)
        image[:] = base
        image[rng.integers(0, 30):, :, :] //= 2  # a darker band at a random height
        image += rng.integers(-10, 10, size=image.shape)
        Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)).save(folder / f"cover_{i:02d}.png")
    return folder


@pytest.fixture(scope="module")
def covers_dir(tmp_path_factory):
    return _write_covers(tmp_path_factory.mktemp("covers"), 16, seed=1)


@pytest.fixture(autouse=True)
def short_training(monkeypatch):
    """The default preset with 800 iterations instead of 10,000: fast tests."""
    monkeypatch.setitem(helpers.PRESETS, "default", dict(helpers.PRESETS["default"], iterations=800))


@pytest.fixture
def explorer(covers_dir):
    """An explorer on the 16 covers."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the explorer must not leak warnings
        ex = explorer_module.build_explorer(covers_dir)
    assert ex.arrangement is not None, ex.status.value
    assert ex.iterations.value == 800
    return ex


def _shown(ex):
    return ex.mosaic.value, ex.umatrix.value, ex.metrics.value


def test_first_picture_at_the_smallest_grid_that_fits(explorer):
    assert (explorer.rows.value, explorer.cols.value) == helpers.grid_shape_for(16) == (4, 4)
    assert bytes(explorer.mosaic.value).startswith(JPEG_MAGIC)
    assert bytes(explorer.umatrix.value).startswith(PNG_MAGIC)
    for name in ("QE", "TE", "DPQ16"):
        assert f"<b>{name}</b>" in explorer.metrics.value  # one table row each
    assert "16 covers on a 4x4 grid" in explorer.status.value
    assert explorer.seconds is not None and explorer.seconds > 0
    assert explorer.progress.layout.visibility == "hidden"
    # The mosaic is at screen size: 4 covers across about 600 px.
    width, height = Image.open(io.BytesIO(explorer.mosaic.value)).size
    assert 560 <= width <= 600 and height > width


def test_all_sliders_update_only_on_release(explorer):
    for slider in (explorer.rows, explorer.cols, explorer.sigma, explorer.iterations,
                   explorer.learning_rate):
        assert slider.continuous_update is False


@pytest.mark.parametrize("control, value", [
    ("sigma", 1.0), ("learning_rate", 0.05), ("seed", 7), ("iterations", 300),
    ("neighborhood", "bubble"),
])
def test_a_change_retrains_and_redraws(explorer, control, value):
    mosaic, umatrix, metrics = _shown(explorer)
    before = explorer.arrangement
    setattr(getattr(explorer, control), "value", value)
    assert explorer.arrangement is not before, explorer.status.value
    assert explorer.umatrix.value != umatrix
    assert explorer.metrics.value != metrics
    assert "&#9888;" not in explorer.status.value


def test_the_mosaic_changes_with_the_grid_and_the_placement(explorer):
    mosaic = explorer.mosaic.value
    explorer.cols.value = 5
    assert explorer.mosaic.value != mosaic
    assert explorer.arrangement.cols == 5
    mosaic = explorer.mosaic.value
    explorer.placement.value = "greedy"
    assert explorer.arrangement.placement is not None
    assert explorer.mosaic.value != mosaic


def test_a_grid_too_small_gives_a_message_and_keeps_the_picture(explorer):
    shown, arrangement = _shown(explorer), explorer.arrangement
    explorer.rows.value = 2  # 2x4 = 8 cells for 16 covers
    assert "do not fit on a 2x4 grid" in explorer.status.value
    assert explorer.message.startswith("16 covers do not fit on a 2x4 grid")
    assert "&#9888;" in explorer.status.value
    assert "Traceback" not in explorer.status.value
    assert _shown(explorer) == shown and explorer.arrangement is arrangement
    explorer.rows.value = 4  # back to a grid that fits: a new picture
    assert "&#9888;" not in explorer.status.value
    assert explorer.arrangement is not arrangement


def test_a_minisom_warning_is_a_message_not_a_new_picture(explorer):
    explorer.neighborhood.value = "triangle"  # sigma 4.0: a whole number, fine
    shown = _shown(explorer)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing may escape to the notebook
        explorer.sigma.value = 2.5
    assert "MiniSom warns" in explorer.status.value
    assert "integer" in explorer.status.value
    assert _shown(explorer) == shown


def test_a_diverging_training_is_a_message_not_a_crash(explorer):
    shown = _shown(explorer)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's overflow warnings must not escape
        with explorer._hold():  # triangle with a large sigma and learning rate:
            explorer.rows.value = explorer.cols.value = 6  # steps far beyond the target
            explorer.learning_rate.value = 2.0
            explorer.sigma.value = 7.0
        explorer.neighborhood.value = "triangle"
    assert "diverged" in explorer.status.value, explorer.status.value
    assert _shown(explorer) == shown


def test_a_preset_sets_the_sliders_and_trains_once(explorer, monkeypatch):
    calls = []
    real = helpers.arrange_covers
    monkeypatch.setattr(explorer_module, "arrange_covers", lambda *a, **k: calls.append(k) or real(*a, **k))
    explorer.preset.value = "original"
    original = helpers.PRESETS["original"]
    assert explorer.sigma.value == original["sigma"]
    assert explorer.learning_rate.value == original["learning_rate"]
    assert explorer.iterations.value == original["iterations"]
    assert explorer.neighborhood.value == original["neighborhood_function"]
    assert len(calls) == 1 and calls[0]["preset"] == "original"
    explorer.preset.value = "default"
    assert explorer.sigma.value == helpers.PRESETS["default"]["sigma"]
    assert explorer.neighborhood.value == "gaussian"
    assert len(calls) == 2


def test_loading_bad_folders_gives_a_message_and_keeps_everything(explorer, tmp_path):
    shown, covers = _shown(explorer), explorer.covers
    empty = tmp_path / "empty"
    empty.mkdir()
    assert explorer.load(empty) is False
    assert "could not load" in explorer.status.value and "&#9888;" in explorer.status.value
    assert _shown(explorer) == shown and explorer.covers is covers

    assert explorer.load(tmp_path / "missing") is False
    assert "does not exist" in explorer.status.value

    one = _write_covers(tmp_path / "one", 1, seed=3)
    assert explorer.load(one) is False
    assert "at least 2" in explorer.status.value
    assert _shown(explorer) == shown and explorer.covers is covers


def test_the_load_button_loads_the_folder_in_the_text_box(explorer, tmp_path):
    other = _write_covers(tmp_path / "nine", 9, seed=2)
    explorer.folder.value = str(other)
    explorer.iterations.value = 500
    explorer.load_button.click()
    assert len(explorer.covers.names) == 9
    assert (explorer.rows.value, explorer.cols.value) == (3, 3)
    assert "9 covers on a 3x3 grid" in explorer.status.value


def test_features_are_made_once_per_folder(covers_dir, tmp_path, monkeypatch):
    made = []
    real = helpers.make_features
    monkeypatch.setattr(explorer_module, "make_features", lambda images: made.append(len(images)) or real(images))
    ex = explorer_module.build_explorer(covers_dir)
    ex.iterations.value = 300
    ex.sigma.value = 2.0
    ex.rows.value = 5
    ex.preset.value = "original"
    assert made == [16]
    ex.load(_write_covers(tmp_path / "other", 9, seed=2))
    ex.sigma.value = 1.0
    assert made == [16, 9]
    ex.load(covers_dir)  # same covers as before: their features are reused
    assert made == [16, 9]


def test_a_superseded_result_never_overwrites_a_newer_one(explorer):
    started = 0.0
    old = explorer._begin()
    old_result = explorer._compute(dict(explorer.settings(), sigma=1.0), old, started)
    new = explorer._begin()
    new_result = explorer._compute(dict(explorer.settings(), sigma=3.0), new, started)
    assert explorer._show(new, new_result) is True
    shown, arrangement = _shown(explorer), explorer.arrangement
    assert explorer._show(old, old_result) is False  # arrives late: discarded
    assert _shown(explorer) == shown and explorer.arrangement is arrangement
    assert arrangement.settings["sigma"] == 3.0


def test_an_update_started_during_training_wins(explorer, monkeypatch):
    """A newer update starting while an older one trains: the older result is dropped."""
    real_reporter = explorer._reporter
    nested = []

    def reporter(generation, started):
        report = real_reporter(generation, started)

        def progress(done, total):
            if not nested:  # the first time only: a slider moves mid-training
                nested.append(True)
                explorer.sigma.value = 1.5
            report(done, total)
        return progress

    monkeypatch.setattr(explorer, "_reporter", reporter)
    assert explorer.update() is False  # the outer, older update is discarded
    assert explorer.arrangement.settings["sigma"] == 1.5
    assert explorer.sigma.value == 1.5


def test_a_stale_error_does_not_replace_a_newer_status(explorer, monkeypatch):
    real = explorer._compute

    def compute(settings, generation, started):
        # A newer update runs to completion while this one still computes ...
        newer = explorer._begin()
        assert explorer._show(newer, real(settings, newer, started), started)
        raise ValueError("stale failure")  # ... and then this one fails.

    monkeypatch.setattr(explorer, "_compute", compute)
    assert explorer.update() is False
    assert "stale failure" not in explorer.status.value
    assert "16 covers on a 4x4 grid" in explorer.status.value


def test_the_progress_bar_shows_while_training_and_hides_after(covers_dir):
    ex = explorer_module.build_explorer(covers_dir, progress_delay=0.0)
    seen = []
    ex.progress.layout.observe(lambda change: seen.append(change["new"]), names="visibility")
    ex.progress.observe(lambda change: seen.append(change["new"]), names="value")
    said = []
    ex.status.observe(lambda change: said.append(change["new"]), names="value")
    ex.iterations.value = 1000
    assert "visible" in seen and seen[-1] == 0
    assert any("training 1000 iterations on a 4x4 grid" in text for text in said)
    assert "16 covers on a 4x4 grid" in ex.message
    assert any(isinstance(v, int) and v > 0 for v in seen)
    assert ex.progress.layout.visibility == "hidden"

    slow = explorer_module.build_explorer(covers_dir, progress_delay=60.0)
    seen.clear()
    slow.progress.layout.observe(lambda change: seen.append(change["new"]), names="visibility")
    slow.iterations.value = 1000  # much quicker than the delay: no bar at all
    assert seen == []


def test_the_explorer_displays_as_its_widget(explorer):
    bundle = explorer._repr_mimebundle_()
    view = bundle["application/vnd.jupyter.widget-view+json"]
    assert view["model_id"] == explorer.widget.model_id
    assert "SOM explorer: 16 covers" in bundle["text/plain"]


def test_a_missing_folder_at_start_is_a_message(tmp_path):
    ex = explorer_module.build_explorer(tmp_path / "nowhere")
    assert ex.covers is None and ex.arrangement is None
    assert "does not exist" in ex.status.value
    assert ex.update() is False
    assert "no covers loaded" in ex.status.value


def test_loading_a_tiny_folder_fits_sigma_to_its_grid(explorer, tmp_path):
    """Four covers get a 2x2 grid, where the default sigma of 4 makes MiniSom warn:
    the explorer starts them with a sigma that fits, so the new covers are shown."""
    tiny = _write_covers(tmp_path / "tiny", 4, seed=5)
    assert explorer.load(tiny)
    assert (explorer.rows.value, explorer.cols.value) == (2, 2)
    assert explorer.sigma.value <= np.hypot(2, 2)
    assert explorer.arrangement is not None, explorer.status.value
    assert explorer.arrangement.covers.names == sorted(p.name for p in tiny.iterdir())
