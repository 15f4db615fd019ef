"""The interactive explorer (tutorial_kit/explorer.py), driven through the ipywidgets API.

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
from conftest import write_family_covers
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import helpers  # noqa: E402
from tutorial_kit import explorer as explorer_module  # noqa: E402
from tutorial_kit import explorer_view  # noqa: E402

JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def covers_dir(tmp_path_factory):
    return write_family_covers(tmp_path_factory.mktemp("covers"), 16, seed=1)


@pytest.fixture(autouse=True)
def short_training(monkeypatch):
    """The default preset with 200 iterations instead of 5,000: fast tests."""
    monkeypatch.setitem(helpers.PRESETS, "default", dict(helpers.PRESETS["default"], iterations=200))


@pytest.fixture
def explorer(covers_dir):
    """An explorer on the 16 covers."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the explorer must not leak warnings
        ex = explorer_module.build_explorer(covers_dir)
    assert ex.arrangement is not None, ex.status.value
    assert ex.iterations.value == 200
    return ex


def _shown(ex):
    return ex.mosaic.value, ex.umatrix.value, ex.metrics.value


def _counting(monkeypatch):
    """Count the training runs: wraps arrange_covers as the explorer sees it."""
    calls = []
    real = helpers.arrange_covers
    monkeypatch.setattr(explorer_module, "arrange_covers",
                        lambda *a, **k: calls.append(k) or real(*a, **k))
    return calls


def test_first_picture_at_the_smallest_grid_that_fits(explorer):
    assert (explorer.rows.value, explorer.cols.value) == helpers.grid_shape_for(16) == (4, 4)
    assert bytes(explorer.mosaic_jpeg).startswith(JPEG_MAGIC)
    assert bytes(explorer.umatrix_png).startswith(PNG_MAGIC)
    assert explorer.mosaic.value.startswith('<img src="data:image/jpeg;base64,')
    assert 'alt="Mosaic of 16 covers' in explorer.mosaic.value
    assert 'alt="U-matrix of the 4x4 map' in explorer.umatrix.value
    for name in ("QE", "TE", "DPQ16"):
        assert f"<b>{name}</b>" in explorer.metrics.value  # one table row each
    # The explanations are visible text, not tooltips.
    assert "title=" not in explorer.metrics.value
    assert "two best neurons are not neighbours" in explorer.metrics.value
    assert explorer.message.startswith("16 covers on 4x4, sigma 4, seed 42, gaussian")
    assert 'role="status"' in explorer.status.value
    assert not explorer.stale and "som-stale" not in explorer.picture._dom_classes
    assert explorer.seconds is not None and explorer.seconds > 0
    assert explorer.progress.layout.visibility == "hidden"
    # The mosaic fits in 480 x 560 px: 4 portrait covers across, 4 down.
    width, height = Image.open(io.BytesIO(explorer.mosaic_jpeg)).size
    assert width <= 480 and height <= 560 and max(width, height) > 400


def test_sigma_follows_the_hand_and_the_other_sliders_update_on_release(explorer):
    """Sigma's preview costs a few hundredths of a second: it can follow a drag."""
    assert explorer.sigma.continuous_update is True
    for slider in (explorer.rows, explorer.cols, explorer.iterations, explorer.learning_rate):
        assert slider.continuous_update is False


def test_the_iterations_slider_reaches_the_tours_values_in_few_steps(explorer):
    values = [value for _label, value in explorer.iterations.options]
    for wanted in (100, 1000, 2500, 5000, 20000):
        assert wanted in values
    assert len(values) <= 12 and values == sorted(values)


@pytest.mark.parametrize("control, value", [
    ("sigma", 1.0), ("learning_rate", 0.05), ("seed", 7), ("iterations", 1000),
    ("neighborhood", "bubble"),
])
def test_a_change_retrains_and_redraws(explorer, control, value):
    mosaic, umatrix, metrics = _shown(explorer)
    before = explorer.arrangement
    setattr(getattr(explorer, control), "value", value)
    assert explorer.arrangement is not before, explorer.message
    assert explorer.umatrix.value != umatrix
    assert explorer.metrics.value != metrics
    assert not explorer.stale and "&#9888;" not in explorer.status.value


def test_the_mosaic_changes_with_the_grid_and_the_placement(explorer):
    mosaic = explorer.mosaic.value
    explorer.cols.value = 5
    assert explorer.mosaic.value != mosaic
    assert explorer.arrangement.cols == 5
    mosaic = explorer.mosaic.value
    explorer.placement.value = "greedy"
    assert explorer.shown["placement"] == "greedy"
    assert explorer.mosaic.value != mosaic


