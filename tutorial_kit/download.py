"""Download the 100 covers of the 2019 post, each checked against its SHA-256."""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import re
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from tutorial_kit.files import OutputError, check_target, write_atomically
from tutorial_kit.images import printable
from tutorial_kit.progress import stderr_is_terminal, to_stderr

DATA_DIR = Path(__file__).resolve().parents[1] / "data"

ORIGINALS_COMMIT = "935d01422da6a271a29360a1684728d2b089f41a"
ORIGINALS_URL = (
    "https://raw.githubusercontent.com/JustGlowing/minisom/"
    f"{ORIGINALS_COMMIT}/examples/movie_covers/"
)
ORIGINALS_MANIFEST = DATA_DIR / "original_covers.sha256"

# The manifest has no file sizes (they cannot be learnt offline), so every
# cover is capped at a generous 5 MB: the post's covers are small JPEGs,
# and a response bigger than that is refused as soon as it is known to be.
MAX_COVER_BYTES = 5 * 1024**2
# The whole download must end within this many seconds (100 small files).
DEADLINE = 600


class DownloadError(RuntimeError):
    """A cover could not be downloaded, or it is not the expected file."""


def read_manifest(manifest=ORIGINALS_MANIFEST) -> list[tuple[str, str]]:
    """Read a checksum manifest in the format written by ``sha256sum``.

    Lines starting with ``#`` and blank lines are ignored; every other line is
    ``<64 hex digits>  <file name>``.

    Parameters
    ----------
    manifest : str or pathlib.Path
        The manifest file, by default ``data/original_covers.sha256``.

    Returns
    -------
    list of (str, str)
        ``(file name, sha256 in lower-case hex)`` in the order of the file.

    Raises
    ------
    ValueError
        If a line is malformed, a name repeats, or there is no entry at all;
        the message names the manifest and the line number.
    OSError
        If the manifest cannot be read.
    """
    entries = []
    lines = Path(manifest).read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.startswith("#"):
            continue
        # A plain file name: no folders, not hidden (so never "../x" or ".x").
        match = re.fullmatch(r"([0-9a-fA-F]{64}) [ *]([\w-][\w.-]*)", line.strip())
        if match is None:
            raise ValueError(
                f"{manifest}, line {number}: expected '<sha256>  <file name>', "
                f"got {line[:80]!r}"
            )
        digest, name = match.group(1).lower(), match.group(2)
        if any(name == seen for seen, _ in entries):
            raise ValueError(f"{manifest}, line {number}: {name} is listed twice")
        entries.append((name, digest))
    if not entries:
        raise ValueError(f"{manifest}: no '<sha256>  <file name>' line found")
    return entries


def download_original_covers(
    folder,
    *,
    base_url=ORIGINALS_URL,
    manifest=ORIGINALS_MANIFEST,
    timeout=30,
    deadline=DEADLINE,
    max_bytes=MAX_COVER_BYTES,
    progress=None,
) -> list[Path]:
    """Download the 100 covers of the 2019 post, checking every file's SHA-256.

    Files already in ``folder`` with the right checksum are kept; missing or
    different ones are downloaded. Each file is checked in memory and then
    written under a temporary name and renamed, so ``folder`` never holds a
    half-written or unverified cover, even after an error or Ctrl-C.

    Parameters
    ----------
    folder : str or pathlib.Path
        Where to put the covers; created if needed.
    base_url : str
        URL of the folder holding the covers; a file's URL is ``base_url + name``.
    manifest : str or pathlib.Path
        The file names and their SHA-256 (see `read_manifest`).
    timeout : float
        Seconds to wait for any answer of the server before giving up.
    deadline : float
        Seconds the whole download may take (a server that trickles bytes
        slowly is stopped here, give or take one ``timeout``).
    max_bytes : int
        Largest size accepted for one cover (5 MB by default); a bigger
        response is refused without being read to the end.
    progress : bool or None
        True prints one line per file to stderr; None (default) does so only
        when stderr is a terminal.

    Returns
    -------
    list of pathlib.Path
        The paths of the covers, in manifest order.

    Raises
    ------
    DownloadError
        With one line naming the file, if a download fails (offline, HTTP
        error, interrupted transfer, too big, too slow), its checksum
        differs or it cannot be written. Covers already written stay;
        nothing partial is left. If a local copy with the wrong checksum
        was there, the message says so.
    ValueError
        If the manifest is malformed.
    """
    paths, _, _ = _download_covers(folder, base_url, manifest, timeout, progress,
                                   deadline, max_bytes)
    return paths


