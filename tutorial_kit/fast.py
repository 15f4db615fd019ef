"""Performance work behind helpers.py that a student need not read.

- ``column_stats`` and ``standardised_chunks``: the StandardScaler of the
  2019 post, computed a block of pixel columns at a time from the uint8
  covers, in float32, so no float copy of a big folder is ever held.
- ``sampled_components``: the covers' main principal axes for big folders,
  found from a sample of covers (the exact N x N Gram matrix costs N^2 x
  154,290 operations: 3,000 covers would take minutes).
- ``train_steps``: MiniSom's ``update(x, winner(x), t, T)``, step after
  step, with the same arithmetic (the weights come out equal, bit for bit)
  but without its per-call overhead: about 1.3x faster on a 10x10 map
  (``benchmarks/README.md``). Past 32x32 neurons, ``train_steps_windowed``
  moves only the neurons where the gaussian is above 1e-8 of its peak
  (3,000 covers: weights within 4e-8 of MiniSom's, every cover in the same
  cell, 2.4 s instead of 4.2 s).
- ``in_threads``: blocks of numpy work (DPQ's sorting, the errors of a big
  map, the pixel statistics) shared by two threads, added up in order.
- ``windowed_assignment``: the optimal assignment of covers to cells costs
  N^3; past ``DENSE_ASSIGNMENT_UP_TO`` covers it is solved exactly inside
  overlapping windows of the grid instead (benchmarks/README.md: 4x faster
  at 6,000 covers, the same DPQ16), windows that do not overlap on two threads.
- ``swap_nearest``: the command line's local sorting pass after the
  assignment, with an energy that weighs each cover's nearest neighbour most,
  as DPQ16 does; many pairs of cells are scored at once with numpy.
- ``cdist``, ``pdist`` and ``linear_sum_assignment``: scipy's own compiled
  functions, loaded from their files without importing ``scipy.spatial`` and
  ``scipy.optimize`` (about 0.7 s of the command line's run).
"""

from __future__ import annotations

import numpy as np


def row_blocks(n_rows, row_length, values=1 << 21):
    """Slices of ``n_rows`` rows, each block holding about ``values`` numbers of rows
    ``row_length`` long (at least one row); a small table is one block."""
    step = max(1, values // max(row_length, 1))
    return [slice(start, min(start + step, n_rows)) for start in range(0, n_rows, step)]


def in_threads(function, items, workers=2):
    """``list(map(function, items))``, computed on ``workers`` threads.

    For numpy work on big blocks (distances, sorting), which lets other
    threads run meanwhile: two cores share the blocks. The results come in
    the order of ``items``, so sums over them are the same, to the last bit,
    as on one thread.
    """
    items = list(items)
    if workers < 2 or len(items) < 2:
        return [function(item) for item in items]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(function, items))


# --------------------------------------------------------------------------
# scipy's distances and assignment, without scipy's package imports
# --------------------------------------------------------------------------
# ``import scipy.spatial.distance`` takes about 0.3 s and ``import
# scipy.optimize`` 0.35 s (they import scipy.linalg, scipy.sparse, ...), while
# the pipeline needs only three compiled functions, each in an extension module
# that needs nothing but numpy: loading such a file alone takes a millisecond.

def _load_scipy(module, names):
    """Functions of one of scipy's extension modules, loaded from the module's own file.

    ``module`` is the dotted name, e.g. ``"scipy.optimize._lsap"``; returns
    the functions ``names`` of it. Should a scipy release move or rename
    them, the public import serves instead (see ``_SCIPY``).
    """
    import importlib.machinery
    import importlib.util
    import os

    try:
        spec = importlib.util.find_spec("scipy")
        for folder in spec.submodule_search_locations or ():
            for suffix in importlib.machinery.EXTENSION_SUFFIXES:
                path = os.path.join(folder, *module.split(".")[1:]) + suffix
                if os.path.isfile(path):
                    loader = importlib.machinery.ExtensionFileLoader(module, path)
                    loaded = importlib.util.module_from_spec(
                        importlib.util.spec_from_file_location(module, path, loader=loader))
                    loader.exec_module(loaded)
                    return [getattr(loaded, name) for name in names]
    except (ImportError, AttributeError, OSError):
        pass
    return _SCIPY[module][1]()


def _public_distances():
    from scipy.spatial.distance import cdist as scipy_cdist, pdist as scipy_pdist

    return [lambda a, b: scipy_cdist(a, b, "euclidean"),
            lambda a, b: scipy_cdist(a, b, "sqeuclidean"), scipy_pdist]


def _public_assignment():
    from scipy.optimize import linear_sum_assignment as public

    return [public]


# The extension modules used: the functions taken from each, and their public twins.
_SCIPY = {"scipy.spatial._distance_pybind": (("cdist_euclidean", "cdist_sqeuclidean",
                                               "pdist_euclidean"), _public_distances),
          "scipy.optimize._lsap": (("linear_sum_assignment",), _public_assignment)}
_LOADED = {}


def _scipy_function(module, name):
    """The function ``name`` of ``module`` (a key of ``_SCIPY``), loaded once."""
    if module not in _LOADED:
        names = _SCIPY[module][0]
        _LOADED[module] = dict(zip(names, _load_scipy(module, names)))
    return _LOADED[module][name]


