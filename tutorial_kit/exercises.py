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


@dataclass(frozen=True)
class Hint:
    """One graded hint for an exercise; shows as "Hint 1 of 2: ..." in a notebook."""

    number: int
    of: int
    text: str

    def __repr__(self):
        return f"Hint {self.number} of {self.of}: {self.text}"


# Graded hints, as Kaggle Learn's q.hint(): the first points the way, the second is nearly
# the answer. Ask for them with exercises.hint("som_step") and exercises.hint("som_step", 2).
HINTS = {
    "float_distance": [
        "uint8 numbers cannot be negative: 3 - 5 wraps around to 254. Convert before you subtract.",
        "difference = a.astype(float) - b.astype(float), then the square root of the sum of its squares."],
    "table_bytes": [
        "A colour cover of height x width pixels holds height x width x 3 numbers.",
        "Multiply covers x height x width x 3 x bytes_per_number, and return bytes, not gigabytes."],
    "standardise": [
        "Use each column's (position's) mean and standard deviation: axis=0, and numpy's "
        "default ddof=0, as StandardScaler does.",
        "sd = pixels.std(axis=0); return (pixels - pixels.mean(axis=0)) / np.where(sd > 0, sd, 1.0), "
        "a new table (do not change pixels in place)."],
    "shared_neighbours": [
        "cdist(table, table) gives every distance; set the diagonal to np.inf so a cover is not "
        "its own neighbour, and np.argsort(...)[:, :k] gives the k nearest.",
        "For each cover, len(set(nearest_raw[i]) & set(nearest_scaled[i])); return the mean over covers."],
    "gram_pca": [
        "G = S @ S.T; np.linalg.eigh(G) returns the eigenvalues smallest first, with the "
        "eigenvectors as the columns of U.",
        "Keep the columns whose eigenvalue is above eigenvalues.max() * 1e-10, multiply each by the "
        "square root of its eigenvalue, and reverse their order ([:, ::-1]) so the largest axis comes first."],
    "som_step": [
        "Three parts: eta and sigma at step t, the winner (np.argmin of np.linalg.norm(weights - x, "
        "axis=-1), then np.unravel_index), and h from the grid offsets dr, dq to the winner.",
        "eta = eta0 * (1 - t / T); sigma = sigma0 + (1 - sigma0) * t / T; for the gaussian "
        "h = exp(-dr**2 / (2 sigma**2)) * exp(-dq**2 / (2 sigma**2)); return "
        "weights + eta * h[..., None] * (x - weights)."],
    "train_my_map": [
        "Step t shows the cover data[order[t]], and the training has T = len(order) steps.",
        "weights = start.copy(); for t, i in enumerate(order): weights = som_step(weights, data[i], "
        "t, len(order), sigma0, eta0); then return weights."],
    "assign_cells": [
        "The cost of putting cover n in cell j is the squared distance between cover n and neuron j: "
        "cdist(data, weights.reshape(-1, n_features), 'sqeuclidean').",
        "covers, cells = linear_sum_assignment(cost); cell number k sits at row k // cols, "
        "column k % cols: np.column_stack(np.divmod(cells, cols))."],
    "my_dpq": [
        "gain_curves(data, positions) gives the best and the grid gains; DPQ_p is the p-norm of "
        "the grid gains over the p-norm of the best ones.",
        "np.linalg.norm(grid, p) / np.linalg.norm(best, p), which includes the 1/p root; "
        "return 1.0 when the best norm is 0."],
    "mean_dpq": [
        "Call helpers.arrange_covers once per seed, passing seed=seed and **settings on.",
        "float(np.mean([helpers.arrange_covers(covers, rows, cols, features=features, seed=seed, "
        "**settings).quality['dpq16'] for seed in seeds]))."],
    "dpq_steps": [
        "Four calls of helpers.arrange_covers with seed=seed and **common; only the preset, "
        "placement and neighborhood_function change between them.",
        "(1) preset='original', placement='greedy'; (2) preset='original'; (3) preset='original', "
        "neighborhood_function='gaussian'; (4) preset='default'; return their quality['dpq16']."],
}


def hint(exercise, number=1):
    """Hint ``number`` (1 or 2) for ``exercise``, the name of the function you write."""
    if exercise not in HINTS:
        raise ValueError(f"no hints for {exercise!r}; exercises with hints: {sorted(HINTS)}")
    hints = HINTS[exercise]
    if not 1 <= number <= len(hints):
        raise ValueError(f"{exercise} has hints 1 to {len(hints)}, not {number}")
    return Hint(number, len(hints), hints[number - 1])


def _attempt(function, *args, **kwargs):
    """Call a student's function; return (result, None) or (None, Feedback).

    numpy's warnings (a division by zero, say) are silenced during the call: the
    check's own sentence names the mistake, in one place.
    """
    import numpy as np

    from tutorial_kit.images import one_line
    try:
        with np.errstate(all="ignore"):
            return function(*args, **kwargs), None
    except NotImplementedError:
        return None, Feedback(False, f"{getattr(function, '__name__', 'the function')} "
                                     "still raises NotImplementedError: fill it in first.")
    except Exception as error:  # the student's code failed: say how, in one line
        return None, Feedback(False, f"your code raised {type(error).__name__}: {one_line(error)}")


