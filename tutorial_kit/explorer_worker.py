"""The explorer's background thread: the newest request wins.

A student dragging a slider sends many requests in a second; training each
in turn would leave the picture far behind the hand. This worker keeps at
most one request waiting: a newer one replaces it, and the thread runs
whatever is newest when it is free. (The explorer also stops a run in
progress when a newer request arrives, through its progress callback.)
"""

from __future__ import annotations

import threading
import time


class LatestRequestWorker:
    """One daemon thread that runs the newest request, one at a time.

    Parameters
    ----------
    run : callable
        Called as ``run(job)`` on the thread, for each job it takes.
    name : str
        The thread's name.

    Examples
    --------
    >>> done = []
    >>> worker = LatestRequestWorker(done.append)
    >>> worker.submit("first")
    >>> worker.wait(5)
    True
    >>> done
    ['first']
    """

    def __init__(self, run, name="som-explorer"):
        self._run = run
        self._name = name
        self._lock = threading.Lock()
        self._pending = None  # the newest job not yet taken
        self._thread = None

    def submit(self, job):
        """Queue ``job``, replacing (dropping) any job still waiting; start the thread if idle."""
        with self._lock:
            self._pending = job
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, daemon=True, name=self._name)
                self._thread.start()

    def wait(self, timeout):
        """Wait until no job runs or waits, at most ``timeout`` seconds; True if idle."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                thread = self._thread
            if thread is None:
                return True
            if time.monotonic() > deadline:
                return False
            thread.join(0.05)

    def _work(self):
        while True:
            with self._lock:
                job, self._pending = self._pending, None
                if job is None:
                    self._thread = None
                    return
            self._run(job)
