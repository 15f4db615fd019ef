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