# ---------------------------------------------------------------------------
# Notebook 01, 02 and 03 checks (below this line)
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
    squares_wrapped = float(np.sqrt(np.sum(((a - b) ** 2).astype(float))))  # converted too late
    if np.isclose(value, squares_wrapped):
        return Feedback(False, "you converted to float after subtracting and squaring in uint8, "
                               "where both wrap around: convert a and b first.")
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
        if size == 1 and value == right * 8:
            return Feedback(False, f"{where} you used 8 bytes for every number: multiply by "
                                   "bytes_per_number, which is 1 for uint8.")
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
    given = pixels.copy()
    result, problem = _attempt(standardise, given)
    if problem is not None:
        return problem
    mean, sd = pixels.mean(axis=0), pixels.std(axis=0)
    right = (pixels - mean) / np.where(sd > 0, sd, 1.0)
    if result is None:
        if np.allclose(given, right):
            return Feedback(False, "you standardised the table in place and returned None: return "
                                   "a new table and leave the one you were given as it was.")
        return Feedback(False, "standardise returned None: return the standardised table.")
    if not np.array_equal(given, pixels):
        return Feedback(False, "your function changed the table it was given (an in-place edit "
                               "such as pixels -= ...): compute a new table instead, as "
                               "StandardScaler does, so the pixels stay for later cells.")
    result = np.asarray(result, dtype=float)
    if result.shape != pixels.shape:
        return Feedback(False, f"for a table of shape {pixels.shape} you returned shape "
                               f"{result.shape}: keep one row per cover and one column per position.")
    safe = np.where(sd > 0, sd, 1.0)
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
    if np.isclose(value, k) and not np.isclose(right, k):
        return Feedback(False, f"every cover keeps all {k} neighbours: did you compare a table with "
                               "itself? Find the nearest covers in raw and in scaled.")
    if np.isclose(value, right * len(raw)):
        return Feedback(False, "you returned the total over all covers: divide by the number "
                               "of covers to get the mean.")
    if np.isclose(value, right / k):
        return Feedback(False, f"you returned a share between 0 and 1: return the number of "
                               f"shared neighbours (between 0 and {k}).")
    return Feedback(False, f"on 12 test points the mean should be {right:.2f} shared "
                           f"neighbours of {k}, but your function gives {value:.2f}.")


def _gram_case():
    """Six standardised 'covers' of eight positions: at most five principal axes."""
    import numpy as np

    raw = np.random.default_rng(2).normal(size=(6, 8)) * np.array([5, 4, 3, 2, 1, 1, 0.5, 0.2])
    return (raw - raw.mean(axis=0)) / raw.std(axis=0)


def check_gram_pca(gram_pca):
    """Notebook 03: ``gram_pca(standardised)``, the covers' coordinates on their principal axes.

    Compared on six made-up standardised covers of eight positions: the result must have
    one row per cover and one column per axis with a non-zero eigenvalue (here 5), the
    largest axis first, and keep every distance; each column may come out with either sign.
    """
    import numpy as np
    from scipy.spatial.distance import cdist

    S = _gram_case()
    result, failed = _attempt(gram_pca, S.copy())
    if failed is not None:
        return failed
    if result is None:
        return Feedback(False, "gram_pca returned None: return the coordinates F.")
    F = np.asarray(result, dtype=float)
    G = S @ S.T
    eigenvalues, U = np.linalg.eigh(G)
    keep = eigenvalues > eigenvalues.max() * 1e-10
    right = (U[:, keep] * np.sqrt(eigenvalues[keep]))[:, ::-1]
    if F.shape == (len(S), len(S)):
        return Feedback(False, f"you kept all {len(S)} axes: one eigenvalue of G is 0, so keep only "
                               "the axes whose eigenvalue is above eigenvalues.max() * 1e-10.")
    if F.ndim != 2 or F.shape != right.shape:
        if F.ndim == 2 and F.shape[::-1] == right.shape:
            return Feedback(False, f"you returned shape {F.shape}: one row per cover and one column "
                                   "per axis, so transpose it (eigh returns the eigenvectors as columns).")
        return Feedback(False, f"for {len(S)} covers you returned shape {F.shape}; expected "
                               f"{right.shape}: one row per cover, one column per axis that carries anything.")
    signs = np.where(np.sum(F * right, axis=0) < 0, -1.0, 1.0)
    if np.allclose(F * signs, right):
        return Feedback(True, f"your {F.shape[1]} coordinates keep every distance between the "
                              f"{len(S)} covers, largest axis first, as helpers.make_features does.")
    if np.allclose(np.abs(F), np.abs(U[:, keep][:, ::-1])):
        return Feedback(False, "those are the eigenvectors alone: multiply each column by the square "
                               "root of its eigenvalue, F = U sqrt(Lambda).")
    if np.allclose(np.abs(F), np.abs(U[:, keep][:, ::-1] * eigenvalues[keep][::-1])):
        return Feedback(False, "you multiplied by the eigenvalues: multiply by their square roots, "
                               "so that F F^T = G.")
    if np.allclose(np.abs(F), np.abs(right[:, ::-1])):
        return Feedback(False, "the axes come smallest first (np.linalg.eigh's order): reverse the "
                               "columns, [:, ::-1], so the largest axis comes first.")
    if np.allclose(cdist(F, F), cdist(S, S)):
        return Feedback(False, "every distance is kept, but the columns are not the principal axes "
                               "in order: use the eigenvectors of G, largest eigenvalue first.")
    return Feedback(False, "your coordinates do not keep the distances between the covers: "
                           "F F^T should equal G = S S^T.")


