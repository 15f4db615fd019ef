"""Checks for the notebooks' exercises: call one on your answer to get feedback.

Each check returns a :class:`Feedback`; in a notebook it shows as one sentence
that says what is right or, if something is wrong, what exactly. Student stubs
raise ``NotImplementedError("Student exercise: ...")``; a check given such a
stub says so instead of failing with a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Feedback:
    """The verdict of a check: ``ok`` and one sentence for the student."""

    ok: bool
    message: str

    def __repr__(self):
        return ("Correct: " if self.ok else "Not yet: ") + self.message

    def __bool__(self):
        return self.ok


def _attempt(function, *args, **kwargs):
    """Call a student's function; return (result, None) or (None, Feedback)."""
    try:
        return function(*args, **kwargs), None
    except NotImplementedError:
        return None, Feedback(False, f"{getattr(function, '__name__', 'the function')} "
                                     "still raises NotImplementedError: fill it in first.")
    except Exception as error:  # the student's code failed: say how, in one line
        return None, Feedback(False, f"your code raised {type(error).__name__}: "
                                     f"{' '.join(str(error).split())}")


# ---------------------------------------------------------------------------
# Notebook 01 and 02 checks (below this line)
# ---------------------------------------------------------------------------

def _float_result(result, name):
    """``float(result)``, or a Feedback saying that ``name`` did not return one number."""
    try:
        return float(result), None
    except (TypeError, ValueError):
        return None, Feedback(False, f"{name} returned {type(result).__name__}, not one number.")


def check_float_distance(float_distance):
    """Notebook 01: ``float_distance(a, b)``, the Euclidean distance of two uint8 vectors."""
    import numpy as np

    a = np.array([3, 10, 20, 90], dtype=np.uint8)
    b = np.array([5, 12, 200, 80], dtype=np.uint8)
    result, problem = _attempt(float_distance, a.copy(), b.copy())
    if problem is not None:
        return problem
    value, problem = _float_result(result, "float_distance")
    if problem is not None:
        return problem
    difference = a.astype(float) - b.astype(float)
    right = float(np.sqrt(np.sum(difference ** 2)))
    wrapped = float(np.sqrt(np.sum((a - b).astype(float) ** 2)))  # uint8 subtraction wraps
    if np.isclose(value, right):
        same, _ = _attempt(float_distance, a.copy(), a.copy())
        if same is None or not np.isclose(float(same), 0.0):
            return Feedback(False, "a cover should be 0 away from itself, but yours is not.")
        return Feedback(True, f"the two test vectors are {right:.1f} apart; straight from "
                              f"uint8 you would get {wrapped:.1f}, because 3 - 5 wraps to 254.")
    if np.isclose(value, wrapped):
        return Feedback(False, "that is the uint8 answer: 3 - 5 wraps around to 254, so convert "
                               "both vectors with .astype(float) before subtracting.")
    if np.isclose(value, right ** 2):
        return Feedback(False, "that is the squared distance: take the square root of the sum.")
    if np.isclose(value, np.abs(difference).sum()):
        return Feedback(False, "you added the plain differences (the city-block distance): "
                               "square them, add them up, then take the square root.")
    return Feedback(False, f"two test vectors should be {right:.1f} apart, but your function "
                           f"gives {value:.1f}.")


def check_table_bytes(table_bytes):
    """Notebook 01: ``table_bytes(n_covers, height, width, bytes_per_number)`` in bytes."""
    for case in [(1000, 750, 500, 1), (1000, 750, 500, 8), (7, 3, 2, 8)]:
        n_covers, height, width, size = case
        result, problem = _attempt(table_bytes, *case)
        if problem is not None:
            return problem
        value, problem = _float_result(result, "table_bytes")
        if problem is not None:
            return problem
        right = n_covers * height * width * 3 * size
        if value == right:
            continue
        where = f"for {n_covers} covers of {width} x {height} pixels at {size} byte(s) a number"
        if value == right / 3:
            return Feedback(False, f"{where} you forgot that every pixel holds 3 numbers "
                                   "(red, green and blue).")
        if value == right / size:
            return Feedback(False, f"{where} you counted numbers, not bytes: multiply by the "
                                   "bytes per number (1 for uint8, 8 for float64).")
        if abs(value * 1e9 - right) < 1 or abs(value * 2 ** 30 - right) < 1:
            return Feedback(False, f"{where} you returned gigabytes: return the number of bytes.")
        return Feedback(False, f"{where} the table takes {right:,} bytes, your function "
                               f"says {value:,.0f}.")
    return Feedback(True, "1,000 covers of 500 x 750 pixels take 1.1 GB as uint8 and "
                          "9 GB as float64.")


