"""The checks students call in notebooks 01, 02 and 03: each accepts a right answer,
and refuses a wrong one with the sentence that names the mistake."""
import numpy as np
import pytest

from tutorial_kit import exercises


def _stub(*args):
    raise NotImplementedError("Student exercise: not done yet")


def _standardise(pixels):
    sd = pixels.std(axis=0)
    return (pixels - pixels.mean(axis=0)) / np.where(sd > 0, sd, 1.0)


@pytest.mark.parametrize("check", [exercises.check_float_distance, exercises.check_table_bytes,
                                   exercises.check_standardise, exercises.check_shared_neighbours])
def test_a_stub_is_reported_not_raised(check):
    feedback = check(_stub)
    assert not feedback and "NotImplementedError" in feedback.message
    assert repr(feedback).startswith("Not yet: ")


def test_float_distance():
    right = exercises.check_float_distance(lambda a, b: np.linalg.norm(a.astype(float) - b.astype(float)))
    assert right and repr(right).startswith("Correct: ")
    wrapped = exercises.check_float_distance(lambda a, b: np.linalg.norm(a - b))
    assert not wrapped and "wraps around" in wrapped.message
    squared = exercises.check_float_distance(lambda a, b: np.sum((a.astype(float) - b) ** 2))
    assert not squared and "square root" in squared.message
    text = exercises.check_float_distance(lambda a, b: "far")
    assert not text and "not one number" in text.message


def test_float_distance_reports_a_crash_in_one_line():
    feedback = exercises.check_float_distance(lambda a, b: a.reshape(7))
    assert not feedback and feedback.message.startswith("your code raised ValueError")
    assert "\n" not in feedback.message


def test_table_bytes():
    assert exercises.check_table_bytes(lambda n, h, w, size: n * h * w * 3 * size)
    no_colours = exercises.check_table_bytes(lambda n, h, w, size: n * h * w * size)
    assert not no_colours and "3 numbers" in no_colours.message
    numbers = exercises.check_table_bytes(lambda n, h, w, size: n * h * w * 3)
    assert not numbers and "not bytes" in numbers.message
    gigabytes = exercises.check_table_bytes(lambda n, h, w, size: n * h * w * 3 * size / 1e9)
    assert not gigabytes and "gigabytes" in gigabytes.message


def test_standardise_matches_standardscaler():
    from sklearn.preprocessing import StandardScaler

    assert exercises.check_standardise(_standardise)
    assert exercises.check_standardise(lambda pixels: StandardScaler().fit_transform(pixels))


def test_standardise_names_each_mistake():
    cases = {
        "NaN": lambda p: (p - p.mean(axis=0)) / p.std(axis=0),
        "did not divide": lambda p: p - p.mean(axis=0),
        "variance": lambda p: (p - p.mean(axis=0)) / np.where(p.std(0) > 0, p.var(axis=0), 1),
        "ddof=1": lambda p: (p - p.mean(axis=0)) / np.where(p.std(0) > 0, p.std(0, ddof=1), 1),
        "axis=1": lambda p: (p - p.mean(axis=1, keepdims=True)) / p.std(axis=1, keepdims=True),
        "shape": lambda p: _standardise(p).T,
    }
    with np.errstate(invalid="ignore", divide="ignore"):
        for words, answer in cases.items():
            feedback = exercises.check_standardise(answer)
            assert not feedback and words in feedback.message, (words, feedback)


def test_shared_neighbours():
    assert exercises.check_shared_neighbours(exercises.shared_neighbours)
    total = exercises.check_shared_neighbours(
        lambda raw, scaled, k: exercises.shared_neighbours(raw, scaled, k) * len(raw))
    assert not total and "total" in total.message
    share = exercises.check_shared_neighbours(
        lambda raw, scaled, k: exercises.shared_neighbours(raw, scaled, k) / k)
    assert not share and "share" in share.message

    def with_self(raw, scaled, k):
        from scipy.spatial.distance import cdist
        near = [np.argsort(cdist(t, t), axis=1, kind="stable")[:, :k] for t in (raw, scaled)]
        return np.mean([len(set(a) & set(b)) for a, b in zip(*near)])

    counted_self = exercises.check_shared_neighbours(with_self)
    assert not counted_self and "own nearest neighbour" in counted_self.message


def test_shared_neighbours_reference_by_hand():
    # Four points on a line; scaling the second table's axis changes nothing.
    raw = np.array([[0.0], [1.0], [3.0], [7.0]])
    assert exercises.shared_neighbours(raw, raw * 10, 1) == 1.0
    # Swapping which neighbour is nearest for point 1: 0 is nearest in raw, 2 in the other.
    other = np.array([[0.0], [2.0], [2.5], [7.0]])
    assert exercises.shared_neighbours(raw, other, 1) == 0.75


# ---------------------------------------------------------------------------
# The wrong answers each check is tried with (issue 18): every one must be refused with a
# sentence that names the mistake. A new mistake students make goes into this list.
# ---------------------------------------------------------------------------

def _in_place(pixels):
    sd = pixels.std(axis=0)
    pixels -= pixels.mean(axis=0)
    pixels /= np.where(sd > 0, sd, 1.0)


def _in_place_returned(pixels):
    _in_place(pixels)
    return pixels


