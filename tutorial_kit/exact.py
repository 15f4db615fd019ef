"""The same features and the same starting map on every CPU.

A Self-Organizing Map can be chaotic: the 2019 post's triangle neighbourhood
moves a winner 4.5 times its distance early on, so a difference in the last
bit of one feature grows until it changes a winner, and then the whole map.
Two steps of ``helpers`` would bring such differences in, because BLAS and
LAPACK (numpy's ``@``, ``np.linalg.eigh``) add up their products in an order
that depends on the CPU (OpenBLAS picks a different kernel for an AVX2 and an
AVX-512 processor):

- the Gram matrix of the standardised pixels (``make_features``);
- the principal axes of the features (``MiniSom.pca_weights_init``).

This module computes both without BLAS or LAPACK, so they come out the same
to the last bit on every machine (``tests/test_exact.py`` checks each measure
under every OpenBLAS kernel the CPU can run):

- ``exact_gram``: the standardised pixels are rounded once to a fixed grid of
  ``2**-bits`` (about 0.00006 of a standard deviation for 100 covers). Their
  products and sums are then whole multiples of ``4**-bits`` below 2**53, so
  float64 holds every partial sum exactly and the order of addition cannot
  matter: any BLAS kernel gives the same Gram matrix, bit for bit.
- ``symmetric_eigen``: the eigenvalues and eigenvectors of a symmetric
  matrix by Jacobi rotations (Jacobi, 1846), written with numpy's element-wise
  operations, whose results IEEE 754 fixes exactly.
- ``pca_start``: MiniSom's ``pca_weights_init`` (the mean plus
  ``c1 * pc1 + c2 * pc2`` on a ``linspace(-1, 1)`` grid) from those axes.
"""

from __future__ import annotations

import math

import numpy as np


def gram_bits(n_covers, n_pixels):
    """How finely ``exact_gram`` may round the standardised pixels: a grid of ``2**-bits``.

    A standardised pixel lies within ``sqrt(n_covers - 1)`` of 0 (all its
    variance on one cover), so each rounded product is below
    ``(n_covers - 1) * 4**bits`` and a sum of ``n_pixels`` of them must stay
    below 2**53, where float64 still counts in whole numbers.

    Parameters
    ----------
    n_covers, n_pixels : int

    Returns
    -------
    int

    Examples
    --------
    >>> gram_bits(100, 185 * 278 * 3)
    14
    """
    largest = math.sqrt(max(n_covers - 1, 1)) + 1  # + 1: the rounding itself
    return int(math.floor(math.log2(math.sqrt(2.0 ** 53 / n_pixels) / largest)))


def exact_gram(pixels, mean, scale, block_columns=None):
    """The Gram matrix ``X @ X.T`` of the standardised pixels, the same on every CPU.

    ``X = (pixels - mean) / scale`` is computed in float64 and rounded once to
    a multiple of ``2**-bits`` (:func:`gram_bits`); every product and partial
    sum of the rounded values is then an exact float64, so no BLAS kernel can
    round differently.

    Parameters
    ----------
    pixels : ndarray of shape (n_covers, n_pixels), uint8
    mean, scale : ndarray of shape (n_pixels,)
        The pixel columns' mean and standard deviation (StandardScaler's).
    block_columns : int, optional
        Pixel columns handled at a time; by default ``fast.chunk_columns``'s,
        about 128 MB of float64 values.

    Returns
    -------
    ndarray of shape (n_covers, n_covers), float64

    Examples
    --------
    >>> pixels = np.array([[0, 10, 255], [5, 10, 0], [9, 12, 128]], dtype=np.uint8)
    >>> mean, scale = pixels.mean(axis=0), pixels.std(axis=0)
    >>> x = (pixels - mean) / scale
    >>> bool(np.allclose(exact_gram(pixels, mean, scale), x @ x.T, atol=1e-4))
    True
    """
    from tutorial_kit.fast import chunk_columns

    n, width = pixels.shape
    bits = gram_bits(n, width)
    block_columns = block_columns or chunk_columns(n)
    gram = np.zeros((n, n))
    for start in range(0, width, block_columns):
        columns = slice(start, start + block_columns)
        block = np.subtract(pixels[:, columns], mean[columns])
        block /= scale[columns]
        block = np.rint(np.ldexp(block, bits))  # whole numbers, |value| < 2**bits * sqrt(n)
        gram += block @ block.T                 # exact: every partial sum is below 2**53
    return np.ldexp(gram, -2 * bits)


def _round_robin(m):
    """The ``m - 1`` rounds of a round-robin tournament of ``m`` (even) players: ``(p, q)`` pairs."""
    players = list(range(m))
    rounds = []
    for _ in range(m - 1):
        half = m // 2
        rounds.append((np.array(players[:half]), np.array(players[half:][::-1])))
        players = [players[0], players[-1]] + players[1:-1]
    return rounds