def cdist(a, b, metric="euclidean"):
    """``scipy.spatial.distance.cdist(a, b, metric)`` for 'euclidean' and 'sqeuclidean'.

    The very function scipy's ``cdist`` calls for these metrics, without
    importing ``scipy.spatial`` (tests/test_placement.py checks both give the same numbers).
    """
    if metric not in ("euclidean", "sqeuclidean"):
        raise ValueError(f"metric must be 'euclidean' or 'sqeuclidean', got {metric!r}")
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        from scipy.spatial.distance import cdist as scipy_cdist  # its checks, its messages

        return scipy_cdist(a, b, metric)
    return _scipy_function("scipy.spatial._distance_pybind", "cdist_" + metric)(a, b)


def pdist(a):
    """``scipy.spatial.distance.pdist(a)``: the euclidean distances of all pairs i < j, in order."""
    a = np.asarray(a)
    if a.ndim != 2:
        from scipy.spatial.distance import pdist as scipy_pdist

        return scipy_pdist(a)
    return _scipy_function("scipy.spatial._distance_pybind", "pdist_euclidean")(a)


def linear_sum_assignment(cost):
    """``scipy.optimize.linear_sum_assignment(cost)``: the same compiled function, without
    importing ``scipy.optimize``."""
    return _scipy_function("scipy.optimize._lsap", "linear_sum_assignment")(cost)


