"""Helpers for the tutorial "Arranging movie covers with a Self-Organizing Map".

The notebooks call this module section by section, in the order they teach; each
section uses only those above it: 1. loading (``load_covers``), 2. features
(``make_features``), 3. training (``train_som``), 4. placement (``place_covers``),
5. quality (``dpq``), 6. rendering (``make_mosaic``), 7. the pipeline (``arrange_covers``).
The plumbing students need not open (input checks, figures, image decoding, safe writing,
the download, the explorer and ``python helpers.py COVERS_DIR``) is in ``tutorial_kit/``.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import NamedTuple

import numpy as np

from tutorial_kit import checks, exact, fast
from tutorial_kit import images as _images
from tutorial_kit.figures import show_covers, show_figure, show_mosaic  # noqa: F401  (re-exported)
from tutorial_kit.files import save_png  # noqa: F401  (re-exported)
from tutorial_kit.progress import progress_reporter

DATA_DIR = Path(__file__).resolve().parent / "data"
BUNDLED_COVERS = DATA_DIR / "covers"

# ---------------------------------------------------------------------------
# 1. Loading covers
# ---------------------------------------------------------------------------

# A cover folder holds JPEG, PNG or WebP files. `load_covers` turns it into one
# uint8 array of shape (N, height, width, 3) and reports, by name, every file it
# could not use. The decoding that survives odd files lives in
# tutorial_kit/images.py; the download of the 2019 post's covers in
# tutorial_kit/download.py.


class CoverSet(NamedTuple):
    """The covers of one folder, as returned by :func:`load_covers`.

    Attributes
    ----------
    images : numpy.ndarray
        uint8 array of shape (N, height, width, 3): cover ``i`` is ``images[i]``.
    names : list of str
        File names (not paths) of the N covers, in sorted order.
    skipped : list of (str, str)
        ``(file name, reason)`` for every file that is not in ``images``
        (control characters in the name escaped, so it is safe to print).
    resized : str
        One line saying how many covers were resized, and to what size;
        empty when every cover already had the working size.
    """

    images: np.ndarray
    names: list[str]
    skipped: list[tuple[str, str]]
    resized: str = ""


def load_covers(folder, size=None, max_side=_images.MAX_SIDE) -> CoverSet:
    """Load every cover of a folder into one uint8 array.

    Files are read in sorted order of their names; hidden files and
    subfolders are ignored. Every other file is either loaded or listed in
    ``skipped`` with a reason: nothing is dropped silently. Each cover is
    turned upright (EXIF), converted to 8-bit RGB (transparent parts become
    white), scaled until it covers the working size and centre-cropped
    (padding bars would add colours that the map would learn from).

    Parameters
    ----------
    folder : str or pathlib.Path
        Folder of ``.jpg``, ``.jpeg``, ``.png`` or ``.webp`` files (any case).
    size : (int, int), optional
        ``(width, height)`` of the covers. By default the size most covers
        share (if more than half do), otherwise their median aspect ratio at
        their median area, shrunk if needed to a long side of ``max_side``:
        one huge photo or one icon never decides the size of the others.
    max_side : int
        Longest side of the default size in pixels; it bounds the memory.

    Returns
    -------
    CoverSet

    Raises
    ------
    ValueError
        If ``folder`` is not a folder, ``size`` is not two positive integers,
        or no file is a readable cover. A problem with one file only skips it.

    Examples
    --------
    >>> covers = load_covers(BUNDLED_COVERS)
    >>> covers.images.shape, covers.names[0], covers.skipped
    ((100, 278, 185, 3), 'poster_000.jpg', [])
    """
    return CoverSet(*_images.read_folder(folder, size, max_side))

# ---------------------------------------------------------------------------
# 2. Features
# ---------------------------------------------------------------------------
# The 2019 post standardises each pixel of the flattened covers (154,290 numbers
# at 185x278). N centred covers span at most N-1 directions: on those principal
# axes every distance stays, so the SOM learns the same map from N-1 numbers. We
# find the axes from the N x N Gram matrix, never a D x D covariance (190 GB).


EXACT_UP_TO, MAX_COMPONENTS = 200, 50  # a bigger folder keeps its main axes (tutorial_kit/fast.py)


def squared_distances(a, b):
    """All squared Euclidean distances between the rows of ``a`` and those of ``b``.

    Parameters
    ----------
    a : array_like of shape (m, n_features)
    b : array_like of shape (k, n_features)

    Returns
    -------
    numpy.ndarray of shape (m, k)
        ``[i, j]`` is ``||a[i] - b[j]||^2``, as scipy's ``cdist`` computes it.

    Examples
    --------
    >>> squared_distances([[0, 0], [3, 4]], [[0, 0]]).tolist()
    [[0.0], [25.0]]
    """
    return fast.cdist(checks.features(a, "a"), checks.features(b, "b"), "sqeuclidean")


class CoverFeatures:
    """The covers on their principal axes, as made by :func:`make_features`.

    Parameters
    ----------
    values : numpy.ndarray of shape (n_covers, n_components)
    mean, scale : numpy.ndarray of shape (n_pixels,)
    coefficients : numpy.ndarray of shape (n_components, n_covers)
        Feature vector ``v`` stands for the standardised pixels ``v @ coefficients @ X``.
    images : numpy.ndarray of shape (n_covers, height, width, 3), uint8
    variance_kept : float
        1 when ``values`` keeps every distance exactly.

    Attributes
    ----------
    values : numpy.ndarray of shape (n_covers, n_components)
        One row per cover, as far apart as the covers' standardised pixels.
    mean, scale : numpy.ndarray of shape (n_pixels,)
        StandardScaler's ``mean_`` and ``scale_`` of the pixel columns.
    image_shape : tuple
        ``(height, width, 3)`` of one cover.
    variance_kept : float
        The share of the standardised pixels' variance that ``values`` holds
        (1: all of it, so every distance is exact).
    """

    def __init__(self, values, mean, scale, coefficients, images, variance_kept=1.0):
        self.values = values
        self.mean = mean
        self.scale = scale
        self.image_shape = images.shape[1:]
        self.variance_kept = variance_kept
        self._coefficients = coefficients  # what inverse_transform mixes the covers by
        self._images = images

    def __len__(self):
        return len(self.values)

    def inverse_transform(self, vectors):
        """The pictures that feature vectors (or a map's neurons) stand for.

        Parameters
        ----------
        vectors : array_like of shape (m, n_components)

        Returns
        -------
        numpy.ndarray of shape (m, height, width, 3), uint8

        Examples
        --------
        >>> features = make_features(load_covers(BUNDLED_COVERS).images[:4])
        >>> back = features.inverse_transform(features.values[:1])
        >>> back.shape, int(abs(back[0].astype(int) - load_covers(BUNDLED_COVERS).images[0]).max()) <= 1
        ((1, 278, 185, 3), True)
        """
        vectors = np.atleast_2d(np.asarray(vectors, dtype=np.float64))
        if vectors.shape[1] != self.values.shape[1]:
            raise ValueError(f"expected vectors with {self.values.shape[1]} features, "
                             f"got {vectors.shape[1]}")
        mix = vectors @ self._coefficients  # (m, n_covers): each vector is a mix of the covers
        pixels = self._images.reshape(len(self._images), -1)
        out = np.empty((len(mix), pixels.shape[1]), dtype=np.uint8)
        # p = x * scale + mean, so mixing the x mixes the p, plus (1 - sum(mix)) * mean
        for start in range(0, pixels.shape[1], 16384):  # never a float copy of all the covers
            cols = slice(start, start + 16384)
            block = mix @ pixels[:, cols] + np.outer(1 - mix.sum(1), self.mean[cols])
            out[:, cols] = np.clip(np.rint(block), 0, 255)
        return out.reshape((len(mix),) + self.image_shape)


def make_features(images):
    """Standardise the covers' pixels (as StandardScaler) and keep their principal coordinates.

    Each cover becomes one row of numbers that are exactly as far apart as
    the covers' standardised pixels (Theory 3 of notebook 02): the principal
    coordinates ``F = U sqrt(Lambda)`` of the Gram matrix ``G = X X^T``.

    Parameters
    ----------
    images : numpy.ndarray of shape (n_covers, height, width, 3), uint8
        At least 2 covers.

    Returns
    -------
    CoverFeatures
        One row per cover, at most ``n_covers - 1`` columns (past ``EXACT_UP_TO``
        covers, the ``MAX_COMPONENTS`` main axes, found from a sample).

    Raises
    ------
    ValueError
        Not a uint8 array of covers, fewer than 2 covers, or all covers identical.

    Examples
    --------
    >>> features = make_features(load_covers(BUNDLED_COVERS).images[:10])
    >>> features.values.shape, features.variance_kept
    ((10, 9), 1.0)
    """
    images = checks.cover_images(images)
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
        raise ValueError("images must be a uint8 array of shape (N, height, width, 3), "
                         f"got {images.dtype} {images.shape}")
    if len(images) < 2:
        raise ValueError(f"need at least 2 covers to compare, got {len(images)}")
    pixels = images.reshape(len(images), -1)
    mean, scale, varying = fast.column_stats(pixels)  # StandardScaler's mean_ and scale_
    if not varying.any():
        raise ValueError(f"all {len(images)} covers are identical, pixel for pixel: "
                         "there is nothing to arrange")
    if len(pixels) > EXACT_UP_TO:  # the N x N Gram matrix would take N^2 x D steps
        return CoverFeatures(mean=mean, scale=scale, images=images,
                             **fast.big_folder_features(pixels, mean, scale, varying, MAX_COMPONENTS))
    # G = X X^T of the standardised pixels X, computed so that every CPU gets the
    # same matrix to the last bit (tutorial_kit/exact.py says how).
    gram = exact.exact_gram(pixels, mean, scale)
    # X's columns sum to zero, so G @ ones = 0; double centring (as in classical
    # MDS) removes the rounding that would leave an N-th, noise column.
    gram = gram - gram.mean(axis=0) - gram.mean(axis=1)[:, None] + gram.mean()
    # G = U diag(lam) U^T, largest first: np.linalg.eigh does this too, but its last
    # bits depend on the CPU, and a chaotic map (the 2019 post's) would then differ.
    lam, u = exact.symmetric_eigen(gram)
    keep = lam > lam[0] * 1e-10  # directions without variance carry no distance
    lam, u = lam[keep], u[:, keep]
    # An eigenvector's sign is arbitrary; like scikit-learn's PCA (svd_flip), make
    # each axis' largest entry positive, so every machine learns the same map.
    u = exact.fix_signs(u)
    return CoverFeatures(u * np.sqrt(lam), mean, scale, (u / np.sqrt(lam)).T, images)  # F = U sqrt(lam)


def neighbours_to_compare(n_covers, k=5):
    """How many nearest covers to compare: ``k``, or fewer in a folder of ``k`` covers or less.

    Parameters
    ----------
    n_covers : int, the number of covers (at least 2)
    k : int, the number wanted

    Returns
    -------
    int
        ``min(k, n_covers - 1)``: a cover has only ``n_covers - 1`` others.

    Examples
    --------
    >>> neighbours_to_compare(100), neighbours_to_compare(3)
    (5, 2)
    """
    n_covers, k = checks.value("n_covers", n_covers), checks.value("k", k)
    return min(k, n_covers - 1)

# ---------------------------------------------------------------------------
# 3. Training
# ---------------------------------------------------------------------------
# A Self-Organizing Map (Kohonen, 1982) is a grid of neurons with weight vectors
# as long as a cover's features. For one cover at a time, the closest neuron (the
# winner) and, less, its grid neighbours move towards it. MiniSom holds the map.


PRESETS = {
    # The 2019 post: MiniSom's random weights, train_random(data, 2500), asymptotic decay.
    "original": dict(sigma=3.0, learning_rate=0.5, iterations=2500,
                     neighborhood_function="triangle", topology="rectangular",
                     decay_function="asymptotic_decay", sigma_decay_function="asymptotic_decay",
                     initialization="random"),
    # Ours, the best DPQ16 over settings and seeds (benchmarks/README.md): a smooth
    # neighbourhood, a start on the principal axes, rates that fall linearly.
    "default": dict(sigma=4.0, learning_rate=0.5, iterations=5000,
                    neighborhood_function="gaussian", topology="rectangular",
                    decay_function="linear_decay_to_zero",
                    sigma_decay_function="linear_decay_to_one", initialization="pca"),
}
INITIALIZATIONS = ("random", "samples", "pca")
NEIGHBORHOODS = ("gaussian", "triangle", "bubble", "mexican_hat")  # MiniSom's names
DECAY_FUNCTIONS = ("asymptotic_decay", "linear_decay_to_zero", "inverse_decay_to_zero",
                   "linear_decay_to_one", "inverse_decay_to_one")


def som_settings(preset="default", grid=None, **overrides):
    """The :func:`train_som` settings of a preset, some of them changed.

    Parameters
    ----------
    preset : {'default', 'original'}
        'original' is the 2019 post's; 'default' is ours (``PRESETS``).
    grid : (int, int), optional
        ``(rows, cols)``: a big map trains 20 steps a neuron (from 5,000 up to
        20,480 steps) unless ``iterations`` is given.
    **overrides
        Settings to change; ``None`` leaves a setting as the preset has it.

    Returns
    -------
    dict
        The keyword arguments of :func:`train_som` but ``random_seed``.

    Raises
    ------
    ValueError
        An unknown preset or setting name.

    Examples
    --------
    >>> som_settings("original")["neighborhood_function"], som_settings(sigma=2)["sigma"]
    ('triangle', 2)
    >>> som_settings(grid=(32, 32))["iterations"]
    20480
    """
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
    settings = dict(PRESETS[preset])
    unknown = set(overrides) - set(settings)
    if unknown:
        raise ValueError(f"unknown setting(s) {sorted(unknown)}; known: {sorted(settings)}")
    settings.update({k: v for k, v in overrides.items() if v is not None})
    if preset == "default" and grid is not None and overrides.get("iterations") is None:
        settings["iterations"] = max(settings["iterations"], min(20 * grid[0] * grid[1], 20480))
    return settings


def settings_for_grid(preset, rows, cols, **changes):
    """:func:`som_settings`, with sigma narrowed to fit a tiny grid.

    MiniSom warns when sigma is wider than the grid's diagonal; on a 2 x 2 grid the
    default's sigma 4 is. The sigma used is then the diagonal rounded down to a whole
    number, which the triangle and the bubble accept.

    Parameters
    ----------
    preset : {'default', 'original'}
    rows, cols : int, the grid
    **changes : settings to change, as for :func:`som_settings`

    Returns
    -------
    dict, the settings for :func:`train_som`

    Examples
    --------
    >>> settings_for_grid("default", 10, 10)["sigma"], settings_for_grid("default", 2, 2)["sigma"]
    (4.0, 2.0)
    """
    rows, cols = checks.grid(rows, cols)
    settings = som_settings(preset, **changes)
    settings["sigma"] = min(settings["sigma"], float(np.floor(np.hypot(rows, cols))))
    return settings


def can_start_on_pca(n_features, rows, cols):
    """Whether a PCA start is possible: it needs two features and a grid of at least 2 x 2.

    Parameters
    ----------
    n_features : int, the length of a cover's feature vector
    rows, cols : int, the grid

    Returns
    -------
    bool (:func:`train_som` starts from random covers where it is False)

    Examples
    --------
    >>> can_start_on_pca(99, 10, 10), can_start_on_pca(1, 1, 2)
    (True, False)
    """
    n_features, (rows, cols) = checks.value("n_features", n_features), checks.grid(rows, cols)
    return n_features >= 2 and min(rows, cols) >= 2


PROGRESS_STOPS = 20  # train_som tells its progress every 5% of the way


class TrainedSom(NamedTuple):
    """What :func:`train_som` returns: the map and its learning curve.

    Attributes
    ----------
    som : minisom.MiniSom
        The trained map; ``som.get_weights()`` has shape (rows, cols, n_features).
    curve_iterations : numpy.ndarray
        The steps at which the quantization error was measured.
    curve_errors : numpy.ndarray
        The quantization error there: the mean distance of the covers (500 of
        a bigger folder) to their winning neurons.
    """
    som: object
    curve_iterations: np.ndarray
    curve_errors: np.ndarray


def train_som(data, rows, cols, *, sigma, learning_rate, iterations,
              neighborhood_function="gaussian", topology="rectangular",
              decay_function="linear_decay_to_zero", sigma_decay_function="linear_decay_to_one",
              initialization="pca", random_seed=42, progress=None, curve_points=50):
    """Train a MiniSom map step by step, as ``train_random`` does, with a learning curve.

    The steps are MiniSom's own ``update(x, winner(x), t, T)``, in
    ``train_random``'s order (the same map, tested bit for bit); the loop
    pauses ``curve_points`` times to measure the quantization error. On a
    map of more than 32 x 32 neurons with the gaussian, a step leaves out the
    neurons where the gaussian is below 1e-8 of its peak, far from the
    winner (``tutorial_kit.fast.train_steps_windowed``): the weights then
    differ from MiniSom's in the last digits only.

    Parameters
    ----------
    data : array_like of shape (n_covers, n_features)
    rows, cols : int
        The grid.
    sigma : float > 0
        The initial neighbourhood radius, in cells.
    learning_rate : float > 0
        The initial step size.
    iterations : int
        The number of single-cover updates.
    neighborhood_function : {'gaussian', 'triangle', 'bubble', 'mexican_hat'}
    topology : {'rectangular', 'hexagonal'}
    decay_function, sigma_decay_function : str
        MiniSom's decay functions (``DECAY_FUNCTIONS``).
    initialization : {'pca', 'random', 'samples'}
        The two main principal axes (the same on every CPU), MiniSom's random
        weights (the 2019 post's), or random covers.
    random_seed : int
        Same seed, same map.
    progress : True or callable, optional
        True shows a bar on long runs; a callable is called ``f(done, total)``.
    curve_points : int
        How many quantization errors to record, evenly spaced (besides the
        first); ``progress`` is told every ``PROGRESS_STOPS``-th of the way.

    Returns
    -------
    TrainedSom

    Raises
    ------
    ValueError
        A setting out of range, or a training that diverged.

    Examples
    --------
    >>> data = make_features(load_covers(BUNDLED_COVERS).images[:12]).values
    >>> trained = train_som(data, 3, 4, **som_settings(sigma=1.5, iterations=200), curve_points=4)
    >>> trained.som.get_weights().shape, trained.curve_iterations.tolist()
    ((3, 4, 11), [0, 50, 100, 150, 200])
    >>> bool(trained.curve_errors[-1] < trained.curve_errors[0])
    True
    """
    from minisom import MiniSom
    settings = dict(sigma=sigma, learning_rate=learning_rate, iterations=iterations,
                    neighborhood_function=neighborhood_function, topology=topology,
                    decay_function=decay_function, sigma_decay_function=sigma_decay_function,
                    initialization=initialization)
    data, (rows, cols) = checks.features(data), checks.grid(rows, cols)
    settings.update({name: checks.value(name, settings[name]) for name in ("sigma", "learning_rate")})
    iterations = checks.value("iterations", settings.pop("iterations"))
    random_seed, curve_points = checks.value("random_seed", random_seed), checks.value(
        "curve_points", curve_points)
    initialization = settings.pop("initialization")
    if initialization not in INITIALIZATIONS:
        raise ValueError(f"initialization must be one of {INITIALIZATIONS}, got {initialization!r}")
    if initialization == "pca" and not can_start_on_pca(data.shape[1], rows, cols):
        initialization = "samples"
    som = MiniSom(rows, cols, data.shape[1], random_seed=random_seed, **settings)
    if initialization == "samples":
        som.random_weights_init(data)
    elif initialization == "pca":
        # MiniSom's pca_weights_init, with axes that are the same on every CPU
        som.get_weights()[...] = exact.pca_start(data, rows, cols)
    order = np.arange(iterations) % len(data)  # train_random's order: each cover equally
    # often, shuffled by the map's own generator (MiniSom 2.3.6's private name for it;
    # a MiniSom without it gets a generator of the same seed: not train_random's order)
    generator = getattr(som, "_random_generator", None)
    (generator or np.random.RandomState(random_seed)).shuffle(order)
    # The curve's points, and the stops where progress is reported (and a caller may stop
    # the training): the loop pauses at both. A curve point measures 500 covers against
    # every neuron (0.09 s on a 100x100 map), so a run that shows no curve asks for few.
    curve_at = np.unique(np.linspace(0, iterations, min(curve_points, iterations) + 1).astype(int))
    stops = np.union1d(curve_at, np.linspace(0, iterations, min(PROGRESS_STOPS, iterations) + 1).astype(int))
    seconds = iterations * (2.5e-5 + 1e-9 * rows * cols * (data.shape[1] + 20))  # on 2 cores
    report, curve = progress_reporter(progress, iterations, seconds), []
    sample = data[np.unique(np.linspace(0, len(data) - 1, min(len(data), 500)).astype(int))]
    # (divergence is checked below; one BLAS thread: the loop's products are small)
    with np.errstate(over="ignore", invalid="ignore"), fast.one_blas_thread():
        for start, stop in zip(stops[:-1], stops[1:]):
            if start in curve_at:
                curve.append((start, som.quantization_error(sample)))
            report(start)
            # for t in start..stop-1: som.update(x, som.winner(x), t, iterations), x = data[order[t]]
            fast.train_steps(som, data, order[start:stop], start, iterations)
        curve.append((iterations, som.quantization_error(sample)))
    report(iterations)
    # A too-large learning rate (or mexican_hat's negative neighbours) makes the
    # weights grow without bound; healthy ones stay among the covers.
    weights, limit = som.get_weights(), 100 * max(np.abs(data).max(), 1)
    if not (np.isfinite(weights).all() and np.abs(weights).max() <= limit):
        raise ValueError(checks.divergence(settings, len(data)))
    steps, errors = zip(*curve)
    return TrainedSom(som, np.array(steps), np.array(errors))


def decay_schedule(name, start, iterations):
    """The learning rate or sigma at every step, as MiniSom's decay function computes it.

    Parameters
    ----------
    name : str
        One of ``DECAY_FUNCTIONS`` (the 2019 post used 'asymptotic_decay').
    start : float
        The value at step 0.
    iterations : int
        The number of steps.

    Returns
    -------
    numpy.ndarray of shape (iterations + 1,)

    Examples
    --------
    >>> decay_schedule("linear_decay_to_zero", 0.5, 4).tolist()
    [0.5, 0.375, 0.25, 0.125, 0.0]
    """
    from minisom import MiniSom
    if name not in DECAY_FUNCTIONS:
        raise ValueError(f"unknown decay function {name!r}; choose one of {DECAY_FUNCTIONS}")
    iterations, start = checks.value("iterations", iterations), checks.value("start", start)
    decay = getattr(MiniSom(1, 1, 1), "_" + name)  # MiniSom's method for that option
    return np.asarray(decay(start, np.arange(iterations + 1), iterations), dtype=np.float64)

# ---------------------------------------------------------------------------
# 4. Placement
# ---------------------------------------------------------------------------
# Several covers can win one neuron, others none. The 2019 post keeps each neuron's first cover
# and pours the rest into the empty cells; optimal assignment gives each its own cell at the least
# total distance. Then, like LAS (Barthel et al., 2023), swapping nearby covers polishes it.


PLACEMENTS = ("assignment", "greedy")


class Placement(NamedTuple):
    """Where each cover goes, as returned by :func:`place_covers`.

    Attributes
    ----------
    positions : numpy.ndarray of shape (n_covers, 2), int
        ``(row, col)`` of each cover; ``(-1, -1)`` for a dropped cover.
    dropped : list of int
        The indices of the dropped covers (only with ``allow_drop=True``).
    """
    positions: np.ndarray
    dropped: list


def grid_shape_for(n_covers):
    """The smallest near-square grid with room for every cover.

    Parameters
    ----------
    n_covers : int

    Returns
    -------
    (int, int)
        ``(rows, cols)`` with ``rows * cols >= n_covers`` and ``cols`` at most ``rows + 1``.

    Examples
    --------
    >>> grid_shape_for(100), grid_shape_for(37), grid_shape_for(2)
    ((10, 10), (6, 7), (1, 2))
    """
    n_covers = checks.value("n_covers", n_covers)
    rows = int(np.floor(np.sqrt(n_covers)))
    cols = -(-n_covers // rows)
    if cols > rows + 1:  # rows x (rows + 1) is too small: the next square fits
        rows, cols = rows + 1, rows + 1
    return rows, cols


def _check_placement(n_covers, rows, cols, strategy, allow_drop):
    if strategy not in PLACEMENTS:
        raise ValueError(f"placement must be one of {PLACEMENTS}, got {strategy!r}")
    if n_covers > rows * cols and not allow_drop:
        raise ValueError(f"{n_covers} covers do not fit on a {rows}x{cols} grid ({rows * cols} "
                         "cells); use at least {}x{}".format(*grid_shape_for(n_covers)))


def place_covers(weights, data, strategy="assignment", allow_drop=False):
    """Give every cover one cell of the trained map.

    Parameters
    ----------
    weights : array_like of shape (rows, cols, n_features)
        The map's ``som.get_weights()``.
    data : array_like of shape (n_covers, n_features)
        The features it learnt from.
    strategy : {'assignment', 'greedy'}
        'greedy', the 2019 post's: the first cover to win a neuron stays there,
        the others fill the empty cells in row-major order. 'assignment': the
        matching with the least total squared distance (linear_sum_assignment;
        past 4,000 covers, solved in overlapping windows of the grid).
    allow_drop : bool
        Drop the covers that do not fit, rather than name the smallest grid that fits.

    Returns
    -------
    Placement

    Examples
    --------
    >>> weights = np.array([[[0.0], [1.0]], [[2.0], [3.0]]])
    >>> place_covers(weights, [[2.9], [0.2], [3.1]]).positions.tolist()
    [[1, 0], [0, 0], [1, 1]]
    >>> place_covers(weights, [[2.9], [0.2], [3.1]], "greedy").positions.tolist()
    [[1, 1], [0, 0], [0, 1]]
    """
    from tutorial_kit.fast import linear_sum_assignment  # scipy's, imported in 1 ms, not 0.35 s
    data = checks.features(data)
    weights = np.asarray(weights, dtype=np.float64)
    if weights.ndim != 3 or weights.shape[2] != data.shape[1]:
        raise ValueError(f"weights of shape {weights.shape} do not match features "
                         f"with {data.shape[1]} columns")
    rows, cols = weights.shape[:2]
    _check_placement(len(data), rows, cols, strategy, allow_drop)
    windowed = strategy == "assignment" and fast.DENSE_ASSIGNMENT_UP_TO < len(data) <= rows * cols
    # (the windows need only parts of the covers x cells table: 800 MB for 10,000 covers)
    cost = (fast.SquaredDistances if windowed else squared_distances)(
        data, weights.reshape(rows * cols, -1))
    cell_of = np.full(len(data), -1)
    if windowed:
        cell_of = fast.windowed_assignment(cost, rows, cols)  # N^3 would dominate
    elif strategy == "assignment":
        covers, cells = linear_sum_assignment(cost)
        cell_of[covers] = cells
    else:
        winners, taken, collided = cost.argmin(axis=1), np.zeros(rows * cols, dtype=bool), []
        for cell in range(rows * cols):  # row-major, as in the post
            for cover in np.flatnonzero(winners == cell):
                if taken[cell]:
                    collided.append(cover)
                else:
                    cell_of[cover], taken[cell] = cell, True
        for cover, cell in zip(collided, np.flatnonzero(~taken)):
            cell_of[cover] = cell
    positions, placed = np.full((len(data), 2), -1), cell_of >= 0
    positions[placed] = np.column_stack(np.unravel_index(cell_of[placed], (rows, cols)))
    return Placement(positions, np.flatnonzero(~placed).tolist())

# ---------------------------------------------------------------------------
# 5. Quality
# ---------------------------------------------------------------------------
# MiniSom's quantization and topographic errors judge the neurons, not where the
# covers sit. Distance Preservation Quality (DPQ; Barthel, Hezel, Jung and
# Schall, 2023) asks if each cover's grid neighbours are its most similar covers.


# Past 4,000 covers, DPQ and the mean distance of all pairs are measured from 2,000
# evenly spaced covers to all others (benchmarks/work/posters_3000 at seed 42, with the
# swaps: DPQ16 from 2,000 of them 0.90865, from all 0.90869); below, from every cover.
DPQ_EXACT_UP_TO, DPQ_SAMPLE = 4000, 2000


def _sampled_covers(n_covers):
    """The covers DPQ measures from: all, or DPQ_SAMPLE evenly spaced ones past DPQ_EXACT_UP_TO."""
    if n_covers <= DPQ_EXACT_UP_TO:
        return np.arange(n_covers)
    return np.unique(np.linspace(0, n_covers - 1, DPQ_SAMPLE).round().astype(int))


def dpq(data, positions, p=16):
    """Distance Preservation Quality DPQ_p of a grid arrangement, in [0, 1]: 1 is perfect.

    Each cover's neighbours are sorted by feature distance (the best order) and
    by grid distance (ties broken by feature distance). D_k, the mean distance
    to the first k, averaged over covers, gains max(0, (mean - D_k) / mean) on a
    random cover. DPQ_p = ||grid gains||_p / ||best gains||_p (Barthel, Hezel,
    Jung and Schall, 2023, report p = 16). Past ``DPQ_EXACT_UP_TO`` covers the
    averages run over ``DPQ_SAMPLE`` evenly spaced covers (each against all others).

    Parameters
    ----------
    data : array_like of shape (n_covers, n_features)
        The features, one row per cover.
    positions : array_like of shape (n_covers, 2), int
        ``(row, col)`` of each cover; dropped covers, ``(-1, -1)``, are left out.
    p : float >= 1
        The norm.

    Returns
    -------
    float

    Examples
    --------
    >>> data = [[0.0], [1.0], [2.0], [3.0]]
    >>> dpq(data, [[0, 0], [0, 1], [0, 2], [0, 3]])
    1.0
    >>> round(dpq(data, [[0, 0], [0, 3], [0, 1], [0, 2]]), 3)
    0.25
    """
    p = checks.value("p", p)
    best, grid = dpq_gains(data, positions)
    best_norm = np.linalg.norm(best, ord=p)
    if best_norm == 0:
        return 1.0  # all covers equally far apart: every layout is as good
    return float(np.linalg.norm(grid, ord=p) / best_norm)


class GainCurves(NamedTuple):
    """The two gain curves that DPQ compares, as :func:`dpq_gains` returns them.

    Attributes
    ----------
    best : numpy.ndarray of shape (n_covers - 1,)
        G_k, k = 1 .. n - 1, with each cover's neighbours in the best order (by features).
    grid : numpy.ndarray of shape (n_covers - 1,)
        G_k with the neighbours in grid order (ties broken by feature distance).
    """

    best: np.ndarray
    grid: np.ndarray


def dpq_gains(data, positions):
    """The gain curves G_k behind :func:`dpq`: how much closer than an average pair the k nearest are.

    D_k is the mean distance from a cover to its first k neighbours, averaged
    over the covers; G_k = max(0, (mean distance - D_k) / mean distance).
    DPQ_p is the p-norm of ``grid`` over that of ``best``.

    Parameters
    ----------
    data, positions
        As for :func:`dpq`.

    Returns
    -------
    GainCurves

    Examples
    --------
    >>> curves = dpq_gains([[0.0], [1.0], [2.0], [3.0]], [[0, 0], [0, 1], [0, 2], [0, 3]])
    >>> curves.best.round(3).tolist(), curves.grid.round(3).tolist()
    ([0.4, 0.25, 0.0], [0.4, 0.25, 0.0])
    """
    from tutorial_kit.fast import cdist  # scipy's, without importing scipy.spatial (0.25 s)
    data = checks.features(data)
    positions, placed = checks.positions(positions, len(data))
    data, positions, n = data[placed], positions[placed], placed.sum()  # dropped covers left out
    if n < 2:
        raise ValueError("DPQ needs at least two placed covers")
    # Each cover's distances to the n - 1 others, sorted in both orders and summed over
    # the covers, a block of covers at a time (10,000 covers' N x N distances: 800 MB).
    # Past DPQ_EXACT_UP_TO covers, the sums run over DPQ_SAMPLE evenly spaced covers.
    covers, k = _sampled_covers(n), np.arange(1, n)

    def block_sums(block):  # the distance total and the sums of D_k of a block of covers
        rows = covers[block]
        others = np.arange(n) != rows[:, None]
        d = cdist(data[rows], data)[others].reshape(-1, n - 1)
        (r, c), (r2, c2) = positions[rows].T[:, :, None], positions.T
        steps = ((r - r2) ** 2 + (c - c2) ** 2)[others].reshape(-1, n - 1)  # squared grid distances
        nearest = np.argsort(d, axis=1)  # the best order
        by_features = np.take_along_axis(d, nearest, axis=1)
        # the grid order: by grid distance, ties by feature distance (a stable sort of the best order)
        steps = np.take_along_axis(steps.astype(np.min_scalar_type(steps.max())), nearest, axis=1)
        by_grid = np.take_along_axis(by_features, np.argsort(steps, axis=1, kind="stable"), axis=1)
        return (d.sum(), (np.cumsum(by_features, axis=1) / k).sum(axis=0),
                (np.cumsum(by_grid, axis=1) / k).sum(axis=0))

    # (the blocks are shared by two threads; their sums are added in order, as one thread would)
    total, best, grid = 0.0, 0.0, 0.0
    for block_total, block_best, block_grid in fast.in_threads(block_sums, fast.row_blocks(len(covers), n)):
        total, best, grid = total + block_total, best + block_best, grid + block_grid
    n_rows = len(covers)
    mean = total / (n_rows * (n - 1))

    def gains(sums):  # of D_k, k = 1 .. n - 1, the mean over the covers
        return np.maximum(0.0, (mean - sums / n_rows) / mean)

    return GainCurves(gains(best), gains(grid))


def _side_by_side(positions, placed, required=True):
    """Index pairs (i, j) of placed covers that are grid neighbours (right or below)."""
    index = {tuple(positions[i]): i for i in np.flatnonzero(placed)}
    pairs = [(i, index[(r + dr, c + dc)]) for (r, c), i in index.items()
             for dr, dc in ((0, 1), (1, 0)) if (r + dr, c + dc) in index]
    if required and not pairs:
        raise ValueError("no two covers sit side by side")
    return np.array(sorted(pairs), dtype=int).reshape(-1, 2)


def neighbour_distance_ratio(data, positions):
    """Mean feature distance of side-by-side covers over that of all placed pairs.

    About 1.0 for a random layout, lower for a good one.

    Parameters
    ----------
    data, positions
        As for :func:`dpq`.

    Returns
    -------
    float

    Examples
    --------
    >>> data = [[0.0], [1.0], [2.0], [3.0]]
    >>> round(neighbour_distance_ratio(data, [[0, 0], [0, 1], [1, 0], [1, 1]]), 3)
    0.9
    """
    from tutorial_kit.fast import cdist, pdist  # scipy's, without importing scipy.spatial (0.25 s)
    data = checks.features(data)
    positions, placed = checks.positions(positions, len(data))
    pairs = _side_by_side(positions, placed)
    side_by_side = np.linalg.norm(data[pairs[:, 0]] - data[pairs[:, 1]], axis=1).mean()
    data = data[placed]
    covers = _sampled_covers(len(data))  # all of them, unless there are thousands
    if len(covers) == len(data):
        return float(side_by_side / pdist(data).mean())
    total = sum(fast.in_threads(lambda block: cdist(data[covers[block]], data).sum(),  # (a cover
                                fast.row_blocks(len(covers), len(data))))  # to itself adds 0)
    return float(side_by_side / (total / (len(covers) * (len(data) - 1))))


def same_genre_share(genres, positions):
    """How often side-by-side covers share a genre, and how often random pairs do.

    Parameters
    ----------
    genres : sequence
        One genre per cover.
    positions : array_like of shape (n_covers, 2), int
        As for :func:`dpq`.

    Returns
    -------
    (float, float)
        ``(share of side-by-side pairs with one genre, share expected of random pairs)``.

    Examples
    --------
    >>> same_genre_share(["war", "war", "noir", "noir"], [[0, 0], [0, 1], [1, 0], [1, 1]])
    (0.5, 0.3333333333333333)
    """
    genres = np.asarray(genres)
    positions, placed = checks.positions(positions, len(genres), "genres")
    pairs = _side_by_side(positions, placed)
    n, counts = placed.sum(), np.unique(genres[placed], return_counts=True)[1]
    expected = (counts * (counts - 1)).sum() / (n * (n - 1))
    return float((genres[pairs[:, 0]] == genres[pairs[:, 1]]).mean()), float(expected)


def quality_report(som, data, positions, genres=None):
    """All quality figures of one arrangement, in a dict.

    Parameters
    ----------
    som : minisom.MiniSom
        The trained map.
    data, positions
        As for :func:`dpq`.
    genres : sequence, optional
        One genre per cover: adds the same-genre shares.

    Returns
    -------
    dict
        ``quantization_error``, ``topographic_error``, ``dpq16``, ``neighbour_ratio``
        (and ``same_genre``, ``same_genre_random``; ``sampled_covers``, how many
        covers DPQ and the mean distance were measured from, past
        ``DPQ_EXACT_UP_TO`` placed covers); NaN where undefined: TE of a
        1x1 map, DPQ of fewer than two placed covers, the neighbour figures if no
        two covers sit side by side.
    """
    data = checks.features(data)
    positions, placed = checks.positions(positions, len(data))
    side_by_side, nan = len(_side_by_side(positions, placed, required=False)) > 0, float("nan")
    one_cell = som.get_weights().shape[:2] == (1, 1)  # a 1x1 map has no second best
    if one_cell:
        qe, te = som.quantization_error(data), nan
    elif len(data) <= EXACT_UP_TO:
        qe, te = som.quantization_error(data), som.topographic_error(data)
    else:  # the same numbers a block of covers at a time: MiniSom sorts the whole covers x
        qe, te = fast.map_errors(som, data)  # neurons table (3,000 covers: 0.44 s against 0.14 s)
    report = {
        "quantization_error": float(qe),
        "topographic_error": nan if one_cell else float(te),
        "dpq16": dpq(data, positions, 16) if placed.sum() >= 2 else nan,
        "neighbour_ratio": neighbour_distance_ratio(data, positions) if side_by_side else nan,
    }
    if placed.sum() > DPQ_EXACT_UP_TO:  # say that both were measured on a sample
        report["sampled_covers"] = len(_sampled_covers(placed.sum()))
    if genres is not None:
        if len(genres) != len(data):
            raise ValueError(f"{len(data)} feature rows but {len(genres)} genres")
        report["same_genre"], report["same_genre_random"] = (
            same_genre_share(genres, positions) if side_by_side else (nan, nan))
    return report


def format_quality(report):
    """One printable line of a :func:`quality_report`.

    Parameters
    ----------
    report : dict
        As :func:`quality_report` returns it.

    Returns
    -------
    str

    Examples
    --------
    >>> format_quality({"dpq16": 0.9023, "topographic_error": 0.0})
    'DPQ16 0.902, TE 0.000'
    """
    checks.instance("report", report, dict, "the dict of quality_report")
    names = {"quantization_error": "QE", "topographic_error": "TE", "dpq16": "DPQ16",
             "neighbour_ratio": "neighbour/all distance", "same_genre": "same-genre neighbours",
             "same_genre_random": "random", "variance_kept": "variance kept by the features",
             "sampled_covers": "covers sampled for DPQ16 and the mean distance"}
    return ", ".join(f"{names[k]} {v:,}" if isinstance(v, int) else f"{names[k]} {v:.3f}"
                     for k, v in report.items())

# ---------------------------------------------------------------------------
# 6. Rendering
# ---------------------------------------------------------------------------
# The 2019 post drew one matplotlib axis per cell, slower than our whole
# pipeline. A grid of covers is one image: we paste each cover into one array.
# ``show_mosaic`` and ``show_covers`` (tutorial_kit/figures.py) put it on screen.


def make_mosaic(images, positions, rows, cols, border=0, background=255):
    """Paste covers into one grid image.

    Parameters
    ----------
    images : numpy.ndarray of shape (n_covers, height, width, 3), uint8
    positions : array_like of shape (n_covers, 2), int
        As for :func:`dpq`.
    rows, cols : int
        The grid.
    border : int
        Blank pixels between cells.
    background : int
        The grey level of empty cells and borders.

    Returns
    -------
    numpy.ndarray of shape (rows * (height + border) - border, cols * (width + border) - border, 3), uint8

    Examples
    --------
    >>> covers = np.zeros((2, 2, 3, 3), dtype=np.uint8)
    >>> mosaic = make_mosaic(covers, [[0, 1], [1, 0]], 2, 2, border=1)
    >>> mosaic.shape, int(mosaic[0, 0, 0]), int(mosaic[0, 4, 0])
    ((5, 7, 3), 255, 0)
    """
    images = checks.pixels("images", images, ndim=(4,))
    rows, cols = checks.grid(rows, cols)
    border, background = checks.value("border", border), checks.value("background", background)
    positions, placed = checks.positions(positions, len(images), "images", rows, cols)
    h, w = images.shape[1] + border, images.shape[2] + border  # a cell and its border
    mosaic = np.full((rows * h - border, cols * w - border, 3), background, dtype=np.uint8)
    for index in np.flatnonzero(placed):  # (never a copy of all the covers)
        r, c = positions[index]
        mosaic[r * h:(r + 1) * h - border, c * w:(c + 1) * w - border] = images[index]
    return mosaic

# ---------------------------------------------------------------------------
# 7. Pipeline
# ---------------------------------------------------------------------------


class Arrangement(NamedTuple):
    """Everything :func:`arrange_covers` computed, for showing and measuring.

    Attributes
    ----------
    covers : CoverSet
    features : CoverFeatures
    trained : TrainedSom
    placement : Placement
    rows, cols : int
        The grid.
    settings : dict
        The :func:`train_som` settings used.
    quality : dict
        As :func:`quality_report` returns it (with ``variance_kept`` for a big folder).
    """
    covers: CoverSet
    features: CoverFeatures
    trained: TrainedSom
    placement: Placement
    rows: int
    cols: int
    settings: dict
    quality: dict

    def mosaic(self, border=0):
        """The grid image, as :func:`make_mosaic` pastes it.

        Parameters
        ----------
        border : int
            Blank pixels between cells.

        Returns
        -------
        numpy.ndarray, uint8
        """
        return make_mosaic(self.covers.images, self.placement.positions, self.rows, self.cols,
                           border)

    def mosaic_bands(self, border=0):
        """:meth:`mosaic`, one row of cells at a time, for writing a big grid without holding it.

        Parameters
        ----------
        border : int
            Blank pixels between cells.

        Yields
        ------
        numpy.ndarray, uint8
            A row of cells (with the border below it, but after the last), as
            :func:`make_mosaic` pastes it; stacked, they are :meth:`mosaic`.
        """
        positions = self.placement.positions
        for row in range(self.rows):
            in_row = np.where((positions[:, :1] == row), positions * [0, 1], -1)  # others: left out
            band = make_mosaic(self.covers.images, in_row, 1, self.cols, border)
            if border and row < self.rows - 1:
                band = np.concatenate([band, np.full((border,) + band.shape[1:], 255, np.uint8)])
            yield band


def read_genres(names, catalogue=DATA_DIR / "covers.csv"):
    """The genre of each cover, from a CSV with the columns ``file`` and ``genre``.

    Parameters
    ----------
    names : list of str
        Cover file names.
    catalogue : str or pathlib.Path
        The CSV; the bundled posters' by default.

    Returns
    -------
    list of str or None
        None if the catalogue is missing or lacks a name (your own covers, say).

    Examples
    --------
    >>> read_genres(["poster_000.jpg", "poster_001.jpg"]) is not None, read_genres(["mine.jpg"])
    (True, None)
    """
    names = checks.instance("names", names, (list, tuple), "a list of file names")
    catalogue = Path(catalogue)
    if not catalogue.exists():
        return None
    with open(catalogue, newline="", encoding="utf-8") as handle:
        genre_of = {row["file"]: row["genre"] for row in csv.DictReader(handle)}
    return [genre_of[name] for name in names] if all(n in genre_of for n in names) else None


def arrange_covers(covers=BUNDLED_COVERS, rows=None, cols=None, *, preset="default",
                   placement="assignment", seed=42, allow_drop=False, progress=None,
                   features=None, polish=False, curve_points=50, **settings):
    """The whole pipeline: covers in, arranged grid and its quality out.

    Parameters
    ----------
    covers : str, pathlib.Path or CoverSet
        A folder, or covers from :func:`load_covers`.
    rows, cols : int, optional
        The grid; by default the smallest near-square grid that fits.
    preset : {'default', 'original'}
        As for :func:`som_settings`.
    placement : {'assignment', 'greedy'}
        As ``strategy`` of :func:`place_covers`.
    seed : int
        As ``random_seed`` of :func:`train_som`.
    allow_drop : bool
        As for :func:`place_covers`.
    progress : True or callable, optional
        As for :func:`train_som`.
    features : CoverFeatures, optional
        The features of these covers, to save time.
    polish : bool
        Swap nearby covers after an assignment (section 4; the command line's default).
    curve_points : int
        As for :func:`train_som`.
    **settings
        Settings to change, as for :func:`som_settings`.

    Returns
    -------
    Arrangement

    Examples
    --------
    >>> result = arrange_covers(iterations=2000)
    >>> result.rows, result.cols, len(result.placement.dropped)
    (10, 10, 0)
    """
    if not isinstance(covers, CoverSet):
        covers = load_covers(checks.instance("covers", covers, (str, Path), "a folder or a CoverSet"))
    if rows is None and cols is None:
        rows, cols = grid_shape_for(len(covers.names))
    elif rows is None or cols is None:
        raise ValueError("give both rows and cols, or neither")
    (rows, cols), seed = checks.grid(rows, cols), checks.value("seed", seed)
    _check_placement(len(covers.names), rows, cols, placement, allow_drop)  # before training
    chosen = som_settings(preset, grid=(rows, cols), **settings)  # bigger maps train longer
    if features is None:
        features = make_features(covers.images)
    elif checks.instance("features", features, CoverFeatures, "the CoverFeatures of make_features") \
            and len(features) != len(covers.names):
        raise ValueError(f"features of {len(features)} covers given for {len(covers.names)} covers")
    data = features.values
    trained = train_som(data, rows, cols, random_seed=seed, progress=progress, curve_points=curve_points,
                        **chosen)
    where = place_covers(trained.som.get_weights(), data, placement, allow_drop)
    if polish and placement == "assignment":
        where = where._replace(positions=fast.swap_pass(data, where.positions, rows, cols))
    quality = quality_report(trained.som, data, where.positions, read_genres(covers.names))
    if features.variance_kept < 1:  # a big folder: say what its reduced features hold
        quality["variance_kept"] = features.variance_kept
    return Arrangement(covers, features, trained, where, rows, cols, chosen, quality)


if __name__ == "__main__":
    import sys

    # `python helpers.py` runs this file as __main__; the command line's `import helpers`
    # must find this module, not load a second copy of it (with state of its own)
    sys.modules.setdefault("helpers", sys.modules[__name__])
    from tutorial_kit.cli import main
    raise SystemExit(main())