def symmetric_eigen(matrix, max_sweeps=60):
    """Eigenvalues (largest first) and eigenvectors of a symmetric matrix, by Jacobi rotations.

    Each rotation zeroes one off-diagonal entry ``a[p, q]``; in each round,
    ``n / 2`` rotations on disjoint pairs of rows run at once (the pairs of a
    round-robin tournament), so one sweep of ``n - 1`` rounds visits every
    pair. Sweeps repeat until no off-diagonal entry is above ``1e-15`` of
    the matrix's size. Only element-wise operations are used, so the result
    is the same on every CPU; it agrees with ``np.linalg.eigh`` to rounding.

    Parameters
    ----------
    matrix : array_like of shape (n, n), symmetric
    max_sweeps : int

    Returns
    -------
    values : ndarray of shape (n,)
        In decreasing order.
    vectors : ndarray of shape (n, n)
        ``vectors[:, i]`` belongs to ``values[i]``; the columns are orthonormal.

    Examples
    --------
    >>> values, vectors = symmetric_eigen([[2.0, 1.0], [1.0, 2.0]])
    >>> values.round(12).tolist()
    [3.0, 1.0]
    >>> bool(np.allclose(np.abs(vectors), np.sqrt(0.5)))
    True
    """
    a = np.array(matrix, dtype=np.float64)
    n = len(a)
    if a.ndim != 2 or a.shape != (n, n):
        raise ValueError(f"need a square matrix, got shape {a.shape}")
    a = (a + a.T) / 2  # symmetric to the last bit (rounding may have left it slightly off)
    vectors = np.eye(n)
    size = math.sqrt(float((a * a).sum()))
    rounds = _round_robin(n + n % 2)
    for _ in range(max_sweeps):
        rotated = False
        for p, q in rounds:
            inside = (p < n) & (q < n)  # a player n (odd n) sits out
            p, q = np.minimum(p[inside], q[inside]), np.maximum(p[inside], q[inside])
            apq = a[p, q]
            act = np.abs(apq) > 1e-15 * size
            if not act.any():
                continue
            rotated = True
            p, q, apq = p[act], q[act], apq[act]
            theta = (a[q, q] - a[p, p]) / (2 * apq)
            t = np.where(theta >= 0, 1.0, -1.0) / (np.abs(theta) + np.sqrt(theta * theta + 1))
            c = 1 / np.sqrt(t * t + 1)
            s = t * c
            # A <- J^T A J, with J the identity but J[p, p] = J[q, q] = c, J[p, q] = s, J[q, p] = -s
            row_p, row_q = a[p, :], a[q, :]
            a[p, :], a[q, :] = c[:, None] * row_p - s[:, None] * row_q, s[:, None] * row_p + c[:, None] * row_q
            col_p, col_q = a[:, p], a[:, q]
            a[:, p], a[:, q] = col_p * c - col_q * s, col_p * s + col_q * c
            a[p, q] = a[q, p] = 0.0
            col_p, col_q = vectors[:, p], vectors[:, q]
            vectors[:, p], vectors[:, q] = col_p * c - col_q * s, col_p * s + col_q * c
        if not rotated:
            break
    values = a.diagonal().copy()
    order = np.argsort(-values, kind="stable")
    return values[order], vectors[:, order]


def fix_signs(vectors):
    """Each column times -1 if needed, so that its largest entry (in size) is positive.

    An eigenvector is defined up to its sign; scikit-learn's ``svd_flip``
    uses the same rule, so that every machine picks the same one.

    Parameters
    ----------
    vectors : ndarray of shape (n, k)

    Returns
    -------
    ndarray of shape (n, k)

    Examples
    --------
    >>> fix_signs(np.array([[0.6, 0.1], [-0.8, -0.2]])).tolist()
    [[-0.6, -0.1], [0.8, 0.2]]
    """
    largest = np.abs(vectors).argmax(axis=0)
    return vectors * np.where(vectors[largest, np.arange(vectors.shape[1])] < 0, -1.0, 1.0)


def pca_start(data, rows, cols):
    """MiniSom's ``pca_weights_init``, with principal axes that are the same on every CPU.

    Neuron ``(i, j)`` starts at ``mean + c1 * pc1 + c2 * pc2``, where
    ``c1 = linspace(-1, 1, rows)[i]``, ``c2 = linspace(-1, 1, cols)[j]`` and
    ``pc1``, ``pc2`` are the unit principal axes of ``data`` with the largest
    variance (as MiniSom 2.3.6 computes them, but by :func:`symmetric_eigen`
    on a covariance added up without BLAS, and with :func:`fix_signs`).

    Parameters
    ----------
    data : ndarray of shape (n_covers, n_features), n_features >= 2
    rows, cols : int

    Returns
    -------
    ndarray of shape (rows, cols, n_features)

    Examples
    --------
    >>> data = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 1.0], [4.0, 1.0]])
    >>> pca_start(data, 2, 2).tolist()
    [[[1.0, -0.5], [1.0, 1.5]], [[3.0, -0.5], [3.0, 1.5]]]
    """
    data = np.asarray(data, dtype=np.float64)
    mean = data.mean(axis=0)
    centred = data - mean
    covariance = np.einsum("ni,nj->ij", centred, centred) / (len(data) - 1)  # einsum: no BLAS
    _, vectors = symmetric_eigen(covariance)
    pc1, pc2 = fix_signs(vectors[:, :2]).T
    c1 = np.linspace(-1, 1, rows)[:, None, None]
    c2 = np.linspace(-1, 1, cols)[None, :, None]
    return mean + c1 * pc1 + c2 * pc2