def test_a_refused_grid_dims_the_picture_and_says_what_is_shown(explorer, monkeypatch):
    calls = _counting(monkeypatch)
    shown, arrangement = _shown(explorer), explorer.arrangement
    explorer.rows.value = 2  # 2x4 = 8 cells for 16 covers
    assert explorer.message == ("still showing 16 covers on 4x4, sigma 4, seed 42, learning rate "
                                "0.5: 16 covers do "
                                "not fit on 2x4 (8 cells; the grid needs at least 16 cells, "
                                "for example 4x4)")
    assert explorer.stale and "som-stale" in explorer.picture._dom_classes
    assert "&#9888;" in explorer.status.value
    assert _shown(explorer) == shown and explorer.arrangement is arrangement
    assert calls == []  # refused before training
    explorer.rows.value = 4  # back to a grid that fits: a new picture, no longer dimmed
    assert not explorer.stale and "som-stale" not in explorer.picture._dom_classes
    assert explorer.arrangement is not arrangement


def test_a_too_wide_sigma_is_refused_with_its_limit(explorer, monkeypatch):
    calls = _counting(monkeypatch)
    assert explorer_module.sigma_limit(4, 4) == 5.5  # the diagonal, 5.66, rounded down
    explorer.sigma.value = 6.0
    assert "sigma 6.0 is wider than a 4x4 grid: at most 5.5" in explorer.message
    assert explorer.stale and calls == []
    explorer.sigma.value = 5.5  # the limit itself trains without a MiniSom warning
    assert not explorer.stale, explorer.message
    assert len(calls) == 1


def test_triangle_with_a_fractional_sigma_is_refused_with_the_choices(explorer, monkeypatch):
    explorer.neighborhood.value = "triangle"  # sigma 4.0: a whole number, fine
    assert not explorer.stale
    calls = _counting(monkeypatch)
    shown = _shown(explorer)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing may escape to the notebook
        explorer.sigma.value = 2.5
    assert "triangle needs a whole-number sigma: 2 or 3, not 2.5" in explorer.message
    assert _shown(explorer) == shown and explorer.stale and calls == []


def test_a_diverging_training_is_a_message_not_a_crash(explorer):
    shown = _shown(explorer)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's overflow warnings must not escape
        assert explorer.set(rows=6, cols=6, learning_rate=2.0, sigma=7.0,
                            neighborhood="triangle") is False
    assert "diverged" in explorer.message, explorer.message
    assert explorer.message.startswith("still showing 16 covers on 4x4, sigma 4, seed 42, "
                                       "learning rate 0.5: ")
    assert _shown(explorer) == shown and explorer.stale


def test_a_diverging_training_gives_helpers_advice_whole(explorer):
    """The explorer adds no advice of its own: for the mexican hat, whatever helpers
    says (tutorial_kit/checks.py words it) is shown in full, on one line."""
    settings = dict(rows=4, cols=4, sigma=2.0, learning_rate=0.5, iterations=200, seed=42,
                    neighborhood_function="mexican_hat")
    with pytest.raises(ValueError) as raised:
        helpers.arrange_covers(explorer.covers, features=explorer.features, **settings)
    assert explorer.set(neighborhood="mexican_hat", sigma=2.0) is False
    assert explorer.message == ("still showing 16 covers on 4x4, sigma 4, seed 42, learning rate "
                                f"0.5: {raised.value}")
    assert "\n" not in explorer.message


def test_a_minisom_warning_is_the_explorers_message_and_nothing_reaches_stderr(
        explorer, monkeypatch, capfd):
    """A MiniSom warning the explorer's own checks do not foresee (here: with the
    sigma limit lifted, MiniSom's own "sigma might be too high") refuses the
    settings in one line, with MiniSom's words; no warning gets out, and nothing trains."""
    monkeypatch.setattr(explorer_module, "sigma_limit", lambda rows, cols: 100.0)
    calls = _counting(monkeypatch)
    shown = _shown(explorer)
    with warnings.catch_warnings(record=True) as escaped:
        warnings.simplefilter("always")
        explorer.sigma.value = 6.0  # wider than the 4x4 grid's diagonal, 5.66
    assert escaped == []
    assert capfd.readouterr().err == ""
    assert explorer.message == ("still showing 16 covers on 4x4, sigma 4, seed 42, learning rate "
                                "0.5: MiniSom warns: sigma might be too high for the dimension "
                                "of the map")
    assert explorer.stale and _shown(explorer) == shown and calls == []


