"""The small slider demos that sit next to their concepts in notebooks 04, 05 and 06.

Each demo is a picture and one or two controls: moving a control redraws the
picture. The drawing functions take the data they show and return a
:class:`~tutorial_kit.figures.Picture` (a JPEG with alt text saying what it
shows); :func:`picture_demo` wires one to its controls. The full explorer,
with every setting, is notebook 07's (tutorial_kit/explorer.py).

What a demo does for everyone (issue 19):

- the picture is drawn on a background thread, newest request first
  (``explorer_worker.LatestRequestWorker``, as the explorer does), so the
  kernel hears every move of a control at once: while the picture lags
  behind the controls it is dimmed and the status line says which settings
  it still shows and which are being drawn (the page dims it already at the
  key press or click, before the kernel hears of it);
- the picture is an ``<img>`` with alt text, at the size it was drawn (no
  stretching), and fits a 1366x768 screen with its controls;
- the arrow keys on a focused dropdown, slider or toggle change its value
  instead of moving JupyterLab to another cell, slider handles and
  dropdowns are named after their label, toggles say ``aria-pressed``, and
  focused controls get a 3 px ring (the explorer's mechanism: a line of
  script run by an image that fails to load on purpose);
- views without widgets (``jupyter nbconvert --to html``, GitHub) show the
  first picture as a static fallback, which live views hide.
"""

from __future__ import annotations

import html
import threading

import numpy as np

from tutorial_kit.explorer_view import page_script, script_head
from tutorial_kit.explorer_worker import LatestRequestWorker
from tutorial_kit.figures import Picture

STYLE = """<style>
.som-demo .widget-label, .som-demo .widget-readout, .som-demo select, .som-demo button { font-size: 14px; }
.som-demo .som-demo-status { font-size: 14px; color: #333; min-height: 1.5em; }
.som-demo .som-stale img, .som-demo .som-demo-wait img { opacity: 0.4; transition: opacity 0.2s; }
.som-demo select:focus, .som-demo button:focus, .som-demo input:focus,
.som-demo .noUi-handle:focus { outline: 3px solid #1a5fb4 !important; outline-offset: 1px; }
.som-demo .som-demo-picture img { display: block; width: auto; height: auto;
  max-width: 100%; max-height: max(240px, calc(100vh - 250px)); }
.som-demo-static { display: none !important; }
</style>"""
# Marks the demo's controls so that JupyterLab's notebook shortcuts leave their keys
# alone (Lumino skips an element with data-lm-suppress-shortcuts), names slider
# handles and dropdowns after their label, gives a handle its readout as its value
# text (a selection slider's handle would otherwise say its position, 4, not 5000),
# keeps aria-pressed on the toggles in step with the selected one, and lets the
# arrow keys move between toggles (a MutationObserver repeats the marking whenever
# the widgets redraw).
SCRIPT = page_script("som-demo", (
    "var fix=function(){"
    "r.querySelectorAll('select, button, input, .noUi-handle').forEach(function(e){"
    "if(!e.hasAttribute('data-lm-suppress-shortcuts'))"
    "e.setAttribute('data-lm-suppress-shortcuts','true')});"
    "r.querySelectorAll('.widget-inline-hbox').forEach(function(w){"
    "var l=w.querySelector('.widget-label');if(!l||!l.textContent)return;var t=l.textContent;"
    "var v=w.querySelector('.widget-readout');v=v&&v.textContent.trim();"
    "w.querySelectorAll('.noUi-handle, select').forEach(function(h){"
    "if(h.getAttribute('aria-label')!==t)h.setAttribute('aria-label',t);"
    "if(v&&h.classList.contains('noUi-handle')&&h.getAttribute('aria-valuetext')!==v)"
    "h.setAttribute('aria-valuetext',v)});"
    "var g=w.querySelector('.widget-toggle-button');"
    "if(g&&g.parentElement.getAttribute('aria-label')!==t){"
    "g.parentElement.setAttribute('role','group');g.parentElement.setAttribute('aria-label',t)}});"
    "r.querySelectorAll('.widget-toggle-button').forEach(function(b){"
    "var p=b.classList.contains('mod-active')?'true':'false';"
    "if(b.getAttribute('aria-pressed')!==p)b.setAttribute('aria-pressed',p)});};"
    "fix();new MutationObserver(fix).observe(r,{subtree:true,childList:true,characterData:true,"
    "attributes:true,attributeFilter:['class','aria-valuetext']});"
    "r.addEventListener('keydown',function(e){var b=e.target;"
    "if(!b.classList||!b.classList.contains('widget-toggle-button'))return;"
    "var d={ArrowRight:1,ArrowDown:1,ArrowLeft:-1,ArrowUp:-1}[e.key];if(!d)return;"
    "e.preventDefault();e.stopPropagation();"
    "var all=Array.prototype.slice.call(b.parentElement.querySelectorAll('.widget-toggle-button'));"
    "var i=all.indexOf(b)+d;if(i<0||i>=all.length)return;all[i].click();all[i].focus();});"
    # Dim at once on a key or click on a control, before the kernel hears of it; the
    # kernel's status line then takes over (or, if nothing changed, 1.5 s later).
    "var pic=r.querySelector('.som-demo-picture'),st=r.querySelector('.som-demo-status'),tm;"
    "var done=function(){clearTimeout(tm);if(pic)pic.classList.remove('som-demo-wait')};"
    "var wait=function(e){if(!pic||pic.contains(e.target)||st.contains(e.target))return;"
    "if(e.type==='keydown'&&!/^(Arrow|Home|End|Page)/.test(e.key))return;"
    "pic.classList.add('som-demo-wait');clearTimeout(tm);tm=setTimeout(done,1500)};"
    "['keydown','pointerdown','change'].forEach(function(t){r.addEventListener(t,wait,true)});"
    "if(st)new MutationObserver(done).observe(st,{subtree:true,childList:true,characterData:true});"
    "r.setAttribute('data-som-demo-ready','true');"))
