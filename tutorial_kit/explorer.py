"""The interactive explorer of notebook 07: ipywidgets sliders over the whole pipeline.

Students never need to open this file: it is widget plumbing around
``helpers.arrange_covers``. Build one with :func:`build_explorer`.

What a student sees must always be true:

- the picture (mosaic, U-matrix, quality figures) either matches the
  controls, or it is dimmed and the status line says which settings it
  shows and why the new ones are not shown (refused, failed, training);
- nothing changes silently: skipped files, a lowered sigma and every
  refusal are named in the status line, with the limit that was hit;
- in a kernel, training runs in a background thread, so moving a slider
  never waits for the previous run: a newer setting cancels the run in
  progress, and only the latest setting trains;
- there, a moved control first shows a preview, a batch SOM of a few epochs
  (tutorial_kit/explorer_preview.py), in a few hundredths of a second; the
  status line says "preview: batch SOM, 10 epochs" until the online map the
  notebooks teach replaces it. For given settings, the last picture is
  always that online map, the same as ``helpers.arrange_covers`` gives.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import html
import math
import os
import threading
import time
import warnings
from pathlib import Path

import minisom
import numpy as np

from helpers import (BUNDLED_COVERS, NEIGHBORHOODS, PLACEMENTS, PRESETS, arrange_covers,
                     grid_shape_for, load_covers, make_features, som_settings)
from tutorial_kit import checks, fast
from tutorial_kit import explorer_preview as preview_module
from tutorial_kit import explorer_view as view
from tutorial_kit.explorer_worker import LatestRequestWorker
from tutorial_kit.images import one_line

# The iterations slider steps through these values (plus each preset's own):
# a linear slider from 100 to 50,000 made 1,000 and 20,000 unreachable.
ITERATION_STEPS = (100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000)
CUSTOM = "custom"  # the preset shown once a slider differs from the chosen preset
START_SEED = 42

class _Superseded(Exception):
    """Raised inside a training run that a newer setting has replaced."""


class Explorer:
    """Sliders and dropdowns over :func:`arrange_covers`, with live pictures.

    Build it with :func:`build_explorer` and end a notebook cell with it (or
    call ``display(explorer)``) to show it. Every change of a control
    re-trains the map and redraws the mosaic, the U-matrix and the metrics.
    From code, :meth:`set` changes several controls and waits for the map.

    Attributes
    ----------
    widget : ipywidgets.VBox
        The whole explorer, ready to display. It has the CSS class
        ``som-explorer``, and each control and output below the class
        ``som-explorer-<attribute>`` (with ``-`` for ``_``), for tests and styling.
    folder : ipywidgets.Text
        Path of the cover folder; Enter (or ``load_button``) loads it.
    load_button, reset_button : ipywidgets.Button
        ``reset_button`` goes back to the start: preset 'default', the
        smallest grid that fits, assignment, seed 42.
    preset : ipywidgets.Dropdown
        'default', 'original' or 'custom'. Choosing 'default' or 'original'
        sets the sliders to its values; moving one of those sliders
        afterwards switches the preset to 'custom' (the settings without a
        control, the initial weights and the decay, stay the chosen
        preset's: see :data:`PRESETS` and :attr:`base_preset`).
    rows, cols : ipywidgets.IntSlider
        Grid size; after a folder is loaded, the smallest grid that fits.
    sigma, learning_rate : ipywidgets.FloatSlider
    iterations : ipywidgets.SelectionSlider
        Steps through :data:`ITERATION_STEPS`.
    neighborhood : ipywidgets.Dropdown
        MiniSom's neighbourhood function.
    placement : ipywidgets.Dropdown
        'assignment' or 'greedy' (see :func:`place_covers`).
    seed : ipywidgets.BoundedIntText
    mosaic, umatrix : ipywidgets.HTML
        The arranged covers (JPEG) and the U-matrix (PNG), each an ``<img>``
        with alt text. The bytes are in ``mosaic_jpeg`` and ``umatrix_png``.
    metrics : ipywidgets.HTML
        QE, TE, DPQ16 and, for the bundled posters, same-genre neighbours,
        each with what it says in words.
    skipped : ipywidgets.HTML
        The files of the folder that were not loaded, with reasons (folded).
    status : ipywidgets.HTML
        One line: what is shown, or why the picture does not match the controls.
    message : str
        The text of that line, for use from code.
    picture : ipywidgets.HBox
        The mosaic, the U-matrix and the quality figures together.
    stale : bool
        True while the picture does not match the controls; the picture is
        then dimmed (CSS class ``som-stale`` on ``picture`` and on the
        pictures of every :meth:`panel`).
    shown : dict or None
        The settings of the picture shown, as :meth:`settings` gives them.
    progress : ipywidgets.IntProgress
        Visible only while a training run takes longer than ``progress_delay``.
    covers, features, arrangement
        The loaded covers, their features (made once per folder), and the
        arrangement shown now; None until a first success. While
        ``previewing``, the arrangement of the preview (a batch SOM; its
        ``quality`` is empty).
    previewing : bool
        True while the picture is a preview and the online map is training.
    generation : int
        Number of the newest update requested; older results are discarded.
    seconds : float or None
        How long the last successful update took, from request to the online map.
    preview_seconds : float or None
        How long the last update took from request to its preview; None if
        it showed none (in plain Python, from :meth:`set` or :meth:`update`,
        which wait for the online map, and for the mexican hat).
    """

    def __init__(self, covers=BUNDLED_COVERS, *, display_width=480, display_height=560,
                 progress_delay=0.5, background=None, umatrix_dpi=100):
        import ipywidgets as w

        if background is None:  # in a kernel, train in a thread; in plain Python, wait
            try:
                from IPython import get_ipython
                background = hasattr(get_ipython(), "kernel")
            except ImportError:
                background = False
        self.background = bool(background)
        self.display_width, self.display_height = int(display_width), int(display_height)
        self.progress_delay = float(progress_delay)
        self.umatrix_dpi = int(umatrix_dpi)
        self.covers = self.features = self.arrangement = None
        self.shown = None  # the settings of the picture shown (as settings() gives them)
        self.mosaic_jpeg = self.umatrix_png = b""
        self.generation = 0
        self.seconds = self.preview_seconds = None
        self.message = ""
        self.stale = self.previewing = False
        self._final = None  # what _show put up last for an online map, to go back to
        self.base_preset = "default"
        self._notes = []  # what the last load changed or skipped, for the status line
        self._clamped = []  # what the last `set` clamped to a control's range, likewise
        self._loaded_folder = None  # the folder box text of the covers loaded now
        self._wanted_sigma = PRESETS["default"]["sigma"]  # sigma before fitting a tiny grid
        self._holding = 0
        self._compute_lock = threading.Lock()
        self._display_lock = threading.RLock()  # the worker shows, the main thread refuses
        self._starts = {}  # PCA starts of previews, by (features, rows, cols)
        # jobs: (generation, covers, features, settings, started); the newest wins
        self._worker = LatestRequestWorker(self._run)
        self._thumbs = (None, None)  # (cell size, resized covers)
        self._feature_cache = {}

        # Controls in a narrow column on the left, the status line and the
        # picture on the right, the U-matrix and the figures beside the mosaic
        # (below it when the window is narrow). The mosaic's height follows
        # the window's, so the control being moved and the picture stay in
        # view together, even on a 1366x768 laptop with the file browser open.
        wide = dict(description_width="8.6em")
        full = dict(style=wide, layout=w.Layout(width="100%"))
        slider = dict(continuous_update=False, **full)
        defaults = PRESETS["default"]
        steps = sorted(set(ITERATION_STEPS) | {p["iterations"] for p in PRESETS.values()})
        self.folder = w.Text(value=_short_path(covers), placeholder="folder of covers",
                             continuous_update=False, tooltip="folder of covers: Enter loads it",
                             layout=w.Layout(flex="1 1 auto", width="auto"))
        self.load_button = w.Button(description="load", tooltip="load the covers of this folder",
                                    layout=w.Layout(width="4.5em"))
        self.preset = w.Dropdown(options=[*PRESETS, CUSTOM], value="default",
                                 description="preset", style=wide,
                                 layout=w.Layout(flex="1 1 auto", width="auto"))
        self.reset_button = w.Button(description="reset", layout=w.Layout(width="4.5em"),
                                     tooltip="back to the start: preset default, the smallest "
                                             "grid, assignment, seed 42")
        self.neighborhood = w.Dropdown(options=NEIGHBORHOODS, description="neighbourhood",
                                       value=defaults["neighborhood_function"], **full)
        self.placement = w.Dropdown(options=PLACEMENTS, value="assignment",
                                    description="placement", **full)
        self.seed = w.BoundedIntText(value=START_SEED, min=0, max=checks.MAX_SEED,
                                     description="seed", **full)
        self.rows = w.IntSlider(value=10, min=1, max=20, description="rows", **slider)
        self.cols = w.IntSlider(value=10, min=1, max=20, description="columns", **slider)
        # The browser sends slider values with float error (5.000000000000001):
        # these sliders take the step they stand for, as their readout shows it.
        stepped = _stepped_slider_class()
        # Sigma follows the hand while it is dragged (each value shows a quick
        # preview, and the newest one wins); the others update on release.
        self.sigma = stepped(value=defaults["sigma"], min=0.5, max=10.0, step=0.5,
                             description="sigma", readout_format=".1f",
                             **dict(slider, continuous_update=True))
        self.iterations = w.SelectionSlider(options=[(f"{n:,}", n) for n in steps],
                                            value=defaults["iterations"],
                                            description="iterations", **slider)
        self.learning_rate = stepped(value=defaults["learning_rate"], min=0.01, max=2.0,
                                     step=0.01, description="learning rate", **slider)
        self.progress = w.IntProgress(value=0, min=0, max=1, description="training",
                                      style=dict(description_width="5em"),
                                      layout=w.Layout(visibility="hidden", width="16em"))
        self.status = w.HTML(layout=w.Layout(min_height="2.8em", flex="1 1 auto"))
        self.metrics = w.HTML(layout=w.Layout(width="100%"))
        self.skipped = w.HTML(layout=w.Layout(width="100%"))
        self.mosaic = w.HTML(layout=w.Layout(flex="0 1 auto", min_width="120px",
                                             margin="0 10px 0 0"))
        self.umatrix = w.HTML(layout=w.Layout(width="100%"))
        self.head = w.HTML(view.HEAD, layout=w.Layout(height="0px", overflow="hidden",
                                                  margin="0"))
        for name in ("folder", "load_button", "reset_button", "preset", "neighborhood",
                     "placement", "seed", "rows", "cols", "sigma", "iterations",
                     "learning_rate", "progress", "status", "metrics", "skipped", "mosaic",
                     "umatrix"):  # stable hooks for tests and styles
            getattr(self, name).add_class("som-explorer-" + name.replace("_", "-"))

        controls = w.VBox(
            [w.HBox([self.folder, self.load_button]), w.HBox([self.preset, self.reset_button]),
             self.neighborhood, self.placement, self.seed, self.rows, self.cols, self.sigma,
             self.iterations, self.learning_rate, self.skipped],
            layout=w.Layout(width="300px", min_width="300px", margin="0 12px 0 0",
                            overflow="visible"))  # no clipped dropdown edges
        side = w.VBox([self.umatrix, self.metrics],
                      layout=w.Layout(width="250px", min_width="220px"))
        controls.add_class("som-explorer-controls")
        side.add_class("som-explorer-side")
        self.picture = w.HBox([self.mosaic, side],
                              layout=w.Layout(flex_flow="row wrap", align_items="flex-start"))
        self.picture.add_class("som-explorer-picture")
        self._pictures = [self.picture]  # every view of the picture, dimmed together
        right = w.VBox([w.HBox([self.status, self.progress]), self.picture],
                       layout=w.Layout(flex="1 1 0", min_width="0"))
        self.widget = w.VBox([self.head, w.HBox([controls, right],
                                                layout=w.Layout(align_items="flex-start"))])
        self.widget.add_class("som-explorer")

        self.load_button.on_click(lambda _button: self.load())
        self.reset_button.on_click(lambda _button: self.reset())
        self.folder.observe(self._on_folder, names="value")  # Enter (or leaving the box)
        self.preset.observe(self._on_preset, names="value")
        for control in (self.sigma, self.iterations, self.learning_rate, self.neighborhood):
            control.observe(self._on_preset_control, names="value")
        for control in (self.placement, self.seed, self.rows, self.cols):
            control.observe(self._on_change, names="value")
        self.load(wait=True)

    # -- showing in a notebook ---------------------------------------------

    def _ipython_display_(self):
        """The live widget, then a static picture that only widget-less views show.

        JupyterLab and Voila draw the widget, whose style block hides the
        static picture. A static render (``jupyter nbconvert --to html``,
        GitHub, nbviewer) has no widget, so it shows the last mosaic with its
        settings instead of an empty cell.
        """
        from IPython.display import display
        display(self.widget)
        display({"text/html": self.static_html(), "text/plain": self._text()}, raw=True)

    def panel(self, *names, picture=True):
        """A second view of some controls with the status line and the picture.

        The tour of notebook 07 puts one under each stop, so the control a
        stop talks about sits next to its text. The views share their
        values with the explorer: moving a slider here moves it there.

        Parameters
        ----------
        *names : str
            Attribute names of controls, for example ``"sigma"``; the reset
            button comes with them. None: only the status line and the
            picture (for a cell that drives the explorer from code, so that
            its changes are seen right there).
        picture : bool
            Show the mosaic (smaller) and the quality figures too.

        Returns
        -------
        Panel
            End a cell with it to show it.
        """
        import ipywidgets as w

        unknown = [name for name in names if not isinstance(getattr(self, name, None), w.Widget)]
        if unknown:
            raise ValueError(f"unknown control(s) {unknown}")
        parts = []
        if names:  # every stop's panel can also go back to the start, without scrolling up
            controls = [getattr(self, name) for name in names]
            if "reset_button" not in names:
                controls.append(self.reset_button)
            parts.append(w.VBox(controls,
                                layout=w.Layout(width="300px", min_width="300px",
                                                margin="0 12px 0 0")))
        if picture:
            shown = w.HBox([self.mosaic, self.metrics],
                           layout=w.Layout(flex_flow="row wrap", align_items="flex-start"))
            shown.add_class("som-explorer-picture")
            if self.stale:
                shown.add_class("som-stale")
            self._pictures.append(shown)
            parts.append(w.VBox([self.status, shown], layout=w.Layout(flex="1 1 0", min_width="0")))
        else:
            parts.append(self.status)
        box = w.VBox([self.head, w.HBox(parts, layout=w.Layout(align_items="flex-start"))])
        box.add_class("som-explorer")
        box.add_class("som-explorer-panel")
        return Panel(box, names)

    def _text(self):
        return f"SOM explorer: {self.message} (run the notebook to use the sliders)"

    def static_html(self):
        """The last mosaic and its settings as HTML, for views without widgets.

        Returns
        -------
        str
        """
        if not self.mosaic_jpeg:
            return f'<div class="som-explorer-static"><p>{html.escape(self._text())}</p></div>'
        return ('<div class="som-explorer-static"><p><b>The explorer, as a picture.</b> '
                'This view cannot run widgets: open the notebook in JupyterLab (or Voilà) '
                'and run it to move the sliders.</p><figure style="margin:0">'
                f'{view.img_tag(self.mosaic_jpeg, "jpeg", self._mosaic_alt())}'
                f'<figcaption>{html.escape(self._caption())}</figcaption></figure></div>')

    def _caption(self):
        """What the last picture shows, without the run time (it varies from run to run)."""
        if self.arrangement is None:
            return self.message
        text = view.describe(self.shown, len(self.arrangement.covers.names))
        return f"preview (batch SOM): {text}" if self.previewing else text

    # -- loading -----------------------------------------------------------

    def load(self, folder=None, *, wait=None):
        """Load a cover folder, make its features and show a first map.

        Parameters
        ----------
        folder : str or Path, optional
            By default the path in the ``folder`` box.
        wait : bool, optional
            Wait for the first map (default: when not training in the background).

        Returns
        -------
        bool
            True if the folder was loaded. On an error the status line says
            why, the folder box goes back to the folder shown, and the
            previous covers and picture stay (dimmed).
        """
        if folder is not None:
            with self._hold():
                self.folder.value = str(folder)
        text = self.folder.value.strip()
        path = Path(text).expanduser()
        generation = self._begin()  # a new folder supersedes any older update
        self._say(f"loading covers from {path} ...")
        try:
            covers = load_covers(path)
            if len(covers.names) < 2:
                raise ValueError(f"found only {len(covers.names)} cover in '{path}'; "
                                 "the map needs at least 2")
            features = self._features_for(covers)
        except Exception as error:  # any failure is one short line, never a traceback
            if generation == self.generation:
                reason = f"could not load '{path}': {_short_reason(error, path)}"
                if self._loaded_folder is not None:
                    with self._hold():
                        self.folder.value = self._loaded_folder
                    reason += f"; still showing '{self._loaded_folder}'"
                self._refuse(reason, name_settings=False)
            return False
        self.covers, self.features, self._thumbs = covers, features, (None, None)
        self._loaded_folder = text
        self._notes, self._clamped = [], []
        n, skipped = len(covers.names), covers.skipped
        if skipped:
            self._notes.append(f"{n} loaded, {len(skipped)} skipped (list on the left)")
        self.skipped.value = view.skipped_html(skipped)
        rows, cols = grid_shape_for(n)
        with self._hold():
            for slider, fit in ((self.rows, rows), (self.cols, cols)):
                slider.max = max(20, 2 * fit)
                slider.value = fit
            # MiniSom warns about a sigma wider than the grid's diagonal (a
            # few covers on a tiny grid): start such a folder with one that fits.
            fitted = min(self._wanted_sigma, sigma_limit(rows, cols))
            if fitted != self.sigma.value:
                if fitted < self._wanted_sigma:
                    self._notes.append(f"sigma lowered to {fitted:.1f} to fit a "
                                       f"{rows}x{cols} grid")
                self.sigma.value = fitted
        self._request(wait=wait)
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
            self._clamped = []  # a control moved by hand: no clamp of `set` to report
            self._request()

    def _on_folder(self, _change):
        if not self._holding:
            self.load()

    def _on_preset_control(self, change):
        """A slider the preset sets: the preset becomes 'custom', then update."""
        if self._holding:
            return
        self._clamped = []
        if change["owner"] is self.sigma:
            self._wanted_sigma = float(change["new"])
        if self.preset.value != CUSTOM and self._differs_from_preset():
            with self._hold():
                self.preset.value = CUSTOM
        self._request()

    def _differs_from_preset(self):
        values = PRESETS[self.base_preset]
        return (self.sigma.value, self.learning_rate.value, self.iterations.value,
                self.neighborhood.value) != (values["sigma"], values["learning_rate"],
                                             values["iterations"], values["neighborhood_function"])

    def _on_preset(self, change):
        """Set the sliders to the chosen preset's values, then update once."""
        if self._holding or change["new"] == CUSTOM:
            return  # 'custom' keeps the sliders as they are
        self._clamped = []
        self._apply_preset(change["new"])
        self._request()

    def _apply_preset(self, name):
        values = PRESETS[name]
        self.base_preset = name
        rows, cols = self.rows.value, self.cols.value
        self._wanted_sigma = values["sigma"]
        self._notes = [note for note in self._notes if not note.startswith("sigma lowered")]
        with self._hold():
            self.preset.value = name
            self.sigma.value = min(values["sigma"], sigma_limit(rows, cols))
            if self.sigma.value < values["sigma"]:
                self._notes.append(f"sigma lowered to {self.sigma.value:.1f} to fit a "
                                   f"{rows}x{cols} grid")
            self.learning_rate.value = values["learning_rate"]
            self.iterations.value = values["iterations"]
            self.neighborhood.value = values["neighborhood_function"]

    def reset(self, *, wait=None):
        """Back to the start: preset 'default', the smallest grid, assignment, seed 42."""
        if self.covers is None:
            return self.load(wait=wait)
        with self._hold():
            self.rows.value, self.cols.value = grid_shape_for(len(self.covers.names))
            self.placement.value = "assignment"
            self.seed.value = START_SEED
            self._apply_preset("default")
        return self._request(wait=wait)

    def set(self, **values):
        """Change several controls at once, train once and wait for the result.

        Parameters
        ----------
        **values
            Control names and values, for example ``set(preset="original",
            sigma=2.0)``. A preset is applied first, then the other values.

        Returns
        -------
        bool
            True if the new picture is shown; False if the settings were
            refused (``message`` says why, the picture stays, dimmed).

        Raises
        ------
        ValueError
            A value no control can take (a wrong type, an unknown choice, a
            seed below 0, iterations between the slider's steps), in one
            sentence, before any control changes. A number outside a
            slider's range is clamped to it, and ``message`` says so.
        """
        preset = values.pop("preset", None)
        unknown = set(values) - {"rows", "cols", "sigma", "learning_rate", "iterations",
                                 "neighborhood", "placement", "seed"}
        if unknown:
            raise ValueError(f"unknown control(s) {sorted(unknown)}")
        if preset is not None:
            checks.choice("preset", preset, self.preset.options)
        values, self._clamped = self._checked(values)
        with self._hold():
            if preset is not None and preset != CUSTOM:
                self._apply_preset(preset)
            for name, value in values.items():
                getattr(self, name).value = value
            if "sigma" in values:
                self._wanted_sigma = values["sigma"]
            if self._differs_from_preset():
                self.preset.value = CUSTOM
        return self._request(wait=True)

    def _checked(self, values):
        """The values of `set`, checked by the same rules as helpers' (tutorial_kit/checks.py).

        Returns
        -------
        values : dict
            Each value as its control takes it.
        clamped : list of str
            One note per number clamped to its control's range.
        """
        checked, clamped = {}, []
        for name, value in values.items():
            control = getattr(self, name)
            if name in ("neighborhood", "placement"):
                checked[name] = checks.choice(name, value, control.options)
                continue
            number = checks.value(name, value)
            if name == "iterations":
                steps = [step for _, step in control.options]
                if number not in steps:
                    raise ValueError(f"iterations must be one of the slider's steps "
                                     f"({', '.join(f'{step:,}' for step in steps)}), "
                                     f"got {number:,}")
            elif not control.min <= number <= control.max:
                limit = "maximum" if number > control.max else "minimum"
                bound = control.max if number > control.max else control.min
                clamped.append(f"{name} {number:g} clamped to {bound:g}, the control's {limit}")
                number = type(number)(bound)
            checked[name] = number
        return checked, clamped

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
        return dict(rows=self.rows.value, cols=self.cols.value, preset=self.base_preset,
                    placement=self.placement.value, seed=self.seed.value,
                    sigma=float(self.sigma.value), learning_rate=float(self.learning_rate.value),
                    iterations=int(self.iterations.value),
                    neighborhood_function=self.neighborhood.value)

    # -- one update: request, compute (maybe in a thread), show ---------------

    def update(self):
        """Re-train with the current settings and show the result (waits for it).

        Returns
        -------
        bool
            True if a new picture is shown; False if the settings were
            refused (the message is in ``status``, the old picture stays,
            dimmed) or a newer update started meanwhile.
        """
        return self._request(wait=True)

    def wait(self, timeout=60.0):
        """Wait until no training runs or waits; returns :attr:`arrangement`."""
        self._worker.wait(timeout)
        return self.arrangement

    def _begin(self):
        """Start an update: returns its generation number, the newest."""
        self.generation += 1
        return self.generation

    def _request(self, wait=None):
        """Ask for a map with the current settings; the newest request wins.

        In the background (a kernel) and without ``wait``, a preview comes
        first (see the module's docstring); waiting, only the online map is made.
        """
        if self.covers is None:
            self._refuse("no covers loaded yet: type a folder and press Enter or 'load'")
            return False
        started = time.perf_counter()
        generation = self._begin()
        settings = self.settings()
        refusal = self._check(settings) or self._minisom_refusal(settings)
        if refusal:
            self._refuse(refusal)
            return False
        waiting = wait or wait is None and not self.background
        job = (generation, self.covers, self.features, settings, started,
               self.background and not waiting and preview_module.can_preview(settings))
        self.preview_seconds = None  # until this update shows its preview, if it has one
        if not self.background:
            return self._run(job)
        with self._display_lock:
            if self.arrangement is not None:
                self._set_stale(True)
            self._say(f"training {view.describe(settings, len(self.covers.names), short=True)} ..."
                      + self._still_showing(", "))
        self._worker.submit(job)
        if waiting:
            self.wait()
            return self.arrangement is not None and self.generation == generation \
                and not self.stale and not self.previewing
        return True

    def _run(self, job):
        generation, covers, features, settings, started, with_preview = job
        if with_preview:
            try:
                with self._compute_lock:
                    result = self._compute_preview(covers, features, settings, generation)
            except Exception:  # noqa: BLE001  only a preview: the online map below decides
                result = None
            if result is not None:
                self._show(generation, result, started, settings, preview=True)
            if generation != self.generation:
                return False
        try:
            with self._compute_lock:
                result = self._compute(covers, features, settings, generation, started)
        except _Superseded:
            return False
        except Exception as error:  # a refused setting: one line, keep the picture
            if generation == self.generation:
                self._refuse(one_line(error, first_line=True))
            return False
        finally:
            self._hide_progress(generation)
        return self._show(generation, result, started, settings)

    def _check(self, settings):
        """Why these settings cannot work (with the limit), or '' if they can."""
        rows, cols, sigma = settings["rows"], settings["cols"], settings["sigma"]
        n = len(self.covers.names)
        if rows * cols < n:
            fit_rows, fit_cols = grid_shape_for(n)
            return (f"{n} covers do not fit on {rows}x{cols} ({rows * cols} cells; "
                    f"the grid needs at least {n} cells, for example {fit_rows}x{fit_cols})")
        limit = sigma_limit(rows, cols)
        if sigma > limit:
            return (f"sigma {sigma:.1f} is wider than a {rows}x{cols} grid: at most {limit:.1f} "
                    f"(MiniSom's limit, the grid's diagonal {math.hypot(rows, cols):.2f})")
        neighbourhood = settings["neighborhood_function"]
        if neighbourhood in ("triangle", "bubble") and sigma != int(sigma):
            return (f"MiniSom's {neighbourhood} needs a whole-number sigma: "
                    f"{math.floor(sigma):.0f} or {math.ceil(sigma):.0f}, not {sigma:.1f}")
        return ""

    def _minisom_refusal(self, settings):
        """What MiniSom warns about these settings, as a refusal; '' if it warns of nothing.

        :meth:`_check` refuses what MiniSom 2.3.6 warns about, with the
        choices that would work; this catches what it does not foresee (a
        newer MiniSom's warnings). The map is built here, on the thread that
        asked (in a kernel, the one that runs the notebook's cells, busy with
        this call, so no cell of the notebook runs meanwhile), before the
        training thread builds the same map. Building it takes a fraction of a
        millisecond, and only for that long are warnings recorded. A warning
        that is not MiniSom's (one from another thread in that moment) is
        passed on as it came, so nothing is lost or shown as the explorer's.
        """
        chosen = som_settings(settings["preset"], sigma=settings["sigma"],
                              learning_rate=settings["learning_rate"],
                              neighborhood_function=settings["neighborhood_function"])
        options = {name: chosen[name] for name in ("sigma", "learning_rate", "neighborhood_function",
                                                   "topology", "decay_function",
                                                   "sigma_decay_function")}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            minisom.MiniSom(settings["rows"], settings["cols"], self.features.values.shape[1],
                            random_seed=settings["seed"], **options)
        ours = [caught_warning for caught_warning in caught if _is_minisoms(caught_warning)]
        for other in caught:
            if other not in ours:  # another thread's: on its way, unchanged
                warnings.warn_explicit(other.message, other.category, other.filename,
                                       other.lineno, source=other.source)
        if not ours:
            return ""
        text = one_line(ours[0].message, first_line=True).removeprefix("Warning: ").rstrip(".")
        return f"MiniSom warns: {text}"

    def _compute(self, covers, features, settings, generation, started):
        """Train, place, measure and draw; returns what :meth:`_show` needs.

        Invalid settings and a diverging training raise a ValueError (from
        :func:`arrange_covers`), so the settings are refused and the last
        good picture stays.
        """
        settings = dict(settings)
        rows, cols = settings.pop("rows"), settings.pop("cols")
        # One BLAS thread (as train_som does for its loop): placing and measuring ask BLAS
        # for small products, where a second thread costs more than it gives on a busy
        # 2-core machine (1,000 covers: 0.70 s against 0.79 s a whole update).
        with fast.one_blas_thread():
            arrangement = arrange_covers(covers, rows, cols, features=features,
                                         progress=self._reporter(generation, started),
                                         curve_points=10, **settings)  # no curve shown
            return self._draw(arrangement)

    def _compute_preview(self, covers, features, settings, generation):
        """The preview's arrangement (tutorial_kit/explorer_preview.py), drawn; None if superseded."""
        if generation != self.generation:
            return None
        return self._draw(preview_module.preview_arrangement(covers, features, settings,
                                                      starts=self._starts))

    def _draw(self, arrangement):
        """The mosaic (JPEG), the U-matrix (PNG) and its alt text of an arrangement."""
        mosaic, self._thumbs = view.mosaic_jpeg(arrangement, self.display_width,
                                               self.display_height, self._thumbs)
        distances = view.umatrix_distances(arrangement)
        return (arrangement, mosaic, view.umatrix_png(arrangement, self.umatrix_dpi, distances),
                view.umatrix_alt(arrangement, distances))

    def _show(self, generation, result, started=None, settings=None, preview=False):
        """Show a computed result (the online map, or a ``preview``), unless a newer
        update has started.

        Returns
        -------
        bool
            False if ``generation`` is no longer the newest (the result is
            discarded and the display is left alone).
        """
        with self._display_lock:
            if generation != self.generation:
                return False
            arrangement, mosaic_jpeg, umatrix_png, umatrix_alt = result
            shown = settings or dict(self.settings(), rows=arrangement.rows,
                                     cols=arrangement.cols, sigma=arrangement.settings["sigma"])
            took = time.perf_counter() - started if started is not None else None
            if preview:
                self.preview_seconds = took
                metrics = view.preview_metrics_html(preview_module.EPOCHS)
            else:
                self.seconds = took
                metrics = view.metrics_html(arrangement.quality)
            self._put_up(arrangement, shown, mosaic_jpeg, umatrix_png, umatrix_alt, metrics,
                         preview)
            self._set_stale(False)
            # never "0.75 / s": a no-break space before the unit
            during = f" in {took:.2f}\u00a0s" if took is not None else ""
            n = len(arrangement.covers.names)
            if preview:
                self._say(f"preview: batch SOM, {preview_module.EPOCHS} epochs{during}, "
                          f"{view.describe(shown, n, short=True)}; the online map is training ...")
            else:
                notes = "".join(f"; {note}" for note in self._notes + self._clamped)
                self._say(f"{view.describe(shown, n)}: trained{during}{notes}")
                self._final = (arrangement, shown, mosaic_jpeg, umatrix_png, umatrix_alt, metrics)
            return True

    def _put_up(self, arrangement, shown, mosaic_jpeg, umatrix_png, umatrix_alt, metrics, preview):
        """Put one picture (mosaic, U-matrix, metrics) into the widgets."""
        self.arrangement, self.shown, self.previewing = arrangement, shown, preview
        self.mosaic_jpeg, self.umatrix_png = mosaic_jpeg, umatrix_png
        self.mosaic.value = view.img_tag(mosaic_jpeg, "jpeg", self._mosaic_alt())
        self.umatrix.value = view.img_tag(umatrix_png, "png", umatrix_alt)
        self.metrics.value = metrics

    # -- drawing -------------------------------------------------------------

    def _mosaic_alt(self):
        arrangement = self.arrangement
        if arrangement is None:
            return "no mosaic yet"
        if self.previewing:
            return (f"Preview mosaic of {len(arrangement.covers.names)} covers arranged by a "
                    f"batch SOM of {preview_module.EPOCHS} epochs on a {arrangement.rows}x"
                    f"{arrangement.cols} grid ({view.describe(self.shown)}); the online map "
                    "is training.")
        return (f"Mosaic of {len(arrangement.covers.names)} covers arranged by the map on a "
                f"{arrangement.rows}x{arrangement.cols} grid ({view.describe(self.shown)}); "
                f"DPQ16 {arrangement.quality['dpq16']:.3f}.")

    # -- progress, state and messages -------------------------------------------

    def _reporter(self, generation, started):
        """A ``progress(done, total)`` callable: shows the bar after a delay,
        and stops a run that a newer setting has replaced."""
        bar = self.progress

        def report(done, total):
            if generation != self.generation:
                raise _Superseded
            if bar.layout.visibility != "visible":
                if time.perf_counter() - started < self.progress_delay or done >= total:
                    return
                bar.max = total
                bar.layout.visibility = "visible"
            bar.value = done
        return report

    def _hide_progress(self, generation):
        if generation == self.generation and self.progress.layout.visibility == "visible":
            self.progress.layout.visibility = "hidden"
            self.progress.value = 0

    def _still_showing(self, joiner=": "):
        if self.arrangement is None:
            return ""
        return f"{joiner}still showing {self._shown_text()}"

    def _shown_text(self):
        text = view.describe(self.shown, len(self.arrangement.covers.names), short=True)
        return f"the preview of {text}" if self.previewing else text

    def _back_to_the_online_map(self):
        """Show the last online map again, in place of a preview whose online map will not come."""
        if self._final is None:  # no online map yet: no picture
            self.arrangement = self.shown = None
            self.previewing = False
            self.mosaic_jpeg = self.umatrix_png = b""
            self.mosaic.value = self.umatrix.value = self.metrics.value = ""
            return
        arrangement, shown, mosaic_jpeg, umatrix_png, umatrix_alt, metrics = self._final
        self._put_up(arrangement, shown, mosaic_jpeg, umatrix_png, umatrix_alt, metrics, False)

    def _refuse(self, reason, name_settings=True):
        """The settings (or folder) cannot be shown: say why, dim the old picture.

        The line starts with the settings of the picture still shown, unless
        ``name_settings`` is False (a failed load names the folder instead).
        A preview on screen gives way to the last online map: its own online
        map will not come.
        """
        with self._display_lock:
            reason += "".join(f"; {note}" for note in self._clamped)
            if self.previewing:
                self._back_to_the_online_map()
            if self.arrangement is None:
                self._say(reason, "error")
                return
            self._set_stale(True)
            if name_settings:
                reason = f"still showing {self._shown_text()}: {reason}"
            self._say(reason, "error")

    def _set_stale(self, stale):
        self.stale = bool(stale)
        for picture in self._pictures:
            if self.stale:
                picture.add_class("som-stale")
            else:
                picture.remove_class("som-stale")

    def _say(self, text, kind="info"):
        """Put one line in the status area; kind is 'info' or 'error'."""
        colour = {"info": "#333", "error": "#b00020"}[kind]
        mark = "&#9888; " if kind == "error" else ""
        self.message = text
        self.status.value = (f'<div role="status" aria-live="polite" style="color:{colour}">'
                             f'{mark}{html.escape(text)}</div>')


class Panel:
    """Some of the explorer's controls, shown again (see :meth:`Explorer.panel`)."""

    def __init__(self, widget, names):
        self.widget, self.names = widget, names

    def _ipython_display_(self):
        from IPython.display import display
        display(self.widget)
        shown = f"the explorer's {', '.join(self.names)} control(s) with " if self.names else ""
        text = f"Here the live notebook shows {shown}the explorer's status line and mosaic."
        display({"text/html": f'<p class="som-explorer-static"><i>{html.escape(text)}</i></p>',
                 "text/plain": text}, raw=True)


def _is_minisoms(caught):
    """Whether a recorded warning (``warnings.WarningMessage``) was raised in MiniSom's module."""
    try:
        return Path(caught.filename).resolve() == Path(minisom.__file__).resolve()
    except (OSError, TypeError, ValueError):
        return False


def snap_to_step(value, start, step):
    """``value`` as the slider position it stands for, if it is one up to float error.

    A browser slider computes its value as ``start + n * step`` in floating
    point and sends, for example, 5.000000000000001 for the position 5.
    Such a value comes back as ``start + n * step`` rounded to 12 decimals;
    any other value (an in-between number set from code) is returned as it is.

    Examples
    --------
    >>> snap_to_step(5.000000000000001, 0.5, 0.5), snap_to_step(0.35000000000000003, 0.01, 0.01)
    (5.0, 0.35)
    >>> snap_to_step(2.3, 0.5, 0.5)
    2.3
    """
    if not step:
        return value
    position = (value - start) / step
    nearest = round(position)
    if abs(position - nearest) > 1e-6:
        return value
    return round(start + nearest * step, 12)


@functools.cache
def _stepped_slider_class():
    """An ipywidgets FloatSlider whose values are snapped by :func:`snap_to_step`.

    Made on first use, so that importing this module does not import ipywidgets.
    """
    import ipywidgets as w
    from traitlets import validate

    class SteppedFloatSlider(w.FloatSlider):
        """A FloatSlider that keeps its value on its steps, as its readout shows it."""

        @validate("value")
        def _validate_value(self, proposal):
            value = super()._validate_value(proposal)  # clamped to min and max
            return snap_to_step(value, self.min, self.step)

    return SteppedFloatSlider


def sigma_limit(rows, cols):
    """The largest sigma the explorer accepts on a rows x cols grid.

    MiniSom warns when sigma exceeds the grid's diagonal, sqrt(rows² + cols²);
    the sigma slider moves in steps of 0.5, so this is the diagonal rounded
    down to a multiple of 0.5.

    Examples
    --------
    >>> sigma_limit(2, 2)
    2.5
    """
    return math.floor(2 * math.hypot(rows, cols)) / 2


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


def _short_reason(error, folder):
    """Why ``folder`` could not be loaded, short enough for the status line.

    The first line of the error, without the examples in brackets (the
    first files skipped, and why) and without naming the folder a second time:
    "no readable cover: 9 files skipped".
    """
    return one_line(error, first_line=True).split(" (", 1)[0].replace(f" in '{folder}'", "")


def build_explorer(covers=BUNDLED_COVERS, *, display_width=480, display_height=560,
                   progress_delay=0.5, background=None, umatrix_dpi=100):
    """Sliders over the whole pipeline: change a setting, see the new map.

    Parameters
    ----------
    covers : str or Path
        Folder of covers to start with (it can be changed in the explorer).
    display_width, display_height : int
        Largest size in pixels of the mosaic (the page may shrink it to fit
        the window).
    progress_delay : float
        Seconds a training run must last before the progress bar appears.
    background : bool, optional
        Train in a background thread, so that a newer setting replaces the
        one training. By default True inside a Jupyter kernel.
    umatrix_dpi : int
        Resolution of the U-matrix figure: 100 draws it 250 px wide with
        10 px labels; the projector page (tutorial_kit/projector.py) draws it
        larger.

    Returns
    -------
    Explorer
        End a notebook cell with it to show it; its ``widget`` attribute is
        the ipywidgets box, its other attributes the controls and outputs.
        A folder that cannot be loaded gives a message in the explorer, not
        an exception.
    """
    return Explorer(covers, display_width=display_width, display_height=display_height,
                    progress_delay=progress_delay, background=background,
                    umatrix_dpi=umatrix_dpi)