def test_a_warning_from_elsewhere_during_an_update_is_passed_on_not_swallowed(explorer,
                                                                             monkeypatch):
    """While the explorer records MiniSom's warnings, a warning from other code (here
    raised right inside that moment, as another thread could) reaches the notebook as
    it came, with its own category and place, and is not taken for the explorer's."""
    real, raised = explorer_module.minisom.MiniSom, []

    def elsewhere_then_build(*args, **kwargs):  # every MiniSom built (the training's too)
        raised.append(1)
        warnings.warn_explicit("a warning of someone else's", DeprecationWarning,
                               "someone_else.py", 7)
        return real(*args, **kwargs)

    monkeypatch.setattr(explorer_module.minisom, "MiniSom", elsewhere_then_build)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        explorer.seed.value = 3
    assert len(raised) >= 2  # the explorer's check built one, and the training another
    assert [(str(w.message), w.category, w.filename, w.lineno) for w in seen] == [
        ("a warning of someone else's", DeprecationWarning, "someone_else.py", 7)] * len(raised)
    assert not explorer.stale and explorer.shown["seed"] == 3, explorer.message


@pytest.mark.slow  # a second thread warns while the explorer trains in the background
def test_warnings_of_another_thread_during_background_updates_all_arrive(covers_dir):
    import threading

    ex = explorer_module.build_explorer(covers_dir, background=True)
    stop, count = threading.Event(), [0]

    def keep_warning():
        while not stop.is_set():
            warnings.warn(f"other thread {count[0]}", RuntimeWarning)
            count[0] += 1
            stop.wait(0.0002)

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        other = threading.Thread(target=keep_warning)
        other.start()
        try:
            for seed in (1, 2, 3, 4):
                ex.seed.value = seed
                ex.wait()
        finally:
            stop.set()
            other.join()
    messages = sorted(str(w.message) for w in seen)  # a passed-on one may come a little late
    assert messages == sorted(f"other thread {i}" for i in range(count[0]))  # each, once
    assert count[0] > 0 and ex.shown["seed"] == 4 and not ex.stale, ex.message


def test_a_preset_sets_the_sliders_and_trains_once(explorer, monkeypatch):
    calls = _counting(monkeypatch)
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


def test_moving_a_slider_makes_the_preset_custom_and_choosing_it_again_resets(explorer,
                                                                              monkeypatch):
    explorer.sigma.value = 1.5
    assert explorer.preset.value == "custom"
    assert explorer.settings()["preset"] == "default"  # its start and decay stay
    assert "(default start and decay)" in explorer.message
    calls = _counting(monkeypatch)
    explorer.preset.value = "default"  # choosing 'default' again applies it again
    assert explorer.sigma.value == 4.0 and len(calls) == 1
    assert explorer.preset.value == "default"
    explorer.preset.value = "original"
    explorer.learning_rate.value = 0.2
    assert explorer.preset.value == "custom"
    assert explorer.settings()["preset"] == "original"
    explorer.learning_rate.value = 0.5  # back to the preset's own value: the name returns
    assert explorer.preset.value == "custom"  # (it only switches one way; choosing resets)


def test_the_reset_button_goes_back_to_the_start(explorer):
    explorer.set(preset="original", rows=5, cols=5, seed=3, placement="greedy", sigma=2.0)
    explorer.reset_button.click()
    assert explorer.preset.value == "default"
    assert (explorer.rows.value, explorer.cols.value) == (4, 4)
    assert explorer.seed.value == 42 and explorer.placement.value == "assignment"
    assert explorer.sigma.value == 4.0 and explorer.neighborhood.value == "gaussian"
    assert explorer.shown == explorer.settings() and not explorer.stale


def test_a_failed_load_puts_the_folder_back_and_dims_until_the_next_good_update(explorer,
                                                                                 tmp_path):
    shown, covers, box = _shown(explorer), explorer.covers, explorer.folder.value
    empty = tmp_path / "empty"
    empty.mkdir()
    assert explorer.load(empty) is False
    # One short line: the folder, why, and the folder still shown (back in the box).
    assert explorer.message == (f"could not load '{empty}': no readable cover: no files; "
                                f"still showing '{box}'")
    assert explorer.folder.value == box
    assert explorer.stale and _shown(explorer) == shown and explorer.covers is covers

    assert explorer.load(tmp_path / "missing") is False
    assert "does not exist" in explorer.message and explorer.folder.value == box

    one = write_family_covers(tmp_path / "one", 1, seed=3)
    assert explorer.load(one) is False
    assert "at least 2" in explorer.message
    assert _shown(explorer) == shown and explorer.covers is covers

    explorer.seed.value = 5  # the next good update clears the dimming
    assert not explorer.stale and "could not load" not in explorer.message