# ---------------------------------------------------------------------------
# Notebook 04 and 06 checks (below this line)
# ---------------------------------------------------------------------------

# Notebook 04: one SOM step in numpy (exercise 1) and a map trained with it
# (exercise 2). Notebook 06: the optimal assignment (exercise 1) and DPQ in
# numpy (exercise 2). Each check runs the student's code on small problems
# of its own and compares with MiniSom or helpers.

_STEP_CASE = dict(t=3, T=10, sigma0=3.0, eta0=0.5)  # far enough into training that decay shows


def _minisom_step(weights, x, neighbourhood, t, T, sigma0, eta0):
    """MiniSom's own update of ``weights`` towards ``x`` (linear decays, as the default preset)."""
    from minisom import MiniSom

    rows, cols, n = weights.shape
    som = MiniSom(rows, cols, n, sigma=sigma0, learning_rate=eta0,
                  neighborhood_function=neighbourhood,
                  decay_function="linear_decay_to_zero",
                  sigma_decay_function="linear_decay_to_one", random_seed=0)
    som.get_weights()[:] = weights  # get_weights returns the map's own array
    winner = som.winner(x)
    som.update(x, winner, t, T)
    return som.get_weights().copy(), tuple(int(i) for i in winner)


def _reference_step(weights, x, t, T, sigma0, eta0, neighbourhood="gaussian", *,
                    scaled_triangle=False, inclusive_bubble=False, asymptotic=False):
    """The notebook's step in numpy (equal to MiniSom's), with switches for known mistakes."""
    import numpy as np

    if asymptotic:  # MiniSom's asymptotic_decay instead of the linear decays
        eta, sigma = eta0 / (1 + 2 * t / T), sigma0 / (1 + 2 * t / T)
    else:
        eta, sigma = eta0 * (1 - t / T), sigma0 + (1 - sigma0) * t / T
    rows, cols = weights.shape[:2]
    c = np.unravel_index(np.argmin(np.linalg.norm(weights - x, axis=-1)), (rows, cols))
    dr, dq = np.arange(rows)[:, None] - c[0], np.arange(cols)[None, :] - c[1]
    if neighbourhood == "gaussian":
        h = np.exp(-dr ** 2 / (2 * sigma ** 2)) * np.exp(-dq ** 2 / (2 * sigma ** 2))
    elif neighbourhood == "triangle":
        h = np.maximum(0, sigma - np.abs(dr)) * np.maximum(0, sigma - np.abs(dq))
        if scaled_triangle:
            h = h / sigma ** 2
    else:
        inside = np.less_equal if inclusive_bubble else np.less
        h = (inside(np.abs(dr), sigma) & inside(np.abs(dq), sigma)).astype(float)
    return weights + eta * h[..., None] * (x - weights)


_STEP_MISTAKES = [
    (dict(scaled_triangle=True), "your triangle is 1 at the winner, but MiniSom's is sigma * sigma "
                                 "there: do not divide h by sigma ** 2."),
    (dict(inclusive_bubble=True), "your bubble includes the neurons exactly sigma cells away; "
                                  "MiniSom's edge is strict: |dr| < sigma and |dq| < sigma."),
    (dict(asymptotic=True), "you used the asymptotic decay eta0 / (1 + 2t/T), the 2019 post's; "
                            "this step uses the linear ones: eta0 * (1 - t/T) and "
                            "sigma0 + (1 - sigma0) * t/T."),
]


def _weights_answer(function, name, shape, *args):
    """Call a student's function that returns weights: (array, None), or (None, Feedback)."""
    import numpy as np

    result, failed = _attempt(function, *args)
    if failed is not None:
        return None, failed
    if result is None:
        return None, Feedback(False, f"{name} returned None: return the new weights.")
    result = np.asarray(result, dtype=float)
    if result.shape != shape:
        return None, Feedback(False, f"{name} returned an array of shape {result.shape}; "
                                     f"the weights have shape {shape} (rows, cols, features).")
    return result, None


def _step_shares(before, after, x):
    """For every neuron, the share of its way to x that it moved (1 = onto x)."""
    way = x - before
    return ((after - before) * way).sum(-1) / (way * way).sum(-1)


