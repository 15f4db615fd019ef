"""The small slider demos that sit next to their concepts in notebooks 04, 05 and 06.

Each demo is a picture and one or two controls: moving a control redraws the
picture (a JPEG in an ``ipywidgets.Image``, so a static view of the notebook
keeps the first picture). The drawing functions take the data they show and
return a matplotlib figure; :func:`picture_demo` wires one to its controls.
The full explorer, with every setting, is notebook 07's (tutorial_kit/explorer.py).
"""

from __future__ import annotations

import io

import numpy as np


class PictureDemo:
    """A picture redrawn by ``draw(**values)`` whenever one of ``controls`` moves.

    ``widget`` is what the notebook shows; ``picture`` the image widget (its
    ``value`` is the JPEG shown) and ``controls`` the control widgets by name.
    """

    def __init__(self, draw, **controls):
        import ipywidgets

        self.draw, self.controls = draw, controls
        self.picture = ipywidgets.Image(value=self._jpeg(), format="jpeg")
        for control in controls.values():
            control.observe(self._redraw, names="value")
        self.widget = ipywidgets.VBox([ipywidgets.HBox(list(controls.values())), self.picture])

    def _jpeg(self):
        import matplotlib.pyplot as plt

        figure = self.draw(**{name: control.value for name, control in self.controls.items()})
        buffer = io.BytesIO()
        figure.savefig(buffer, format="jpeg", dpi=80)
        plt.close(figure)
        return buffer.getvalue()

    def _redraw(self, change):
        self.picture.value = self._jpeg()

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)


def picture_demo(draw, **controls):
    """A :class:`PictureDemo`: ``draw(**values)`` returns a figure; ``controls`` are widgets."""
    return PictureDemo(draw, **controls)


def neighbourhood_figure(values, images, rows, cols, sigma, neighbourhood, seed=42):
    """Notebook 04: h around the grid's middle neuron, and the covers on a quick map.

    The quick map trains 2,000 steps with the default settings but this sigma and
    neighbourhood; each cover is shown on its own cell (notebook 06 explains how).
    """
    import matplotlib.pyplot as plt
    from minisom import MiniSom

    import helpers

    figure, (ax_shape, ax_map) = plt.subplots(1, 2, figsize=(10, 4.6), layout="constrained",
                                              width_ratios=[1, 1.3])
    h = MiniSom(rows, cols, 1, sigma=sigma, neighborhood_function=neighbourhood).neighborhood(
        (rows // 2, cols // 2), sigma)
    figure.colorbar(ax_shape.imshow(h, cmap="viridis", vmin=0), ax=ax_shape, shrink=0.8, label="h")
    ax_shape.set_title(f"{neighbourhood}, sigma {sigma}: h at the winner {h.max():g}")
    try:
        quick = helpers.train_som(values, rows, cols, random_seed=seed, **helpers.som_settings(
            "default", sigma=sigma, neighborhood_function=neighbourhood, iterations=2000))
        where = helpers.place_covers(quick.som.get_weights(), values).positions
        helpers.show_mosaic(helpers.make_mosaic(images, where, rows, cols, border=2), ax=ax_map)
        ax_map.set_title("the covers on a quick map (2,000 steps)")
    except ValueError as error:  # e.g. the triangle's big steps make training diverge
        ax_map.set_axis_off()
        ax_map.text(0.5, 0.5, "\n".join(str(error).split("; ")), ha="center", va="center", wrap=True)
    return figure


def learning_curve_figure(values, rows, cols, iterations, seed=42):
    """Notebook 05: the learning curves of both presets trained for ``iterations`` steps."""
    import matplotlib.pyplot as plt

    import helpers

    figure, ax = plt.subplots(figsize=(8, 3.4), layout="constrained")
    for preset, label in (("original", "2019 post's settings"), ("default", "default settings")):
        settings = helpers.settings_for_grid(preset, rows, cols, iterations=iterations)
        run = helpers.train_som(values, rows, cols, random_seed=seed, **settings)
        qe, te = run.som.quantization_error(values), run.som.topographic_error(values)
        ax.plot(run.curve_iterations, run.curve_errors, marker=".", label=f"{label}: QE {qe:.0f}, TE {te:.2f}")
    ax.set_xlabel("training step $t$")
    ax.set_ylabel("quantization error")
    ax.set_title(f"Learning curves, {iterations:,} steps")
    ax.legend()
    return figure


def grid_size_figure(values, rows, cols, seed=42):
    """Notebook 06: how many covers each neuron wins on a rows x cols map (default settings)."""
    import matplotlib.pyplot as plt

    import helpers

    som = helpers.train_som(values, rows, cols, random_seed=seed,
                            **helpers.settings_for_grid("default", rows, cols, iterations=2000)).som
    count = som.activation_response(values)
    figure, ax = plt.subplots(figsize=(5.5, 4.6), layout="constrained")
    shown = ax.imshow(count, cmap="magma", vmin=0, vmax=max(3, count.max()))
    figure.colorbar(shown, ax=ax, shrink=0.8, label="covers won")
    ax.set_title(f"{rows} x {cols} map: {int((count == 0).sum())} neurons win no cover,\n"
                 f"{int((count > 1).sum())} win several (up to {int(count.max())})")
    ax.set_xticks([])
    ax.set_yticks([])
    return figure


def fill_figure(images, values, positions, winners, rows, cols, title):
    """Notebook 06: an arrangement, with the covers more than one cell from their winner in red."""
    import matplotlib.pyplot as plt

    import helpers

    moved = np.linalg.norm(positions - winners, axis=1)
    height, width = images.shape[1:3]
    figure, ax = plt.subplots(figsize=(6, 6 * rows * height / (cols * width) + 0.6), layout="constrained")
    helpers.show_mosaic(helpers.make_mosaic(images, positions, rows, cols, border=2), ax=ax)
    for (r, c), far in zip(positions, moved):
        if far > 1.5:  # more than one cell (diagonals included) from its winner
            ax.add_patch(plt.Rectangle((c / cols, 1 - (r + 1) / rows), 1 / cols, 1 / rows,
                                       transform=ax.transAxes, fill=False, edgecolor="red", linewidth=2))
    ax.set_title(f"{title}: DPQ16 {helpers.dpq(values, positions):.3f}\n"
                 f"red: {int((moved > 1.5).sum())} covers more than one cell from their winner")
    return figure