def test_enter_in_the_folder_box_loads_it(explorer, tmp_path):
    other = write_family_covers(tmp_path / "nine", 9, seed=2)
    explorer.folder.value = str(other)  # what Enter sends (continuous_update=False)
    assert explorer.folder.continuous_update is False
    assert len(explorer.covers.names) == 9
    assert (explorer.rows.value, explorer.cols.value) == (3, 3)
    assert explorer.message.startswith("9 covers on 3x3")


def test_the_load_button_loads_the_folder_in_the_text_box(explorer, tmp_path):
    other = write_family_covers(tmp_path / "nine", 9, seed=2)
    with explorer._hold():  # typed, not yet submitted
        explorer.folder.value = str(other)
    explorer.load_button.click()
    assert len(explorer.covers.names) == 9


def test_skipped_files_are_counted_and_named_one_click_away(explorer, tmp_path):
    folder = write_family_covers(tmp_path / "mixed", 6, seed=4)
    (folder / "broken.jpg").write_bytes(b"not a picture")
    (folder / "empty.png").write_bytes(b"")
    assert explorer.load(folder)
    assert "6 loaded, 2 skipped" in explorer.message
    assert "<details>" in explorer.skipped.value and "2 file(s) skipped" in explorer.skipped.value
    for name in ("broken.jpg", "empty.png"):
        assert f"<code>{name}</code>: " in explorer.skipped.value
    reasons = dict(explorer.covers.skipped)
    assert all(reason in explorer.skipped.value for reason in reasons.values())
    explorer.load(write_family_covers(tmp_path / "clean", 4, seed=5))
    assert explorer.skipped.value == "" and "skipped" not in explorer.message


@pytest.mark.slow  # builds more explorers or loads three folders
def test_a_tiny_folder_lowers_sigma_and_says_so_then_the_next_folder_gets_it_back(explorer,
                                                                                  tmp_path):
    tiny = write_family_covers(tmp_path / "tiny", 3, seed=5)  # 3 covers: a 2x2 grid
    assert explorer.load(tiny)
    assert (explorer.rows.value, explorer.cols.value) == (2, 2)
    assert explorer.sigma.value == 2.5
    assert "sigma lowered to 2.5 to fit a 2x2 grid" in explorer.message
    assert explorer.arrangement.covers.names == sorted(p.name for p in tiny.iterdir())
    two = write_family_covers(tmp_path / "two", 2, seed=6)  # 2 covers: 1x2, diagonal 2.24
    assert explorer.load(two)
    assert explorer.sigma.value == 2.0 and "sigma lowered to 2.0 to fit a 1x2 grid" in explorer.message
    assert not explorer.stale, explorer.message
    explorer.load(write_family_covers(tmp_path / "nine", 9, seed=2))  # 3x3 allows 4 again
    assert explorer.sigma.value == 4.0 and "lowered" not in explorer.message


@pytest.mark.slow  # builds more explorers or loads three folders
def test_features_are_made_once_per_folder(covers_dir, tmp_path, monkeypatch):
    made = []
    real = helpers.make_features
    monkeypatch.setattr(explorer_module, "make_features", lambda images: made.append(len(images)) or real(images))
    ex = explorer_module.build_explorer(covers_dir)
    ex.iterations.value = 500
    ex.sigma.value = 2.0
    ex.rows.value = 5
    ex.preset.value = "original"
    assert made == [16]
    ex.load(write_family_covers(tmp_path / "other", 9, seed=2))
    ex.sigma.value = 1.0
    assert made == [16, 9]
    ex.load(covers_dir)  # same covers as before: their features are reused
    assert made == [16, 9]