WRONG_ANSWERS = [
    # (check, wrong answer, words the feedback must contain)
    ("float_distance", lambda a, b: np.linalg.norm(a - b), "wraps around"),
    ("float_distance", lambda a, b: float(np.sqrt(np.sum(((a - b) ** 2).astype(float)))),
     "after subtracting and squaring in uint8"),
    ("float_distance", lambda a, b: float(np.sum((a.astype(float) - b.astype(float)) ** 2)), "squared distance"),
    ("float_distance", lambda a, b: float(np.abs(a.astype(float) - b.astype(float)).sum()), "city-block"),
    ("float_distance", lambda a, b: a.astype(float) - b.astype(float), "not one number"),
    ("table_bytes", lambda n, h, w, s: n * h * w * s, "3 numbers"),
    ("table_bytes", lambda n, h, w, s: n * h * w * 3, "counted numbers, not bytes"),
    ("table_bytes", lambda n, h, w, s: n * h * w * 3 * 8, "8 bytes for every number"),
    ("table_bytes", lambda n, h, w, s: n * h * w * 3 * s / 1e9, "gigabytes"),
    ("standardise", _in_place, "in place and returned None"),
    ("standardise", _in_place_returned, "changed the table it was given"),
    ("standardise", lambda p: None, "returned None"),
    ("standardise", lambda p: p - p.mean(axis=0), "did not divide"),
    ("standardise", lambda p: p / np.where(p.std(axis=0) > 0, p.std(axis=0), 1), "subtract the mean"),
    ("standardise", lambda p: (p - p.mean(axis=0)) / np.where(p.std(axis=0) > 0, p.var(axis=0), 1), "variance"),
    ("standardise", lambda p: (p - p.mean(axis=0)) / np.where(p.std(axis=0) > 0, p.std(axis=0, ddof=1), 1),
     "ddof=1"),
    ("standardise", lambda p: (p - p.mean(axis=1, keepdims=True)) / p.std(axis=1, keepdims=True), "axis=1"),
    ("standardise", lambda p: (p - p.mean(axis=0)) / p.std(axis=0), "divide by 1 there"),
    ("standardise", lambda p: p[:, :2], "returned shape"),
    ("shared_neighbours", lambda r, s, k: exercises.shared_neighbours(r, s, k) * len(r), "total"),
    ("shared_neighbours", lambda r, s, k: exercises.shared_neighbours(r, s, k) / k, "share between 0 and 1"),
    ("shared_neighbours", lambda r, s, k: exercises.shared_neighbours(r, r, k), "compare a table with itself"),
    ("gram_pca", lambda S: _gram_pca(S, keep_all=True), "kept all 6 axes"),
    ("gram_pca", lambda S: _gram_pca(S).T, "transpose"),
    ("gram_pca", lambda S: _gram_pca(S, root=False), "multiplied by the eigenvalues"),
    ("gram_pca", lambda S: _gram_pca(S, scale=False), "eigenvectors alone"),
    ("gram_pca", lambda S: _gram_pca(S, reverse=False), "smallest first"),
    ("gram_pca", lambda S: _gram_pca(S)[:, [1, 0, 2, 3, 4]], "not the principal axes in order"),
    ("gram_pca", lambda S: _gram_pca(S)[:, :2], "returned shape"),
    ("gram_pca", lambda S: S @ S.T, "kept all 6 axes"),
    ("gram_pca", lambda S: None, "returned None"),
]


def _gram_pca(S, keep_all=False, root=True, scale=True, reverse=True):
    """The notebook's five lines, with switches for the usual mistakes."""
    G = S @ S.T
    eigenvalues, U = np.linalg.eigh(G)
    keep = np.ones(len(G), bool) if keep_all else eigenvalues > eigenvalues.max() * 1e-10
    factor = (np.sqrt(eigenvalues[keep]) if root else eigenvalues[keep]) if scale else 1.0
    F = U[:, keep] * factor
    return F[:, ::-1] if reverse else F


def test_gram_pca_right_answer_is_accepted_with_any_signs():
    assert exercises.check_gram_pca(_gram_pca)
    assert exercises.check_gram_pca(lambda S: _gram_pca(S) * np.array([1, -1, 1, -1, -1]))


@pytest.mark.parametrize("name, wrong, words", WRONG_ANSWERS,
                         ids=[f"{name}-{i}" for i, (name, _, _) in enumerate(WRONG_ANSWERS)])
def test_every_listed_wrong_answer_is_refused_and_named(name, wrong, words):
    feedback = getattr(exercises, f"check_{name}")(wrong)
    assert not feedback.ok, f"{name}: a wrong answer was accepted ({words})"
    assert words in feedback.message, feedback.message
    assert "\n" not in feedback.message


def test_the_input_is_left_alone_by_the_right_answer():
    assert exercises.check_standardise(_standardise).ok


@pytest.mark.parametrize("name", ["float_distance", "table_bytes", "standardise", "shared_neighbours", "gram_pca"])
def test_every_exercise_has_two_graded_hints(name):
    first, second = exercises.hint(name), exercises.hint(name, 2)
    assert repr(first).startswith("Hint 1 of 2: ") and repr(second).startswith("Hint 2 of 2: ")
    assert first.text != second.text
    with pytest.raises(ValueError, match="hints 1 to 2"):
        exercises.hint(name, 3)