def chunk_columns(n_rows):
    """Pixel columns per block, so a float64 block of ``n_rows`` rows stays near 128 MB."""
    return int(np.clip(2 ** 24 // max(n_rows, 1), 1024, 16384))


def column_stats(pixels):
    """Mean and standard deviation of every pixel column, as StandardScaler's ``mean_`` and ``scale_``.

    The sums of the uint8 pixels and of their squares are whole numbers, so
    they are added up exactly, a block of columns at a time; each statistic
    is then rounded once.

    Parameters
    ----------
    pixels : ndarray of shape (n_covers, n_pixels), uint8

    Returns
    -------
    mean, scale : ndarray of shape (n_pixels,), float64
        ``scale`` is 1 where a column does not vary (StandardScaler's rule).
    varying : ndarray of bool
        The columns that vary: the total variance of the standardised pixels
        is ``n_covers * varying.sum()``.
    """
    n, width = pixels.shape
    total = np.empty(width, dtype=np.int64)
    squares = np.empty(width, dtype=np.int64)

    def add_up(columns):  # (blocks of columns on two threads: each writes its own part)
        block = pixels[:, columns]
        total[columns] = block.sum(axis=0, dtype=np.int64)
        block = block.astype(np.uint16)
        block *= block  # 255^2 = 65,025 still fits in 16 bits
        squares[columns] = block.sum(axis=0, dtype=np.int64)

    step = chunk_columns(n) // 2  # two blocks in hand at once
    in_threads(add_up, [slice(start, start + step) for start in range(0, width, step)])
    variance = (n * squares - total * total) / (n * n)  # exact integers, one division
    varying = variance > 0
    scale = np.where(varying, np.sqrt(variance), 1.0)
    return total / n, scale, varying


def standardised_chunks(pixels, mean, scale, rows=slice(None)):
    """Yield ``(columns, block)``: the standardised pixels ``(p - mean) / scale`` as float32, a block of columns at a time.

    For the big-folder features; a small folder's exact Gram matrix is
    ``tutorial_kit.exact.exact_gram``, in float64. Every block is a view of
    one buffer, overwritten by the next: use each before asking for the next
    (fresh memory for each block cost 0.1 s of page faults per pass at 1,000 covers).
    """
    picked = np.arange(len(pixels))[rows]
    n_rows, step = len(picked), chunk_columns(len(picked))
    mean32, inverse32 = mean.astype(np.float32), (1 / scale).astype(np.float32)
    buffer = np.empty((n_rows, min(step, pixels.shape[1])), dtype=np.float32)
    halves = [slice(0, n_rows // 2), slice(n_rows // 2, n_rows)]
    for start in range(0, pixels.shape[1], step):
        columns = slice(start, start + step)
        block = buffer[:, :len(mean32[columns])]

        def standardise(half):  # (the two halves of the rows on two threads; a slice of
            # rows is read in place, other rows are gathered)
            source = (pixels[rows, columns][half] if isinstance(rows, slice)
                      else pixels[picked[half], columns])
            np.subtract(source, mean32[columns], out=block[half])  # (uint8 to float32: exact)
            block[half] *= inverse32[columns]

        in_threads(standardise, halves)
        yield columns, block


def sampled_components(pixels, mean, scale, n_components, sample_size=500):
    """Principal coordinates of all covers on axes found from a sample of them.

    Two passes over the pixels, a block of columns at a time:

    1. the Gram matrix of ``sample_size`` evenly spaced covers gives their
       principal axes (exactly as ``make_features`` does for a small folder);
    2. every cover is projected onto the ``n_components`` main axes, and the
       projections are rotated onto their own principal axes.

    Parameters
    ----------
    pixels : ndarray of shape (n_covers, n_pixels), uint8
    mean, scale : ndarray of shape (n_pixels,)
        From :func:`column_stats`.
    n_components : int
    sample_size : int

    Returns
    -------
    values : ndarray of shape (n_covers, k), float64, k <= n_components
        Columns in order of decreasing variance.
    axes_mix : ndarray of shape (k, sample_size)
        Feature vector ``v`` stands for the standardised pixels
        ``v @ axes_mix @ X[sample]``.
    sample : ndarray of int
        The sampled covers.
    """
    n = len(pixels)
    sample = np.unique(np.linspace(0, n - 1, min(sample_size, n)).round().astype(int))
    gram = np.zeros((len(sample), len(sample)))
    for _, block in standardised_chunks(pixels, mean, scale, sample):
        gram += block @ block.T
    lam, u = np.linalg.eigh(gram)
    lam, u = lam[::-1], u[:, ::-1]
    keep = np.flatnonzero(lam > lam[0] * 1e-6)[:n_components]
    # axes (in pixel space) = X[sample].T @ u / sqrt(lam): orthonormal columns
    mix = (u[:, keep] / np.sqrt(lam[keep])).astype(np.float32)
    # the sample's rows first, so each block's first rows are the sample's (no copy of them)
    order = np.concatenate([sample, np.setdiff1d(np.arange(n), sample)])
    in_order = np.zeros((n, len(keep)))
    for columns, block in standardised_chunks(pixels, mean, scale, order):
        in_order += block @ (block[:len(sample)].T @ mix)
    values = np.empty_like(in_order)
    values[order] = in_order
    # rotate onto the projections' own principal axes, biggest first, signs fixed
    _, s, vt = np.linalg.svd(values - values.mean(axis=0), full_matrices=False)
    vt = vt * np.sign(vt[np.arange(len(vt)), np.abs(vt).argmax(axis=1)])[:, None]
    values = values @ vt.T
    return values, vt @ mix.T.astype(np.float64), sample


def big_folder_features(pixels, mean, scale, varying, n_components, sample_size=500):
    """What ``helpers.make_features`` keeps for a big folder, without the N x N Gram matrix.

    Parameters
    ----------
    pixels : ndarray of shape (n_covers, n_pixels), uint8
    mean, scale, varying : ndarray of shape (n_pixels,), from :func:`column_stats`
    n_components, sample_size : int

    Returns
    -------
    dict, the keyword arguments of ``helpers.CoverFeatures`` but ``images``, ``mean`` and ``scale``:
    values : ndarray of shape (n_covers, k), k <= n_components
    coefficients : ndarray of shape (k, n_covers)
        Feature vector ``v`` stands for the standardised pixels ``v @ coefficients @ X``.
    variance_kept : float
        Share of the standardised pixels' total variance that ``values`` holds.
    """
    values, axes_mix, sample = sampled_components(pixels, mean, scale, n_components, sample_size)
    coefficients = np.zeros((values.shape[1], len(pixels)))
    coefficients[:, sample] = axes_mix
    variance_kept = float((values ** 2).sum() / (len(pixels) * varying.sum()))
    return dict(values=values, coefficients=coefficients, variance_kept=min(variance_kept, 1.0))


# --------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------

def one_blas_thread():
    """A ``with`` block in which numpy's BLAS runs on one thread.

    The training loop asks BLAS only for small products (the learning
    curve's quantization errors); on two threads, waking the second one
    costs more than it saves and competes with the loop itself (train_som
    at 100 covers: 0.43 s against 1.5 to 2.0 s on a busy 2-core machine).
    threadpoolctl, which scikit-learn brings along, sets the limit, as
    scikit-learn's k-means does; without it, nothing changes.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


# What train_steps reads of a MiniSom besides its public API (MiniSom 2.3.6). A
# MiniSom without one of these (a newer release, say) is trained through its
# public ``update(x, winner(x), t, T)`` instead: the same map, only slower.
MINISOM_INTERNALS = ("_weights", "_learning_rate", "_sigma", "_learning_rate_decay_function",
                     "_sigma_decay_function", "_gaussian", "_xx", "_yy", "_neigx", "_neigy",
                     "neighborhood", "topology")


def missing_internals(som):
    """The names of ``MINISOM_INTERNALS`` that ``som`` lacks (empty: the fast path can run)."""
    return [name for name in MINISOM_INTERNALS if not hasattr(som, name)]


def train_steps_public(som, data, order, start, iterations):
    """:func:`train_steps` through MiniSom's public API only: ``som.update(x, som.winner(x), t, T)``."""
    for t, x in enumerate(data[order], start):
        som.update(x, som.winner(x), t, iterations)


def train_steps(som, data, order, start, iterations):
    """Train ``som`` on ``data[order]``, as steps ``start``, ``start + 1``, ... of ``iterations``.

    Each step is MiniSom's ``som.update(x, som.winner(x), t, iterations)`` for
    ``x = data[order[t - start]]``: the same winner, then the same arithmetic
    on every weight, so the weights equal MiniSom's own to the last bit
    (tests/test_training.py checks it for every neighbourhood and topology).
    The speed comes from the bookkeeping, done once for all steps:

    - the weights are held one feature per row (features x neurons), so each
      numpy operation runs along all the neurons at once;
    - the decayed learning rate and sigma come as two arrays;
    - ``x - w`` is computed once per step (MiniSom computes it twice), in a
      buffer that is reused, and squared and summed in one pass;
    - the gaussian on a rectangular grid is the outer product of its two
      one-dimensional factors, as MiniSom computes it, without full-grid arrays.

    The one difference: the winner is found from the squared distances, added
    up by ``einsum`` in another order. Only two neurons at the same distance to
    the last bit could then swap which one wins.

    A map of more than ``WINDOWED_TRAINING_ABOVE`` neurons with the gaussian on
    a rectangular grid (a folder of over 1,000 covers) is trained by
    :func:`train_steps_windowed` instead: each step moves only the neurons
    where the gaussian is above ``NEIGHBOURHOOD_CUTOFF`` of its peak.

    A MiniSom that lacks one of the internals this needs
    (:func:`missing_internals`) is trained by :func:`train_steps_public`, with
    one warning that names what is missing.
    """
    missing = missing_internals(som)
    if missing:
        import warnings

        warnings.warn(f"this MiniSom has no {', '.join(missing)}: training through its public "
                      "update() instead (the same map, slower)", RuntimeWarning, stacklevel=2)
        train_steps_public(som, data, order, start, iterations)
        return
    steps = np.arange(start, start + len(order))
    etas = som._learning_rate_decay_function(som._learning_rate, steps, iterations).tolist()
    sigmas = som._sigma_decay_function(som._sigma, steps, iterations).tolist()
    rows, cols, n_features = som._weights.shape
    separable = (som.neighborhood == som._gaussian and som.topology == "rectangular"
                 and np.array_equal(som._xx.T[:, 0], som._neigx)
                 and np.array_equal(som._yy.T[0], som._neigy))
    if separable and rows * cols > WINDOWED_TRAINING_ABOVE:
        train_steps_windowed(som, data, order, etas, sigmas)
        return
    weights = np.ascontiguousarray(som._weights.reshape(rows * cols, n_features).T)
    diff = np.empty_like(weights)
    distances, g = np.empty(rows * cols), np.empty((rows, cols))
    across, down = _squared_offsets(som)
    subtract, multiply, add, exp, einsum = np.subtract, np.multiply, np.add, np.exp, np.einsum
    for x, eta, sigma in zip(data[order][:, :, None], etas, sigmas):
        subtract(x, weights, out=diff)
        # MiniSom: linalg.norm(x - w, axis=-1).argmin(); the square root changes no order
        einsum("ij,ij->j", diff, diff, out=distances)
        i, j = divmod(int(distances.argmin()), cols)
        if separable:  # MiniSom's _gaussian: exp(-dx^2/d) * exp(-dy^2/d), outer product
            d = 2 * sigma * sigma
            multiply.outer(exp(across[i] / d), exp(down[j] / d), out=g)
        else:
            g[...] = som.neighborhood((i, j), sigma)
        multiply(g, eta, out=g)
        multiply(diff, g.reshape(-1), out=diff)  # MiniSom: einsum('ij, ijk->ijk', g, x - w)
        add(weights, diff, out=weights)
    som._weights[...] = weights.T.reshape(rows, cols, n_features)


def _squared_offsets(som):
    """``-(a - b)^2`` for every two row numbers, and for every two column numbers, of
    ``som``'s grid: whole numbers, exact. Row ``i`` of the first, divided by
    ``2 sigma^2``, is the exponent of MiniSom's gaussian down a column, for a winner in row ``i``."""
    return (-np.power(np.subtract.outer(som._neigx, som._neigx), 2),
            -np.power(np.subtract.outer(som._neigy, som._neigy), 2))


# A big map's step moves only the neurons where the gaussian is above this share of
# its peak: beyond ceil(6.07 sigma) cells, exp(-d^2 / (2 sigma^2)) < 1e-8.
NEIGHBOURHOOD_CUTOFF = 1e-8
WINDOWED_TRAINING_ABOVE = 1024  # neurons: up to 32x32, every map is MiniSom's to the last bit


def train_steps_windowed(som, data, order, etas, sigmas):
    """:func:`train_steps` on a big map: each step moves only the window of neurons that matter.

    MiniSom moves every neuron at every step, by ``eta * g * (x - w)``. With
    the gaussian, ``g`` falls below ``NEIGHBOURHOOD_CUTOFF`` (1e-8) of its
    peak ``ceil(6.07 sigma)`` cells from the winner: a move smaller than the
    weights' own rounding in most places. Late in training, with sigma near
    1, that window is 13 x 13 neurons of a 100 x 100 map. So each step

    - finds the winner from ``|w|^2 - 2 w.x`` (one matrix-vector product;
      ``|w|^2`` is kept per neuron and renewed in the window after each move),
    - then moves the neurons of the window, with MiniSom's own arithmetic.

    The map is no longer MiniSom's to the last bit, but the difference stays
    at the level of the skipped moves: on 3,000 generated posters (a 55 x 55
    map, 20,480 steps, weights up to 600) the largest difference from
    MiniSom's weights was 4e-8, and every cover went to the same cell
    (tests/test_training.py checks a smaller case). Training took 2.4 s
    instead of 4.2 s, and at 10,000 covers 3.9 s instead of 8.9 s.

    Parameters
    ----------
    som : minisom.MiniSom
        A map with the gaussian on a rectangular grid; trained in place.
    data : ndarray of shape (n_covers, n_features)
    order : ndarray of int
        The covers of the steps, in order.
    etas, sigmas : sequence of float
        The learning rate and sigma of each step.
    """
    rows, cols, n_features = som._weights.shape
    weights = np.ascontiguousarray(som._weights)  # (rows, cols, n_features)
    cells = weights.reshape(rows * cols, n_features)  # a view: the same numbers
    squares = np.einsum("ij,ij->i", cells, cells)  # |w|^2 of every neuron
    squares_grid = squares.reshape(rows, cols)
    scores = np.empty(rows * cols)
    across, down = _squared_offsets(som)
    reach = np.ceil(np.sqrt(2 * np.log(1 / NEIGHBOURHOOD_CUTOFF)) * np.asarray(sigmas)).astype(int)
    for x, eta, sigma, r in zip(data[order], etas, sigmas, reach.tolist()):
        # the winner: the least |x - w|^2 = |x|^2 + (|w|^2 - 2 w.x); |x|^2 is the same for all
        np.dot(cells, x, out=scores)
        scores *= -2
        scores += squares
        i, j = divmod(int(scores.argmin()), cols)
        top, bottom, left, right = max(i - r, 0), min(i + r + 1, rows), max(j - r, 0), min(j + r + 1, cols)
        d = 2 * sigma * sigma  # MiniSom's gaussian, on the window only, times eta
        g = np.multiply.outer(np.exp(across[i, top:bottom] / d), np.exp(down[j, left:right] / d))
        g *= eta
        window = weights[top:bottom, left:right]  # a view into the map
        move = x - window
        move *= g[:, :, None]
        window += move
        np.einsum("ijk,ijk->ij", window, window, out=squares_grid[top:bottom, left:right])
    som._weights[...] = weights


def map_errors(som, data):
    """MiniSom's quantization and topographic errors of ``data``, a block of covers at a time.

    MiniSom computes both from the whole covers x neurons table (with its
    temporaries, 2.4 GB for 10,000 covers on 10,000 neurons) and sorts each
    row in full for the topographic error; here each block's squared
    distances (`product_distances`, as MiniSom's own) give the best and second best neurons by a
    partial sort. A hexagonal map's topographic error is MiniSom's, block by block.

    Returns
    -------
    (float, float)
        The mean distance of the covers to their best neurons, and the share of
        covers whose best two neurons are not grid neighbours.
    """
    weights = som.get_weights()
    rows, cols = weights.shape[:2]
    cells = weights.reshape(rows * cols, -1)
    squares = (cells * cells).sum(axis=1)

    def block_errors(block):  # the sum of the best distances, and the misses, of a block
        part = product_distances(data[block], cells, b_squares=squares)
        two = np.argpartition(part, 1, axis=1)[:, :2]  # the best, then the second best
        distance = np.sqrt(part[np.arange(len(part)), two[:, 0]]).sum()
        if som.topology == "hexagonal":
            return distance, round(som.topographic_error(data[block]) * len(part))
        (r1, r2), (c1, c2) = np.divmod(two.T, cols)  # MiniSom's rule: more than a diagonal step apart
        return distance, int((np.hypot(r1 - r2, c1 - c2) > 1.42).sum())

    distance, misses = 0.0, 0  # (the blocks on two threads, added up in order)
    for block_distance, block_misses in in_threads(block_errors, row_blocks(len(data), rows * cols)):
        distance, misses = distance + block_distance, misses + block_misses
    return distance / len(data), misses / len(data)


# --------------------------------------------------------------------------
# The assignment of a big folder
# --------------------------------------------------------------------------

DENSE_ASSIGNMENT_UP_TO = 4000  # covers; beyond, linear_sum_assignment's N^3 dominates


def product_distances(a, b, a_squares=None, b_squares=None):
    """Squared distances ``||a_i - b_j||^2`` as ``|a_i|^2 - 2 a_i . b_j + |b_j|^2``.

    A matrix product, so BLAS makes it ten times faster than ``cdist``, but its
    last bits depend on the CPU: for big folders only, never for what a
    notebook prints. Negative rounding is clipped to 0.
    """
    table = a @ b.T
    table *= -2
    table += (a * a).sum(axis=1)[:, None] if a_squares is None else a_squares[:, None]
    table += (b * b).sum(axis=1) if b_squares is None else b_squares
    return np.maximum(table, 0, out=table)


class SquaredDistances:
    """The cost table of covers to cells (squared distances), computed a part at a time.

    Stands for ``cdist(data, cells, "sqeuclidean")`` where the whole table
    would take too much memory (10,000 covers on 10,000 cells: 800 MB), as
    `product_distances` (BLAS: 10x faster, the last bits depend on the CPU).
    """

    def __init__(self, data, cells):
        self.data, self.cells = data, cells
        self.shape = (len(data), len(cells))
        self.data_squares, self.cell_squares = (data * data).sum(axis=1), (cells * cells).sum(axis=1)

    def block(self, covers, cells):
        """The table's rows ``covers`` and columns ``cells``."""
        return product_distances(self.data[covers], self.cells[cells], self.data_squares[covers],
                                 self.cell_squares[cells])

    def winners(self):
        """Each cover's cheapest cell and its cost, a block of covers at a time."""
        winner, best = np.empty(self.shape[0], dtype=np.int64), np.empty(self.shape[0])
        for block in row_blocks(self.shape[0], self.shape[1]):
            part = product_distances(self.data[block], self.cells, self.data_squares[block],
                                     self.cell_squares)
            winner[block] = part.argmin(axis=1)
            best[block] = part[np.arange(len(part)), winner[block]]
        return winner, best


class _Table:
    """A cost table held whole, with the methods of `SquaredDistances`."""

    def __init__(self, cost):
        self.cost, self.shape = cost, cost.shape

    def block(self, covers, cells):
        return self.cost[np.ix_(covers, cells)]

    def winners(self):
        winner = self.cost.argmin(axis=1)
        return winner, self.cost[np.arange(len(winner)), winner]


def _as_table(cost):
    return cost if isinstance(cost, (SquaredDistances, _Table)) else _Table(np.asarray(cost))


def nearest_free_start(cost, cols):
    """A first one-cover-per-cell placement that keeps every cover near its winner.

    The covers, best matched first, take their winning cell; a cover whose
    winner is taken goes to the nearest free cell on the grid (of those, the
    one it is closest to). ``cost`` is an (n_covers, n_cells) array or a
    `SquaredDistances`.
    """
    cost = _as_table(cost)
    n, m = cost.shape
    winner, best = cost.winners()
    row, col = np.divmod(np.arange(m), cols)
    free, cell_of = np.ones(m, dtype=bool), np.empty(n, dtype=np.int64)
    for cover in np.argsort(best, kind="stable"):
        cell = winner[cover]
        if not free[cell]:
            candidates = np.flatnonzero(free)
            steps = (row[candidates] - row[cell]) ** 2 + (col[candidates] - col[cell]) ** 2
            candidates = candidates[steps == steps.min()]
            cell = candidates[cost.block([cover], candidates)[0].argmin()]
        free[cell], cell_of[cover] = False, cell
    return cell_of


def _disjoint_groups(starts, window):
    """Split window starts (sorted) into groups whose windows do not overlap.

    Each start joins the first group whose last window ends at or before it:
    starts 0, 16, 32, 48, 64, 68 with windows of 32 give (0, 32, 64),
    (16, 48) and (68,).
    """
    groups = []
    for start in starts:
        for group in groups:
            if group[-1] + window <= start:
                group.append(start)
                break
        else:
            groups.append([start])
    return groups


def windowed_assignment(cost, rows, cols, window=32, rounds=3, workers=2):
    """One cell per cover, near the least total cost, without the full N^3 solve.

    Starting from :func:`nearest_free_start`, the covers inside each window of
    ``window`` x ``window`` cells (windows overlap by half) are re-assigned to
    that window's cells optimally, by ``linear_sum_assignment``; rounds over
    all windows repeat until none lowers the total cost (at most ``rounds``).
    Every solve can only lower the total, and a window as big as the grid
    gives the exact optimum.

    The windows of a round are taken in a few phases of windows that do not
    overlap, so the solves of one phase are independent: ``workers`` threads
    solve them at once (scipy's solver and BLAS let go of the interpreter),
    and the result is the same whatever the number of threads.

    Parameters
    ----------
    cost : ndarray of shape (n_covers, rows * cols), n_covers <= rows * cols
        Or a `SquaredDistances` of that shape (only windows of it are computed).
    rows, cols, window, rounds, workers : int

    Returns
    -------
    cell_of : ndarray of shape (n_covers,), int
        Each cover's cell (row-major), all different.
    """
    from concurrent.futures import ThreadPoolExecutor

    cost = _as_table(cost)
    n, m = cost.shape
    cell_of = nearest_free_start(cost, cols)
    cover_at = np.full(m, -1)
    cover_at[cell_of] = np.arange(n)
    grid = np.arange(m).reshape(rows, cols)

    def starts(size):
        last = max(size - window, 0)
        return sorted(set(range(0, last + 1, max(window // 2, 1))) | {last})

    phases = [[(top, left) for top in tops for left in lefts]
              for tops in _disjoint_groups(starts(rows), window)
              for lefts in _disjoint_groups(starts(cols), window)]

    def solve(corner):
        """The window's better assignment, or None (reads the state, changes nothing)."""
        top, left = corner
        cells = grid[top:top + window, left:left + window].ravel()
        covers = cover_at[cells]
        covers = covers[covers >= 0]
        if len(covers) < 2:
            return None
        part = cost.block(covers, cells)
        chosen, new = linear_sum_assignment(part)
        # each of these covers sits on one of the window's cells (in increasing order)
        before = part[np.arange(len(covers)), np.searchsorted(cells, cell_of[covers])].sum()
        if part[chosen, new].sum() < before - 1e-12 * abs(before):
            return cells, covers[chosen], cells[new]
        return None

    with ThreadPoolExecutor(max_workers=max(workers, 1)) as pool:
        for _ in range(rounds):
            improved = False
            for phase in phases:
                for better in pool.map(solve, phase):  # in order: the same result every time
                    if better is not None:
                        cells, covers, new_cells = better
                        cover_at[cells] = -1
                        cell_of[covers] = new_cells
                        cover_at[new_cells] = covers
                        improved = True
            if not improved:
                break
    return cell_of


# --------------------------------------------------------------------------
# The local sorting pass
# --------------------------------------------------------------------------

def swap_pass(data, positions, rows, cols, max_rounds=30):
    """:func:`swap_nearest` on feature rows and (row, col) positions; returns new positions.

    The command line's local swaps after the assignment (``--no-polish``
    skips them); the notebooks and the explorer never run them.
    """
    placed = (positions >= 0).all(axis=1)
    index = np.flatnonzero(placed)
    grid = np.full((rows, cols), -1)
    grid[positions[placed, 0], positions[placed, 1]] = np.arange(len(index))
    table = len(index) <= SWAP_TABLE_UP_TO
    distances = cdist(data[placed], data[placed]) if table else FeatureDistances(data[placed])
    grid, _ = swap_nearest(distances, grid, max_rounds=max_rounds)
    new = positions.copy()
    r, c = np.nonzero(grid >= 0)
    new[index[grid[r, c]]] = np.column_stack([r, c])
    return new


# What DPQ16 weighs, per cover, of the distances to its four grid neighbours,
# sorted: the nearest, the second nearest, ... DPQ_p compares the p-norms of the
# gain curves G_k, k = 1, 2, ...; with p = 16 a gain counts as G_k^15, so
# G_1 (the nearest neighbour) dominates: G_2 counts about 0.3 as much, G_3 0.1.
# A cover's k-th nearest neighbour enters every D_j, j >= k, as 1/j of it:
# about (1, 0.2, 0.04, 0.01) from the gain curves of sorted 10x10 grids. On
# benchmarks/work/varied_tune (seeds 0-2) these weights, a little flatter, give
# the same DPQ16 (0.933) and a lower (better) neighbour/all distance ratio (0.618
# against 0.623; the earlier pass, all four alike: 0.612). All four alike: DPQ16 0.920.
NEAREST_WEIGHTS = (1.0, 0.3, 0.1, 0.03)


def _offsets_within(radius):
    """Cell offsets (dr, dc) up to ``radius`` cells away, one of each +/- pair, nearest first."""
    offsets = [(dr, dc) for dr in range(radius + 1) for dc in range(-radius, radius + 1)
               if (dr, dc) > (0, 0) and dr * dr + dc * dc <= radius * radius]
    return tuple(sorted(offsets, key=lambda o: (o[0] ** 2 + o[1] ** 2, o)))


SWAP_OFFSETS = _offsets_within(2)  # side by side, diagonal, and two cells away
# Cells within two steps: two swaps closer than this could change one cover's neighbours
_TWO_STEPS = np.array([(dr, dc) for dr in range(-2, 3) for dc in range(-2, 3)
                       if abs(dr) + abs(dc) <= 2])


def _within_two_steps(values):
    """The largest of ``values`` within two steps (``_TWO_STEPS``) of each cell
    (the two-cell border is left as it is)."""
    near, (h, w) = values.copy(), values.shape
    for dr, dc in _TWO_STEPS:
        np.maximum(near[2:h - 2, 2:w - 2], values[2 + dr:h - 2 + dr, 2 + dc:w - 2 + dc],
                   out=near[2:h - 2, 2:w - 2])
    return near


# Up to this many covers the swaps read their distances from an N x N table (128 MB
# at 4,000); beyond, FeatureDistances computes the few they need from the features.
SWAP_TABLE_UP_TO = 4000


class _TableDistances:
    """Distances read from an (n, n) table; index -1 (an empty cell or the border)
    is at the mean distance (as far as a random cover; a constant for a full grid)."""

    def __init__(self, distances):
        n = len(distances)
        self.largest = float(distances.max(initial=0))
        self.table = np.full((n + 1, n + 1), float(distances.sum() / max(n * (n - 1), 1)))
        self.table[:n, :n] = distances

    def __call__(self, x, y):
        return self.table[x, y]


class FeatureDistances:
    """Distances between covers computed when needed from their features (rows of
    ``data``), with no N x N table: each the same number as ``cdist`` gives (the squares
    added up feature after feature, from 0). Index -1 is at ``missing``: by default
    the mean distance of each cover to the one N/2 places on, an estimate of the mean."""

    def __init__(self, data, missing=None, chunk=1 << 16):
        self.columns = np.ascontiguousarray(np.asarray(data, dtype=np.float64).T)
        self.chunk, n = chunk, self.columns.shape[1]
        sample = self._pairs(np.arange(n), np.roll(np.arange(n), n // 2))
        self.missing = float(sample.mean()) if missing is None else float(missing)
        self.largest = 2 * float(sample.max(initial=0))  # a scale for the tolerance only

    def _pairs(self, x, y):
        total = np.zeros(len(x))
        for column in self.columns:
            step = column[x] - column[y]
            np.multiply(step, step, out=step)
            np.add(total, step, out=total)
        return np.sqrt(total, out=total)

    def __call__(self, x, y):
        x, y = np.broadcast_arrays(x, y)
        out = np.full(x.shape, self.missing)
        both = np.flatnonzero(((x >= 0) & (y >= 0)).ravel())
        flat, xs, ys = out.reshape(-1), x.reshape(-1), y.reshape(-1)
        for start in range(0, len(both), self.chunk):
            part = both[start:start + self.chunk]
            flat[part] = self._pairs(xs[part], ys[part])
        return out


def _distances(distances):
    return distances if isinstance(distances, FeatureDistances) else _TableDistances(distances)


def nearest_energy(distances, grid, weights=NEAREST_WEIGHTS):
    """What :func:`swap_nearest` lowers: for every cover, its distances to its four grid
    neighbours, sorted, times ``weights``, added up (an empty or missing neighbour
    counts as the mean distance). ``distances``: (n, n) or :class:`FeatureDistances`."""
    rows, cols = grid.shape
    distance = _distances(distances)
    padded = np.full((rows + 2, cols + 2), -1)
    padded[1:-1, 1:-1] = grid
    r, c = np.nonzero(padded >= 0)
    neighbours = np.stack([padded[r + dr, c + dc] for dr, dc in _NEIGHBOURS], axis=1)
    return float((np.sort(distance(padded[r, c][:, None], neighbours), axis=1)
                  @ np.asarray(weights, dtype=np.float64)).sum())


def _swap_pattern(dr, dc):
    """For a swap of cells p = (0, 0) and q = (dr, dc): the cells whose cost it changes
    (p, q and their neighbours), each cell's four neighbours, and where p and q are."""
    cells = sorted({(0, 0), (dr, dc)} | {(r + x, c + y) for r, c in ((0, 0), (dr, dc))
                                         for x, y in _NEIGHBOURS})
    cells = np.array(cells)
    neighbours = cells[:, None, :] + np.array(_NEIGHBOURS)[None, :, :]  # (cells, 4, 2)

    def where(at, rc):
        return (at[..., 0] == rc[0]) & (at[..., 1] == rc[1])

    return cells, neighbours, (where(cells, (0, 0)), where(cells, (dr, dc)),
                               where(neighbours, (0, 0)), where(neighbours, (dr, dc)))


def swap_nearest(distances, grid, weights=NEAREST_WEIGHTS, offsets=SWAP_OFFSETS, max_rounds=30):
    """Swap covers of nearby cells while that brings each cover's nearest neighbours closer.

    The energy is :func:`nearest_energy`, which weighs each cover's nearest grid
    neighbour most, as DPQ16 does (``NEAREST_WEIGHTS``); the plain sum of
    neighbour distances (the pass this one replaced) weighs all four alike. For
    each offset in ``offsets`` (side by side, diagonal, two cells away), every
    swap of the covers of two cells (one may be empty) is scored at once; of
    those that lower the energy, the best are made, skipping any within two
    steps of one already made (those could change one cover's neighbours).
    Rounds repeat until no swap helps.

    Parameters
    ----------
    distances : ndarray of shape (n_covers, n_covers), or FeatureDistances
        The covers' distances, or what computes them when needed (big folders).
    grid : ndarray of shape (rows, cols), int
        Cover index in each cell, -1 for an empty cell. Not modified.
    weights : sequence of 4 floats
    offsets : sequence of (dr, dc), dr >= 0
    max_rounds : int

    Returns
    -------
    grid : ndarray of shape (rows, cols), int
        The new arrangement; its :func:`nearest_energy` is never higher.
    rounds : int
        How many rounds ran.
    """
    rows, cols = grid.shape
    distance, weights = _distances(distances), np.asarray(weights, dtype=np.float64)
    pad = 3  # a cell's neighbour's neighbour, two cells away, stays inside
    padded = np.full((rows + 2 * pad, cols + 2 * pad), -1)
    padded[pad:-pad, pad:-pad] = grid
    tolerance = 1e-12 * max(distance.largest, 1e-300)
    every_r, every_c = (i.ravel() for i in np.mgrid[pad:rows + pad, pad:cols + pad])
    patterns = {offset: _swap_pattern(*offset) for offset in offsets}

    def cost(covers, neighbours):  # of each swap's cells: (swaps, cells) and (swaps, cells, 4)
        sorted_d = np.sort(distance(covers[..., None], neighbours), axis=-1)
        return ((sorted_d @ weights) * (covers >= 0)).sum(axis=1)

    # A swap's gain depends only on the cells within two steps of its two cells: a pair
    # is scored again only when one of those changed since its offset's last scoring
    # (the others cannot have become helpful; the result is the same, found faster).
    changed = np.zeros(padded.shape, dtype=np.int64)  # the pass that last changed each cell
    scored = dict.fromkeys(offsets, -1)  # the pass that last scored each offset
    pass_, round_ = 0, 0
    for round_ in range(1, max_rounds + 1):
        swapped = 0
        for dr, dc in offsets:
            pass_ += 1
            cells, around, (p_cell, q_cell, p_around, q_around) = patterns[dr, dc]
            near = _within_two_steps(changed)
            inside = ((every_r + dr < rows + pad) & (every_c + dc >= pad)
                      & (every_c + dc < cols + pad))
            r, c = every_r[inside], every_c[inside]
            a, b = padded[r, c], padded[r + dr, c + dc]
            fresh = np.maximum(near[r, c], near[r + dr, c + dc]) >= scored[dr, dc]
            r, c, a, b = (x[((a >= 0) | (b >= 0)) & fresh] for x in (r, c, a, b))
            scored[dr, dc] = pass_
            covers = padded[r[:, None] + cells[:, 0], c[:, None] + cells[:, 1]]
            neighbours = padded[r[:, None, None] + around[..., 0], c[:, None, None] + around[..., 1]]
            before = cost(covers, neighbours)
            covers[:, p_cell], covers[:, q_cell] = b[:, None], a[:, None]  # after the swap
            neighbours[:, p_around], neighbours[:, q_around] = b[:, None], a[:, None]
            gain = before - cost(covers, neighbours)
            helpful = np.flatnonzero(gain > tolerance)
            blocked = np.zeros(padded.shape, dtype=bool)
            for k in helpful[np.argsort(-gain[helpful], kind="stable")]:
                if blocked[r[k], c[k]] or blocked[r[k] + dr, c[k] + dc]:
                    continue
                for rr, cc in ((r[k], c[k]), (r[k] + dr, c[k] + dc)):
                    blocked[rr + _TWO_STEPS[:, 0], cc + _TWO_STEPS[:, 1]] = True
                    changed[rr, cc] = pass_
                padded[r[k], c[k]], padded[r[k] + dr, c[k] + dc] = b[k], a[k]
                swapped += 1
        if not swapped:
            break
    return padded[pad:-pad, pad:-pad].copy(), round_


_NEIGHBOURS = ((-1, 0), (1, 0), (0, -1), (0, 1))