def test_a_superseded_result_never_overwrites_a_newer_one(explorer):
    settings = explorer.settings()
    old = explorer._begin()
    old_result = explorer._compute(explorer.covers, explorer.features,
                                   dict(settings, sigma=1.0), old, 0.0)
    new = explorer._begin()
    new_result = explorer._compute(explorer.covers, explorer.features,
                                   dict(settings, sigma=3.0), new, 0.0)
    assert explorer._show(new, new_result, None, dict(settings, sigma=3.0)) is True
    shown, arrangement = _shown(explorer), explorer.arrangement
    assert explorer._show(old, old_result) is False  # arrives late: discarded
    assert _shown(explorer) == shown and explorer.arrangement is arrangement
    assert arrangement.settings["sigma"] == 3.0


@pytest.mark.slow  # builds more explorers or loads three folders
def test_in_the_background_only_the_latest_setting_trains(covers_dir, monkeypatch):
    """Five quick changes while one run trains: the run is cancelled, the three
    in between never train, and the last one is shown; meanwhile the picture is
    dimmed and the status line says what is still shown."""
    ex = explorer_module.build_explorer(covers_dir, background=True)
    assert ex.arrangement is not None and not ex.stale
    started, finished = [], []
    real = helpers.arrange_covers
    gate = __import__("threading").Event()

    def slow_arrange(*args, **kwargs):
        started.append(kwargs["seed"])
        if not gate.is_set():
            gate.wait(10)  # the first run waits until all changes have arrived
        result = real(*args, **kwargs)
        finished.append(kwargs["seed"])
        return result

    previews = []
    real_preview = explorer_module.preview_module.preview_arrangement
    monkeypatch.setattr(explorer_module.preview_module, "preview_arrangement",
                        lambda *a, **k: previews.append(a[2]["seed"]) or real_preview(*a, **k))
    monkeypatch.setattr(explorer_module, "arrange_covers", slow_arrange)
    for seed in (1, 2, 3, 4, 5):
        ex.seed.value = seed
        while seed == 1 and not started:  # the first run has begun before the others come
            __import__("time").sleep(0.01)
        if seed == 1:  # its preview came first, and is not dimmed: it matches the controls
            assert ex.previewing and not ex.stale
            assert ex.message.startswith("preview: batch SOM, 10 epochs in ")
            assert "16 covers on 4x4, sigma 4, seed 1, learning rate 0.5; the online map " \
                   "is training" in ex.message
            continue
        assert ex.stale
        assert "still showing the preview of 16 covers on 4x4, sigma 4, seed 1, learning rate " \
               "0.5" in ex.message
    gate.set()
    ex.wait()
    assert started == [1, 5] and previews == [1, 5]
    assert finished == [5]  # seed 1 was cancelled mid-training
    assert ex.shown["seed"] == 5 and not ex.stale and not ex.previewing
    assert ex.message.startswith("16 covers on 4x4, sigma 4, seed 5")
    assert 0 < ex.preview_seconds < ex.seconds


@pytest.mark.slow  # builds more explorers or loads three folders
def test_the_progress_bar_shows_while_training_and_hides_after(covers_dir):
    ex = explorer_module.build_explorer(covers_dir, progress_delay=0.0)
    seen = []
    ex.progress.layout.observe(lambda change: seen.append(change["new"]), names="visibility")
    ex.progress.observe(lambda change: seen.append(change["new"]), names="value")
    ex.iterations.value = 1000
    assert "visible" in seen and seen[-1] == 0
    assert any(isinstance(v, int) and v > 0 for v in seen)
    assert ex.progress.layout.visibility == "hidden"

    slow = explorer_module.build_explorer(covers_dir, progress_delay=60.0)
    seen.clear()
    slow.progress.layout.observe(lambda change: seen.append(change["new"]), names="visibility")
    slow.iterations.value = 1000  # much quicker than the delay: no bar at all
    assert seen == []


def test_the_static_fallback_shows_the_last_mosaic_with_its_settings(explorer):
    explorer.seed.value = 9
    page = explorer.static_html()
    assert page.startswith('<div class="som-explorer-static">')
    encoded = __import__("base64").b64encode(explorer.mosaic_jpeg).decode()
    assert f'src="data:image/jpeg;base64,{encoded}"' in page
    assert 'alt="Mosaic of 16 covers' in page
    assert "seed 9" in page and "trained in" not in page  # no run time: it varies
    # The live widget's style block hides the fallback; a static view has no style block.
    assert ".som-explorer-static { display: none !important; }" in explorer.head.value


