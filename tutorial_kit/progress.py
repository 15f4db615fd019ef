"""Progress bars for long training runs: a widget in a notebook, text on a terminal."""

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
    if not sys.stderr.isatty():
        return lambda done: None  # no progress text in logs and pipes

    def report(done):
        global _line_open
        _line_open = done < total
        print(f"\rtraining {100 * done // total:3d}%", end="" if _line_open else "\n",
              file=sys.stderr, flush=True)
    return report


_line_open = False  # a terminal progress line is waiting for its end


def end_line():
    """End an unfinished progress line (after Ctrl-C or an error), so the
    next message starts on a line of its own."""
    global _line_open
    if _line_open:
        _line_open = False
        print(file=sys.stderr, flush=True)