def check_som_step(som_step):
    """Check ``som_step(weights, x, t, T, sigma0, eta0, neighbourhood)`` against MiniSom.

    The step must find the winner (smallest Euclidean distance), compute the
    learning rate and sigma at step t (linear decays), weight every neuron by
    the neighbourhood function (gaussian, triangle or bubble, as MiniSom
    defines them) and move it that share of the way towards x. The check uses
    a 5 x 6 map of 4 numbers per neuron and compares with ``np.allclose``.
    """
    import numpy as np

    rng = np.random.default_rng(3)
    weights = rng.normal(size=(5, 6, 4))
    x = rng.normal(size=4)
    # the bubble again at t=5, where sigma(t) is exactly 2: there its edge (< or <=) shows
    for neighbourhood, case in (("gaussian", _STEP_CASE), ("triangle", _STEP_CASE),
                                ("bubble", _STEP_CASE), ("bubble", dict(_STEP_CASE, t=5))):
        expected, winner = _minisom_step(weights, x, neighbourhood, **case)
        result, failed = _weights_answer(som_step, "som_step", weights.shape, weights.copy(), x.copy(),
                                         case["t"], case["T"], case["sigma0"], case["eta0"], neighbourhood)
        if failed is not None:
            return failed
        if np.allclose(result, expected):
            continue
        for mistake, message in _STEP_MISTAKES:
            if np.allclose(result, _reference_step(weights, x, case["t"], case["T"], case["sigma0"],
                                                   case["eta0"], neighbourhood, **mistake)):
                return Feedback(False, message)
        mine, theirs = _step_shares(weights, result, x), _step_shares(weights, expected, x)
        moved = np.abs(result - weights).sum(-1) > 1e-12
        picked = np.unravel_index(np.argmax(mine), mine.shape)
        where = f"(with the {neighbourhood} neighbourhood, t={case['t']} of T={case['T']})"
        if not moved.any():
            return Feedback(False, f"no neuron moved {where}: add eta * h * (x - w) to the weights.")
        if np.allclose(mine, -theirs):
            return Feedback(False, f"the neurons moved away from the cover {where}: "
                                   "the step is eta * h * (x - w), not (w - x).")
        if (mine < -1e-9).any():
            if picked == winner:
                return Feedback(False, f"the winner is right, but the neighbours moved away from "
                                       f"the cover {where}: every step goes towards x.")
            return Feedback(False, f"some neurons moved away from the cover {where}: "
                                   "every step goes towards x.")
        if moved.sum() == 1 and moved[winner]:
            return Feedback(False, f"only the winner moved {where}: its grid neighbours must move "
                                   "too, by eta * h for each neuron.")
        if neighbourhood != "bubble" and picked != winner:
            return Feedback(False, f"the winner is wrong {where}: you moved neuron {picked} most, "
                                   f"but the closest neuron to x is {winner} (argmin of ||x - w||).")
        if not np.isclose(mine[winner], theirs[winner]):
            if np.isclose(mine[winner] / theirs[winner], case["eta0"] / (
                    case["eta0"] * (1 - case["t"] / case["T"]))):
                return Feedback(False, f"the winner moved too far {where}: the learning rate must "
                                       "shrink, eta(t) = eta0 * (1 - t / T).")
            return Feedback(False, f"the winner is right, but it moved {mine[winner]:.3f} of its way "
                                   f"to x instead of {theirs[winner]:.3f} {where}: check eta(t) and "
                                   "h at the winner.")
        worst = np.unravel_index(np.argmax(np.abs(mine - theirs)), mine.shape)
        return Feedback(False, f"the winner is right, but its neighbours moved the wrong share "
                               f"of the way {where}: neuron {tuple(int(i) for i in worst)} moved "
                               f"{mine[worst]:.3f} instead of {theirs[worst]:.3f}; check sigma(t) "
                               "and the neighbourhood formula.")
    return Feedback(True, "your step equals MiniSom's update for the gaussian, triangle "
                          "and bubble neighbourhoods.")


def _loop_case():
    """30 covers along a curve in 5 dimensions, a 3 x 4 start among them and a shuffled order."""
    import numpy as np

    s = np.linspace(0, 1, 30)
    data = np.column_stack([s, s ** 2, np.sin(3 * s), np.cos(2 * s), s ** 3]) * 10
    rng = np.random.default_rng(4)
    start = data[rng.integers(len(data), size=(3, 4))]
    order = rng.permutation(np.arange(240) % len(data))  # 240 steps, each cover 8 times
    return data, start, order, 2.0, 0.5


def _reference_loop(start, data, order, sigma0, eta0, *, steps=None, t_of=None, cover_of=None, T=None):
    """The training loop with the reference step; the keywords make the known mistakes."""
    weights = start.copy()
    steps = len(order) if steps is None else steps
    T = len(order) if T is None else T
    for t in range(steps):
        i = order[t] if cover_of is None else cover_of(t)
        weights = _reference_step(weights, data[i], t if t_of is None else t_of(t, order), T, sigma0, eta0)
    return weights


