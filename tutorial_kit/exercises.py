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


# ---------------------------------------------------------------------------
# Notebook 03 and 04 checks (below this line)
# ---------------------------------------------------------------------------

# Notebook 03: one SOM step in numpy (exercise 1) and a map trained with it
# (exercise 2). Notebook 04: the optimal assignment (exercise 1) and DPQ in
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
    case = _STEP_CASE
    for neighbourhood in ("gaussian", "triangle", "bubble"):
        expected, winner = _minisom_step(weights, x, neighbourhood, **case)
        result, failed = _attempt(som_step, weights.copy(), x.copy(), case["t"], case["T"],
                                  case["sigma0"], case["eta0"], neighbourhood)
        if failed is not None:
            return failed
        if result is None:
            return Feedback(False, "som_step returned None: return the new weights.")
        result = np.asarray(result, dtype=float)
        if result.shape != weights.shape:
            return Feedback(False, f"som_step returned an array of shape {result.shape}; "
                                   f"the weights have shape {weights.shape} (rows, cols, features).")
        if np.allclose(result, expected):
            continue
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
    """A small map and covers for the notebook 04 checks (more cells than covers)."""
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


def check_dpq(my_dpq):
    """Check ``my_dpq(data, positions, p=16)`` against ``helpers.dpq`` on small arrangements."""
    import numpy as np

    import helpers

    rng = np.random.default_rng(11)
    data = rng.normal(size=(12, 3))
    grid = np.column_stack(np.divmod(np.arange(12), 4))
    ordered = grid[np.argsort(np.argsort(data[:, 0]))]  # sorted along one feature: some order
    for name, positions in (("a random arrangement", grid[rng.permutation(12)]),
                            ("an arrangement sorted by one feature", ordered)):
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
            if value > 1 + 1e-9:
                return Feedback(False, f"your DPQ is {value:.3f} for {name}, above 1: divide the "
                                       "p-norm of the grid order's gains by that of the best order's.")
            return Feedback(False, f"for {name} of 12 covers with p={p} your DPQ is {value:.4f}, "
                                   f"helpers.dpq gives {expected:.4f}: check the order by grid "
                                   "distance (ties by feature distance) and the gains "
                                   "max(0, (mean - D_k) / mean).")
    return Feedback(True, "your DPQ equals helpers.dpq for p = 16 and p = 1 on a random and an "
                          "ordered arrangement.")