HEAD = script_head(STYLE, SCRIPT)


class PictureDemo:
    """A picture redrawn by ``draw(**values)`` whenever one of ``controls`` moves.

    ``widget`` is what the notebook shows; ``picture`` the HTML widget that
    holds the ``<img>``, ``status`` the line that says which settings it
    shows, ``controls`` the control widgets by name. ``shown`` holds the
    values the picture was drawn with and ``stale`` is True while they
    differ from the controls' (the picture is then dimmed).
    """

    def __init__(self, draw, **controls):
        import ipywidgets as w

        self.draw, self.controls = draw, controls
        self._lock = threading.Lock()
        self._worker = LatestRequestWorker(self._run, name="som-demo")
        for control in controls.values():
            control.style.description_width = "initial"  # whole labels, never cut off
            if isinstance(control, w.ToggleButtons):
                control.style.button_width = "auto"
        self.head = w.HTML(HEAD, layout=w.Layout(height="0px", overflow="hidden", margin="0"))
        self.status = w.HTML()
        self.status.add_class("som-demo-status")
        self.picture = w.HTML()
        self.picture.add_class("som-demo-picture")
        self.shown, self.stale = None, False
        self.last = self._show(self._values())  # the first picture, drawn at once
        for control in controls.values():
            control.observe(self._on_change, names="value")
        row = w.HBox(list(controls.values()), layout=w.Layout(flex_flow="row wrap"))
        self.widget = w.VBox([self.head, row, self.status, self.picture],
                             layout=w.Layout(align_items="flex-start"))
        self.widget.add_class("som-demo")

    def _values(self):
        return {name: control.value for name, control in self.controls.items()}

    def _describe(self, values):
        def label(name):
            return self.controls[name].description or name
        return ", ".join(f"{label(name)} {value:,}" if isinstance(value, int) and not isinstance(value, bool)
                         else f"{label(name)} {value}" for name, value in values.items())

    def _show(self, values):
        """Draw ``values`` and put the picture on screen (dimmed if the controls moved on)."""
        picture = self.draw(**values)
        if not isinstance(picture, Picture):  # a bare matplotlib figure: its titles as alt text
            picture = Picture(picture, "Figure: " + "; ".join(
                ax.get_title() for ax in picture.axes if ax.get_title()) or "a figure")
        with self._lock:
            self.picture.value = picture.html()
            self.shown = values
            self._set_stale(values != self._values())
        return picture

    def _set_stale(self, stale):
        """Dim the picture or not, and say what it shows (call with the lock held)."""
        self.stale = stale
        if stale:
            self.picture.add_class("som-stale")
            text = (f"Updating the picture for {self._describe(self._values())}: it still shows "
                    f"{self._describe(self.shown)}.")
        else:
            self.picture.remove_class("som-stale")
            text = f"The picture shows {self._describe(self.shown)}."
        self.status.value = f'<div role="status" aria-live="polite">{html.escape(text)}</div>'

    def _on_change(self, change):
        with self._lock:
            self._set_stale(True)
        self._worker.submit(True)

    def _run(self, _job):
        values = self._values()
        try:
            self.last = self._show(values)
        except Exception as error:  # noqa: BLE001 - said on screen; the thread must live on
            with self._lock:
                self._set_stale(True)
                text = (f"Could not draw the picture for {self._describe(values)}: {error}. "
                        f"It still shows {self._describe(self.shown)}.")
                self.status.value = (f'<div role="status" aria-live="polite" style="color:#b00020">'
                                     f'&#9888; {html.escape(text)}</div>')

    def wait(self, timeout=60):
        """Wait until the picture is drawn for the controls' values; True if it is."""
        return self._worker.wait(timeout) and not self.stale

    def static_html(self):
        """The first (or last) picture for views without widgets, which live views hide.

        Returns
        -------
        str
        """
        return ('<div class="som-demo-static"><p><i>The demo as a picture (run the notebook '
                f'to move its controls): {html.escape(self._describe(self.shown))}.</i></p>'
                f'{self.last.html()}</div>')

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)
        display({"text/html": self.static_html(),
                 "text/plain": f"Demo picture: {self.last.alt}"}, raw=True)