def check_train_my_map(train_my_map):
    """Notebook 04: ``train_my_map(start, data, order, sigma0, eta0)`` against MiniSom.

    The check trains a 3 x 4 map on 30 covers of its own for 240 steps, from one start and one
    order, with the student's loop and with MiniSom's ``update`` (linear decays, gaussian), and
    compares the two with ``np.allclose``. When they differ it tries the loops that make the
    usual mistakes and names the one that matches.
    """
    import numpy as np

    data, start, order, sigma0, eta0 = _loop_case()
    from minisom import MiniSom
    som = MiniSom(3, 4, data.shape[1], sigma=sigma0, learning_rate=eta0, neighborhood_function="gaussian",
                  decay_function="linear_decay_to_zero", sigma_decay_function="linear_decay_to_one")
    som.get_weights()[:] = start
    for t, i in enumerate(order):
        som.update(data[i], som.winner(data[i]), t, len(order))
    expected = som.get_weights().copy()
    result, failed = _weights_answer(train_my_map, "train_my_map", start.shape, start.copy(),
                                     data.copy(), order.copy(), sigma0, eta0)
    if failed is not None:
        return failed
    if np.allclose(result, expected):
        return Feedback(True, f"your loop gives MiniSom's map from the same start and order "
                              f"({len(order)} steps on a 3 x 4 map).")
    if np.allclose(result, start):
        return Feedback(False, "the weights are still the start: you called som_step but did not "
                               "keep what it returns; write weights = som_step(weights, ...).")
    n, half = len(data), len(order) // 2
    mistakes = [
        (dict(t_of=lambda t, order: 0), "the learning rate and sigma never shrink: you passed t = 0 "
                                        "at every step; pass the step number t from enumerate(order)."),
        (dict(cover_of=lambda t: t % n), "you showed the covers in their own order (data[t % n]); "
                                         "step t must show data[order[t]]."),
        (dict(t_of=lambda t, order: order[t]), "you passed the cover's index as the step t; pass the "
                                               "step number (enumerate gives both: for t, i in enumerate(order))."),
        (dict(steps=half), f"your loop ran {half} of the {len(order)} steps: run one step per entry of order."),
        (dict(steps=half, T=half), f"your loop ran {half} of the {len(order)} steps: run one step per entry of order."),
        (dict(T=n), f"you passed T = len(data) ({n}); the training has T = len(order) "
                    f"({len(order)}) steps, so the rates must reach their end only at the last one."),
    ]
    with np.errstate(all="ignore"):
        for mistake, message in mistakes:
            if np.allclose(result, _reference_loop(start, data, order, sigma0, eta0, **mistake), equal_nan=True):
                return Feedback(False, message)
    worst = float(np.abs(result - expected).max())
    return Feedback(False, f"your map differs from MiniSom's from the same start and order (by up to "
                           f"{worst:.3g}): does check_som_step pass? Step t must show data[order[t]] "
                           "with T = len(order), starting from a copy of start.")


def check_trained_map(weights, data):
    """Check a map trained on ``data``: right shape, finite, near the covers and ordered.

    Accepted when the neurons sit among the covers (quantization error below
    the mean distance between two covers) and, on a grid of at least 3 x 3
    neurons, grid neighbours are more alike than two neurons picked at
    random (mean weight distance of neighbours < 0.8 x that of all pairs).
    On a smaller grid most pairs of neurons are neighbours, so order is not judged.
    """
    import numpy as np

    data = np.asarray(data, dtype=float)
    if weights is None:
        return Feedback(False, "there is no map yet: train one and pass its weights.")
    weights = np.asarray(weights, dtype=float)
    if weights.ndim != 3 or weights.shape[2] != data.shape[1]:
        return Feedback(False, f"weights of shape {weights.shape} are not (rows, cols, "
                               f"{data.shape[1]}): one weight vector per neuron, as long as a cover's features.")
    if not np.isfinite(weights).all():
        return Feedback(False, "some weights are NaN or infinite: the training diverged.")
    rows, cols = weights.shape[:2]
    flat = weights.reshape(rows * cols, -1)
    to_neurons = np.linalg.norm(data[:, None, :] - flat[None], axis=-1)
    qe = to_neurons.min(axis=1).mean()
    between = np.linalg.norm(data[:, None, :] - data[None], axis=-1)
    spread = between[np.triu_indices(len(data), k=1)].mean()
    if not qe < spread:
        return Feedback(False, f"the neurons are still far from the covers (quantization error "
                               f"{qe:.1f}, mean distance between covers {spread:.1f}): did the "
                               "loop run, and keep the weights som_step returns?")
    if min(rows, cols) >= 3:
        pairs = np.linalg.norm(flat[:, None] - flat[None], axis=-1)
        grid = np.indices((rows, cols)).reshape(2, -1).T
        adjacent = np.abs(grid[:, None] - grid[None]).sum(-1) == 1
        ratio = pairs[adjacent].mean() / pairs[np.triu_indices(len(flat), k=1)].mean()
        if not ratio < 0.8:
            return Feedback(False, f"the neurons sit among the covers, but the map is not ordered: "
                                   f"grid neighbours are {ratio:.2f} times as far apart as two "
                                   "neurons picked at random (want < 0.8); did the neighbours move too?")
        return Feedback(True, f"the neurons sit among the covers (quantization error {qe:.1f}, "
                              f"mean distance between covers {spread:.1f}) and grid neighbours are "
                              f"{ratio:.2f} times as far apart as random pairs of neurons.")
    return Feedback(True, f"the neurons sit among the covers (quantization error {qe:.1f}, mean "
                          f"distance between covers {spread:.1f}); the grid is too small to judge its order.")


