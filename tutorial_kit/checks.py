"""Input checks for helpers.py: one clear ValueError line for each kind of bad input.

The teaching functions call these once, where data comes in; the pipeline
(``helpers.arrange_covers``) checks once and then calls unchecked cores.
"""

from __future__ import annotations

import numpy as np


def whole_number(name, value, minimum=1):
    """``value`` as an int, or a ValueError if it is not a whole number >= ``minimum``."""
    if not (np.isfinite(value) and value >= minimum and int(value) == value):
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {value}")
    return int(value)


def grid(rows, cols):
    """``(rows, cols)`` as ints, each a whole number >= 1."""
    return whole_number("rows", rows), whole_number("cols", cols)


def features(data):
    """``data`` as a finite float64 table with one row per cover, or a one-line ValueError."""
    try:
        data = np.asarray(data, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"features must be a finite 2-D array of numbers ({error})") from None
    if data.ndim != 2:
        reason = f"got a {data.ndim}-D array of shape {data.shape}"
    elif 0 in data.shape:
        reason = f"got {data.shape[0]} rows and {data.shape[1]} columns"
    elif np.isnan(data).any():
        reason = "it contains NaN"
    elif np.isinf(data).any():
        reason = "it contains infinity"
    else:
        return data
    raise ValueError(f"features must be a finite 2-D array with one row per cover ({reason})")


def positions(positions, n_covers, what="feature rows", rows=None, cols=None):
    """Grid positions as an array, and a bool array of which covers are placed.

    One (row, col) per cover, (-1, -1) for a dropped one; no two placed covers
    may share a cell and, given ``rows`` and ``cols``, every cell lies inside.
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
