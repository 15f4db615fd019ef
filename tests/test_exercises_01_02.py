"""The checks students call in notebooks 01 and 02: each accepts a right answer,
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