def _placement_case(seed=5, rows=3, cols=4, n_covers=10, n_features=3):
    """A small map and covers for the notebook 06 checks (more cells than covers)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    return rng.normal(size=(rows, cols, n_features)), rng.normal(size=(n_covers, n_features))


def check_assignment(assign_cells):
    """Check ``assign_cells(weights, data)`` against ``helpers.place_covers(..., 'assignment')``.

    The answer must give every cover its own cell, as (row, col) pairs, with
    the smallest possible total squared distance between covers and the
    weights of their cells.
    """
    import numpy as np

    import helpers

    for seed, shape in ((5, (3, 4)), (6, (2, 5))):
        weights, data = _placement_case(seed, *shape)
        rows, cols = shape
        result, failed = _attempt(assign_cells, weights.copy(), data.copy())
        if failed is not None:
            return failed
        if result is None:
            return Feedback(False, "assign_cells returned None: return the (row, col) of every cover.")
        positions = np.asarray(result)
        if positions.shape != (len(data), 2):
            return Feedback(False, f"assign_cells returned shape {positions.shape}; expected "
                                   f"({len(data)}, 2): one (row, col) per cover.")
        if ((positions < 0) | (positions >= (rows, cols))).any():
            best = helpers.place_covers(weights, data, "assignment").positions
            if np.array_equal(positions, np.column_stack(np.divmod(best[:, 0] * cols + best[:, 1], rows))):
                return Feedback(False, "you divided the cell numbers by the number of rows: cell k "
                                       "sits at row k // cols, column k % cols.")
            if ((positions >= 0) & (positions < (cols, rows))).all():
                return Feedback(False, "some positions lie outside the grid: are rows and columns "
                                       "swapped? A cell number k sits at row k // cols, column k % cols.")
            return Feedback(False, f"some positions lie outside the {rows}x{cols} grid.")
        if len(np.unique(positions, axis=0)) < len(positions):
            return Feedback(False, "two covers share a cell: every cover needs a cell of its own "
                                   "(linear_sum_assignment gives that).")
        flat = weights.reshape(rows * cols, -1)
        cost = ((data[:, None, :] - flat[None]) ** 2).sum(-1)
        cells = positions[:, 0] * cols + positions[:, 1]
        best = helpers.place_covers(weights, data, "assignment").positions
        best_cells = best[:, 0] * cols + best[:, 1]
        mine, optimum = cost[np.arange(len(data)), cells].sum(), cost[np.arange(len(data)), best_cells].sum()
        if np.isclose(mine, optimum):
            continue
        from scipy.optimize import linear_sum_assignment
        covers, by_plain = linear_sum_assignment(np.sqrt(cost))
        if np.isclose(mine, cost[covers, by_plain].sum()):
            return Feedback(False, "you minimised the sum of distances; helpers.place_covers "
                                   "minimises the sum of squared distances.")
        winners = cost.argmin(axis=1)
        if (cells == winners).sum() > (best_cells == winners).sum():
            return Feedback(False, f"every cell is used once, but the total squared distance is "
                                   f"{mine:.3f}, not the smallest possible {optimum:.3f}: more covers "
                                   "kept their winner than the optimum allows; solve the assignment "
                                   "for all covers at once.")
        return Feedback(False, f"every cell is used once, but the total squared distance is {mine:.3f}, "
                               f"not the smallest possible {optimum:.3f}.")
    return Feedback(True, "every cover has its own cell and the total squared distance is the "
                          "smallest possible, as with helpers.place_covers.")


def _dpq_variant(data, positions, p, *, root=True, clip=True, ties=True, with_self=False):
    """DPQ_p as helpers.dpq computes it, with switches for the usual mistakes."""
    import numpy as np
    from scipy.spatial.distance import cdist

    n = len(data)
    d, g = cdist(data, data), cdist(positions, positions, "sqeuclidean")
    if not with_self:
        others = ~np.eye(n, dtype=bool)
        d, g = d[others].reshape(n, n - 1), g[others].reshape(n, n - 1)
    order = np.lexsort((d, g), axis=1) if ties else np.argsort(g, axis=1, kind="stable")
    mean = d.mean()

    def gains(sorted_d):
        d_k = (np.cumsum(sorted_d, axis=1) / np.arange(1, sorted_d.shape[1] + 1)).mean(axis=0)
        gain = (mean - d_k) / mean
        return np.maximum(0, gain) if clip else gain

    grid, best = gains(np.take_along_axis(d, order, axis=1)), gains(np.sort(d, axis=1))
    if root:
        return float(np.linalg.norm(grid, p) / np.linalg.norm(best, p))
    return float(np.sum(np.abs(grid) ** p) / np.sum(np.abs(best) ** p))


_DPQ_MISTAKES = [
    (dict(root=False), "you left out the 1/p root: DPQ_p is (sum of grid gains^p / sum of best "
                       "gains^p) ** (1/p); np.linalg.norm(gains, p) includes the root."),
    (dict(clip=False), "negative gains must count as 0: the gain is max(0, (mean - D_k) / mean)."),
    (dict(ties=False), "covers at the same grid distance must be ordered by feature distance "
                       "(np.lexsort((d, g))), not left in index order."),
    (dict(with_self=True), "you counted each cover as its own neighbour (at distance 0): leave it out "
                           "of both orders."),
]


def check_dpq(my_dpq):
    """Check ``my_dpq(data, positions, p=16)`` against ``helpers.dpq`` on small arrangements."""
    import numpy as np

    import helpers

    rng = np.random.default_rng(11)
    data = rng.normal(size=(12, 3))
    grid = np.column_stack(np.divmod(np.arange(12), 4))
    rank = np.argsort(np.argsort(data[:, 0]))
    ordered = grid[rank]  # sorted along one feature: some order
    # the opposite: the covers of the two ends of that feature side by side, so gains go negative
    apart = grid[np.argsort([0, 11, 1, 10, 2, 9, 3, 8, 4, 7, 5, 6])[rank]]
    for name, positions in (("a random arrangement", grid[rng.permutation(12)]),
                            ("an arrangement sorted by one feature", ordered),
                            ("an arrangement with opposite covers side by side", apart)):
        for p in (16, 1):
            expected = helpers.dpq(data, positions, p=p)
            result, failed = _attempt(my_dpq, data.copy(), positions.copy(), p)
            if failed is not None:
                return failed
            if result is None:
                return Feedback(False, "my_dpq returned None: return the DPQ as a number.")
            try:
                value = float(result)
            except (TypeError, ValueError):
                return Feedback(False, f"my_dpq returned {type(result).__name__}; return one number.")
            if np.isclose(value, expected, atol=1e-9):
                continue
            for mistake, message in _DPQ_MISTAKES:
                if np.isclose(value, _dpq_variant(data, positions, p, **mistake), atol=1e-9):
                    return Feedback(False, message)
            if value > 1 + 1e-9:
                return Feedback(False, f"your DPQ is {value:.3f} for {name}, above 1: divide the "
                                       "p-norm of the grid order's gains by that of the best order's.")
            return Feedback(False, f"for {name} of 12 covers with p={p} your DPQ is {value:.4f}, "
                                   f"helpers.dpq gives {expected:.4f}: check the order by grid "
                                   "distance (ties by feature distance) and the gains "
                                   "max(0, (mean - D_k) / mean).")
    import warnings
    same = np.eye(4)  # four covers, all equally far apart: every layout is as good
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        result, failed = _attempt(my_dpq, same, np.column_stack(np.divmod(np.arange(4), 2)), 16)
    if failed is not None or result is None or not np.isclose(float(result), 1.0):
        return Feedback(False, "for covers all equally far apart the best gains are all 0: return 1 "
                               "(every layout is as good) instead of dividing by 0.")
    return Feedback(True, "your DPQ equals helpers.dpq for p = 16 and p = 1 on a random and an "
                          "ordered arrangement.")


# ---------------------------------------------------------------------------
# Notebook 07 checks (below this line)
# ---------------------------------------------------------------------------

# Notebook 07: the mean DPQ16 over seeds (exercise 1) and the post's pipeline
# changed one setting at a time (exercise 2). Each check runs the student's
# function on 16 small made-up covers of its own on a 4x4 grid with few
# iterations, so it is quick and does not depend on the folder loaded.

_CASE_SETTINGS = dict(iterations=200)
_STEPS = [("the post: preset 'original', placement 'greedy'", dict(preset="original", placement="greedy")),
          ("preset 'original', placement 'assignment'", dict(preset="original")),
          ("preset 'original', placement 'assignment', neighbourhood 'gaussian'",
           dict(preset="original", neighborhood_function="gaussian")),
          ("ours: preset 'default', placement 'assignment'", dict(preset="default"))]
_WRONG_STEPS = [("preset 'original', placement 'greedy', neighbourhood 'gaussian'",
                 dict(preset="original", placement="greedy", neighborhood_function="gaussian")),
                ("preset 'default', placement 'greedy'", dict(preset="default", placement="greedy"))]


def _explorer_case():
    """16 small covers in four colour families, their features, and a 4x4 grid."""
    import numpy as np

    import helpers

    rng = np.random.default_rng(7)
    families = rng.integers(0, 256, size=(4, 3))
    images = families[np.arange(16) % 4][:, None, None, :] + rng.normal(0, 40, size=(16, 8, 8, 3))
    covers = helpers.CoverSet(np.clip(images, 0, 255).astype(np.uint8),
                              [f"check_{i:02d}.png" for i in range(16)], [])
    return covers, helpers.make_features(covers.images), 4, 4


def _case_quality(seed, **settings):
    """The quality figures of helpers.arrange_covers on the check's own covers."""
    import helpers

    covers, features, rows, cols = _explorer_case()
    return helpers.arrange_covers(covers, rows, cols, features=features, seed=seed, **settings).quality