def test_the_explorer_shows_its_widget_then_the_fallback(explorer, monkeypatch):
    shown = []
    import IPython.display
    monkeypatch.setattr(IPython.display, "display", lambda obj, **kw: shown.append(obj))
    explorer._ipython_display_()
    assert shown[0] is explorer.widget
    assert shown[1]["text/html"] == explorer.static_html()
    assert "SOM explorer: 16 covers on 4x4" in shown[1]["text/plain"]


def test_the_keyboard_and_screen_reader_hooks_are_in_the_head(explorer):
    head = explorer.head.value
    assert "data-lm-suppress-shortcuts" in head  # JupyterLab leaves the arrow keys alone
    assert "aria-live" in head and "aria-label" in head
    assert "font-size: 14px" in head


@pytest.mark.parametrize("rows, cols", [(2, 7), (1, 2), (10, 10), (5, 20)])
def test_umatrix_axes_show_whole_rows_and_columns(rows, cols):
    plot = explorer_view.UMatrixPlot(rows, cols)
    for ticks, size in ((plot.axes.get_xticks(), cols), (plot.axes.get_yticks(), rows)):
        inside = [t for t in ticks if -0.5 <= t <= size - 0.5]
        assert inside and all(float(t).is_integer() for t in inside), ticks
    assert bytes(plot.png(np.zeros((rows, cols)))).startswith(PNG_MAGIC)


def test_a_missing_folder_at_start_is_a_message(tmp_path):
    ex = explorer_module.build_explorer(tmp_path / "nowhere")
    assert ex.covers is None and ex.arrangement is None
    assert "does not exist" in ex.message
    assert ex.update() is False
    assert "no covers loaded" in ex.message


# --- set(): everything checked before any control changes (issue 21, case 9) -------------


def _controls(explorer):
    return {name: getattr(explorer, name).value for name in
            ("preset", "rows", "cols", "sigma", "learning_rate", "iterations", "neighborhood",
             "placement", "seed")}


@pytest.mark.parametrize("values, says", [
    (dict(seed=3, iterations=12345), "iterations must be one of the slider's steps (100, 200, "),
    (dict(placement="nope"), "placement must be one of 'assignment', 'greedy', got 'nope'"),
    (dict(seed=-5), "seed must be a whole number between 0 and 4294967295, got -5"),
    (dict(seed=3, rows="5"), "rows must be a whole number >= 1, got the text '5'"),
    (dict(sigma=None), "sigma must be a finite number >= 1e-100"),
    (dict(preset="best", seed=3), "preset must be one of 'original', 'default', 'custom', got 'best'"),
])
def test_set_refuses_a_bad_value_before_changing_any_control(explorer, values, says):
    controls, shown, message = _controls(explorer), _shown(explorer), explorer.message
    with pytest.raises(ValueError) as error:
        explorer.set(**values)
    assert str(error.value).startswith(says), str(error.value)
    assert _controls(explorer) == controls  # the seed control does not show 3
    assert _shown(explorer) == shown and explorer.message == message and not explorer.stale
    assert explorer.settings() == explorer.shown  # the controls describe the picture


def test_set_reports_a_clamp_in_the_status_line(explorer):
    assert explorer.set(rows=1000, cols=1000, learning_rate=9.0) is True
    assert (explorer.rows.value, explorer.cols.value) == (20, 20)
    assert explorer.learning_rate.value == 2.0
    assert explorer.message.endswith("; rows 1000 clamped to 20, the control's maximum; cols 1000 "
                                     "clamped to 20, the control's maximum; learning_rate 9 "
                                     "clamped to 2, the control's maximum"), explorer.message
    assert explorer.shown == explorer.settings() and not explorer.stale
    explorer.seed.value = 5  # moved by hand: the clamp is no longer news
    assert "clamped" not in explorer.message


def test_set_takes_a_large_seed_by_helpers_rule(explorer):
    assert explorer.set(seed=2**32 - 1) is True
    assert explorer.shown["seed"] == 2**32 - 1 and explorer.seed.value == 2**32 - 1


def test_a_panel_without_controls_shows_the_status_and_the_picture(explorer):
    """For a cell that drives the explorer from code: its changes are seen right there."""
    panel = explorer.panel()
    row = panel.widget.children[1]
    assert [child for child in row.children] == [row.children[0]]  # no controls column
    status, picture = row.children[0].children
    assert status is explorer.status and explorer.mosaic in picture.children
    assert explorer.set(seed=7)
    assert "seed 7" in explorer.message


def test_the_run_time_never_wraps_apart_from_its_unit(explorer):
    assert explorer.set(seed=3)
    assert f"trained in {explorer.seconds:.2f}\u00a0s" in explorer.message


