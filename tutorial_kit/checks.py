"""Input checks: one rule per parameter, one clear ValueError sentence for each kind of bad input.

``RULES`` holds the rule of every numeric parameter, in one place: helpers'
teaching functions, the command line and the explorer all check through
`value`, so ``rows`` means the same everywhere. A message names the
parameter, what it got and what it needs, in one sentence:
``rows must be a whole number >= 1, got the text '10'``.

The teaching functions call these once, where data comes in; the pipeline
(``helpers.arrange_covers``) checks once and then calls unchecked cores.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np


class Rule(NamedTuple):
    """What one numeric parameter accepts."""
    whole: bool  # a whole number (a float like 10.0 counts as 10)
    minimum: float
    maximum: float | None = None
    above: bool = False  # strictly above ``minimum``
    infinity: bool = False  # infinity is accepted too
    why: str = ""  # said after what is needed


MAX_SEED = 2**32 - 1  # MiniSom seeds numpy's RandomState, which takes 32 bits

RULES = {
    "rows": Rule(True, 1), "cols": Rule(True, 1),
    "iterations": Rule(True, 1),
    "border": Rule(True, 0),
    "background": Rule(True, 0, 255),
    "curve_points": Rule(True, 1),
    "max_side": Rule(True, 1),
    "n_covers": Rule(True, 1),
    "n_features": Rule(True, 1),
    "k": Rule(True, 1),
    "seed": Rule(True, 0, MAX_SEED), "random_seed": Rule(True, 0, MAX_SEED),
    # below 1e-100, 2 sigma^2 (sigma shrinks to a third with asymptotic_decay) rounds to 0
    # and MiniSom's neighbourhood functions divide by zero
    "sigma": Rule(False, 1e-100, why="2 sigma^2 must not round to 0"),
    "learning_rate": Rule(False, 0, above=True),
    "start": Rule(False, 0, above=True),  # of a decay schedule: a sigma or a learning rate
    "p": Rule(False, 1, infinity=True, why="DPQ_p is a p-norm"),
}


def describe(value):
    """What a value is, for a message: ``the text '10'``, ``None``, ``1.5``, ``an array ...``."""
    if isinstance(value, str):
        return f"the text {value[:40]!r}"
    if isinstance(value, (bool, np.bool_)):
        return f"{bool(value)} (a bool)"
    if isinstance(value, np.ndarray):
        kind = {"U": "text", "S": "bytes", "O": "objects"}.get(value.dtype.kind, value.dtype)
        return f"an array of {kind} of shape {value.shape}"
    if value is None or isinstance(value, numbers.Number):
        return str(value)
    return f"a {type(value).__name__}"


def need(name, shown=None):
    """What parameter ``name`` needs, in words: ``a whole number >= 1``."""
    rule = RULES[name]
    kind = "a whole number" if rule.whole else "a number" if rule.infinity else "a finite number"
    low, high = (f"{limit:g}" if limit != int(limit) else str(int(limit))
                 for limit in (rule.minimum, rule.maximum or 0))
    if rule.maximum is not None:
        text = f"{kind} between {low} and {high}"
    else:
        text = f"{kind} {'>' if rule.above else '>='} {low}"
    text += " or inf" if rule.infinity else ""
    return f"{text} ({rule.why})" if rule.why else text


def value(name, got, shown=None):
    """``got`` checked by the rule of parameter ``name`` (see ``RULES``).

    Whole numbers come back as ``int`` (``10.0`` counts as 10), others as
    ``float``. Text, None, bools, arrays and numbers out of range are refused.

    Parameters
    ----------
    name : str
        A key of ``RULES``.
    got : object
        The value given.
    shown : str, optional
        How the message names the parameter (``--rows`` on the command line).

    Raises
    ------
    ValueError
        One sentence: ``{shown} must be {need}, got {describe(got)}``.
    """
    rule = RULES[name]
    ok = isinstance(got, numbers.Real) and not isinstance(got, (bool, np.bool_))
    if ok:
        number = float(got)
        ok = ((np.isfinite(number) or rule.infinity and number == np.inf)
              and (number > rule.minimum if rule.above else number >= rule.minimum)
              and (rule.maximum is None or number <= rule.maximum)
              and (not rule.whole or number == int(number)))
    if not ok:
        raise ValueError(f"{shown or name} must be {need(name)}, got {describe(got)}")
    if rule.whole:  # (infinity is never whole: refused above)
        return int(got)
    return float(got)


def divergence(settings, n_covers):
    """Why training diverged (the weights grew without bound), and what to change, in one line.

    ``settings`` are `helpers.train_som`'s. A step moves the winner by
    learning_rate x (the neighbourhood at the winner) of its distance to the
    cover; past 2, every step overshoots further (with many covers the
    overshoots point many ways and mostly cancel; with one or two they add
    up). The neighbourhood is 1 at the winner, but sigma^2 for MiniSom's
    triangle, and the mexican hat pushes the neighbours away.
    """
    rate, sigma = settings["learning_rate"], settings["sigma"]
    function = settings["neighborhood_function"]
    few = (f" (with {n_covers} cover{'s' if n_covers > 1 else ''}, the steps overshoot the "
           "same way every time)" if n_covers <= 2 else "")
    if function == "mexican_hat":
        return ("training diverged: the mexican_hat neighbourhood pushes the winner's neighbours "
                f"away, and at learning_rate {rate:g} and sigma {sigma:g} the weights grew "
                "without bound; choose gaussian, triangle or bubble, or lower both (learning_rate "
                "0.01 with sigma 1 trains the bundled covers)")
    if function == "triangle" and rate * sigma ** 2 > 2:
        return (f"training diverged: MiniSom's triangle is sigma^2 = {sigma ** 2:g} at the winner, "
                f"so at learning_rate {rate:g} each step moves it {rate * sigma ** 2:g} times its "
                f"distance to the cover and the weights grew without bound{few}; keep "
                "learning_rate x sigma^2 under 2")
    return (f"training diverged: at learning_rate {rate:g} each step overshoots and the weights "
            f"grew without bound{few}; lower the learning_rate (0.5 is the default)")


def choice(name, got, options):
    """``got`` if it is one of ``options``, else one ValueError sentence listing them."""
    if not isinstance(got, str) or got not in options:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}, "
                         f"got {describe(got) if not isinstance(got, str) else repr(got)}")
    return got


def instance(name, got, kind, needed):
    """``got`` if it is a ``kind``; else a sentence saying what ``name`` needs (``needed``)."""
    if not isinstance(got, kind):
        raise ValueError(f"{name} must be {needed}, got {describe(got)}")
    return got


def grid(rows, cols):
    """``(rows, cols)`` as ints, each a whole number >= 1."""
    return value("rows", rows), value("cols", cols)


def _array(name, got, needed):
    """``got`` as a numpy array of numbers, or one sentence saying what ``name`` needs."""
    if isinstance(got, (str, bytes)) or got is None or hasattr(got, "_fields"):  # a NamedTuple
        raise ValueError(f"{name} must be {needed}, got {describe(got)}")
    try:
        array = np.asarray(got)
    except (TypeError, ValueError):  # rows of different lengths
        raise ValueError(f"{name} must be {needed}, got {describe(got)} whose rows differ "
                         "in length") from None
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise ValueError(f"{name} must be {needed}, got "
                         f"{describe(got if array.dtype == object and not array.ndim else array)}")
    return array


def cover_images(got):
    """Covers as an array (`helpers.make_features` checks dtype and shape); a CoverSet is refused
    with a pointer to its ``images``, as anything that is not an array of numbers."""
    if hasattr(got, "images") and hasattr(got, "names"):
        raise ValueError("images must be a uint8 array of shape (N, height, width, 3), "
                         "got a CoverSet: pass its .images")
    return _array("images", got, "a uint8 array of shape (N, height, width, 3)")


def features(data, name="features"):
    """``data`` as a finite float64 table with one row per cover, or a one-line ValueError."""
    needed = "a finite 2-D array with one row per cover"
    data = _array(name, data, needed).astype(np.float64)
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
    raise ValueError(f"{name} must be {needed} ({reason})")


def positions(positions, n_covers, what="feature rows", rows=None, cols=None):
    """Grid positions as an int array, and a bool array of which covers are placed.

    One (row, col) of whole numbers per cover (floats like 3.0 count as 3),
    (-1, -1) for a dropped one; no two placed covers may share a cell and,
    given ``rows`` and ``cols``, every cell lies inside.
    """
    positions = _array("positions", positions, "(row, col) pairs of whole numbers")
    if positions.ndim != 2 or positions.shape[1] != 2:
        raise ValueError("positions must be (row, col) pairs, got an array of shape "
                         f"{positions.shape}")
    if len(positions) != n_covers:
        raise ValueError(f"{n_covers} {what} but {len(positions)} positions")
    if not np.issubdtype(positions.dtype, np.integer):
        bad = ~np.isfinite(positions) | (positions != np.round(positions))
        if bad.any():
            index = int(np.flatnonzero(bad.any(axis=1))[0])
            raise ValueError(f"positions must be whole numbers (a cell, or -1 for a dropped "
                             f"cover), got {positions[index].tolist()} for cover {index}")
        positions = positions.astype(np.int64)
    placed = (positions >= 0).all(axis=1)
    half = ~placed & (positions >= 0).any(axis=1) | ~placed & (positions < -1).any(axis=1)
    if half.any():
        index = int(np.flatnonzero(half)[0])
        raise ValueError(f"positions must be a cell (row, col >= 0) or (-1, -1) for a dropped "
                         f"cover, got {positions[index].tolist()} for cover {index}")
    cells = positions[placed]
    if len(np.unique(cells, axis=0)) < len(cells):
        raise ValueError("two covers have the same position: each cell holds at most one cover")
    if rows is not None and len(cells) and ((cells[:, 0] >= rows) | (cells[:, 1] >= cols)).any():
        raise ValueError(f"a position lies outside the {rows}x{cols} grid")
    return positions, placed


def pixels(name, got, ndim):
    """Image pixels as uint8, by a stated rule, or one ValueError sentence.

    uint8 is taken as it is; other whole numbers must lie in 0..255; floats
    must lie in 0..1 (matplotlib's rule for float images) and are scaled to
    0..255 and rounded. Anything else (values like 300, NaN, floats up to
    255) is refused rather than wrapped around or shown black.

    Parameters
    ----------
    name : str
        The parameter, for the message (``images``, ``image``).
    got : array_like
    ndim : tuple of int
        The numbers of dimensions accepted (``(4,)`` for covers, ``(2, 3)`` for one image).
    """
    shapes = " or ".join(f"{n}-D" for n in ndim)
    array = _array(name, got, f"a {shapes} array of pixels")
    if array.ndim not in ndim:
        raise ValueError(f"{name} must be a {shapes} array of pixels, got {describe(array)}")
    if array.dtype == np.uint8:
        return array
    if array.size == 0:
        return array.astype(np.uint8)
    if np.issubdtype(array.dtype, np.integer) or array.dtype == bool:
        low, high = int(array.min()), int(array.max())
        if low < 0 or high > 255:
            raise ValueError(f"{name} must hold pixel values 0..255, got {array.dtype} values "
                             f"from {low} to {high} (convert them yourself, they are not clipped)")
        return array.astype(np.uint8)
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must hold finite pixel values, got NaN or infinity")
    low, high = float(array.min()), float(array.max())
    if low < 0 or high > 1:
        raise ValueError(f"{name} of floats must lie in 0..1 (matplotlib's rule; they are scaled "
                         f"to 0..255), got values from {low:g} to {high:g}; for 0..255 use "
                         f"{name}.astype(np.uint8)")
    return np.rint(array * 255).astype(np.uint8)