def check_mean_dpq(mean_dpq):
    """Check ``mean_dpq(covers, features, rows, cols, seeds, **settings)``: the mean DPQ16 over seeds."""
    import numpy as np

    covers, features, rows, cols = _explorer_case()
    seeds, settings = [1, 2, 3], dict(_CASE_SETTINGS, sigma=2.0)
    result, failed = _attempt(mean_dpq, covers, features, rows, cols, list(seeds), **settings)
    if failed is not None:
        return failed
    value, failed = _float_result(result, "mean_dpq")
    if failed is not None:
        return failed
    quality = [_case_quality(seed, **settings) for seed in seeds]
    dpq = [q["dpq16"] for q in quality]
    right = float(np.mean(dpq))
    if np.isclose(value, right, atol=1e-9):
        return Feedback(True, f"on the check's 16 covers your mean DPQ16 over seeds 1, 2, 3 is "
                              f"{right:.3f}, while single seeds give {min(dpq):.3f} to {max(dpq):.3f}.")
    for seed, one in zip(seeds, dpq):
        if np.isclose(value, one, atol=1e-9):
            return Feedback(False, f"that is the DPQ16 of seed {seed} alone: average over every seed in seeds.")
    if np.isclose(value, sum(dpq), atol=1e-9):
        return Feedback(False, "you added up the DPQ16 values: divide by the number of seeds (np.mean).")
    for key, name in (("quantization_error", "the quantization error (QE)"),
                      ("topographic_error", "the topographic error (TE)")):
        if np.isclose(value, np.mean([q[key] for q in quality]), atol=1e-9):
            return Feedback(False, f"that is the mean of {name}, not of DPQ16: take quality['dpq16'].")
    if np.isclose(value, _case_quality(42, **settings)["dpq16"], atol=1e-9):
        return Feedback(False, "every seed gave the map of seed 42, arrange_covers' default: "
                               "pass seed=seed to arrange_covers.")
    if np.isclose(value, np.mean([_case_quality(seed, **settings)["dpq16"] for seed in (42, 1, 2)]), atol=1e-9):
        return Feedback(False, "that is the mean over seeds 42, 1 and 2: use the seeds you are given.")
    return Feedback(False, f"your mean is {value:.4f}, helpers gives {right:.4f} for seeds 1, 2, 3 with "
                           "sigma 2 and 200 iterations: did you pass rows, cols, features and **settings "
                           "on to arrange_covers?")


