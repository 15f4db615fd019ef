"""Showing covers and grids with matplotlib (re-exported by helpers.py).

Functions that draw take data (images) and an optional matplotlib Axes, and
return the Axes they drew in. Figures are sized for the screen; the
full-resolution grid is saved with ``helpers.save_png`` instead.
"""

from __future__ import annotations

import numpy as np


def show_mosaic(mosaic, ax=None, title=None, width=9):
    """Show a grid image (from ``helpers.make_mosaic``) at screen size.

    Parameters
    ----------
    mosaic : ndarray of shape (height, width, 3)
    ax : matplotlib Axes, optional
        Where to draw; by default a new figure ``width`` inches wide.
    title : str, optional
    width : float

    Returns
    -------
    matplotlib Axes
    """
    import matplotlib.pyplot as plt

    if ax is None:
        height = width * mosaic.shape[0] / mosaic.shape[1] + (0.4 if title else 0)
        _, ax = plt.subplots(figsize=(width, height), layout="constrained")
    ax.imshow(mosaic, interpolation="antialiased")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def show_covers(images, titles=None, axes=None, width=9):
    """Show a few covers side by side, each with an optional title.

    Parameters
    ----------
    images : sequence of ndarray of shape (height, width, 3), uint8
        The covers; they may differ in size.
    titles : sequence of str, optional
        One per cover.
    axes : sequence of matplotlib Axes, optional
        One per cover; by default a new row of axes ``width`` inches wide.
    width : float

    Returns
    -------
    list of matplotlib Axes
    """
    import matplotlib.pyplot as plt

    images = [np.asarray(image) for image in images]
    if not images:
        raise ValueError("no covers to show")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"{len(images)} covers but {len(titles)} titles")
    if axes is None:
        height = width / len(images) * images[0].shape[0] / images[0].shape[1]
        _, axes = plt.subplots(1, len(images), figsize=(width, height + (0.5 if titles else 0.1)),
                               layout="constrained", squeeze=False)
        axes = axes[0]
    axes = list(axes)
    if len(axes) != len(images):
        raise ValueError(f"{len(images)} covers but {len(axes)} axes")
    for ax, image, title in zip(axes, images, titles or [None] * len(images)):
        ax.imshow(image, interpolation="antialiased")
        ax.set_axis_off()
        if title:
            ax.set_title(title, fontsize=9)
    return axes


class Picture:
    """A finished matplotlib figure as a JPEG with alt text, shown as ``<img alt>``.

    JupyterLab shows a plain figure output (``image/jpeg``) without any alt
    text (its image renderer reads no ``alt`` metadata), so a screen reader
    only hears "image". A notebook cell that ends with a Picture shows it as
    HTML: the same JPEG, at the size it was drawn (never stretched), with
    ``alt`` saying what it shows; ``text/plain`` carries the alt text too.

    Parameters
    ----------
    figure : matplotlib Figure
        Drawn into a JPEG at once, then closed (so it is not shown twice).
    alt : str
        What the figure shows, in words.
    dpi : float, optional
        By default the figure's own.

    Attributes
    ----------
    figure : matplotlib Figure
    alt : str
    jpeg : bytes
    width, height : int
        The JPEG's size in pixels.
    """

    def __init__(self, figure, alt, dpi=None):
        import io

        import matplotlib.pyplot as plt
        from PIL import Image

        if not str(alt).strip():
            raise ValueError("a picture needs alt text saying what it shows")
        buffer = io.BytesIO()
        figure.savefig(buffer, format="jpeg", dpi=dpi or figure.dpi, bbox_inches="tight",
                       pil_kwargs={"quality": 90})
        plt.close(figure)
        self.figure, self.alt, self.jpeg = figure, str(alt), buffer.getvalue()
        self.width, self.height = Image.open(io.BytesIO(self.jpeg)).size

    def html(self):
        """The ``<img>`` tag: the JPEG inline (a data URL), its size and its alt text.

        Returns
        -------
        str
        """
        import base64
        import html

        data = base64.b64encode(self.jpeg).decode("ascii")
        return (f'<img src="data:image/jpeg;base64,{data}" width="{self.width}" '
                f'height="{self.height}" alt="{html.escape(self.alt)}" '
                'style="max-width:100%;height:auto">')

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/html": self.html(), "text/plain": self.alt}


def show_figure(figure, alt):
    """Show a matplotlib figure with alt text: end a cell with it instead of ``plt.show()``.

    Parameters
    ----------
    figure : matplotlib Figure
    alt : str
        What the figure shows, in words (read out by screen readers).

    Returns
    -------
    Picture
        Shown as an ``<img>`` with that alt text.
    """
    return Picture(figure, alt)