def test_the_projector_page_shows_the_live_explorer_alone_and_large(covers_dir, monkeypatch):
    """tutorial_kit/projector.py: its style, then the widget (no static fallback
    under it); a mosaic drawn large enough for a projector, a U-matrix at 220 dpi."""
    import IPython.display
    from tutorial_kit import projector

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda *objects: shown.extend(objects))
    ex = projector.show(covers_dir)
    assert [type(item).__name__ for item in shown] == ["HTML", "VBox"] and shown[1] is ex.widget
    assert "som-explorer-projector" in ex.widget._dom_classes
    assert "max(14px, 2.2vh)" in shown[0].data
    assert max(Image.open(io.BytesIO(ex.mosaic_jpeg)).size) > 900
    assert Image.open(io.BytesIO(ex.umatrix_png)).size[0] == 550


def test_every_panel_with_controls_can_go_back_to_the_start(explorer):
    """A tour stop says 'press reset': its panel has the button, no scrolling up needed."""
    panel = explorer.panel("sigma", "seed")
    controls = panel.widget.children[1].children[0].children
    assert list(controls) == [explorer.sigma, explorer.seed, explorer.reset_button]
    assert explorer.set(sigma=2.0, seed=7)
    explorer.reset_button.click()  # the panel's button is the explorer's own
    assert explorer.settings()["seed"] == 42 and explorer.settings()["sigma"] == 4.0


@pytest.mark.parametrize("rows, cols", [(1, 2), (2, 7), (5, 5), (9, 4)])
def test_the_umatrix_is_minisoms_distance_map(rows, cols):
    from minisom import MiniSom

    som = MiniSom(rows, cols, 6, random_seed=rows * cols)
    som.get_weights()[...] = np.random.default_rng(rows).normal(size=(rows, cols, 6))
    arrangement = type("Shown", (), {"trained": helpers.TrainedSom(som, None, None)})()
    assert np.allclose(explorer_view.umatrix_distances(arrangement),
                       som.distance_map(scaling="mean"), rtol=1e-13, atol=0)
    som.get_weights()[...] = 1.0  # all equal: 0 / 0 is a flat, white U-matrix, and no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not explorer_view.umatrix_distances(arrangement).any()


# --- the preview: a batch SOM first, then the online map (issue 22) ----------------------


def _gated_online(monkeypatch):
    """Hold every online training until the returned event is set."""
    gate, real = __import__("threading").Event(), helpers.arrange_covers

    def held(*args, **kwargs):
        gate.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(explorer_module, "arrange_covers", held)
    return gate


def _wait_for(condition, seconds=10):
    import time
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


@pytest.mark.slow  # builds more explorers
def test_a_preview_says_what_it_is_until_the_online_map_replaces_it(covers_dir, monkeypatch):
    ex = explorer_module.build_explorer(covers_dir, background=True)
    online = _shown(ex)
    gate = _gated_online(monkeypatch)
    ex.sigma.value = 2.0
    _wait_for(lambda: ex.previewing)
    assert not ex.stale  # it shows the controls' settings, as a sketch
    assert ex.message.startswith("preview: batch SOM, 10 epochs in ")
    assert ex.message.endswith("16 covers on 4x4, sigma 2, seed 42, learning rate 0.5; "
                               "the online map is training ...")
    assert "Preview: a batch SOM of 10 epochs" in ex.metrics.value and "<b>DPQ16</b>" not in \
        ex.metrics.value  # no quality figures for a sketch
    assert 'alt="Preview mosaic of 16 covers arranged by a batch SOM of 10 epochs' in ex.mosaic.value
    assert ex.arrangement.quality == {} and ex.mosaic.value != online[0]
    assert ex.static_html().count("preview (batch SOM): 16 covers on 4x4, sigma 2") == 1
    gate.set()
    ex.wait()
    assert not ex.previewing and not ex.stale
    assert ex.message.startswith("16 covers on 4x4, sigma 2, seed 42, gaussian") and "trained in" \
        in ex.message
    assert "<b>DPQ16</b>" in ex.metrics.value and 'alt="Mosaic of 16 covers' in ex.mosaic.value
    assert 0 < ex.preview_seconds < ex.seconds


@pytest.mark.slow  # builds more explorers
@pytest.mark.parametrize("changes", [dict(sigma=2.0), dict(seed=7, placement="greedy"),
                                     dict(preset="original", sigma=2.0)])