def check_dpq_steps(dpq_steps):
    """Check ``dpq_steps(covers, features, rows, cols, seed, **common)``: four DPQ16, one per step."""
    import numpy as np

    covers, features, rows, cols = _explorer_case()
    seed = 1
    result, failed = _attempt(dpq_steps, covers, features, rows, cols, seed, **_CASE_SETTINGS)
    if failed is not None:
        return failed
    if result is None:
        return Feedback(False, "dpq_steps returned None: return a list of four DPQ16 values.")
    try:
        values = [float(v) for v in result]
    except (TypeError, ValueError):
        return Feedback(False, f"dpq_steps returned {type(result).__name__}: return a list of four numbers.")
    if len(values) != len(_STEPS):
        return Feedback(False, f"dpq_steps returned {len(values)} values; expected {len(_STEPS)}, "
                               "one per step: the post, then placement, neighbourhood and preset changed.")
    labels = dict(_STEPS + _WRONG_STEPS)
    known = {label: _case_quality(seed, **_CASE_SETTINGS, **changes) for label, changes in labels.items()}
    for number, ((label, _), value) in enumerate(zip(_STEPS, values), start=1):
        if np.isclose(value, known[label]["dpq16"], atol=1e-9):
            continue
        if np.isclose(value, known[label]["quantization_error"], atol=1e-9):
            return Feedback(False, f"step {number} is the quantization error (QE), not DPQ16: take quality['dpq16'].")
        for other, quality in known.items():
            if np.isclose(value, quality["dpq16"], atol=1e-9):
                return Feedback(False, f"step {number} should be {label}, but your value is that of "
                                       f"{other}: change one setting at a time and keep the earlier changes.")
        if np.isclose(value, _case_quality(42, **_CASE_SETTINGS, **dict(_STEPS)[label])["dpq16"], atol=1e-9):
            return Feedback(False, f"step {number} is the map of seed 42: pass seed=seed to arrange_covers.")
        return Feedback(False, f"step {number} ({label}) gives DPQ16 {value:.4f}, helpers gives "
                               f"{known[label]['dpq16']:.4f} at seed {seed} with 200 iterations: did you "
                               "pass seed and **common on to arrange_covers?")
    return Feedback(True, "your four steps match helpers on the check's 16 covers: "
                          + ", ".join(f"{v:.3f}" for v in values) + ".")
