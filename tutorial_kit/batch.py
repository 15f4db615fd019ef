"""Kohonen's batch SOM in numpy: the explorer's quick preview of a map.

The notebooks teach the online SOM: one cover at a time, the winner and its
neighbours step towards it (``helpers.train_som``, MiniSom's ``update``). The
batch SOM (Kohonen, *Essentials of the Self-Organizing Map*, 2013) looks at
all covers at once instead. One epoch:

1. every cover finds its winner, the closest neuron (all at once);
2. every neuron becomes the mean of all covers, each weighted by the
   neighbourhood of its winner at that neuron:
   ``w_j = sum_i h(j, c_i) x_i / sum_i h(j, c_i)``;

blended with the old weights by a learning rate, as MiniSom's
``train_batch_offline`` (on its main branch) does:
``w_j <- (1 - lr) w_j + lr * mean_j``. A neuron no cover reaches
(``sum_i h(j, c_i) = 0``, possible with the triangle and the bubble) keeps
its weights.

Ten epochs cost a few milliseconds where 5,000 online steps cost a tenth
of a second, so the explorer shows a batch map while a slider moves and
replaces it by the online map the notebooks teach (which is not the same
map) as soon as that is trained. Nothing the notebooks print comes from here.

The neighbourhoods are MiniSom's on a rectangular grid, each the product of
one factor along the rows and one along the columns (``d`` is the distance
in cells from the winner along that axis): gaussian ``exp(-d² / 2σ²)``,
triangle ``max(σ - |d|, 0)``, bubble ``1 if |d| < σ else 0``.
"""

from __future__ import annotations

import numpy as np

NEIGHBOURHOODS = ("gaussian", "triangle", "bubble")  # MiniSom's names; no mexican_hat (see below)


def neighbourhood_factor(size, sigma, function="gaussian"):
    """One axis of a neighbourhood: ``h[i, c]`` for cell ``i`` and winner ``c`` along it.

    The mexican hat is left out: its negative weights can make the sum of
    weights zero or negative, and the mean in :func:`batch_epoch` undefined.

    Parameters
    ----------
    size : int
        The number of cells along the axis.
    sigma : float > 0
        The radius, in cells.
    function : {'gaussian', 'triangle', 'bubble'}

    Returns
    -------
    numpy.ndarray of shape (size, size)
        Symmetric; the 2-D neighbourhood of winner ``(r, c)`` is
        ``np.outer(rows[:, r], cols[:, c])``.

    Raises
    ------
    ValueError
        An unknown function, or sigma not above 0.

    Examples
    --------
    >>> neighbourhood_factor(4, 2.0, "triangle")[0].tolist()
    [2.0, 1.0, 0.0, 0.0]
    >>> neighbourhood_factor(4, 1.5, "bubble")[1].tolist()
    [1.0, 1.0, 1.0, 0.0]
    >>> round(float(neighbourhood_factor(3, 1.0)[0, 1]), 4)  # exp(-1/2)
    0.6065
    """
    if function not in NEIGHBOURHOODS:
        raise ValueError(f"the batch SOM's neighbourhood must be one of {NEIGHBOURHOODS}, "
                         f"got {function!r}")
    if not sigma > 0:
        raise ValueError(f"sigma must be above 0, got {sigma}")
    cells = np.arange(size, dtype=np.float64)
    distance = np.subtract.outer(cells, cells)
    if function == "gaussian":
        return np.exp(-distance * distance / (2 * sigma * sigma))
    if function == "triangle":
        return np.maximum(sigma - np.abs(distance), 0.0)
    return (np.abs(distance) < sigma).astype(np.float64)


def winners(data, weights):
    """The index of each row's closest neuron, ``rows * cols`` flat (ties: the first).

    Parameters
    ----------
    data : numpy.ndarray of shape (n, n_features)
    weights : numpy.ndarray of shape (rows, cols, n_features)

    Returns
    -------
    numpy.ndarray of shape (n,), int

    Examples
    --------
    >>> weights = np.array([[[0.0], [1.0]], [[2.0], [3.0]]])
    >>> winners(np.array([[2.9], [0.2], [1.6]]), weights).tolist()
    [3, 0, 2]
    """
    flat = weights.reshape(-1, weights.shape[-1])
    # |x - w|² = |x|² - 2 x.w + |w|²; |x|² is the same for every neuron of a row
    scores = np.einsum("ij,ij->i", flat, flat)[None, :] - 2 * (data @ flat.T)
    return scores.argmin(axis=1)