def test_after_the_preview_the_picture_is_the_online_map_the_notebooks_teach(covers_dir, changes):
    """For the same settings, the background explorer (preview, then online map) ends with
    the very map that plain Python (no preview) and helpers.arrange_covers give."""
    shown = {}
    for background in (True, False):
        ex = explorer_module.build_explorer(covers_dir, background=background)
        with ex._hold():  # several controls, then one request as a slider would send it
            for name, value in changes.items():
                if name == "preset":
                    ex._apply_preset(value)
                else:
                    getattr(ex, name).value = value
        ex._request(wait=False)
        ex.wait()
        assert not ex.previewing and not ex.stale, ex.message
        assert (ex.preview_seconds is not None) == background
        assert ex.shown == dict(ex.settings(), **{k: v for k, v in changes.items()
                                                  if k != "preset"}, preset=ex.base_preset)
        shown[background] = ex
    assert shown[True].base_preset == changes.get("preset", "default")
    settings = dict(shown[False].settings())
    rows, cols = settings.pop("rows"), settings.pop("cols")
    taught = helpers.arrange_covers(shown[False].covers, rows, cols, **settings)
    for ex in shown.values():
        assert np.array_equal(ex.arrangement.trained.som.get_weights(),
                              taught.trained.som.get_weights())
        assert np.array_equal(ex.arrangement.placement.positions, taught.placement.positions)
        assert ex.arrangement.quality == taught.quality
    assert shown[True].mosaic_jpeg == shown[False].mosaic_jpeg


@pytest.mark.slow  # builds more explorers
def test_an_online_map_that_fails_after_its_preview_goes_back_to_the_last_online_map(
        covers_dir, monkeypatch):
    ex = explorer_module.build_explorer(covers_dir, background=True)
    online, arrangement = _shown(ex), ex.arrangement
    gate = _gated_online(monkeypatch)
    real = explorer_module.arrange_covers

    def fails(*args, **kwargs):
        real(*args, **kwargs)
        raise ValueError("training diverged: a test's")

    monkeypatch.setattr(explorer_module, "arrange_covers", fails)
    ex.sigma.value = 2.0
    _wait_for(lambda: ex.previewing)
    gate.set()
    ex.wait()
    assert ex.message == ("still showing 16 covers on 4x4, sigma 4, seed 42, learning rate 0.5: "
                          "training diverged: a test's")
    assert _shown(ex) == online and ex.arrangement is arrangement
    assert ex.stale and not ex.previewing


@pytest.mark.slow  # builds more explorers
def test_a_refusal_while_a_preview_is_shown_goes_back_to_the_last_online_map(covers_dir,
                                                                           monkeypatch):
    ex = explorer_module.build_explorer(covers_dir, background=True)
    online = _shown(ex)
    gate = _gated_online(monkeypatch)
    ex.sigma.value = 2.0
    _wait_for(lambda: ex.previewing)
    ex.rows.value = 2  # refused at once: the preview's online map will not come
    assert ex.message.startswith("still showing 16 covers on 4x4, sigma 4, seed 42, learning "
                                 "rate 0.5: 16 covers do not fit on 2x4")
    assert _shown(ex) == online and ex.stale and not ex.previewing
    gate.set()
    ex.wait()
    assert _shown(ex) == online and ex.stale  # the cancelled run shows nothing


def test_no_preview_where_the_batch_som_cannot_sketch_or_nobody_would_see_it(covers_dir):
    ex = explorer_module.build_explorer(covers_dir, background=False)
    ex.sigma.value = 2.0  # plain Python: the call waits for the online map anyway
    assert ex.preview_seconds is None and not ex.previewing
    assert ex.set(neighborhood="mexican_hat", sigma=1.0, learning_rate=0.01)
    assert ex.preview_seconds is None
    assert not explorer_module.preview_module.can_preview(ex.settings())


@pytest.mark.slow  # builds more explorers
def test_set_in_a_kernel_waits_for_the_online_map_without_a_preview(covers_dir, monkeypatch):
    ex = explorer_module.build_explorer(covers_dir, background=True)
    previews = []
    monkeypatch.setattr(explorer_module.preview_module, "preview_arrangement",
                        lambda *a, **k: previews.append(1))
    assert ex.set(sigma=2.0, seed=3)
    assert previews == [] and ex.preview_seconds is None
    assert ex.message.startswith("16 covers on 4x4, sigma 2, seed 3")
