"""Safe file writing: complete files or none, never half a file, never the wrong file.

Every output goes to a short hidden temporary name in its own folder and is
then renamed over the target in one step (``os.replace``), like git's lock
files or the ``atomicwrites`` package. Before any work, `check_target`
refuses targets that a careless path could destroy: folders, FIFOs, devices,
symbolic links, input covers. `write_outputs` writes the grid PNG and the
positions CSV as a pair: both or neither.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import secrets
import signal
import stat
import struct
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from tutorial_kit.images import printable

# Spreadsheets run a cell that starts with one of these as a formula
# (OWASP, "CSV injection"); such cells get a leading apostrophe.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class OutputError(ValueError):
    """An output path that must not be written; the message is one line."""


def _temporary_name(path):
    """A short hidden name in the target's folder (load_covers ignores it).

    Short on purpose: a target name of 250 characters must not fail because
    the temporary name would exceed the 255-byte limit of most file systems.
    """
    return path.with_name(f".{secrets.token_hex(6)}.part")


def _kind(mode):
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_target(path, *, what="output", suffixes=None, covers_dir=None):
    """Check, before any work, that ``path`` may be written; return it as a Path.

    A target must be a regular file (to replace) or a new path in a folder
    that exists or can be created. Refused, with one line naming the path:
    an empty path; a folder, FIFO, device, socket or symbolic link; a name
    too long for the file system; an extension not in ``suffixes``; and any
    path in ``covers_dir`` (it would replace an input cover, or be read as
    one next time) or any hard link to an input cover.

    Raises
    ------
    OutputError
    """
    if path is None or not str(path).strip():
        raise OutputError(f"{what} is empty: give a file name")
    path = Path(path)
    shown = printable(path)
    if suffixes and path.suffix.lower() not in suffixes:
        raise OutputError(f"{what} '{shown}' must end with {' or '.join(suffixes)} "
                          f"(got '{printable(path.suffix) or 'no extension'}')")
    name_max = 255
    folder = _existing_ancestor(path.parent, what, shown)
    with contextlib.suppress(OSError, ValueError, AttributeError):
        name_max = os.pathconf(folder, "PC_NAME_MAX")
    if len(os.fsencode(path.name)) > name_max:
        raise OutputError(f"{what} '{shown}': the file name is longer than "
                          f"{name_max} bytes, the limit of this file system")
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as error:
        raise OutputError(f"{what} '{shown}' cannot be used: "
                          f"{printable(error.strerror or error)}") from None
    if mode is not None and not stat.S_ISREG(mode):
        raise OutputError(f"{what} '{shown}' is {_kind(mode)}; give a regular file or a new path")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"{what} '{shown}': folder '{printable(folder)}' is not writable")
    if covers_dir is not None:
        _check_not_an_input(path, Path(covers_dir), what, shown)
    return path


def _existing_ancestor(folder, what, shown):
    """The nearest folder of ``folder`` that exists; it must be a folder."""
    folder = Path(os.path.abspath(folder))
    while not os.path.lexists(folder):
        folder = folder.parent
    if not folder.is_dir():
        raise OutputError(f"{what} '{shown}': '{printable(folder)}' is a file, not a folder")
    return folder


def _check_not_an_input(path, covers_dir, what, shown):
    """Refuse ``path`` in the covers folder, or a hard link to an input cover."""
    with contextlib.suppress(OSError):
        if os.path.samefile(Path(os.path.abspath(path)).parent, covers_dir):
            if os.path.lexists(path):
                raise OutputError(f"{what} '{shown}' is an input cover: it would be replaced")
            raise OutputError(f"{what} '{shown}' is inside the covers folder, where the "
                              "next run would take it for a cover: write it elsewhere")
    if not os.path.lexists(path):
        return
    target = os.stat(path)
    with contextlib.suppress(OSError):
        for entry in os.scandir(covers_dir):
            if entry.is_file() and entry.inode() == target.st_ino and \
                    entry.stat().st_dev == target.st_dev:
                raise OutputError(f"{what} '{shown}' is the same file as the input cover "
                                  f"'{printable(entry.name)}': it would be replaced")


def check_distinct(first, second):
    """Refuse the same path given twice (``--out x --positions x``)."""
    same = os.path.realpath(first) == os.path.realpath(second)
    if not same and os.path.exists(first) and os.path.exists(second):
        same = os.path.samefile(first, second)
    if same:
        raise OutputError(f"'{printable(first)}' is given both as the grid and as the "
                          "positions file: give two different paths")


_PNG_COLOUR_TYPES = {1: 0, 3: 2, 4: 6}  # grey, RGB, RGBA
_PNG_BAND_BYTES = 1 << 22  # deflate about 4 MB of filtered rows at a time


def _png_chunk(kind, data):
    """A PNG chunk as four pieces for one ``b"".join`` (so ``data`` is copied only there)."""
    return [struct.pack(">I", len(data)), kind, data,
            struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)))]


def _adler32_combine(first, second, second_length):
    """The Adler-32 of two byte strings joined, from the checksum of each (as zlib's C function)."""
    base = 65521
    remainder = second_length % base
    low = ((first & 0xFFFF) + (second & 0xFFFF) + base - 1) % base
    high = (remainder * (first & 0xFFFF) + (first >> 16) + (second >> 16) + base - remainder) % base
    return (high << 16) | low


def png_bytes(image, threads=2):
    """An image array (height, width[, 1, 3 or 4]) of uint8 as PNG bytes.

    The same file format Pillow writes, made faster for big grids: each row is
    stored as its difference to the row above (PNG's "Up" filter), and bands of
    rows are deflated at level 1 on ``threads`` threads into one zlib stream (as
    pigz does), so 3,000 covers' grid (467 MB of pixels) never waits on one core.
    """
    image = np.ascontiguousarray(image, dtype=np.uint8)
    height, width = image.shape[:2]
    channels = 1 if image.ndim == 2 else image.shape[2]
    if image.ndim not in (2, 3) or channels not in _PNG_COLOUR_TYPES or 0 in image.shape:
        raise ValueError(f"cannot write an image of shape {image.shape} as PNG")
    rows = image.reshape(height, width * channels)
    step = max(1, _PNG_BAND_BYTES // rows.shape[1])
    bands = [(start, min(start + step, height)) for start in range(0, height, step)]

    def deflate(band):
        start, stop = band
        filtered = np.empty((stop - start, rows.shape[1] + 1), dtype=np.uint8)
        filtered[:, 0] = 2  # filter type "Up": the byte minus the one above it (mod 256)
        np.subtract(rows[start:stop], rows[start - 1:stop - 1] if start else
                    np.vstack([np.zeros_like(rows[:1]), rows[:stop - 1]]), out=filtered[:, 1:])
        # raw deflate (no header), level 1, run-length matches only: the fastest of
        # zlib's settings on covers, and the smallest (measured on a 1,000-cover grid)
        compressor = zlib.compressobj(1, zlib.DEFLATED, -15, 8, zlib.Z_RLE)
        last = stop == height
        data = compressor.compress(filtered) + compressor.flush(
            zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)  # a sync flush ends on a byte
        return data, zlib.adler32(filtered), filtered.size

    with ThreadPoolExecutor(max(1, threads)) as pool:
        parts = list(pool.map(deflate, bands))
    checksum = 1  # the Adler-32 of nothing
    for _, band_checksum, size in parts:
        checksum = _adler32_combine(checksum, band_checksum, size)
    header = struct.pack(">IIBBBBB", width, height, 8, _PNG_COLOUR_TYPES[channels], 0, 0, 0)
    # One zlib stream split over IDAT chunks: zlib's header (deflate, fastest level),
    # a chunk per band, the Adler-32 of all the filtered rows.
    stream = [b"\x78\x01", *(data for data, _, _ in parts), struct.pack(">I", checksum)]
    pieces = [b"\x89PNG\r\n\x1a\n", *_png_chunk(b"IHDR", header)]
    for data in stream:
        pieces += _png_chunk(b"IDAT", data)
    return b"".join(pieces + _png_chunk(b"IEND", b""))


def spreadsheet_safe(cell):
    """``cell`` with a leading ``'`` if a spreadsheet would run it as a formula."""
    cell = str(cell)
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def positions_csv(names, positions):
    """``file,row,col`` for every placed cover, as bytes.

    Names a spreadsheet would run as a formula get a leading ``'``. A name
    that is not valid UTF-8 is written with its original bytes (Python's
    ``surrogateescape``), so it still names the file on disk.
    """
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["file", "row", "col"])
    writer.writerows([spreadsheet_safe(name), int(r), int(c)]
                     for name, (r, c) in zip(names, positions) if r >= 0)
    return text.getvalue().encode("utf-8", errors="surrogateescape")


@contextlib.contextmanager
def _no_interrupt():
    """Hold back Ctrl-C (SIGINT) for a few renames; it arrives right after."""
    if threading.current_thread() is not threading.main_thread() or \
            not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def write_files(contents):
    """Write several files as one: all complete, or none changed.

    Parameters
    ----------
    contents : list of (path, bytes)

    Every file is first written in full under a temporary name; then all are
    renamed into place with Ctrl-C held back. If a rename fails, the files
    already renamed are put back as they were (removed if they were new).
    """
    paths = [Path(path) for path, _ in contents]
    temporaries, backups, done = [], {}, []
    existed = {path for path in paths if os.path.lexists(path)}
    try:
        for path, data in contents:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = _temporary_name(path)
            temporaries.append(temporary)
            with open(temporary, "xb") as handle:  # mode 666 minus umask, like any new file
                handle.write(data)
        if len(paths) > 1:  # keep the old files until all new ones are in place
            for path in paths:
                if path.exists():
                    backup = _temporary_name(path)
                    with contextlib.suppress(OSError):  # no hard links here: no undo
                        os.link(path, backup)
                        backups[path] = backup
        with _no_interrupt():
            try:
                for temporary, path in zip(temporaries, paths):
                    os.replace(temporary, path)
                    done.append(path)
            except BaseException:
                for path in done:  # roll back
                    if path in backups:
                        os.replace(backups.pop(path), path)
                    elif path not in existed:
                        path.unlink(missing_ok=True)
                raise
    finally:
        for leftover in [*temporaries, *backups.values()]:
            leftover.unlink(missing_ok=True)
    return paths


def write_atomically(path, data):
    """Write the bytes ``data`` to ``path``: complete, or not at all.

    The folder is created if needed. (Not tempfile.mkstemp: its files are
    private, mode 0600.)
    """
    return write_files([(path, data)])[0]


def save_png(image, path):
    """Write an image array to a PNG file at full resolution, atomically.

    ``path`` must end with ``.png`` and be a regular file or a new path
    (never a folder, device, FIFO or symbolic link).

    Returns
    -------
    pathlib.Path
    """
    path = check_target(path, what="PNG file", suffixes=(".png",))
    return write_atomically(path, png_bytes(image))


def write_positions(path, names, positions):
    """Write file,row,col for every placed cover, atomically (see `positions_csv`)."""
    path = check_target(path, what="positions file")
    write_atomically(path, positions_csv(names, positions))
