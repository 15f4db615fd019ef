"""The slider demos of notebooks 04, 05 and 06 (tutorial_kit/demos.py): each draws what it
says, and moving a control redraws the picture (tested without a browser, as STYLE.md
suggests: set the control's value, then compare the picture)."""
import threading

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import helpers  # noqa: E402
from tutorial_kit import demos  # noqa: E402
from tutorial_kit.figures import Picture  # noqa: E402


@pytest.fixture(scope="module")
def small():
    """12 generated covers and their features."""
    rng = np.random.default_rng(0)
    families = rng.integers(0, 256, size=(3, 3))
    images = np.clip(families[np.arange(12) % 3][:, None, None, :] + rng.normal(0, 30, (12, 9, 6, 3)), 0, 255)
    images = images.astype(np.uint8)
    return images, helpers.make_features(images).values


def _title(picture, index=0):
    return picture.figure.axes[index].get_title()


def test_neighbourhood_figure_shows_h_and_a_quick_map_without_dpq(small):
    images, values = small
    figure = demos.neighbourhood_figure(values, images, 3, 4, 2, "triangle")
    assert _title(figure) == "triangle, sigma 2: h at the winner 4"
    assert "DPQ" not in " ".join(ax.get_title() for ax in figure.figure.axes)  # DPQ is taught later (06)


def test_learning_curve_figure_trains_both_presets_for_the_steps_asked(small):
    _, values = small
    figure = demos.learning_curve_figure(values, 3, 4, 300)
    labels = [line.get_label() for line in figure.figure.axes[0].get_lines()]
    assert [label.split(":")[0] for label in labels] == ["2019 post's settings", "default settings"]
    assert all(line.get_xdata()[-1] == 300 for line in figure.figure.axes[0].get_lines())


def test_grid_size_figure_counts_empty_and_crowded_neurons(small):
    _, values = small
    figure = demos.grid_size_figure(values, 4, 5)
    som = helpers.train_som(values, 4, 5, random_seed=42,
                            **helpers.settings_for_grid("default", 4, 5, iterations=2000)).som
    count = som.activation_response(values)
    assert f"{int((count == 0).sum())} neurons win no cover" in _title(figure)
    assert count.sum() == len(values)


def test_fill_figure_marks_the_covers_far_from_their_winner(small):
    images, values = small
    positions = np.column_stack(np.divmod(np.arange(12), 4))
    winners = positions.copy()
    winners[0] = (2, 3)  # one cover far from its winner
    figure = demos.fill_figure(images, values, positions, winners, 3, 4, "test")
    assert "red: 1 covers more than one cell from their winner" in _title(figure)


def test_every_demo_picture_says_in_words_what_it_shows(small):
    images, values = small
    shape = demos.neighbourhood_figure(values, images, 3, 4, 2, "triangle")
    assert "triangle neighbourhood with sigma 2 on the 3 x 4 grid" in shape.alt
    assert "12 covers on a map trained 2,000 steps" in shape.alt
    curves = demos.learning_curve_figure(values, 3, 4, 300)
    assert curves.alt.startswith("Learning curves over 300 steps")
    assert "2019 post's settings (at the end QE" in curves.alt
    positions = np.column_stack(np.divmod(np.arange(12), 4))
    fill = demos.fill_figure(images, values, positions, positions, 3, 4, "test")
    assert "the 0 covers more than one cell from their winner have red frames" in fill.alt
    assert f'alt="{fill.alt}"' in fill.html() and fill.jpeg[:2] == b"\xff\xd8"


def test_the_demo_pictures_fit_a_laptop_screen_as_drawn(small):
    """Drawn at the size they are shown (never stretched): at most 1000 x 480 px, so the
    picture with its controls and status line fits the notebook area of a 1366x768 screen."""
    images, values = small
    tall = np.repeat(images, 2, axis=1)  # covers twice as tall as wide, on a 10 x 10 grid
    tall = np.concatenate([tall] * 9)[:100]
    positions = np.column_stack(np.divmod(np.arange(100), 10))
    pictures = [demos.neighbourhood_figure(values, images, 3, 4, 2, "gaussian"),
                demos.learning_curve_figure(values, 3, 4, 100),
                demos.grid_size_figure(values, 4, 5),
                demos.fill_figure(tall, np.random.default_rng(1).normal(size=(100, 2)), positions, positions, 10, 10, "test")]
    for picture in pictures:
        assert picture.width <= 1000 and picture.height <= 480, (picture.alt, picture.width, picture.height)
        assert picture.width >= 300 and picture.height >= 250


