"""What the explorer draws: the mosaic, the U-matrix, the quality table and the words.

Plain functions of an arrangement (``helpers.Arrangement``), so each can be
read and tested without widgets; ``tutorial_kit/explorer.py`` puts what they
return into its widgets.
"""

from __future__ import annotations

import base64
import html
import io
import threading

import numpy as np
from PIL import Image

from helpers import make_mosaic

# Styles of the explorer, and one line of script. The style block makes the
# text 14 px, dims a stale picture (its images; the quality figures turn grey
# and italic, still 7:1 against white, so they stay readable), draws a 3 px
# focus ring (6:1 against white) and hides the static fallback picture
# (which front ends without widgets show instead). The script, run by an
# image that fails to load on purpose (widget HTML runs no <script> tags),
# marks the explorer's dropdowns, buttons and slider handles so that
# JupyterLab's notebook shortcuts leave their keys alone (Lumino skips an
# element with ``data-lm-suppress-shortcuts``): without it, the arrow keys on
# a focused dropdown move to the next cell instead of changing the value. It also makes the status line a live
# region for screen readers, gives each slider handle and dropdown its name,
# and the folder box its tooltip as its name.
STYLE = """<style>
.som-explorer { --jp-widgets-font-size: 14px; font-size: 14px; line-height: 1.4; }
.som-explorer .widget-label, .som-explorer .widget-readout, .som-explorer select,
.som-explorer input, .som-explorer button { font-size: 14px; }
.som-explorer .som-stale img { opacity: 0.4; transition: opacity 0.2s; }
.som-explorer .som-stale .som-explorer-metrics td { color: #595959 !important; font-style: italic; }
.som-explorer select:focus, .som-explorer button:focus, .som-explorer input:focus,
.som-explorer .noUi-handle:focus { outline: 3px solid #1a5fb4 !important; outline-offset: 1px; }
.som-explorer .som-explorer-mosaic img { display: block; width: auto; height: auto;
  max-width: 100%; max-height: max(240px, calc(100vh - 250px)); }
.som-explorer .som-explorer-umatrix img { display: block; max-width: 100%; height: auto; }
.som-explorer details summary { cursor: pointer; }
.som-explorer-panel .som-explorer-mosaic img { max-height: min(360px, calc(100vh - 230px)); }
.som-explorer-static { display: none !important; }
</style>"""


def page_script(root, body):
    """One line of script that runs ``body`` with ``r``, the page element of class ``root``.

    Widget HTML runs no ``<script>`` tags, so the script runs as the error
    handler of an image that fails to load on purpose (see :func:`script_head`);
    it waits up to 10 s for the widgets around it to be drawn.
    """
    return ("var img=this,go=function(n){var r=img.closest('." + root + "');"
            "if(!r){if(n<100)setTimeout(function(){go(n+1)},100);return;}" + body + "};go(0);")


def script_head(style, script):
    """HTML that puts up ``style`` and runs ``script`` (from :func:`page_script`) once shown."""
    return style + f'<img src="data:," alt="" style="display:none" onerror="{html.escape(script)}">'


SCRIPT = page_script("som-explorer", (
    "r.querySelectorAll('select, button, .noUi-handle').forEach(function(e){"
    "e.setAttribute('data-lm-suppress-shortcuts','true')});"
    "var s=r.querySelector('.som-explorer-status');"
    "if(s){s.setAttribute('role','status');s.setAttribute('aria-live','polite');}"
    "r.querySelectorAll('.widget-slider, .widget-dropdown').forEach(function(w){"
    "var l=w.querySelector('.widget-label');if(!l)return;"
    "w.querySelectorAll('.noUi-handle, select').forEach(function(h){"
    "h.setAttribute('aria-label',l.textContent)})});"
    "r.querySelectorAll('.som-explorer-folder input').forEach(function(e){"
    "e.setAttribute('aria-label',e.title||'folder of covers')});"))
HEAD = script_head(STYLE, SCRIPT)



