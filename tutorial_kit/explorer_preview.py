"""The explorer's preview: a batch SOM (tutorial_kit/batch.py) for the controls' settings.

While a slider moves, the explorer shows this first, in a few hundredths of
a second, and then the online map the notebooks teach (``helpers.arrange_covers``)
when that is trained. The two are different maps: the status line says
"preview: batch SOM, 10 epochs" until the online map replaces the preview,
and a preview has no quality figures (they come with the online map).

The preview starts where the online map starts (the same PCA start, or the
same seeded random weights), shrinks sigma over its epochs with the same
decay function, uses the same neighbourhood and the same placement.
"""

from __future__ import annotations

import numpy as np

from helpers import (Arrangement, TrainedSom, can_start_on_pca, decay_schedule, place_covers,
                     som_settings)
from tutorial_kit import batch, exact, fast

EPOCHS = 10  # enough for a picture close to the online map's (DPQ16 within about 0.02)


def can_preview(settings):
    """Whether the batch SOM can preview these settings (the mexican hat cannot).

    Parameters
    ----------
    settings : dict
        As ``Explorer.settings()`` gives them.

    Returns
    -------
    bool

    Examples
    --------
    >>> can_preview(dict(neighborhood_function="gaussian")), can_preview(
    ...     dict(neighborhood_function="mexican_hat"))
    (True, False)
    """
    return settings["neighborhood_function"] in batch.NEIGHBOURHOODS


def preview_start(features, settings, starts=None):
    """The map a preview starts from: the online map's start, and its MiniSom.

    Parameters
    ----------
    features : helpers.CoverFeatures
    settings : dict
        As ``Explorer.settings()`` gives them.
    starts : dict, optional
        A cache of PCA starts, keyed by (features, rows, cols): the start
        costs more than the epochs, and only changes with the grid.

    Returns
    -------
    som : minisom.MiniSom
        Built with the settings (and seed) the online map is built with.
    start : numpy.ndarray of shape (rows, cols, n_features)
        What ``helpers.train_som`` starts from: the PCA start, MiniSom's
        seeded random weights (preset 'original'), or random covers (a grid
        too small for a PCA start).
    chosen : dict
        The settings of ``helpers.train_som``.
    """
    from minisom import MiniSom

    rows, cols = settings["rows"], settings["cols"]
    chosen = som_settings(settings["preset"], grid=(rows, cols), sigma=settings["sigma"],
                          learning_rate=settings["learning_rate"],
                          iterations=settings["iterations"],
                          neighborhood_function=settings["neighborhood_function"])
    data = features.values
    options = {name: chosen[name] for name in ("sigma", "learning_rate", "neighborhood_function",
                                               "topology", "decay_function",
                                               "sigma_decay_function")}
    som = MiniSom(rows, cols, data.shape[1], random_seed=settings["seed"], **options)
    initialization = chosen["initialization"]
    if initialization == "pca" and not can_start_on_pca(data.shape[1], rows, cols):
        initialization = "samples"
    if initialization == "pca":
        key = (features, rows, cols)
        starts = {} if starts is None else starts
        if key not in starts:
            if len(starts) >= 8:
                starts.pop(next(iter(starts)))
            starts[key] = exact.pca_start(data, rows, cols)
        return som, starts[key], chosen
    if initialization == "samples":
        som.random_weights_init(data)
    return som, som.get_weights().copy(), chosen


def preview_arrangement(covers, features, settings, epochs=EPOCHS, starts=None):
    """A batch-SOM arrangement of the covers for the explorer's settings.

    Parameters
    ----------
    covers : helpers.CoverSet
    features : helpers.CoverFeatures
    settings : dict
        As ``Explorer.settings()`` gives them (rows, cols, preset, placement,
        seed, sigma, learning_rate, iterations, neighborhood_function).
    epochs : int
        Batch epochs; sigma falls over them as over the online map's steps.
    starts : dict, optional
        As for :func:`preview_start`.

    Returns
    -------
    helpers.Arrangement
        ``trained.som`` holds the batch map (its curve is empty) and
        ``quality`` is empty: the quality figures are the online map's.
    """
    som, start, chosen = preview_start(features, settings, starts)
    data = features.values
    sigmas = decay_schedule(chosen["sigma_decay_function"], chosen["sigma"], epochs)[:epochs]
    with fast.one_blas_thread():  # small products: one thread is quicker, and leaves a core free
        weights = batch.train_batch(data, start, sigmas, chosen["neighborhood_function"])
        som.get_weights()[...] = weights
        placement = place_covers(weights, data, settings["placement"])
    trained = TrainedSom(som, np.zeros(0, dtype=int), np.zeros(0))
    return Arrangement(covers, features, trained, placement, settings["rows"], settings["cols"],
                       chosen, {})
