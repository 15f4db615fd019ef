"""The interactive explorer of notebook 05: ipywidgets sliders over the whole pipeline.

Students never need to open this file: it is widget plumbing around
``helpers.arrange_covers``. Build one with :func:`build_explorer`.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import io
import os
import time
import warnings
from pathlib import Path

import numpy as np
from PIL import Image

from helpers import (BUNDLED_COVERS, NEIGHBORHOODS, PLACEMENTS, PRESETS, arrange_covers,
                     grid_shape_for, load_covers, make_features, make_mosaic)

# The explorer puts the whole pipeline behind sliders, so students can see
# what each setting does to the map. Every change re-trains and redraws. The
# features are made once per folder and reused, so an update costs one
# training run (well under a second at the default settings on 100 covers).
# Each update gets a number (its generation); a result whose number is no
# longer the newest is thrown away, so a late result never hides a newer one.
# Anything that goes wrong becomes one line in the status area, and the last
# good picture stays.

class Explorer:
    """Sliders and dropdowns over :func:`arrange_covers`, with live pictures.

    Build it with :func:`build_explorer` and end a notebook cell with it (or
    call ``display(explorer)``) to show it. Every change of a control
    re-trains the map and redraws the mosaic, the U-matrix and the metrics.

    Attributes
    ----------
    widget : ipywidgets.VBox
        The whole explorer, ready to display. It has the CSS class
        ``som-explorer``, and each control and output below the class
        ``som-explorer-<attribute>`` (with ``-`` for ``_``), for tests and styling.
    folder : ipywidgets.Text
        Path of the cover folder; press ``load_button`` to load it.
    load_button : ipywidgets.Button
    preset : ipywidgets.Dropdown
        'default' or 'original'; choosing one sets the sliders to its values.
        The preset also fixes what has no control here: the initial weights
        and how sigma and the learning rate decay (see :data:`PRESETS`).
    rows, cols : ipywidgets.IntSlider
        Grid size; after a folder is loaded, the smallest grid that fits.
    sigma, learning_rate : ipywidgets.FloatSlider
    iterations : ipywidgets.IntSlider
    neighborhood : ipywidgets.Dropdown
        MiniSom's neighbourhood function.
    placement : ipywidgets.Dropdown
        'assignment' or 'greedy' (see :func:`place_covers`).
    seed : ipywidgets.BoundedIntText
    mosaic : ipywidgets.Image
        The arranged covers, as a JPEG ``display_width`` pixels wide.
    umatrix : ipywidgets.Image
        The U-matrix (``som.distance_map()``) as a PNG with a colour bar.
    metrics : ipywidgets.HTML
        QE, TE, DPQ16 and, for the bundled posters, same-genre neighbours.
    status : ipywidgets.HTML
        One line: what was shown, or why nothing new was shown.
    message : str
        The text of that line, for use from code.
    progress : ipywidgets.IntProgress
        Visible only while a training run takes longer than ``progress_delay``.
    covers : CoverSet or None
        The loaded covers; None until a folder loaded.
    features : CoverFeatures or None
        Their features, made once per folder.
    arrangement : Arrangement or None
        The arrangement shown now (the last good one).
    generation : int
        Number of the newest update started; older results are discarded.
    seconds : float or None
        How long the last successful update took, from start to new picture.
    """

    def __init__(self, covers=BUNDLED_COVERS, *, display_width=600, progress_delay=0.5):
        import ipywidgets as w

        self.display_width = int(display_width)
        self.progress_delay = float(progress_delay)
        self.covers = self.features = self.arrangement = None
        self.generation = 0
        self.seconds = None
        self.message = ""
        self._holding = 0
        self._thumbs = (None, None)  # (cell size, resized covers)
        self._umatrix_plot = None  # the U-matrix figure of the current grid size
        self._feature_cache = {}

        # Controls, the U-matrix and the figures in a 360 px column on the
        # left, the mosaic on the right: move a slider, see the grid change.
        # On a narrow screen the mosaic wraps below.
        column = "360px"
        wide = dict(description_width="8.5em")
        full = dict(style=wide, layout=w.Layout(width="100%"))
        slider = dict(continuous_update=False, **full)
        defaults = PRESETS["default"]
        self.folder = w.Text(value=_short_path(covers), placeholder="folder of covers",
                             layout=w.Layout(flex="1 1 auto", width="auto"))
        self.load_button = w.Button(description="load", icon="folder-open",
                                    tooltip="load the covers of this folder",
                                    layout=w.Layout(width="6em"))
        self.preset = w.Dropdown(options=list(PRESETS), value="default", description="preset",
                                 tooltip="'original' is the 2019 post's settings", **full)
        self.neighborhood = w.Dropdown(options=NEIGHBORHOODS, description="neighbourhood",
                                       value=defaults["neighborhood_function"], **full)
        self.placement = w.Dropdown(options=PLACEMENTS, value="assignment",
                                    description="placement", **full)
        self.seed = w.BoundedIntText(value=42, min=0, max=2**31 - 1, description="seed", **full)
        self.rows = w.IntSlider(value=10, min=1, max=20, description="rows", **slider)
        self.cols = w.IntSlider(value=10, min=1, max=20, description="columns", **slider)
        self.sigma = w.FloatSlider(value=defaults["sigma"], min=0.5, max=10.0, step=0.5,
                                   description="sigma", readout_format=".1f", **slider)
        self.iterations = w.IntSlider(value=defaults["iterations"], min=100, max=50000, step=100,
                                      description="iterations", **slider)
        self.learning_rate = w.FloatSlider(value=defaults["learning_rate"], min=0.01, max=2.0,
                                           step=0.01, description="learning rate", **slider)
        self.progress = w.IntProgress(value=0, min=0, max=1, description="training",
                                      style=dict(description_width="5em"),
                                      layout=w.Layout(visibility="hidden", width="20em"))
        self.status = w.HTML(layout=w.Layout(min_height="1.6em", flex="1 1 auto"))
        self.metrics = w.HTML(layout=w.Layout(width="100%"))
        self.mosaic = w.Image(format="jpeg")
        self.umatrix = w.Image(format="png", layout=w.Layout(width="100%"))
        for name in ("folder", "load_button", "preset", "neighborhood", "placement", "seed",
                     "rows", "cols", "sigma", "iterations", "learning_rate", "progress",
                     "status", "metrics", "mosaic", "umatrix"):  # stable hooks for tests
            getattr(self, name).add_class("som-explorer-" + name.replace("_", "-"))

        controls = w.VBox(
            [w.HBox([self.folder, self.load_button]), self.preset, self.neighborhood,
             self.placement, self.seed, self.rows, self.cols, self.sigma, self.iterations,
             self.learning_rate, self.metrics, self.umatrix],
            layout=w.Layout(width=column, min_width=column, margin="0 16px 0 0",
                            overflow="visible"))  # no clipped dropdown edges
        self.widget = w.VBox([
            w.HBox([self.status, self.progress], layout=w.Layout(width="100%")),
            w.HBox([controls, self.mosaic],
                   layout=w.Layout(flex_flow="row wrap", align_items="flex-start")),
        ])
        self.widget.add_class("som-explorer")

        self.load_button.on_click(lambda _button: self.load())
        self.preset.observe(self._on_preset, names="value")
        for control in (self.neighborhood, self.placement, self.seed, self.rows, self.cols,
                        self.sigma, self.iterations, self.learning_rate):
            control.observe(self._on_change, names="value")
        self.load()

    # -- showing in a notebook ---------------------------------------------

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        if isinstance(bundle, tuple):  # (data, metadata)
            bundle = bundle[0]
        bundle = dict(bundle)
        n = len(self.covers.names) if self.covers is not None else 0
        folder = Path(self.folder.value).expanduser()
        where = ("the bundled posters" if folder.resolve() == BUNDLED_COVERS.resolve()
                 else f"'{folder}'")
        bundle["text/plain"] = (f"SOM explorer: {n} covers from {where} "
                                "(run the notebook in JupyterLab to use the sliders)")
        return bundle

    # -- loading -----------------------------------------------------------

    def load(self, folder=None):
        """Load a cover folder, make its features and show a first map.

        Parameters
        ----------
        folder : str or Path, optional
            By default the path in the ``folder`` box.

        Returns
        -------
        bool
            True if the folder was loaded (and an update was run). On an
            error the message goes to the status area and the previous
            covers and picture stay. If the first map of the new covers
            cannot be made, the pictures are cleared rather than left
            showing the previous folder.
        """
        if folder is not None:
            with self._hold():
                self.folder.value = str(folder)
        path = Path(self.folder.value.strip()).expanduser()
        generation = self._begin()  # a new folder supersedes any older update
        self._say(f"loading covers from {path} ...")
        try:
            covers = load_covers(path)
            if len(covers.names) < 2:
                raise ValueError(f"found only {len(covers.names)} cover in '{path}'; "
                                 "the map needs at least 2")
            features = self._features_for(covers)
        except Exception as error:  # any failure is one line of text, never a traceback
            if generation == self.generation:
                self._say(f"could not load '{path}': {_one_line(error)}", "error")
            return False
        self.covers, self.features, self._thumbs = covers, features, (None, None)
        rows, cols = grid_shape_for(len(covers.names))
        with self._hold():
            for slider, fit in ((self.rows, rows), (self.cols, cols)):
                slider.max = max(20, 2 * fit)
                slider.value = fit
            # MiniSom warns about a sigma wider than the grid (a few covers
            # on a tiny grid): start such a folder with one that fits.
            widest = np.floor(2 * np.hypot(rows, cols)) / 2
            self.sigma.value = min(self.sigma.value, widest)
        if not self.update():
            self.arrangement = None
            self.mosaic.value = self.umatrix.value = b""
            self.metrics.value = ""
        return True

    def _features_for(self, covers):
        """Features of these covers, made once and then reused."""
        pixels = np.ascontiguousarray(covers.images)
        key = (pixels.shape, hashlib.blake2b(memoryview(pixels).cast("B"), digest_size=16).digest())
        if key not in self._feature_cache:
            if len(self._feature_cache) >= 3:  # keep memory in check
                self._feature_cache.pop(next(iter(self._feature_cache)))
            self._feature_cache[key] = make_features(covers.images)
        return self._feature_cache[key]

    # -- reacting to the controls -------------------------------------------

    def _on_change(self, _change):
        if not self._holding:
            self.update()

    def _on_preset(self, change):
        """Set the sliders to the chosen preset's values, then update once."""
        values = PRESETS[change["new"]]
        with self._hold():
            self.sigma.value = values["sigma"]
            self.learning_rate.value = values["learning_rate"]
            self.iterations.value = values["iterations"]
            self.neighborhood.value = values["neighborhood_function"]
        self.update()

    @contextlib.contextmanager
    def _hold(self):
        """Control changes inside ``with self._hold():`` do not update."""
        self._holding += 1
        try:
            yield
        finally:
            self._holding -= 1

    def settings(self):
        """The current values of the controls, as keyword arguments of arrange_covers.

        Returns
        -------
        dict
        """
        return dict(rows=self.rows.value, cols=self.cols.value, preset=self.preset.value,
                    placement=self.placement.value, seed=self.seed.value,
                    sigma=float(self.sigma.value), learning_rate=float(self.learning_rate.value),
                    iterations=int(self.iterations.value),
                    neighborhood_function=self.neighborhood.value)

    # -- one update: begin, compute, show ------------------------------------

    def update(self):
        """Re-train with the current settings and show the result.

        Returns
        -------
        bool
            True if a new picture is shown; False if the settings were
            refused (the message is in ``status``, the old picture stays) or
            a newer update started meanwhile.
        """
        if self.covers is None:
            self._say("no covers loaded yet: choose a folder and press 'load'", "error")
            return False
        started = time.perf_counter()
        generation = self._begin()
        try:
            result = self._compute(self.settings(), generation, started)
        except Exception as error:  # a refused setting: one line, keep the picture
            if generation == self.generation:
                self._say(_one_line(error), "error")
            return False
        finally:
            self._hide_progress(generation)
        return self._show(generation, result, started)

    def _begin(self):
        """Start an update: returns its generation number, the newest."""
        self.generation += 1
        return self.generation

    def _compute(self, settings, generation, started):
        """Train, place, measure and draw; returns what :meth:`_show` needs.

        Invalid settings and a diverging training raise a ValueError (from
        :func:`arrange_covers`). Warnings are turned into one too, so the
        settings are refused and the last good picture stays: MiniSom's
        warnings are advice, for example sigma not a whole number with
        triangle or bubble.
        """
        settings = dict(settings)
        rows, cols = settings.pop("rows"), settings.pop("cols")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            arrangement = arrange_covers(self.covers, rows, cols, features=self.features,
                                         progress=self._reporter(generation, started),
                                         **settings)
        if caught:
            first = caught[0]
            source = ("MiniSom" if Path(first.filename).stem == "minisom"
                      else first.category.__name__)
            text = _one_line(first.message).removeprefix("Warning: ").rstrip(".")
            text = text.replace("bubbleare", "bubble are")  # a typo in MiniSom's message
            raise ValueError(f"{source} warns: {text}; picture not updated")
        return arrangement, self._mosaic_jpeg(arrangement), self._umatrix_png(arrangement)

    def _show(self, generation, result, started=None):
        """Show a computed result, unless a newer update has started.

        Returns
        -------
        bool
            False if ``generation`` is no longer the newest (the result is
            discarded and the display is left alone).
        """
        if generation != self.generation:
            return False
        arrangement, mosaic_jpeg, umatrix_png = result
        self.arrangement = arrangement
        self.mosaic.value = mosaic_jpeg
        self.umatrix.value = umatrix_png
        self.metrics.value = _metrics_html(arrangement.quality)
        if started is not None:
            self.seconds = time.perf_counter() - started
        took = f" in {self.seconds:.2f} s" if started is not None else ""
        self._say(f"{len(arrangement.covers.names)} covers on a "
                  f"{arrangement.rows}x{arrangement.cols} grid, trained{took}")
        return True

    # -- drawing -------------------------------------------------------------

    def _mosaic_jpeg(self, arrangement):
        """The mosaic at screen size, as JPEG bytes.

        The covers are shrunk once per cell size and then pasted. JPEG, not
        PNG: the covers are photos, and a 600 px mosaic is then about ten
        times smaller and quicker to encode and send.
        """
        border = 2
        images = arrangement.covers.images
        height, width = images.shape[1:3]
        cell_w = max(8, (self.display_width + border) // arrangement.cols - border)
        cell_h = max(8, round(cell_w * height / width))
        if self._thumbs[0] != (cell_w, cell_h):
            small = np.stack([np.asarray(Image.fromarray(image).resize(
                (cell_w, cell_h), Image.Resampling.LANCZOS)) for image in images])
            self._thumbs = ((cell_w, cell_h), small)
        mosaic = make_mosaic(self._thumbs[1], arrangement.placement.positions,
                             arrangement.rows, arrangement.cols, border=border)
        buffer = io.BytesIO()
        Image.fromarray(mosaic).save(buffer, format="JPEG", quality=90)
        return buffer.getvalue()

    def _umatrix_png(self, arrangement):
        """The U-matrix (``som.distance_map()``) as a PNG with title and colour bar."""
        with np.errstate(divide="ignore", invalid="ignore"):  # all weights equal: 0 / 0
            distances = arrangement.trained.som.distance_map(scaling="mean")  # largest is 1
        distances = np.nan_to_num(distances)
        if self._umatrix_plot is None or self._umatrix_plot.shape != distances.shape:
            self._umatrix_plot = _UMatrixPlot(*distances.shape)
        return self._umatrix_plot.png(distances)

    # -- progress and messages -------------------------------------------------

    def _reporter(self, generation, started):
        """A ``progress(done, total)`` callable that shows the bar after a delay."""
        bar = self.progress

        def report(done, total):
            if generation != self.generation:
                return
            if bar.layout.visibility != "visible":
                if time.perf_counter() - started < self.progress_delay or done >= total:
                    return
                bar.max = total
                bar.layout.visibility = "visible"
                self._say(f"training {total} iterations on a {self.rows.value}x"
                          f"{self.cols.value} grid ...")
            bar.value = done
        return report

    def _hide_progress(self, generation):
        if generation == self.generation and self.progress.layout.visibility == "visible":
            self.progress.layout.visibility = "hidden"
            self.progress.value = 0

    def _say(self, text, kind="info"):
        """Put one line in the status area; kind is 'info' or 'error'."""
        colour = {"info": "#444", "error": "#b00020"}[kind]
        mark = "&#9888; " if kind == "error" else ""
        self.message = text
        self.status.value = f'<span style="color:{colour}">{mark}{html.escape(text)}</span>'


def _short_path(path):
    """``path`` relative to the working folder if that is short, else as given.

    The bundled posters then read ``../data/covers`` from ``notebooks/``,
    not a long absolute path that only exists on one machine.
    """
    try:
        relative = os.path.relpath(Path(path).expanduser())
    except ValueError:  # another drive on Windows
        return str(path)
    return relative if relative.split(os.sep).count("..") <= 1 else str(path)


def _one_line(error):
    """The first line of an error or warning message, without the traceback."""
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def _metrics_html(quality):
    """The quality figures as a small HTML table: name, value, what it says."""
    rows = [("QE", f"{quality['quantization_error']:.3f}", "neurons fit the covers: lower is closer",
             "quantization error: mean distance from a cover to its neuron"),
            ("TE", f"{quality['topographic_error']:.3f}", "lower: a smoother map",
             "topographic error: share of covers whose two best neurons are not neighbours"),
            ("DPQ16", f"{quality['dpq16']:.3f}", "similar covers sit close: 1 is perfect",
             "Distance Preservation Quality (Barthel et al. 2023), p = 16")]
    if "same_genre" in quality:
        rows.append(("same genre", f"{quality['same_genre']:.0%}",
                     f"of side-by-side covers (random: {quality['same_genre_random']:.0%})",
                     "share of side-by-side covers with the same genre (data/covers.csv)"))
    cells = "".join(
        f'<tr title="{html.escape(tip)}"><td style="padding:0 8px 0 0"><b>{name}</b></td>'
        f'<td style="padding:0 8px 0 0;text-align:right">{value}</td>'
        f'<td style="color:#666">{html.escape(note)}</td></tr>'
        for name, value, note, tip in rows)
    return f'<table style="line-height:1.5;margin:4px 0">{cells}</table>'


class _UMatrixPlot:
    """A U-matrix figure for one grid size, drawn in full once.

    A matplotlib figure takes about 0.1 s to draw, a fifth of an update.
    Title, axes and colour bar stay the same from map to map, so we keep
    them as a background picture and for each new map paint only the
    cells on top of it (matplotlib's "blitting"), which takes 10 ms.
    """

    def __init__(self, rows, cols):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.shape = (rows, cols)
        width = 3.6
        height = min(6.0, max(2.4, width * 0.8 * rows / cols + 0.9))
        figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
        self.canvas = FigureCanvasAgg(figure)
        self.axes = figure.add_subplot()
        self.image = self.axes.imshow(np.zeros(self.shape), cmap="bone_r", vmin=0, vmax=1,
                                      interpolation="nearest")
        self.axes.set_title("U-matrix: light = similar neighbours,\n"
                            "dark = border between groups", fontsize=9)
        self.axes.set_xlabel("column", fontsize=8)
        self.axes.set_ylabel("row", fontsize=8)
        self.axes.tick_params(labelsize=7)
        bar = figure.colorbar(self.image, ax=self.axes, shrink=0.9)
        bar.set_label("distance to neighbouring neurons\n(share of the largest)", fontsize=8)
        bar.ax.tick_params(labelsize=7)
        self.image.set_visible(False)
        self.canvas.draw()  # lays everything out once, then keeps the layout
        figure.set_layout_engine("none")
        self.background = self.canvas.copy_from_bbox(figure.bbox)
        self.image.set_visible(True)

    def png(self, distances):
        """PNG bytes of the figure showing ``distances`` (rows x cols, 0 to 1)."""
        self.image.set_data(distances)
        self.canvas.restore_region(self.background)
        self.axes.draw_artist(self.image)
        for spine in self.axes.spines.values():  # the frame goes over the cells
            self.axes.draw_artist(spine)
        pixels = np.asarray(self.canvas.buffer_rgba())[..., :3]
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format="PNG", compress_level=1)
        return buffer.getvalue()


def build_explorer(covers=BUNDLED_COVERS, *, display_width=600, progress_delay=0.5):
    """Sliders over the whole pipeline: change a setting, see the new map.

    Parameters
    ----------
    covers : str or Path
        Folder of covers to start with (it can be changed in the explorer).
    display_width : int
        Width in pixels of the mosaic on screen.
    progress_delay : float
        Seconds a training run must last before the progress bar appears.

    Returns
    -------
    Explorer
        End a notebook cell with it to show it; its ``widget`` attribute is
        the ipywidgets box, its other attributes the controls and outputs.
        A folder that cannot be loaded gives a message in the explorer, not
        an exception.
    """
    return Explorer(covers, display_width=display_width, progress_delay=progress_delay)