def download_command(
    folder, *, base_url=ORIGINALS_URL, manifest=ORIGINALS_MANIFEST, progress=None
) -> int:
    """``python helpers.py --download-originals FOLDER``: download, then report in one line.

    Returns the exit code: 0 on success, 1 on an error (printed to stderr as
    ``error: ...``, without a traceback), 130 if interrupted with Ctrl-C.
    """
    try:
        paths, present, replaced = _download_covers(folder, base_url, manifest, 30, progress,
                                                    DEADLINE, MAX_COVER_BYTES)
    except (DownloadError, ValueError, OSError) as error:
        to_stderr(f"error: {printable(' '.join(str(error).split()))}")
        return 1
    except KeyboardInterrupt as stop:  # Ctrl-C, or SIGTERM or SIGHUP from the command line
        what = getattr(stop, "what", "Ctrl-C")
        to_stderr(f"error: interrupted ({what}); the covers written so far are complete, "
                  "and no partial file was left behind")
        return getattr(stop, "exit_code", 130)
    fixed = f", {replaced} damaged local copies replaced" if replaced else ""
    print(f"downloaded {len(paths) - present} covers to {printable(folder)} "
          f"({present} already present{fixed})")
    return 0


def _download_covers(folder, base_url, manifest, timeout, progress, deadline, max_bytes):
    """Do the work of `download_original_covers`.

    Also returns how many covers were already present, and how many local
    copies with a wrong checksum were replaced.
    """
    entries = read_manifest(manifest)
    if progress is None:
        progress = stderr_is_terminal()
    if not base_url.endswith("/"):
        base_url += "/"
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DownloadError(f"cannot create folder '{printable(folder)}': {error}") from None

    stop_at = time.monotonic() + deadline
    paths, present, replaced = [], 0, 0
    for number, (name, digest) in enumerate(entries, start=1):
        path = folder / name
        damaged = path.is_file() and _sha256(path.read_bytes()) != digest
        if path.is_file() and not damaged:
            present += 1
            status = "already present"
        else:
            try:
                check_target(path, what="cover")  # never replace a folder, FIFO or symlink
            except OutputError as error:
                raise DownloadError(str(error)) from None
            url = base_url + urllib.parse.quote(name)
            try:
                data = _fetch(name, url, timeout, stop_at, deadline, max_bytes)
                if _sha256(data) != digest:
                    raise DownloadError(
                        f"checksum mismatch for {name} from {url}: "
                        f"expected {digest[:12]}..., got {_sha256(data)[:12]}..."
                    )
            except DownloadError as error:
                if damaged:  # say so: the local copy is not the cover either
                    raise DownloadError(f"{error}; the local copy {printable(path)} is damaged "
                                        "(its checksum differs) and was left as it is") from None
                raise
            try:
                write_atomically(path, data)
            except OSError as error:
                raise DownloadError(f"could not write {printable(path)}: {error}") from None
            replaced += damaged
            status = "downloaded (the local copy was damaged)" if damaged else "downloaded"
        if progress:
            to_stderr(f"[{number}/{len(entries)}] {name} {status}")
        paths.append(path)
    return paths, present, replaced


def _sha256(data):
    """SHA-256 of some bytes, as lower-case hex."""
    return hashlib.sha256(data).hexdigest()