def mosaic_jpeg(arrangement, display_width, display_height, thumbs=(None, None)):
    """The mosaic at screen size, as JPEG bytes, and the shrunk covers for the next call.

    The cells are as large as fits in ``display_width`` x ``display_height``
    (the page shrinks it further to the window). The covers are shrunk once
    per cell size (``thumbs`` keeps them) and then pasted. JPEG, not PNG:
    the covers are photos, and the mosaic is then about ten times smaller
    and quicker to encode and send.

    Parameters
    ----------
    arrangement : helpers.Arrangement
    display_width, display_height : int
    thumbs : ((int, int), numpy.ndarray) or (None, None)
        What the last call returned: the cell size and the covers at that size.

    Returns
    -------
    bytes, ((int, int), numpy.ndarray)
    """
    border = 2
    images = arrangement.covers.images
    height, width = images.shape[1:3]
    rows, cols = arrangement.rows, arrangement.cols
    cell_w = (display_width + border) / cols - border
    cell_w = min(cell_w, ((display_height + border) / rows - border) * width / height)
    cell_w = max(8, int(cell_w))
    cell_h = max(8, round(cell_w * height / width))
    if thumbs[0] != (cell_w, cell_h):
        small = np.stack([np.asarray(Image.fromarray(image).resize(
            (cell_w, cell_h), Image.Resampling.LANCZOS)) for image in images])
        thumbs = ((cell_w, cell_h), small)
    mosaic = make_mosaic(thumbs[1], arrangement.placement.positions, rows, cols, border=border)
    buffer = io.BytesIO()
    Image.fromarray(mosaic).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue(), thumbs


# MiniSom's distance_map visits a neuron's eight neighbours in this order (rectangular grid)
_NEIGHBOURS = ((0, -1), (-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1))


def umatrix_distances(arrangement):
    """The U-matrix of the arrangement's map: ``som.distance_map(scaling="mean")``, the largest 1.

    Each neuron's mean distance to its (up to eight) grid neighbours, divided
    by the largest such mean. On a rectangular grid it is computed here for
    all neurons at once (MiniSom loops over them in Python: 20 ms at 1,000
    covers), with MiniSom's arithmetic in MiniSom's order; tests/test_explorer.py
    compares the two.

    Parameters
    ----------
    arrangement : helpers.Arrangement

    Returns
    -------
    numpy.ndarray of shape (rows, cols)
        0 everywhere if all weights are equal.
    """
    som = arrangement.trained.som
    weights = som.get_weights()
    rows, cols = weights.shape[:2]
    with np.errstate(divide="ignore", invalid="ignore"):  # all weights equal: 0 / 0
        if getattr(som, "topology", None) != "rectangular" or rows * cols < 2:
            return np.nan_to_num(som.distance_map(scaling="mean"))
        padded = np.full((rows + 2, cols + 2, weights.shape[2]), np.nan)
        padded[1:-1, 1:-1] = weights
        total, count = np.zeros((rows, cols)), np.zeros((rows, cols))
        for i, j in _NEIGHBOURS:
            difference = weights - padded[1 + i:1 + i + rows, 1 + j:1 + j + cols]
            distance = np.sqrt(np.einsum("ijk,ijk->ij", difference, difference))
            inside = ~np.isnan(distance)
            total += np.where(inside, distance, 0.0)
            count += inside
        means = total / count
        return np.nan_to_num(means / means.max())


def umatrix_png(arrangement, dpi=100, distances=None):
    """The U-matrix as PNG bytes, with title and colour bar.

    Parameters
    ----------
    arrangement : helpers.Arrangement
    dpi : int
    distances : numpy.ndarray, optional
        :func:`umatrix_distances` of the arrangement, if already computed.

    Returns
    -------
    bytes
    """
    if distances is None:
        distances = umatrix_distances(arrangement)
    key = (*distances.shape, dpi)
    with _PLOTS_LOCK:  # one figure per grid size and dpi, shared by all explorers
        if key not in _PLOTS:
            if len(_PLOTS) >= 8:
                _PLOTS.pop(next(iter(_PLOTS)))
            _PLOTS[key] = UMatrixPlot(*key)
        return _PLOTS[key].png(distances)


def describe(settings, n_covers=None, short=False):
    """The settings in words.

    Short: '100 covers on 10x10, sigma 4, seed 42, learning rate 0.5' (what the
    tour changes most); long: '100 covers on 10x10, sigma 4, seed 42, gaussian,
    learning rate 0.5, 5,000 iterations, assignment (default start and decay)'.
    """
    text = f"{settings['rows']}x{settings['cols']}, sigma {settings['sigma']:g}, seed {settings['seed']}"
    if n_covers is not None:
        text = f"{n_covers} covers on {text}"
    if short:
        return f"{text}, learning rate {settings['learning_rate']:g}"
    return (f"{text}, {settings['neighborhood_function']}, learning rate "
            f"{settings['learning_rate']:g}, {settings['iterations']:,} iterations, "
            f"{settings['placement']} ({settings['preset']} start and decay)")


def img_tag(data, kind, alt):
    encoded = base64.b64encode(bytes(data)).decode("ascii")
    return f'<img src="data:image/{kind};base64,{encoded}" alt="{html.escape(alt)}">'