def picture_demo(draw, **controls):
    """A :class:`PictureDemo`: ``draw(**values)`` returns a Picture (or a figure); ``controls`` are widgets."""
    return PictureDemo(draw, **controls)


def _figure(width, height):
    """A matplotlib Figure outside pyplot: the demos draw on a thread, and a figure pyplot
    knows of could be shown by whatever cell runs meanwhile."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


DPI = 100  # 10-point text is 14 px: readable, and every demo fits a 1366x768 laptop


def neighbourhood_figure(values, images, rows, cols, sigma, neighbourhood, seed=42):
    """Notebook 04: h around the grid's middle neuron, and the covers on a quick map.

    The quick map trains 2,000 steps with the default settings but this sigma and
    neighbourhood; each cover is shown on its own cell (notebook 06 explains how).
    Returns a :class:`~tutorial_kit.figures.Picture`.
    """
    from minisom import MiniSom

    import helpers

    figure = _figure(10, 4.6)
    ax_shape, ax_map = figure.subplots(1, 2, width_ratios=[1, 1.3])
    h = MiniSom(rows, cols, 1, sigma=sigma, neighborhood_function=neighbourhood).neighborhood(
        (rows // 2, cols // 2), sigma)
    figure.colorbar(ax_shape.imshow(h, cmap="viridis", vmin=0), ax=ax_shape, shrink=0.8, label="h")
    ax_shape.set_title(f"{neighbourhood}, sigma {sigma}: h at the winner {h.max():g}")
    reached = int((h > 0.01 * h.max()).sum())
    alt = (f"Left: h of the {neighbourhood} neighbourhood with sigma {sigma} on the {rows} x "
           f"{cols} grid, in colour around the middle neuron: {h.max():g} at the winner, and "
           f"{reached} of {rows * cols} neurons get more than 1% of that. ")
    try:
        quick = helpers.train_som(values, rows, cols, random_seed=seed, **helpers.som_settings(
            "default", sigma=sigma, neighborhood_function=neighbourhood, iterations=2000))
        where = helpers.place_covers(quick.som.get_weights(), values).positions
        helpers.show_mosaic(helpers.make_mosaic(images, where, rows, cols, border=2), ax=ax_map)
        ax_map.set_title("the covers on a quick map (2,000 steps)")
        alt += (f"Right: the {len(values)} covers on a map trained 2,000 steps with these "
                "settings, one cover per cell.")
    except ValueError as error:  # e.g. the triangle's big steps make training diverge
        ax_map.set_axis_off()
        ax_map.text(0.5, 0.5, "\n".join(str(error).split("; ")), ha="center", va="center", wrap=True)
        alt += f"Right: no map, training failed: {error}"
    return Picture(figure, alt)


def learning_curve_figure(values, rows, cols, iterations, seed=42):
    """Notebook 05: the learning curves of both presets trained for ``iterations`` steps.

    Returns a :class:`~tutorial_kit.figures.Picture`.
    """
    import helpers

    figure = _figure(8, 3.4)
    ax = figure.subplots()
    said = []
    for preset, label in (("original", "2019 post's settings"), ("default", "default settings")):
        settings = helpers.settings_for_grid(preset, rows, cols, iterations=iterations)
        run = helpers.train_som(values, rows, cols, random_seed=seed, **settings)
        qe, te = run.som.quantization_error(values), run.som.topographic_error(values)
        ax.plot(run.curve_iterations, run.curve_errors, marker=".", label=f"{label}: QE {qe:.0f}, TE {te:.2f}")
        said.append(f"{label} (at the end QE {qe:.0f}, TE {te:.2f})")
    ax.set_xlabel("training step $t$")
    ax.set_ylabel("quantization error")
    ax.set_title(f"Learning curves, {iterations:,} steps")
    ax.legend()
    return Picture(figure, f"Learning curves over {iterations:,} steps: the quantization error "
                           f"against the training step for the {said[0]} and the {said[1]}.")


def grid_size_figure(values, rows, cols, seed=42):
    """Notebook 06: how many covers each neuron wins on a rows x cols map (default settings).

    Returns a :class:`~tutorial_kit.figures.Picture`.
    """
    import helpers

    som = helpers.train_som(values, rows, cols, random_seed=seed,
                            **helpers.settings_for_grid("default", rows, cols, iterations=2000)).som
    count = som.activation_response(values)
    figure = _figure(5.5, 4.6)
    ax = figure.subplots()
    shown = ax.imshow(count, cmap="magma", vmin=0, vmax=max(3, count.max()))
    figure.colorbar(shown, ax=ax, shrink=0.8, label="covers won")
    empty, several, most = int((count == 0).sum()), int((count > 1).sum()), int(count.max())
    ax.set_title(f"{rows} x {cols} map: {empty} neurons win no cover,\n"
                 f"{several} win several (up to {most})")
    ax.set_xticks([])
    ax.set_yticks([])
    return Picture(figure, f"The {rows} x {cols} map's neurons as squares coloured by how many "
                           f"covers each wins: {empty} win no cover (black), {several} win several "
                           f"(up to {most}).")


def fill_figure(images, values, positions, winners, rows, cols, title):
    """Notebook 06: an arrangement, with the covers more than one cell from their winner in red.

    The whole grid fits 3.8 inches of height (380 px): with its title, the demo and its
    controls fit a 1366x768 laptop screen. Returns a :class:`~tutorial_kit.figures.Picture`.
    """
    from matplotlib.patches import Rectangle

    import helpers

    moved = np.linalg.norm(positions - winners, axis=1)
    height, width = images.shape[1:3]
    aspect = rows * height / (cols * width)  # the grid's height over its width
    grid_height = min(3.8, 6.5 * aspect)
    figure = _figure(max(4.2, grid_height / aspect + 0.2), grid_height + 0.75)
    ax = figure.subplots()
    helpers.show_mosaic(helpers.make_mosaic(images, positions, rows, cols, border=2), ax=ax)
    far = int((moved > 1.5).sum())
    for (r, c), distance in zip(positions, moved):
        if distance > 1.5:  # more than one cell (diagonals included) from its winner
            ax.add_patch(Rectangle((c / cols, 1 - (r + 1) / rows), 1 / cols, 1 / rows,
                                   transform=ax.transAxes, fill=False, edgecolor="red", linewidth=2))
    quality = helpers.dpq(values, positions)
    ax.set_title(f"{title}: DPQ16 {quality:.3f}\n"
                 f"red: {far} covers more than one cell from their winner", fontsize=10)
    return Picture(figure, f"The {len(positions)} covers on the {rows} x {cols} grid, "
                           f"{title}: DPQ16 {quality:.3f}; the {far} covers more than one cell "
                           "from their winner have red frames.")