class _Watchdog:
    """Shuts the connection's socket when the overall deadline passes.

    Whatever the exchange is waiting for then (the connection, the status
    line, a header, the body) ends at once, so a server that trickles one
    byte just inside every ``timeout`` cannot hold the download past
    ``stop_at``. Python's own timeout bounds each wait, never their sum.
    """

    def __init__(self, stop_at):
        self.stop_at, self.timers = stop_at, []

    def watch(self, sock):
        timer = threading.Timer(max(0.0, self.stop_at - time.monotonic()), self._shut, (sock,))
        timer.daemon = True
        timer.start()
        self.timers.append(timer)

    @staticmethod
    def _shut(sock):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)

    def expired(self):
        return time.monotonic() >= self.stop_at

    def stop(self):
        for timer in self.timers:
            timer.cancel()

    def opener(self):
        """A urllib opener whose HTTP and HTTPS connections are watched."""
        watch = self.watch

        def watched(base):
            class Watched(base):
                def connect(self):
                    super().connect()
                    watch(self.sock)
            return Watched

        class HTTPHandler(urllib.request.HTTPHandler):
            def http_open(self, req):
                return self.do_open(watched(http.client.HTTPConnection), req)

        class HTTPSHandler(urllib.request.HTTPSHandler):
            def https_open(self, req):
                return self.do_open(watched(http.client.HTTPSConnection), req,
                                    context=self._context)

        return urllib.request.build_opener(HTTPHandler, HTTPSHandler)


def _fetch(name, url, timeout, stop_at, deadline, max_bytes):
    """Return the bytes at ``url``, or raise DownloadError naming the file.

    Reads in pieces, so that a response over ``max_bytes`` is refused as
    soon as that is known, and a server that trickles bytes is stopped when
    the clock passes ``stop_at`` (each wait is at most ``timeout``).
    """
    watchdog = _Watchdog(stop_at)
    late = DownloadError(f"could not download {name} from {url}: the download took longer "
                         f"than its deadline of {deadline:g} s")
    try:
        with watchdog.opener().open(url, timeout=timeout) as response:
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise DownloadError(f"{name} from {url} is {int(declared):,} bytes, over the "
                                    f"limit of {max_bytes:,} bytes for one cover")
            pieces, received = [], 0
            while True:
                if watchdog.expired():
                    raise late
                piece = response.read1(65536)
                if not piece:
                    break
                pieces.append(piece)
                received += len(piece)
                if received > max_bytes:
                    raise DownloadError(f"{name} from {url} is over the limit of "
                                        f"{max_bytes:,} bytes for one cover")
            if declared.isdigit() and received < int(declared):
                raise http.client.IncompleteRead(b"".join(pieces), int(declared) - received)
            return b"".join(pieces)
    except DownloadError:
        raise
    except urllib.error.HTTPError as error:
        reason = f"HTTP error {error.code} {error.reason}"
    except (OSError, http.client.HTTPException) as error:
        if watchdog.expired():  # the watchdog shut the socket: whatever broke, it was late
            raise late from None
        reason = _reason(error)
    finally:
        watchdog.stop()
    raise DownloadError(f"could not download {name} from {url}: {reason}")


def _reason(error):
    """Why a request failed, in words; only a failure to reach the server suggests being offline."""
    if isinstance(error, urllib.error.URLError):  # could not connect, or send the request
        reason = error.reason
        text = str(reason) or type(reason).__name__
        return f"{printable(text)} (are you offline?)" if isinstance(reason, OSError) else text
    if isinstance(error, http.client.IncompleteRead):
        return f"transfer interrupted after {len(error.partial)} bytes"
    if isinstance(error, http.client.RemoteDisconnected):
        return "the server closed the connection without an answer"
    if isinstance(error, http.client.HTTPException):
        return (f"the server's answer is not valid HTTP ({type(error).__name__}: "
                f"{printable(' '.join(str(error).split())[:80])})")
    text = printable(str(error) or type(error).__name__)
    return f"{text} (are you offline?)" if isinstance(error, TimeoutError) else text
