"""The checks of notebook 07, the explorer (this file keeps the name of the five-notebook
sequence), in tutorial_kit/exercises.py: each is tried with a
right answer (it must accept it), with typical wrong ones (it must refuse them
and say, in one sentence, what is wrong) and with the unfinished stub."""
import numpy as np
import pytest

import helpers
from tutorial_kit import exercises


def _quality(covers, features, rows, cols, seed, **settings):
    return helpers.arrange_covers(covers, rows, cols, features=features, seed=seed, **settings).quality


# ---------------------------------------------------------------------------
# Exercise 1: the mean DPQ16 over seeds
# ---------------------------------------------------------------------------


def mean_dpq(covers, features, rows, cols, seeds, **settings):
    """The notebook's solution."""
    return float(np.mean([_quality(covers, features, rows, cols, seed, **settings)["dpq16"]
                          for seed in seeds]))


def test_mean_dpq_right_answer_is_accepted():
    feedback = exercises.check_mean_dpq(mean_dpq)
    assert feedback.ok, feedback.message
    assert repr(feedback).startswith("Correct: ")


# The wrong answers each check is tried with (issue 18), named by the words of the feedback:
# mean_dpq: one seed only, the mean QE, the sum, seed 42 every time, other seeds, settings not
# passed on, a list; dpq_steps: an earlier change not kept, the steps reversed, QE instead of
# DPQ16, seed 42, settings not passed on, three values, None. A new mistake goes into the lists.
MEAN_DPQ_WRONG_ANSWERS = [
    (lambda c, f, r, k, seeds, **s: mean_dpq(c, f, r, k, seeds[:1], **s), "seed 1 alone"),
    (lambda c, f, r, k, seeds, **s: float(np.mean([_quality(c, f, r, k, seed, **s)["quantization_error"]
                                                   for seed in seeds])), "quantization error (QE)"),
    (lambda c, f, r, k, seeds, **s: len(seeds) * mean_dpq(c, f, r, k, seeds, **s), "added up"),
    (lambda c, f, r, k, seeds, **s: float(np.mean([_quality(c, f, r, k, 42, **s)["dpq16"]
                                                   for seed in seeds])), "pass seed=seed"),
    (lambda c, f, r, k, seeds, **s: mean_dpq(c, f, r, k, (42, 1, 2), **s), "seeds you are given"),
    (lambda c, f, r, k, seeds, **s: mean_dpq(c, f, r, k, seeds, iterations=200), "**settings"),
    (lambda c, f, r, k, seeds, **s: [mean_dpq(c, f, r, k, seeds, **s)], "returned list"),
]


@pytest.mark.parametrize("wrong, words", MEAN_DPQ_WRONG_ANSWERS)
def test_mean_dpq_mistakes_are_named(wrong, words):
    feedback = exercises.check_mean_dpq(wrong)
    assert not feedback.ok
    assert words in feedback.message, feedback.message
    assert "\n" not in feedback.message


def test_mean_dpq_stub_is_reported_not_raised():
    def mean_dpq(*args, **kwargs):
        raise NotImplementedError("Student exercise: the mean DPQ16 over seeds")
    feedback = exercises.check_mean_dpq(mean_dpq)
    assert not feedback.ok and "mean_dpq still raises NotImplementedError" in feedback.message
    assert repr(feedback).startswith("Not yet: ")


# ---------------------------------------------------------------------------
# Exercise 2: from the post's pipeline to ours, one change at a time
# ---------------------------------------------------------------------------

STEPS = [dict(preset="original", placement="greedy"), dict(preset="original"),
         dict(preset="original", neighborhood_function="gaussian"), dict(preset="default")]


def dpq_steps(covers, features, rows, cols, seed, steps=STEPS, key="dpq16", **common):
    """The notebook's solution, with switches for the typical mistakes."""
    return [_quality(covers, features, rows, cols, seed, **step, **common)[key] for step in steps]


def test_dpq_steps_right_answer_is_accepted():
    feedback = exercises.check_dpq_steps(dpq_steps)
    assert feedback.ok, feedback.message


DPQ_STEPS_WRONG_ANSWERS = [
    # forgot to keep the assignment when changing the neighbourhood
    (lambda *a, **c: dpq_steps(*a, steps=[STEPS[0], STEPS[1], dict(STEPS[2], placement="greedy"),
                                          STEPS[3]], **c), "step 3 should be"),
    # steps in the wrong order
    (lambda *a, **c: dpq_steps(*a, steps=STEPS[::-1], **c), "step 1 should be"),
    (lambda *a, **c: dpq_steps(*a, key="quantization_error", **c), "quantization error (QE)"),
    (lambda c, f, r, k, seed, **common: dpq_steps(c, f, r, k, 42, **common), "seed 42"),
    (lambda c, f, r, k, seed, **common: dpq_steps(c, f, r, k, seed), "**common"),
    (lambda *a, **c: dpq_steps(*a, **c)[:3], "returned 3 values"),
    (lambda *a, **c: None, "returned None"),
]


@pytest.mark.parametrize("wrong, words", DPQ_STEPS_WRONG_ANSWERS)
def test_dpq_steps_mistakes_are_named(wrong, words):
    feedback = exercises.check_dpq_steps(wrong)
    assert not feedback.ok
    assert words in feedback.message, feedback.message
    assert "\n" not in feedback.message


def test_dpq_steps_stub_is_reported_not_raised():
    def dpq_steps(*args, **kwargs):
        raise NotImplementedError("Student exercise: one change at a time")
    assert "dpq_steps still raises NotImplementedError" in exercises.check_dpq_steps(dpq_steps).message


@pytest.mark.parametrize("name", ["mean_dpq", "dpq_steps"])
def test_every_exercise_has_two_graded_hints(name):
    first, second = exercises.hint(name), exercises.hint(name, 2)
    assert repr(first).startswith("Hint 1 of 2: ") and repr(second).startswith("Hint 2 of 2: ")