def umatrix_alt(arrangement, distances=None):
    """The U-matrix's alt text: where it is darkest, and how much of it is light."""
    if distances is None:
        distances = umatrix_distances(arrangement)
    row, col = np.unravel_index(np.argmax(distances), distances.shape)
    light = np.mean(distances < 0.5)
    return (f"U-matrix of the {arrangement.rows}x{arrangement.cols} map: each square is one "
            f"neuron, dark where its neighbours learned different covers. The darkest square "
            f"is at row {row}, column {col}; {light:.0%} of the squares are light "
            f"(below half the largest distance).")


def skipped_html(skipped):
    if not skipped:
        return ""
    items = "".join(f"<li><code>{html.escape(name)}</code>: {html.escape(reason)}</li>"
                    for name, reason in skipped)
    return (f"<details><summary>&#9888; {len(skipped)} file(s) skipped: show which and why"
            f"</summary><ul style='margin:4px 0;padding-left:1.2em'>{items}</ul></details>")


def metrics_html(quality):
    """The quality figures as a small HTML table: name, value, what it says in words."""
    rows = [("QE", f"{quality['quantization_error']:.1f}",
             "mean distance from a cover to its neuron: lower means the neurons fit the covers"),
            ("TE", f"{quality['topographic_error']:.3f}",
             "share of covers whose two best neurons are not neighbours: lower is smoother"),
            ("DPQ16", f"{quality['dpq16']:.3f}",
             "Distance Preservation Quality (Barthel et al. 2023): do similar covers sit "
             "close? 1 is perfect")]
    if "same_genre" in quality:
        rows.append(("same genre", f"{quality['same_genre']:.0%}",
                     f"of side-by-side covers share a genre (random layout: "
                     f"{quality['same_genre_random']:.0%})"))
    cells = "".join(
        f'<tr><td style="padding:2px 6px 2px 0;vertical-align:top"><b>{name}</b></td>'
        f'<td style="padding:2px 6px 2px 0;text-align:right;vertical-align:top">{value}</td>'
        f'<td style="color:#444;padding:2px 0">{html.escape(note)}</td></tr>'
        for name, value, note in rows)
    return f'<table style="line-height:1.35;margin:4px 0;font-size:14px">{cells}</table>'


def preview_metrics_html(epochs):
    """What the quality table says while a preview is shown: the figures come with the online map."""
    text = (f"Preview: a batch SOM of {epochs} epochs, a quick sketch of the map. "
            "QE, TE and DPQ16 come with the online map, trained next.")
    return f'<p style="margin:4px 0;font-size:14px;color:#444">{html.escape(text)}</p>'


_PLOTS = {}  # (rows, cols, dpi) -> UMatrixPlot
_PLOTS_LOCK = threading.Lock()


class UMatrixPlot:
    """A U-matrix figure for one grid size, drawn in full once.

    A matplotlib figure takes about 0.1 s to draw, a fifth of an update.
    Title, axes and colour bar stay the same from map to map, so we keep
    them as a background picture and for each new map paint only the
    cells on top of it (matplotlib's "blitting"), which takes 10 ms.
    """

    def __init__(self, rows, cols, dpi=100):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator

        self.shape = (rows, cols)
        width = 2.5  # inches; at 100 dpi, the 250 px column beside the mosaic
        cells = min(3.2, width * 0.85 * rows / cols)  # height of the cells, inches
        figure = Figure(figsize=(width, cells + 1.45), dpi=dpi, layout="constrained")
        self.canvas = FigureCanvasAgg(figure)
        self.axes = figure.add_subplot()
        self.image = self.axes.imshow(np.zeros(self.shape), cmap="bone_r", vmin=0, vmax=1,
                                      interpolation="nearest", aspect="auto")
        self.axes.set_title("U-matrix", fontsize=11)
        self.axes.set_xlabel("column", fontsize=10)
        self.axes.set_ylabel("row", fontsize=10)
        # Whole rows and columns only, and no more labels than fit (one per 24 px).
        for axis, inches in ((self.axes.xaxis, width * 0.8), (self.axes.yaxis, cells)):
            axis.set_major_locator(MaxNLocator(nbins=max(1, int(inches * 100 / 24)),
                                               integer=True, min_n_ticks=1))
        self.axes.tick_params(labelsize=10)
        bar = figure.colorbar(self.image, ax=self.axes, orientation="horizontal",
                              fraction=0.08, aspect=25, ticks=[0, 0.5, 1])
        bar.set_label("dark: far from its neighbours", fontsize=10)
        bar.ax.tick_params(labelsize=9)
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