def batch_epoch(data, weights, sigma, neighborhood_function="gaussian", learning_rate=1.0):
    """One epoch of the batch SOM: all winners, then neighbourhood-weighted means.

    Parameters
    ----------
    data : array_like of shape (n, n_features)
    weights : array_like of shape (rows, cols, n_features)
        The map before the epoch (not changed).
    sigma : float > 0
        The neighbourhood radius of this epoch, in cells.
    neighborhood_function : {'gaussian', 'triangle', 'bubble'}
    learning_rate : float
        1 (Kohonen's batch map) replaces each weight by its mean; less keeps
        a share ``1 - learning_rate`` of the old weight, as MiniSom's
        ``train_batch_offline`` does.

    Returns
    -------
    numpy.ndarray of shape (rows, cols, n_features)
        The new weights.

    Examples
    --------
    Two neurons side by side, three covers. Covers 0 and 1 win neuron 0,
    cover 2 wins neuron 1. With the triangle of sigma 1 each cover reaches
    only its winner: each neuron becomes the mean of its own covers.

    >>> data = np.array([[0.0], [1.0], [4.0]])
    >>> weights = np.array([[[0.0], [3.0]]])
    >>> batch_epoch(data, weights, 1.0, "triangle")[0, :, 0].tolist()
    [0.5, 4.0]

    With sigma 2 the triangle along the columns gives weight 2 at the
    winner and 1 one cell away (the factor along the single row, 2, cancels):
    neuron 0 is (2*0 + 2*1 + 1*4) / 5 = 1.2, neuron 1 is
    (1*0 + 1*1 + 2*4) / 4 = 2.25; half of that step at learning rate 0.5.

    >>> batch_epoch(data, weights, 2.0, "triangle")[0, :, 0].tolist()
    [1.2, 2.25]
    >>> batch_epoch(data, weights, 2.0, "triangle", learning_rate=0.5)[0, :, 0].tolist()
    [0.6, 2.625]
    """
    data = np.asarray(data, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    rows, cols, n_features = weights.shape
    won = winners(data, weights)
    counts = np.bincount(won, minlength=rows * cols).reshape(rows, cols).astype(np.float64)
    sums = np.zeros((rows * cols, n_features))
    np.add.at(sums, won, data)
    sums = sums.reshape(rows, cols, n_features)
    along_rows = neighbourhood_factor(rows, sigma, neighborhood_function)
    along_cols = neighbourhood_factor(cols, sigma, neighborhood_function)
    # sum over winners (r, c) of h_rows[i, r] h_cols[j, c] sums[r, c]: two small products
    numerator = np.matmul(along_cols, np.tensordot(along_rows, sums, axes=(1, 0)))
    denominator = along_rows @ counts @ along_cols.T
    reached = denominator > 0
    new = weights.copy()
    means = numerator[reached] / denominator[reached][:, None]
    new[reached] = (1 - learning_rate) * weights[reached] + learning_rate * means
    return new


def train_batch(data, weights, sigmas, neighborhood_function="gaussian", learning_rates=1.0):
    """Several batch epochs, one per sigma, from the given start.

    Parameters
    ----------
    data : array_like of shape (n, n_features)
    weights : array_like of shape (rows, cols, n_features)
        The start (not changed), for example the PCA start of the online map.
    sigmas : sequence of float
        The radius of each epoch: the number of epochs is its length.
    neighborhood_function : {'gaussian', 'triangle', 'bubble'}
    learning_rates : float or sequence of float
        One for all epochs, or one per epoch.

    Returns
    -------
    numpy.ndarray of shape (rows, cols, n_features)

    Examples
    --------
    Two clusters of covers on a 1 x 2 map. The first epoch (triangle of
    radius 2) pulls both neurons towards all four covers, each more towards
    its own pair; the second (radius 1: each neuron alone) moves each neuron
    to the mean of its pair.

    >>> data = np.array([[0.0], [0.2], [9.8], [10.0]])
    >>> start = np.array([[[4.0], [6.0]]])
    >>> train_batch(data, start, [2.0], "triangle")[0, :, 0].round(3).tolist()
    [3.367, 6.633]
    >>> train_batch(data, start, [2.0, 1.0], "triangle")[0, :, 0].round(3).tolist()
    [0.1, 9.9]
    """
    weights = np.asarray(weights, dtype=np.float64)
    sigmas = [float(sigma) for sigma in sigmas]
    rates = np.broadcast_to(np.asarray(learning_rates, dtype=np.float64), (len(sigmas),))
    for sigma, rate in zip(sigmas, rates):
        weights = batch_epoch(data, weights, sigma, neighborhood_function, float(rate))
    return weights