def check_standardise(standardise):
    """Notebook 02: ``standardise(pixels)``, StandardScaler by hand (a float table in, one out)."""
    import numpy as np

    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(6, 5)).astype(np.float64)
    pixels[:, 3] = 7.0  # a position that never changes
    result, problem = _attempt(standardise, pixels.copy())
    if problem is not None:
        return problem
    result = np.asarray(result, dtype=float)
    if result.shape != pixels.shape:
        return Feedback(False, f"for a table of shape {pixels.shape} you returned shape "
                               f"{result.shape}: keep one row per cover and one column per position.")
    mean, sd = pixels.mean(axis=0), pixels.std(axis=0)
    safe = np.where(sd > 0, sd, 1.0)
    right = (pixels - mean) / safe
    if np.allclose(result, right):
        return Feedback(True, "every position now has mean 0 and standard deviation 1, and the "
                              "position that never changes stays at 0, as in StandardScaler.")
    if np.isnan(result).any() or np.isinf(result).any():
        return Feedback(False, "a position with the same value on every cover has standard "
                               "deviation 0, and 0 / 0 gives NaN: divide by 1 there instead.")
    varies = sd > 0
    wrong = {
        "you subtracted the mean but did not divide by the standard deviation.":
            pixels - mean,
        "you divided by the standard deviation but did not subtract the mean first.":
            pixels / safe,
        "you divided by the variance: divide by its square root, the standard deviation.":
            (pixels - mean) / np.where(varies, sd ** 2, 1.0),
        "you used the sample standard deviation (ddof=1): StandardScaler uses ddof=0, "
        "numpy's default.":
            (pixels - mean) / np.where(varies, pixels.std(axis=0, ddof=1), 1.0),
        "you used each cover's own mean and spread (axis=1): use each position's, over all "
        "covers (axis=0).":
            (pixels - pixels.mean(axis=1, keepdims=True)) / pixels.std(axis=1, keepdims=True),
    }
    for message, table in wrong.items():
        if np.allclose(result[:, varies], table[:, varies]):
            return Feedback(False, message)
    return Feedback(False, "your table differs from StandardScaler's: every column should "
                           "have mean 0 and standard deviation 1 (or be all 0).")


def _nearest(table, k, skip_self=True):
    """Indices of each row's k nearest rows (Euclidean), the row itself skipped if asked."""
    import numpy as np
    from scipy.spatial.distance import cdist

    distances = cdist(table, table)
    if skip_self:
        np.fill_diagonal(distances, np.inf)
    return np.argsort(distances, axis=1, kind="stable")[:, :k]


def shared_neighbours(raw, scaled, k):
    """Mean number of each cover's ``k`` nearest covers found in both tables (reference)."""
    import numpy as np

    return float(np.mean([len(set(a) & set(b)) for a, b in
                          zip(_nearest(raw, k), _nearest(scaled, k))]))


def check_shared_neighbours(function):
    """Notebook 02: ``function(raw, scaled, k)``, as :func:`shared_neighbours`."""
    import numpy as np

    rng = np.random.default_rng(1)
    raw = rng.normal(size=(12, 4)) * np.array([1.0, 1.0, 8.0, 0.2])
    scaled = (raw - raw.mean(axis=0)) / raw.std(axis=0)
    k = 3
    result, problem = _attempt(function, raw.copy(), scaled.copy(), k)
    if problem is not None:
        return problem
    value, problem = _float_result(result, "your function")
    if problem is not None:
        return problem
    right = shared_neighbours(raw, scaled, k)
    if np.isclose(value, right):
        same, _ = _attempt(function, raw.copy(), raw.copy(), k)
        if same is None or not np.isclose(float(same), k):
            return Feedback(False, f"a table compared with itself should share all {k} "
                                   "neighbours of every cover, but yours does not.")
        return Feedback(True, f"on the 12 test points {right:.2f} of the {k} nearest "
                              "neighbours stay the same after scaling, on average.")
    with_self = float(np.mean([len(set(a) & set(b)) for a, b in
                               zip(_nearest(raw, k, False), _nearest(scaled, k, False))]))
    if np.isclose(value, with_self):
        return Feedback(False, "you counted each cover as its own nearest neighbour (it is 0 "
                               "away from itself): skip it.")
    if np.isclose(value, right * len(raw)):
        return Feedback(False, "you returned the total over all covers: divide by the number "
                               "of covers to get the mean.")
    if np.isclose(value, right / k):
        return Feedback(False, f"you returned a share between 0 and 1: return the number of "
                               f"shared neighbours (between 0 and {k}).")
    return Feedback(False, f"on 12 test points the mean should be {right:.2f} shared "
                           f"neighbours of {k}, but your function gives {value:.2f}.")


# ---------------------------------------------------------------------------
# Notebook 03 and 04 checks (below this line)
# ---------------------------------------------------------------------------
