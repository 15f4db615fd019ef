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
