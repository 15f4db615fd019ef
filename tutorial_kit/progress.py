"""Progress for long runs: a training bar (a widget in a notebook, text on a terminal)
and the command line's status line."""

from __future__ import annotations

import sys


def progress_reporter(progress, total, seconds):
    """A function ``report(done)`` that shows progress, or does nothing.

    A bar appears only when training is expected to take over half a second.
    That depends on the estimated ``seconds``, never on the clock, so notebook
    outputs stay the same from run to run.
    """
    if callable(progress):
        return lambda done: progress(done, total)
    if not progress or seconds < 0.5:
        return lambda done: None
    try:
        from IPython import get_ipython
        in_notebook = hasattr(get_ipython(), "kernel")
    except ImportError:
        in_notebook = False
    if in_notebook:
        import ipywidgets
        from IPython.display import display
        bar = ipywidgets.IntProgress(min=0, max=total, description="training")
        display(bar)

        def report(done):
            bar.value = done
            if done >= total:
                bar.bar_style = "success"
        return report
    if not stderr_is_terminal():
        return lambda done: None  # no progress text in logs and pipes

    def report(done):
        global _line_open
        _line_open = done < total
        print(f"\rtraining {100 * done // total:3d}%", end="" if _line_open else "\n",
              file=sys.stderr, flush=True)
    return report


_line_open = False  # a terminal progress line is waiting for its end


def status_line():
    """A function ``show(text)`` that rewrites one status line on a terminal's stderr.

    The command line says with it what a long run is doing (reading 1,200 of
    3,000 covers, training 37%, writing the grid); ``show(None)`` clears the
    line. In logs and pipes (stderr not a terminal) it does nothing.
    """
    if not stderr_is_terminal():
        return lambda text: None

    def show(text):
        global _line_open
        _line_open = text is not None
        # \r goes back to the line's start, ESC [K erases what is left of the old text
        print(f"\r\033[K{text or ''}", end="", file=sys.stderr, flush=True)
    return show


def end_line():
    """End an unfinished progress line (after Ctrl-C or an error), so the
    next message starts on a line of its own."""
    global _line_open
    if _line_open:
        _line_open = False
        to_stderr("")


def stderr_is_terminal():
    """True if stderr is open and a terminal (``2>&-`` leaves ``sys.stderr`` None)."""
    return sys.stderr is not None and sys.stderr.isatty()


def to_stderr(line):
    """Write one line to stderr; with stderr closed or failing, nothing (never to stdout)."""
    if sys.stderr is None:  # print(file=None) would fall back to stdout
        return
    try:
        sys.stderr.write(f"{line}\n")
        sys.stderr.flush()
    except (OSError, ValueError):  # /dev/full, a closed pipe: nowhere left to say it
        pass

