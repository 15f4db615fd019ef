"""The slider demos of notebooks 04, 05 and 06 (tutorial_kit/demos.py): each draws what it
says, and moving a control redraws the picture (tested without a browser, as STYLE.md
suggests: set the control's value, then compare the picture)."""
import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import helpers  # noqa: E402
from tutorial_kit import demos  # noqa: E402


@pytest.fixture(scope="module")
def small():
    """12 generated covers and their features."""
    rng = np.random.default_rng(0)
    families = rng.integers(0, 256, size=(3, 3))
    images = np.clip(families[np.arange(12) % 3][:, None, None, :] + rng.normal(0, 30, (12, 9, 6, 3)), 0, 255)
    images = images.astype(np.uint8)
    return images, helpers.make_features(images).values


def _title(figure, index=0):
    return figure.axes[index].get_title()


def test_neighbourhood_figure_shows_h_and_a_quick_map_without_dpq(small):
    images, values = small
    figure = demos.neighbourhood_figure(values, images, 3, 4, 2, "triangle")
    assert _title(figure) == "triangle, sigma 2: h at the winner 4"
    assert "DPQ" not in " ".join(ax.get_title() for ax in figure.axes)  # DPQ is taught later (06)


def test_learning_curve_figure_trains_both_presets_for_the_steps_asked(small):
    _, values = small
    figure = demos.learning_curve_figure(values, 3, 4, 300)
    labels = [line.get_label() for line in figure.axes[0].get_lines()]
    assert [label.split(":")[0] for label in labels] == ["2019 post's settings", "default settings"]
    assert all(line.get_xdata()[-1] == 300 for line in figure.axes[0].get_lines())


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


def test_a_control_redraws_the_picture():
    import ipywidgets
    import matplotlib.pyplot as plt

    def draw(size):
        figure, ax = plt.subplots(figsize=(2, 2))
        ax.imshow(np.eye(size))
        return figure

    demo = demos.picture_demo(draw, size=ipywidgets.IntSlider(value=2, min=2, max=5))
    before = demo.picture.value
    assert before[:2] == b"\xff\xd8"  # a JPEG, shown in a static view too
    demo.controls["size"].value = 5
    assert demo.picture.value != before
    assert demo.widget.children[1] is demo.picture