def _draw_size(size):
    figure = demos._figure(2, 2)
    figure.subplots().imshow(np.eye(size))
    return Picture(figure, f"a {size} x {size} identity matrix")


def test_a_control_redraws_the_picture_and_says_what_it_shows():
    import ipywidgets

    demo = demos.picture_demo(_draw_size, size=ipywidgets.IntSlider(value=2, min=2, max=5,
                                                                    description="size"))
    before = demo.picture.value
    assert 'alt="a 2 x 2 identity matrix"' in before and "data:image/jpeg;base64," in before
    assert "The picture shows size 2." in demo.status.value and not demo.stale
    demo.controls["size"].value = 5
    assert demo.wait(30)
    assert demo.picture.value != before and 'alt="a 5 x 5 identity matrix"' in demo.picture.value
    assert "The picture shows size 5." in demo.status.value
    assert "som-stale" not in demo.picture._dom_classes
    assert demo.picture in demo.widget.children and "som-demo" in demo.widget._dom_classes


def test_while_the_picture_lags_it_is_dimmed_and_says_which_settings_it_shows():
    """The picture is drawn on a thread; until it matches the controls, it is dimmed
    (class som-stale) and the status line names both the shown and the wanted settings."""
    import ipywidgets

    gate = threading.Event()

    def slow(size):
        gate.wait(30)
        return _draw_size(size)

    gate.set()
    demo = demos.picture_demo(slow, size=ipywidgets.IntSlider(value=2, min=2, max=5,
                                                              description="size"))
    gate.clear()
    demo.controls["size"].value = 3
    assert "som-stale" in demo.picture._dom_classes and demo.stale
    assert "Updating the picture for size 3: it still shows size 2." in demo.status.value
    demo.controls["size"].value = 4  # moved on while the thread draws 3
    gate.set()
    assert demo.wait(30)
    assert demo.shown == {"size": 4} and 'alt="a 4 x 4 identity matrix"' in demo.picture.value
    assert "som-stale" not in demo.picture._dom_classes


def test_toggle_labels_are_whole_and_the_static_view_keeps_a_picture():
    import ipywidgets

    toggles = ipywidgets.ToggleButtons(options=["2019 post's settings", "default settings"],
                                       description="map")
    demo = demos.picture_demo(lambda map_name: _draw_size(2 + len(map_name) % 3), map_name=toggles)
    assert toggles.style.button_width == "auto" and toggles.style.description_width == "initial"
    static = demo.static_html()
    assert 'class="som-demo-static"' in static and "<img " in static and 'alt="a ' in static
    assert ".som-demo-static { display: none !important; }" in demos.HEAD  # live views hide it
    assert "data-lm-suppress-shortcuts" in demos.HEAD and "aria-pressed" in demos.HEAD


def test_show_figure_gives_an_img_with_alt_text_and_refuses_none():
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [1, 0])
    shown = helpers.show_figure(figure, "a line falling from 1 to 0")
    bundle = shown._repr_mimebundle_()
    assert bundle["text/plain"] == "a line falling from 1 to 0"
    assert bundle["text/html"].startswith('<img src="data:image/jpeg;base64,')
    assert 'alt="a line falling from 1 to 0"' in bundle["text/html"]
    assert not plt.get_fignums()  # closed: plt.show() would not show it a second time
    with pytest.raises(ValueError, match="alt text"):
        helpers.show_figure(plt.subplots()[0], " ")


def test_a_picture_that_cannot_be_drawn_is_said_and_the_demo_lives_on():
    import ipywidgets

    def draw(size):
        if size == 3:
            raise ValueError("3 is unlucky")
        return _draw_size(size)

    demo = demos.picture_demo(draw, size=ipywidgets.IntSlider(value=2, min=2, max=5,
                                                              description="size"))
    demo.controls["size"].value = 3
    assert not demo.wait(30)  # still dimmed: the picture is not the one asked for
    assert "Could not draw the picture for size 3: 3 is unlucky. It still shows size 2." \
        in demo.status.value
    assert "som-stale" in demo.picture._dom_classes
    demo.controls["size"].value = 4
    assert demo.wait(30) and "The picture shows size 4." in demo.status.value
