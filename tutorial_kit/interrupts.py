"""Stop signals (Ctrl-C, SIGTERM, SIGHUP) as one exception, held back where a write commits.

Python runs every signal handler in the main thread, whichever thread the
operating system gave the signal to (an OpenBLAS worker thread takes a
Ctrl-C as readily as the main thread). So a section that must not be cut
in two is protected by the handler itself, not by a signal mask: inside
`held`, a stop signal is only recorded; it is delivered when the outermost
section ends, and `check` lets a long section stop early at a safe point.
"""

from __future__ import annotations

import contextlib
import signal
import threading

STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                     if hasattr(signal, name))


class Interrupted(KeyboardInterrupt):
    """A stop signal turned into an exception; ``exit_code`` is the shell's 128 + signal."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum
        self.exit_code = 128 + signum
        self.what = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name


_pending = []  # stop signals that came inside a held section, oldest first
_depth = 0  # how many held sections are open


def _handler(signum, frame):
    """Raise `Interrupted`, or only record the signal inside a held section."""
    if _depth:
        _pending.append(signum)
    else:
        raise Interrupted(signum)


def in_main_thread():
    """True in the main thread, the only one that may set signal handlers."""
    return threading.current_thread() is threading.main_thread()


def install():
    """Make every stop signal raise `Interrupted`; returns the handlers to give to `restore`."""
    if not in_main_thread():
        return {}
    return {number: signal.signal(number, _handler) for number in STOP_SIGNALS}


def restore(previous):
    """Put back the handlers that `install` replaced."""
    for number, handler in previous.items():
        signal.signal(number, handler if handler is not None else signal.SIG_DFL)


@contextlib.contextmanager
def held():
    """A section that no stop signal cuts: a signal meanwhile is delivered at its end.

    In the main thread, the handlers of all stop signals are ours for the
    section; at its end the caller's own come back and the signal goes to
    them (``signal.raise_signal``), so SIGTERM still ends a program that
    never set a handler, and Ctrl-C in a notebook is still a KeyboardInterrupt.
    In any other thread, signals are the main thread's business: nothing changes.
    """
    global _depth
    if not in_main_thread():
        yield
        return
    previous = install() if _depth == 0 else {}
    _depth += 1
    stopped = None
    try:
        yield
    except Interrupted as stop:  # from `check`: the section gave up at a safe point
        stopped = stop
        if _depth > 1:
            raise
    finally:
        _depth -= 1
        if _depth == 0:
            restore(previous)
            signum = stopped.signum if stopped is not None else (_pending or [None])[0]
            _pending.clear()
            if signum is not None:
                signal.raise_signal(signum)  # to the caller's handler, now in place
    if stopped is not None:  # the caller ignores that signal: the section still stopped
        raise stopped


def check():
    """Inside a held section: raise `Interrupted` now if a stop signal came meanwhile.

    For the safe points of a long section, before it commits anything; `held`
    then hands the signal to the caller's handler.
    """
    if _pending:
        raise Interrupted(_pending[0])
