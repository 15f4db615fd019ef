"""Helpers for the tutorial "Arranging movie covers with a Self-Organizing Map".

The notebooks in ``notebooks/`` call this module, section by section, in the
order they teach: each section uses only the ones above it.

1. Loading covers      ``load_covers``
2. Features            ``make_features`` (StandardScaler + exact PCA shortcut)
3. Training            ``train_som`` (MiniSom), ``PRESETS``, ``decay_schedule``
4. Placement           ``place_covers`` (the post's greedy fill, or assignment)
5. Quality             ``dpq``, ``quality_report``
6. Rendering           ``make_mosaic``, ``show_mosaic``, ``show_covers``
7. Pipeline            ``arrange_covers`` (folder in, arrangement out)

The plumbing that students never need to open (robust image decoding, safe
file writing, the download, progress bars, the explorer widget and the
command line) lives in the package ``tutorial_kit/``.

Functions that compute return data; functions that draw take data.
Inputs are validated once, at the boundary, with messages a student can act on.

Command line: ``python helpers.py COVERS_DIR [options]`` (see README.md).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import NamedTuple

import numpy as np

from tutorial_kit import images as _images
from tutorial_kit.files import save_png  # noqa: F401  (re-exported for the notebooks)
from tutorial_kit.progress import progress_reporter

REPO_DIR = Path(__file__).resolve().parent
DATA_DIR = REPO_DIR / "data"
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
    """The covers of one folder, as returned by `load_covers`.

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

    Files are read in sorted order of their names (plain ``sorted``, so it is
    case-sensitive: ``B.jpg`` comes before ``a.jpg``). Hidden files (names
    starting with ``.``) and subfolders are ignored. Every other file is
    either loaded or listed in ``skipped`` with a reason: nothing is dropped
    silently.

    Each cover is turned upright (EXIF orientation), converted to 8-bit RGB
    (transparent parts become white) and brought to one common size by
    scaling it until it covers that size and then cropping the centre. We crop
    rather than pad because padding bars would add black or white to the
    colour statistics that the map learns from.

    Parameters
    ----------
    folder : str or pathlib.Path
        Folder with the covers: ``.jpg``, ``.jpeg``, ``.png`` or ``.webp``
        (any case, e.g. ``.JPG``); WebP only if Pillow was built with it.
    size : (int, int), optional
        ``(width, height)`` of the output covers. By default the size most
        covers share (if more than half do), otherwise their median aspect
        ratio at their median area; either way shrunk, if needed, so that
        the long side is at most ``max_side``. One huge photo or one icon
        never decides the size of all the others.
    max_side : int
        Longest side of the default size, in pixels (ignored if ``size`` is
        given). It bounds the memory: 100 phone photos are 100 covers of
        300x225, 20 MB, not 3.6 GB.

    Returns
    -------
    CoverSet
        ``images`` (N, height, width, 3) uint8, ``names``, ``skipped`` and
        ``resized`` (print it: it says if covers were resized).

    Raises
    ------
    ValueError
        If ``folder`` does not exist or is not a folder, if ``size`` is not
        two positive integers, or if the folder has no readable cover. Any
        problem with one file only skips that file.
    """
    return CoverSet(*_images.read_folder(folder, size, max_side))


# ---------------------------------------------------------------------------
# 2. Features
# ---------------------------------------------------------------------------
# The 2019 post flattens every cover into one long vector of pixel values and
# standardises each pixel position with scikit-learn's StandardScaler. A cover
# of 185x278 px has 154,290 numbers, and that is what makes the post slow.
#
# N covers, once centred, span at most N-1 directions. Rotating them onto those
# directions (their principal axes) keeps every pairwise distance, so the SOM
# learns exactly the same map from N-1 numbers per cover instead of 154,290.
# We find the axes from the small N x N Gram matrix, never from a D x D
# covariance (which MiniSom's pca_weights_init would build: ~190 GB here).

_CHUNK_PIXELS = 16384  # columns processed at a time: keeps float copies small


class CoverFeatures:
    """Standardised cover pixels, rotated onto the covers' principal axes.

    Do not build this directly: call :func:`make_features`.

    Attributes
    ----------
    values : ndarray of shape (n_covers, n_components)
        One row per cover. Distances between rows equal the distances between
        the standardised pixel vectors of the 2019 post (up to float rounding).
    scaler : sklearn.preprocessing.StandardScaler
        The fitted per-pixel scaler, as in the 2019 post.
    image_shape : tuple of int
        (height, width, 3) of one cover.
    """

    def __init__(self, values, scaler, coefficients, images):
        self.values = values
        self.scaler = scaler
        self.image_shape = images.shape[1:]
        self._coefficients = coefficients  # maps a feature vector to cover weights
        self._images = images

    def __len__(self):
        return len(self.values)

    def inverse_transform(self, vectors):
        """Turn feature vectors (for example a neuron's weights) into images.

        Each vector is a mix of the standardised covers; undoing the scaling
        gives a picture: the "average cover" that vector stands for.

        Parameters
        ----------
        vectors : array_like of shape (m, n_components) or (n_components,)

        Returns
        -------
        ndarray of shape (m, height, width, 3), dtype uint8
        """
        vectors = np.atleast_2d(np.asarray(vectors, dtype=np.float64))
        if vectors.shape[1] != self.values.shape[1]:
            raise ValueError(f"expected vectors with {self.values.shape[1]} "
                             f"features, got {vectors.shape[1]}")
        mix = vectors @ self._coefficients  # (m, n_covers) weights on the covers
        pixels = self._images.reshape(len(self._images), -1)
        mean = self.scaler.mean_
        out = np.empty((len(mix), pixels.shape[1]), dtype=np.uint8)
        # standardised x = (p - mean) / scale and x_new = mix @ x, so
        # p_new = x_new * scale + mean = mix @ p + (1 - sum(mix)) * mean
        for start in range(0, pixels.shape[1], _CHUNK_PIXELS):
            cols = slice(start, start + _CHUNK_PIXELS)
            block = mix @ pixels[:, cols] + np.outer(1 - mix.sum(1), mean[cols])
            out[:, cols] = np.clip(np.rint(block), 0, 255)
        return out.reshape((len(mix),) + self.image_shape)


def make_features(images):
    """Standardise the covers' pixels and keep their principal coordinates.

    Parameters
    ----------
    images : ndarray of shape (n_covers, height, width, 3), dtype uint8
        For example ``load_covers(folder).images``. At least 2 covers.

    Returns
    -------
    CoverFeatures
        ``features.values`` has one row per cover and at most n_covers - 1
        columns; its pairwise distances are those of the standardised pixels.

    Raises
    ------
    ValueError
        If fewer than two covers are given or the array is not (N, H, W, 3).
    """
    from sklearn.preprocessing import StandardScaler

    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
        raise ValueError("images must be a uint8 array of shape (N, height, width, 3), "
                         f"got {images.dtype} {images.shape}")
    if len(images) < 2:
        raise ValueError(f"need at least 2 covers to compare, got {len(images)}")
    pixels = images.reshape(len(images), -1)

    # 1. StandardScaler, fitted a few covers at a time so no float copy of
    #    the whole collection is ever made.
    scaler = StandardScaler()
    for start in range(0, len(pixels), 64):
        scaler.partial_fit(pixels[start:start + 64].astype(np.float32))

    # 2. The Gram matrix G = X X^T of the standardised pixels X (N x N).
    gram = np.zeros((len(pixels), len(pixels)))
    for start in range(0, pixels.shape[1], _CHUNK_PIXELS):
        cols = slice(start, start + _CHUNK_PIXELS)
        block = ((pixels[:, cols] - scaler.mean_[cols]) / scaler.scale_[cols]).astype(np.float32)
        gram += block @ block.T

    # 3. G = U diag(lam) U^T. The principal coordinates are U sqrt(lam);
    #    directions with (numerically) zero variance carry no distance.
    #    X's columns sum to zero, so G @ ones = 0; the float32 blocks leave a
    #    little rounding there (enough to keep an N-th, pure-noise column).
    #    Double centring, as in classical MDS, removes it.
    gram = gram - gram.mean(axis=0) - gram.mean(axis=1)[:, None] + gram.mean()
    lam, u = np.linalg.eigh(gram)
    order = np.argsort(lam)[::-1]
    lam, u = lam[order], u[:, order]
    # eigh may flip any axis; make each one's largest entry positive (as
    # scikit-learn's PCA does) so that every machine learns the same map.
    u = u * np.sign(u[np.abs(u).argmax(axis=0), np.arange(u.shape[1])])
    if not lam[0] > 0:
        raise ValueError(f"all {len(images)} covers are identical, pixel for pixel: "
                         "there is nothing to arrange")
    keep = lam > lam[0] * 1e-10
    lam, u = lam[keep], u[:, keep]
    values = u * np.sqrt(lam)
    # A feature vector v stands for the standardised pixels v @ coefficients @ X.
    coefficients = (u / np.sqrt(lam)).T
    return CoverFeatures(values, scaler, coefficients, images)


# ---------------------------------------------------------------------------
# 3. Training
# ---------------------------------------------------------------------------
# A Self-Organizing Map (Kohonen, 1982) is a grid of neurons, each holding a
# weight vector with as many numbers as a cover's features. Training shows it
# one cover at a time: the closest neuron (the winner) and, more weakly, its
# grid neighbours move towards that cover. The neighbourhood (sigma) and the
# step size (learning rate) shrink as training goes on, so the map first
# settles its overall layout and then its details. We use MiniSom for the map.

PRESETS = {
    # The 2019 post, as published: MiniSom's random initial weights,
    # train_random(data, 2500) and MiniSom's asymptotic decay of both rates.
    "original": dict(sigma=3.0, learning_rate=0.5, iterations=2500,
                     neighborhood_function="triangle", topology="rectangular",
                     decay_function="asymptotic_decay",
                     sigma_decay_function="asymptotic_decay",
                     initialization="random"),
    # Our defaults, chosen by measuring DPQ16 over a grid of settings and
    # seeds (benchmarks/README.md): a smooth gaussian neighbourhood, a start
    # from the covers' two main principal axes, and rates that shrink
    # linearly, so the last steps only polish. Bigger grids gain from more
    # iterations (about 50 per neuron).
    "default": dict(sigma=4.0, learning_rate=0.5, iterations=5000,
                    neighborhood_function="gaussian", topology="rectangular",
                    decay_function="linear_decay_to_zero",
                    sigma_decay_function="linear_decay_to_one",
                    initialization="pca"),
}
INITIALIZATIONS = ("random", "samples", "pca")
NEIGHBORHOODS = ("gaussian", "triangle", "bubble", "mexican_hat")  # MiniSom's names


def som_settings(preset="default", **overrides):
    """The training settings of a preset, with some of them changed.

    Parameters
    ----------
    preset : {'default', 'original'}
        'original' reproduces the 2019 post; 'default' is our tuned choice.
    **overrides
        Any of sigma, learning_rate, iterations, neighborhood_function,
        topology, decay_function, sigma_decay_function, initialization.
        ``None`` values are ignored, so command-line options can be passed
        straight through.

    Returns
    -------
    dict
    """
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
    settings = dict(PRESETS[preset])
    unknown = set(overrides) - set(settings)
    if unknown:
        raise ValueError(f"unknown setting(s) {sorted(unknown)}; known: {sorted(settings)}")
    settings.update({k: v for k, v in overrides.items() if v is not None})
    return settings


class TrainedSom(NamedTuple):
    """What :func:`train_som` returns.

    Attributes
    ----------
    som : minisom.MiniSom
        The trained map; ``som.get_weights()`` has shape (rows, cols, n_features).
    curve_iterations : ndarray of int
        Iteration numbers at which the quantization error was recorded.
    curve_errors : ndarray of float
        Quantization error (mean distance of each cover to its winner) then.
    """
    som: object
    curve_iterations: np.ndarray
    curve_errors: np.ndarray


def _whole_number(name, value):
    """``value`` as an int, or a ValueError if it is not a whole number >= 1."""
    if not (np.isfinite(value) and value >= 1 and int(value) == value):
        raise ValueError(f"{name} must be a whole number >= 1, got {value}")
    return int(value)


def _check_features(data):
    data = np.asarray(data, dtype=np.float64)
    if data.ndim != 2 or len(data) == 0:
        raise ValueError(f"features must be a 2-D array with one row per cover, got shape {data.shape}")
    if not np.isfinite(data).all():
        raise ValueError("features contain NaN or infinite values")
    return data


def train_som(data, rows, cols, *, sigma, learning_rate, iterations,
              neighborhood_function="gaussian", topology="rectangular",
              decay_function="linear_decay_to_zero",
              sigma_decay_function="linear_decay_to_one",
              initialization="pca", random_seed=42, progress=None,
              curve_points=50):
    """Train a MiniSom map on the cover features.

    This is MiniSom's ``train_random``, step by step: the same random order of
    covers and the same decay schedule, so the result is identical, but we
    can record a learning curve and show a progress bar on the way.

    Parameters
    ----------
    data : array_like of shape (n_covers, n_features)
        For example ``make_features(images).values``.
    rows, cols : int
        Grid size, at least 1x1.
    sigma : float
        Initial neighbourhood radius, in grid cells (> 0).
    learning_rate : float
        Initial step size (> 0).
    iterations : int
        Number of single-cover updates (>= 1).
    neighborhood_function : {'gaussian', 'triangle', 'bubble', 'mexican_hat'}
    topology : {'rectangular', 'hexagonal'}
    decay_function : {'linear_decay_to_zero', 'inverse_decay_to_zero', 'asymptotic_decay'}
        How the learning rate shrinks (MiniSom's names).
    sigma_decay_function : {'linear_decay_to_one', 'inverse_decay_to_one', 'asymptotic_decay'}
        How sigma shrinks.
    initialization : {'pca', 'random', 'samples'}
        'random' keeps MiniSom's random initial weights (as in the 2019 post),
        'samples' starts every neuron at a random cover, 'pca' spreads the
        neurons over the plane of the two main principal axes (on a grid
        with one row or column, or with one feature, 'samples' is used).
    random_seed : int
        Same seed, same map.
    progress : bool or callable, optional
        True shows a progress bar (a widget in a notebook, text otherwise)
        when training is long; a callable is called as ``progress(done, total)``.
    curve_points : int
        How many times to record the quantization error.

    Returns
    -------
    TrainedSom

    Raises
    ------
    ValueError
        For invalid settings, or when training diverges.
    """
    from minisom import MiniSom

    data = _check_features(data)
    rows, cols = _check_grid(rows, cols)
    for name, value in (("sigma", sigma), ("learning_rate", learning_rate)):
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a finite number > 0, got {value}")
    iterations = _whole_number("iterations", iterations)
    if initialization not in INITIALIZATIONS:
        raise ValueError(f"initialization must be one of {INITIALIZATIONS}, got {initialization!r}")
    if initialization == "pca" and (data.shape[1] < 2 or min(rows, cols) < 2):
        initialization = "samples"  # PCA needs two features and a 2-D grid

    som = MiniSom(rows, cols, data.shape[1], sigma=sigma, learning_rate=learning_rate,
                  neighborhood_function=neighborhood_function, topology=topology,
                  decay_function=decay_function, sigma_decay_function=sigma_decay_function,
                  random_seed=random_seed)
    if initialization == "samples":
        som.random_weights_init(data)
    elif initialization == "pca":
        som.pca_weights_init(data)  # cheap: data has at most n_covers - 1 columns

    # The order of train_random: every cover equally often, shuffled by the
    # map's own seeded generator.
    order = np.arange(iterations) % len(data)
    som._random_generator.shuffle(order)

    checkpoints = set(np.linspace(0, iterations, min(curve_points, iterations) + 1).astype(int))
    curve = []
    # Rough cost on a 2-core laptop: a fixed ~25 us per step plus ~1 ns per weight.
    seconds = iterations * (2.5e-5 + 1e-9 * rows * cols * (data.shape[1] + 20))
    report = progress_reporter(progress, iterations, seconds)
    # A too-large learning rate (or mexican_hat's negative neighbours) can make
    # the weights grow without bound; we check for that once, at the end:
    # healthy weights stay among the covers, never 100 times further out.
    with np.errstate(over="ignore", invalid="ignore"):
        for t, i in enumerate(order):
            if t in checkpoints:
                curve.append((t, som.quantization_error(data)))
                report(t)
            som.update(data[i], som.winner(data[i]), t, iterations)
        curve.append((iterations, som.quantization_error(data)))
    report(iterations)
    weights = som.get_weights()
    if not (np.isfinite(weights).all() and np.abs(weights).max() <= 100 * max(np.abs(data).max(), 1.0)):
        raise ValueError("training diverged: the weights grew without bound; "
                         "lower the learning rate or choose another neighbourhood function")
    steps, errors = zip(*curve)
    return TrainedSom(som, np.array(steps), np.array(errors))



DECAY_FUNCTIONS = ("asymptotic_decay", "linear_decay_to_zero", "inverse_decay_to_zero",
                   "linear_decay_to_one", "inverse_decay_to_one")


def decay_schedule(name, start, iterations):
    """How MiniSom shrinks the learning rate or sigma over a training run.

    Parameters
    ----------
    name : str
        A MiniSom decay function: 'asymptotic_decay' (either rate, the 2019
        post's), 'linear_decay_to_zero' or 'inverse_decay_to_zero' (learning
        rate), 'linear_decay_to_one' or 'inverse_decay_to_one' (sigma).
    start : float
        The value at iteration 0: the initial learning rate or sigma.
    iterations : int
        Length of the training run (>= 1).

    Returns
    -------
    ndarray of shape (iterations + 1,)
        The value at iterations 0, 1, ..., iterations, computed by MiniSom's
        own function.
    """
    from minisom import MiniSom

    if name not in DECAY_FUNCTIONS:
        raise ValueError(f"unknown decay function {name!r}; choose one of {DECAY_FUNCTIONS}")
    iterations = _whole_number("iterations", iterations)
    # MiniSom keeps each decay function as a method named after the option.
    decay = getattr(MiniSom(1, 1, 1), "_" + name)
    steps = np.arange(iterations + 1)
    return np.asarray(decay(start, steps, iterations), dtype=np.float64)


# ---------------------------------------------------------------------------
# 4. Placement
# ---------------------------------------------------------------------------
# A trained map tells each cover its winning neuron, but several covers can
# win the same neuron (a collision) while other neurons win none. The 2019
# post keeps the first cover of each neuron and pours the others into the
# empty cells, wherever they are. Optimal assignment instead gives every cover
# its own cell so that the total distance from covers to their neurons' weights
# is as small as possible (the Hungarian method, scipy's linear_sum_assignment).

PLACEMENTS = ("assignment", "greedy")


class Placement(NamedTuple):
    """Where each cover goes.

    Attributes
    ----------
    positions : ndarray of shape (n_covers, 2), int
        (row, col) of each cover; (-1, -1) for a dropped cover.
    dropped : list of int
        Indices of covers that did not fit (only with ``allow_drop=True``).
    """
    positions: np.ndarray
    dropped: list


def grid_shape_for(n_covers):
    """The smallest near-square grid (rows, cols) with room for n_covers.

    Examples
    --------
    >>> grid_shape_for(100)
    (10, 10)
    >>> grid_shape_for(37)
    (6, 7)
    """
    if n_covers < 1:
        raise ValueError(f"need at least one cover, got {n_covers}")
    rows = int(np.floor(np.sqrt(n_covers)))
    cols = -(-n_covers // rows)
    if cols > rows + 1:  # rows x (rows + 1) is too small: the next square fits
        rows, cols = rows + 1, rows + 1
    return rows, cols


def _check_grid(rows, cols):
    return _whole_number("rows", rows), _whole_number("cols", cols)


def _check_placement(n_covers, rows, cols, strategy, allow_drop):
    """Raise a ValueError for an unknown strategy or covers that do not fit."""
    if strategy not in PLACEMENTS:
        raise ValueError(f"placement must be one of {PLACEMENTS}, got {strategy!r}")
    if n_covers > rows * cols and not allow_drop:
        fit_rows, fit_cols = grid_shape_for(n_covers)
        raise ValueError(f"{n_covers} covers do not fit on a {rows}x{cols} grid "
                         f"({rows * cols} cells); use at least {fit_rows}x{fit_cols}")


def place_covers(weights, data, strategy="assignment", allow_drop=False):
    """Give every cover one grid cell.

    Parameters
    ----------
    weights : ndarray of shape (rows, cols, n_features)
        The trained map's weights, ``som.get_weights()``.
    data : array_like of shape (n_covers, n_features)
        The same features the map was trained on.
    strategy : {'assignment', 'greedy'}
        'greedy' is the 2019 post's rule: the first cover to win a neuron stays
        there; the colliding covers then fill the empty cells in row-major
        order. 'assignment' finds the one-cover-per-cell matching with the
        smallest total squared distance between covers and their neurons.
    allow_drop : bool
        With more covers than cells, drop the ones that do not fit instead of
        raising. Dropped covers are listed in ``Placement.dropped``.

    Returns
    -------
    Placement

    Raises
    ------
    ValueError
        If there are more covers than cells and ``allow_drop`` is False; the
        message names the smallest grid that fits.
    """
    from scipy.optimize import linear_sum_assignment

    data = _check_features(data)
    weights = np.asarray(weights, dtype=np.float64)
    if weights.ndim != 3 or weights.shape[2] != data.shape[1]:
        raise ValueError(f"weights of shape {weights.shape} do not match features with "
                         f"{data.shape[1]} columns")
    rows, cols = weights.shape[:2]
    _check_placement(len(data), rows, cols, strategy, allow_drop)
    n_cells = rows * cols
    cost = squared_distances(data, weights.reshape(n_cells, -1))
    cell_of = np.full(len(data), -1)
    if strategy == "assignment":
        covers, cells = linear_sum_assignment(cost)
        cell_of[covers] = cells
    else:
        winners = cost.argmin(axis=1)
        taken = np.zeros(n_cells, dtype=bool)
        collided = []
        for cell in range(n_cells):           # row-major, as in the post
            for cover in np.flatnonzero(winners == cell):
                if taken[cell]:
                    collided.append(cover)
                else:
                    cell_of[cover], taken[cell] = cell, True
        empty = iter(np.flatnonzero(~taken))
        for cover, cell in zip(collided, empty):
            cell_of[cover] = cell
    positions = np.full((len(data), 2), -1)
    placed = cell_of >= 0
    positions[placed] = np.column_stack(np.unravel_index(cell_of[placed], (rows, cols)))
    return Placement(positions, np.flatnonzero(~placed).tolist())


def squared_distances(a, b):
    """All squared Euclidean distances between the rows of a and of b."""
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
    return np.maximum(d, 0)


# ---------------------------------------------------------------------------
# 5. Quality
# ---------------------------------------------------------------------------
# How good is an arrangement? MiniSom gives two classic measures:
# - quantization error: mean distance from each cover to its winning neuron
#   (how well the neurons summarise the covers);
# - topographic error: share of covers whose two closest neurons are not
#   grid neighbours (how smoothly the map folds).
# Neither looks at where the covers finally sit. Distance Preservation Quality
# (DPQ, Barthel, Hezel, Jung and Schall, Computer Graphics Forum 2023) does:
# it asks whether the covers next to each one on the grid are about as similar
# to it as its truly most similar covers. 1 is perfect; random is much lower.


def _check_positions(positions, n_covers, what="feature rows", rows=None, cols=None):
    """Check (row, col) positions of covers; returns them and which are placed.

    One position per cover; (-1, -1) marks a dropped cover. No two placed
    covers may share a cell, and with ``rows``/``cols`` every cell must be
    inside the grid.
    """
    positions = np.asarray(positions)
    if positions.ndim != 2 or positions.shape[1] != 2:
        raise ValueError(f"positions must be (row, col) pairs, got an array of shape {positions.shape}")
    if len(positions) != n_covers:
        raise ValueError(f"{n_covers} {what} but {len(positions)} positions")
    placed = (positions >= 0).all(axis=1)
    cells = positions[placed]
    if len(np.unique(cells, axis=0)) < len(cells):
        raise ValueError("two covers have the same position: each cell holds at most one cover")
    if rows is not None and len(cells) and ((cells[:, 0] >= rows) | (cells[:, 1] >= cols)).any():
        raise ValueError(f"a position lies outside the {rows}x{cols} grid")
    return positions, placed


def dpq(data, positions, p=16):
    """Distance Preservation Quality DPQ_p of a grid arrangement.

    For every cover, its neighbours are taken in two orders: by feature
    distance (the best possible) and by grid distance (what the layout gives;
    ties broken by feature distance). D_k is the mean distance to the first k
    neighbours, averaged over covers; its gain is max(0, (mean - D_k) / mean).
    DPQ_p is the p-norm of the grid gains over the p-norm of the best gains.

    Parameters
    ----------
    data : array_like of shape (n_covers, n_features)
    positions : array_like of shape (n_covers, 2)
        (row, col) of each cover. Rows with a negative position (dropped
        covers) are left out; empty cells simply do not count.
    p : float
        The norm; Barthel et al. report p = 16.

    Returns
    -------
    float in [0, 1]
    """
    data = _check_features(data)
    positions, placed = _check_positions(positions, len(data))
    data, positions = data[placed], positions[placed].astype(np.float64)
    n = len(data)
    if n < 2:
        raise ValueError("DPQ needs at least two placed covers")
    d = np.sqrt(squared_distances(data, data))
    grid = squared_distances(positions, positions)
    off = ~np.eye(n, dtype=bool)
    d_others = d[off].reshape(n, n - 1)
    grid_others = grid[off].reshape(n, n - 1)
    mean_d = d_others.mean()
    by_features = np.sort(d_others, axis=1)
    by_grid = np.take_along_axis(d_others, np.lexsort((d_others, grid_others), axis=1), axis=1)

    def gains(sorted_d):
        d_k = (np.cumsum(sorted_d, axis=1) / np.arange(1, n)).mean(axis=0)
        return np.maximum(0.0, (mean_d - d_k) / mean_d)

    best = np.linalg.norm(gains(by_features), ord=p)
    if best == 0:
        return 1.0  # all covers equally far apart: every layout is as good
    return float(np.linalg.norm(gains(by_grid), ord=p) / best)


def _adjacent_pairs(positions, n_covers, what="feature rows", required=True):
    """The placed covers and the index pairs (i, j) of covers side by side.

    Checks that there is one position per cover and, if ``required``, that
    at least two covers sit side by side.

    Returns
    -------
    placed : ndarray of bool, one per cover (False for dropped covers)
    pairs : ndarray of shape (n_pairs, 2), int (4-neighbours on the grid)
    """
    positions, placed = _check_positions(positions, n_covers, what)
    index = {tuple(positions[i]): i for i in np.flatnonzero(placed)}
    pairs = [(i, index[(r + dr, c + dc)])
             for (r, c), i in index.items() for dr, dc in ((0, 1), (1, 0))
             if (r + dr, c + dc) in index]
    if required and not pairs:
        raise ValueError("no two covers sit side by side")
    return placed, np.array(sorted(pairs), dtype=int).reshape(-1, 2)


def neighbour_distance_ratio(data, positions):
    """Mean feature distance of side-by-side covers over the mean of all pairs.

    1.0 is what a random layout gives; the lower, the better neighbours match.
    """
    data = _check_features(data)
    placed, pairs = _adjacent_pairs(positions, len(data))
    d = np.sqrt(squared_distances(data, data))
    d_placed = d[np.ix_(placed, placed)]  # dropped covers are in no pair
    mean_all = d_placed[~np.eye(len(d_placed), dtype=bool)].mean()
    return float(d[pairs[:, 0], pairs[:, 1]].mean() / mean_all)


def same_genre_share(genres, positions):
    """Share of side-by-side covers with the same genre, and its random expectation.

    Parameters
    ----------
    genres : sequence of str, one per cover
    positions : array_like of shape (n_covers, 2)

    Returns
    -------
    share, expected : float, float
        ``expected`` is the share two covers drawn at random would have.
    """
    genres = np.asarray(genres)
    placed, pairs = _adjacent_pairs(positions, len(genres), "genres")
    placed = genres[placed]
    counts = np.unique(placed, return_counts=True)[1]
    expected = (counts * (counts - 1)).sum() / (len(placed) * (len(placed) - 1))
    return float((genres[pairs[:, 0]] == genres[pairs[:, 1]]).mean()), float(expected)


def quality_report(som, data, positions, genres=None):
    """All quality figures of one arrangement, in a dict.

    Keys: 'quantization_error', 'topographic_error', 'dpq16',
    'neighbour_ratio', and with genres also 'same_genre' and
    'same_genre_random'. A figure the layout does not define is NaN: the
    topographic error of a 1x1 map, DPQ with fewer than two placed covers,
    and the neighbour figures when no two covers sit side by side (e.g. 3
    covers in the corners of a 3x3 grid).
    """
    data = _check_features(data)
    placed, pairs = _adjacent_pairs(positions, len(data), required=False)
    placed, side_by_side = placed.sum(), len(pairs) > 0
    nan = float("nan")
    report = {
        "quantization_error": float(som.quantization_error(data)),
        # a 1x1 map has no second-best neuron: topographic error is undefined
        "topographic_error": float(som.topographic_error(data)) if som.get_weights().shape[:2] != (1, 1) else nan,
        "dpq16": dpq(data, positions, p=16) if placed >= 2 else nan,
        "neighbour_ratio": neighbour_distance_ratio(data, positions) if side_by_side else nan,
    }
    if genres is not None:
        report["same_genre"], report["same_genre_random"] = (
            same_genre_share(genres, positions) if side_by_side else (nan, nan))
    return report


def format_quality(report):
    """One line of quality figures, 3 decimals, for printing."""
    names = {"quantization_error": "QE", "topographic_error": "TE", "dpq16": "DPQ16",
             "neighbour_ratio": "neighbour/all distance", "same_genre": "same-genre neighbours",
             "same_genre_random": "random"}
    return ", ".join(f"{names[k]} {v:.3f}" for k, v in report.items())


# ---------------------------------------------------------------------------
# 6. Rendering
# ---------------------------------------------------------------------------
# The 2019 post drew one matplotlib axis per cell, which takes longer than our
# whole pipeline. A grid of covers is just one big image: we paste each cover
# into its place in a single array, then show or save that array.


def make_mosaic(images, positions, rows, cols, border=0, background=255):
    """Paste covers into one grid image.

    Parameters
    ----------
    images : ndarray of shape (n_covers, height, width, 3), uint8
    positions : array_like of shape (n_covers, 2)
        (row, col) of each cover; covers at a negative position are left out.
    rows, cols : int
        Grid size. Cells without a cover stay blank (``background``).
    border : int
        Width in pixels of the blank lines between cells.
    background : int
        Grey level (0-255) of empty cells and borders.

    Returns
    -------
    ndarray of shape (rows*(height+border)-border, cols*(width+border)-border, 3), uint8
    """
    images = np.asarray(images)
    rows, cols = _check_grid(rows, cols)
    positions, _ = _check_positions(positions, len(images), "images", rows, cols)
    h, w = images.shape[1:3]
    mosaic = np.full((rows * (h + border) - border, cols * (w + border) - border, 3),
                     background, dtype=np.uint8)
    for image, (r, c) in zip(images, positions):
        if r >= 0 and c >= 0:
            top, left = r * (h + border), c * (w + border)
            mosaic[top:top + h, left:left + w] = image
    return mosaic


def show_mosaic(mosaic, ax=None, title=None, width=9):
    """Show a grid image with matplotlib, at screen size.

    Parameters
    ----------
    mosaic : ndarray, as made by :func:`make_mosaic`
    ax : matplotlib Axes, optional
        Where to draw; a new figure ``width`` inches wide if not given.
    title : str, optional

    Returns
    -------
    matplotlib Axes
    """
    import matplotlib.pyplot as plt

    if ax is None:
        height = width * mosaic.shape[0] / mosaic.shape[1]
        _, ax = plt.subplots(figsize=(width, height + (0.4 if title else 0)), layout="constrained")
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
        One per cover; a new row of axes ``width`` inches wide if not given.
    width : float
        Width of the new figure, in inches.

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
        height, cover_width = images[0].shape[:2]
        figure_height = width / len(images) * height / cover_width + (0.5 if titles else 0.1)
        _, axes = plt.subplots(1, len(images), figsize=(width, figure_height),
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


# ---------------------------------------------------------------------------
# 7. Pipeline
# ---------------------------------------------------------------------------


class Arrangement(NamedTuple):
    """Everything :func:`arrange_covers` computed, for showing and measuring."""
    covers: CoverSet
    features: CoverFeatures
    trained: TrainedSom
    placement: Placement
    rows: int
    cols: int
    settings: dict
    quality: dict

    def mosaic(self, border=0):
        """The grid image (see :func:`make_mosaic`)."""
        return make_mosaic(self.covers.images, self.placement.positions, self.rows, self.cols, border)


def read_genres(names, catalogue=DATA_DIR / "covers.csv"):
    """Genres of the bundled posters from ``data/covers.csv``, or None.

    Returns None when any of ``names`` is not in the catalogue (for example
    for your own covers), since there is no ground truth to compare with.
    """
    catalogue = Path(catalogue)
    if not catalogue.exists():
        return None
    with open(catalogue, newline="", encoding="utf-8") as handle:
        genre_of = {row["file"]: row["genre"] for row in csv.DictReader(handle)}
    if not all(name in genre_of for name in names):
        return None
    return [genre_of[name] for name in names]


def arrange_covers(covers=BUNDLED_COVERS, rows=None, cols=None, *, preset="default",
                   placement="assignment", seed=42, allow_drop=False, progress=None,
                   features=None, **settings):
    """The whole pipeline: covers in, arranged grid and its quality out.

    Parameters
    ----------
    covers : str, Path or CoverSet
        A folder of covers, or covers already loaded with :func:`load_covers`.
    rows, cols : int, optional
        Grid size; by default the smallest near-square grid that fits.
    preset : {'default', 'original'}
    placement : {'assignment', 'greedy'}
    seed : int
        Random seed of the map.
    allow_drop : bool
        Allow a grid with fewer cells than covers (see :func:`place_covers`).
    progress : bool or callable, optional
        Passed to :func:`train_som`.
    features : CoverFeatures, optional
        Reuse features already made from the same covers (saves time).
    **settings
        Overrides of the preset (see :func:`som_settings`).

    Returns
    -------
    Arrangement
    """
    if not isinstance(covers, CoverSet):
        covers = load_covers(covers)
    if rows is None and cols is None:
        rows, cols = grid_shape_for(len(covers.names))
    elif rows is None or cols is None:
        raise ValueError("give both rows and cols, or neither")
    rows, cols = _check_grid(rows, cols)
    _check_placement(len(covers.names), rows, cols, placement, allow_drop)  # before training
    chosen = som_settings(preset, **settings)
    if features is None:
        features = make_features(covers.images)
    trained = train_som(features.values, rows, cols, random_seed=seed, progress=progress, **chosen)
    where = place_covers(trained.som.get_weights(), features.values, placement, allow_drop)
    quality = quality_report(trained.som, features.values, where.positions,
                             read_genres(covers.names))
    return Arrangement(covers, features, trained, where, rows, cols, chosen, quality)



if __name__ == "__main__":
    import sys

    from tutorial_kit.cli import main

    sys.exit(main())
