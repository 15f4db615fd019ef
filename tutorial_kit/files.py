"""Safe file writing: complete files or none, never half a file, never the wrong file.

Every output goes to a short hidden temporary name in its own folder and is
then renamed over the target in one step (``os.replace``), like git's lock
files or the ``atomicwrites`` package. Before any work, `check_target`
refuses targets that a careless path could destroy: folders, FIFOs, devices,
symbolic links, input covers. `write_files` writes the grid PNG and the
positions CSV as a pair: both or neither, whatever fails and whatever signal
comes (its docstring says how).
"""

from __future__ import annotations

import collections
import contextlib
import csv
import io
import os
import secrets
import stat
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

import numpy as np

from tutorial_kit import checks, interrupts
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
            why = ("an output never goes into the folder of its inputs" if path.name.startswith(".")
                   else "the next run would take it for a cover")
            raise OutputError(f"{what} '{shown}' is inside the covers folder ({why}): "
                              "write it elsewhere")
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
_PNG_BAND_BYTES = 1 << 22  # `png_bytes` filters and deflates about 4 MB of rows at a time
# A text chunk right after the header says who wrote the file: `save_png` replaces
# only PNG files that carry it (so never a cover, nor any picture it did not make).
_PNG_MARK = b"Software\x00tutorial_kit (Arranging movie covers with a Self-Organizing Map)"
_PNG_MARK_START = 8 + 25  # after the signature and the IHDR chunk


def _png_chunk(kind, data):
    """One PNG chunk: length, kind, data and the CRC-32 of kind and data."""
    return b"".join([struct.pack(">I", len(data)), kind, data,
                     struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)))])


def _deflate(filtered):
    """Raw deflate of one band at level 1, run-length matches only (the fastest of zlib's
    settings on covers, and the smallest, measured on a 1,000-cover grid), ended by a sync
    flush: on a byte boundary, so the bands' outputs join into one stream."""
    compressor = zlib.compressobj(1, zlib.DEFLATED, -15, 8, zlib.Z_RLE)
    return compressor.compress(filtered) + compressor.flush(zlib.Z_SYNC_FLUSH)


def png_chunks(bands, shape, threads=2):
    """A PNG file, piece by piece, from an image given as bands of rows.

    Each row is stored as its difference to the row above (PNG's "Up"
    filter); the bands are deflated as they come, ``threads`` at a time, into
    one zlib stream (as pigz does: each band ends on a byte boundary, and the
    stream's Adler-32 is summed over the bands in order). Only a few bands are
    ever held: the command line streams a grid of 10,000 covers (1.5 GB of
    pixels) a row of cells at a time, pasting the next row while the last
    ones deflate (zlib lets other threads run). On one thread, deflating
    10,000 covers takes about 18 s of the run: the second thread halves it.

    Parameters
    ----------
    bands : iterable of numpy.ndarray, uint8
        Consecutive rows of the image, each of shape (n_rows, width[, channels]).
    shape : tuple
        ``(height, width)`` or ``(height, width, channels)`` of the whole
        image, channels 1, 3 or 4.
    threads : int
        How many bands deflate at once.

    Yields
    ------
    bytes
        The signature and header, then an IDAT chunk per band, then the end;
        joined, they are the file (the same bytes for any number of threads).

    Raises
    ------
    ValueError
        A shape PNG cannot hold, or bands that do not add up to it.
    """
    height, width = shape[:2]
    channels = 1 if len(shape) == 2 else shape[2]
    if len(shape) not in (2, 3) or channels not in _PNG_COLOUR_TYPES or 0 in shape:
        raise ValueError(f"cannot write an image of shape {tuple(shape)} as PNG")
    row_bytes = width * channels
    header = struct.pack(">IIBBBBB", width, height, 8, _PNG_COLOUR_TYPES[channels], 0, 0, 0)
    # zlib's header (deflate, fastest level) opens the one stream
    yield (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"tEXt", _PNG_MARK)
           + _png_chunk(b"IDAT", b"\x78\x01"))
    above = np.zeros(row_bytes, dtype=np.uint8)  # the row above the first: zeros
    done, checksum, pending = 0, 1, collections.deque()  # (1: the Adler-32 of nothing)
    with ThreadPoolExecutor(max(1, threads)) as pool:
        for band in bands:
            band = np.ascontiguousarray(band, dtype=np.uint8)
            if band.shape[1:] != tuple(shape[1:]) or done + len(band) > height:
                raise ValueError(f"a band of shape {band.shape} does not fit an image of shape "
                                 f"{tuple(shape)} after {done} rows")
            rows = band.reshape(len(band), row_bytes)
            filtered = np.empty((len(rows), row_bytes + 1), dtype=np.uint8)
            filtered[:, 0] = 2  # filter type "Up": the byte minus the one above it (mod 256)
            np.subtract(rows[:1], above, out=filtered[:1, 1:])
            np.subtract(rows[1:], rows[:-1], out=filtered[1:, 1:])
            if len(rows):
                above = rows[-1].copy()
            done += len(rows)
            checksum = zlib.adler32(filtered, checksum)
            pending.append(pool.submit(_deflate, filtered))
            while len(pending) > max(1, threads):  # bands in order, a few held at most
                yield _png_chunk(b"IDAT", pending.popleft().result())
        while pending:
            yield _png_chunk(b"IDAT", pending.popleft().result())
    if done != height:
        raise ValueError(f"the bands hold {done} rows of an image of {height}")
    # an empty last block ends the deflate stream; then the Adler-32 of all filtered rows
    yield _png_chunk(b"IDAT", b"\x03\x00" + struct.pack(">I", checksum)) + _png_chunk(b"IEND", b"")


def _image_chunks(image):
    """`png_chunks` of a whole image array, about ``_PNG_BAND_BYTES`` of rows at a time."""
    image = np.asarray(image, dtype=np.uint8)
    if image.ndim not in (2, 3) or 0 in image.shape:
        raise ValueError(f"cannot write an image of shape {image.shape} as PNG")
    step = max(1, _PNG_BAND_BYTES // image[0].size)
    return png_chunks((image[start:start + step] for start in range(0, len(image), step)),
                      image.shape)


def png_bytes(image):
    """An image array (height, width[, 1, 3 or 4]) of uint8 as PNG bytes (see `png_chunks`)."""
    return b"".join(_image_chunks(image))


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


class Target(NamedTuple):
    """An output path and what it must still be when written (see `pin_target`)."""
    path: Path
    what: str  # how messages name it: "--out", "PNG file" ...
    folder: tuple | None  # (st_dev, st_ino) of its folder when checked; None: not there yet
    inputs: frozenset  # (st_dev, st_ino) of the covers folder and of every cover


def _identity(status):
    return status.st_dev, status.st_ino


def pin_target(path, *, what="output", covers_dir=None):
    """Remember, when ``path`` is checked, what its folder is and what the inputs are.

    `write_files` compares the folder it opens with this identity (device
    and inode), so a folder swapped during the run, for a link to the covers
    say, is refused instead of written into.
    """
    path = Path(path)
    folder = None
    with contextlib.suppress(OSError):
        folder = _identity(os.stat(path.parent))
    inputs = set()
    if covers_dir is not None:
        with contextlib.suppress(OSError):
            inputs.add(_identity(os.stat(covers_dir)))
            with os.scandir(covers_dir) as entries:
                for entry in entries:
                    with contextlib.suppress(OSError):
                        inputs.add(_identity(entry.stat()))
    return Target(path, what, folder, frozenset(inputs))


class WriteError(OSError):
    """Writing an output failed; the one-line message names the output, never a temporary."""

    def __init__(self, errno, message):
        super().__init__(errno, message)
        self.message = message

    def __str__(self):
        return self.message


_CHUNK = 1 << 24  # bytes written between two looks for a stop signal
_DIRECTORY_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
_NEW_FILE_FLAGS = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
                   | getattr(os, "O_CLOEXEC", 0))


class _Slot:
    """One output during `write_files`: its folder (open), its temporary and its backup."""

    def __init__(self, target, data):
        self.target, self.data, self.name = target, data, target.path.name
        self.shown = printable(target.path)
        self.folder = None  # file descriptor of the folder, opened once
        self.temporary = self.backup = None  # names in that folder
        self.existed = self.moved = self.replaced = False

    def open_folder(self):
        """Open the folder (made if missing) and check it is still the one that was checked."""
        target = self.target
        target.path.parent.mkdir(parents=True, exist_ok=True)
        self.folder = os.open(target.path.parent, _DIRECTORY_FLAGS)
        here = _identity(os.fstat(self.folder))
        if here in target.inputs:
            raise OutputError(f"{target.what} '{self.shown}': its folder is now the covers "
                              "folder (it was replaced during the run): nothing was written")
        if target.folder is not None and here != target.folder:
            raise OutputError(f"{target.what} '{self.shown}': its folder was replaced during the "
                              "run (moved, or swapped for a link): nothing was written")
        try:
            status = os.stat(self.name, dir_fd=self.folder, follow_symlinks=False)
        except FileNotFoundError:
            return
        if not stat.S_ISREG(status.st_mode):
            raise OutputError(f"{target.what} '{self.shown}' became {_kind(status.st_mode)} "
                              "during the run: nothing was written")
        if _identity(status) in target.inputs:
            raise OutputError(f"{target.what} '{self.shown}' became an input cover during the "
                              "run: nothing was written")
        self.existed = True

    def write_temporary(self):
        """Write the data in full under a temporary name and make them reach the disk."""
        self.temporary = _temporary_name(self.target.path).name
        handle = os.open(self.temporary, _NEW_FILE_FLAGS, 0o666, dir_fd=self.folder)
        try:
            pieces = [self.data] if isinstance(self.data, (bytes, bytearray, memoryview)) \
                else self.data  # an iterable of bytes, made as they are written
            for piece in pieces:
                view = memoryview(piece)
                while view:
                    interrupts.check()
                    view = view[os.write(handle, view[:_CHUNK]):]
            interrupts.check()
            os.fsync(handle)  # the bytes reach the disk before any rename
        finally:
            os.close(handle)

    def keep_old(self):
        """A second name for the old file, so that it can come back (a hard link if possible)."""
        if not self.existed:
            return
        backup = _temporary_name(self.target.path).name
        with contextlib.suppress(OSError):  # no hard links here: `commit` moves it aside
            os.link(self.name, backup, src_dir_fd=self.folder, dst_dir_fd=self.folder,
                    follow_symlinks=False)
            self.backup = backup

    def commit(self):
        """Put the new file in place (the old one moved aside first if it has no link)."""
        if self.existed and self.backup is None:
            backup = _temporary_name(self.target.path).name
            os.replace(self.name, backup, src_dir_fd=self.folder, dst_dir_fd=self.folder)
            self.backup, self.moved = backup, True
        os.replace(self.temporary, self.name, src_dir_fd=self.folder, dst_dir_fd=self.folder)
        self.temporary, self.replaced = None, True

    def roll_back(self):
        """Undo `commit`: the old file back under its name, or a new one removed."""
        if self.replaced or self.moved:
            if self.backup is not None:
                os.replace(self.backup, self.name, src_dir_fd=self.folder, dst_dir_fd=self.folder)
                self.backup = None
            else:
                os.unlink(self.name, dir_fd=self.folder)
        self.replaced = self.moved = False

    def tidy(self):
        """Remove what is left of the temporary and the backup; close the folder."""
        if self.folder is None:
            return
        for name in (self.temporary, self.backup):
            if name is not None:
                with contextlib.suppress(OSError):
                    os.unlink(name, dir_fd=self.folder)
        os.close(self.folder)
        self.folder = None


def _names(slots):
    return " and ".join(slot.shown for slot in slots)


def _failed(step, slots, error):
    """The `WriteError` for ``error`` at the output ``step``: everything was left as before."""
    return WriteError(error.errno, f"could not write {step.shown}: "
                      f"{printable(error.strerror or error)}; {_names(slots)} "
                      f"{'were' if len(slots) > 1 else 'was'} left as before")


def write_files(contents):
    """Write several files as one: all complete, or none changed.

    Parameters
    ----------
    contents : list of (path or Target, bytes or iterable of bytes)
        A `Target` (from `pin_target`) also says what its folder must still
        be and which files are inputs that must never be written. An
        iterable (such as `png_chunks`) is consumed while its file is
        written, so a big file is never held in memory whole.

    Returns
    -------
    list of pathlib.Path

    Raises
    ------
    OutputError
        A folder or target changed into something that must not be written.
    WriteError
        A step failed (open, write, fsync, link, rename); the message names
        the output and says that nothing was changed (or, if even the undo
        failed, exactly what is where).

    Every step runs inside one section that no stop signal (Ctrl-C, SIGTERM,
    SIGHUP, from any thread) cuts; a signal during it stops the work at the
    last safe point before anything is renamed, or comes right after the
    commit (see `interrupts.held`). Each file is written in full under a
    temporary name in its folder, which is opened once (so a folder swapped
    meanwhile cannot redirect the writes) and fsynced; then every old file
    gets a second name, the new ones are renamed into place and the folders
    fsynced. If any of that fails, the renames are undone: the old files
    are back, new ones removed. No temporary is left in either case.
    """
    slots = [_Slot(target if isinstance(target, Target) else pin_target(target), data)
             for target, data in contents]
    with interrupts.held():
        step = None
        try:
            for step in slots:
                step.open_folder()
            for step in slots:
                step.write_temporary()
            interrupts.check()  # the last point where a signal stops the write unchanged
            if len(slots) > 1:
                for step in slots:
                    step.keep_old()
            _commit(slots)
        except OSError as error:
            if isinstance(error, WriteError):
                raise
            raise _failed(step, slots, error) from None
        finally:
            for slot in slots:
                slot.tidy()
    return [slot.target.path for slot in slots]


def _commit(slots):
    """Rename every temporary into place and fsync the folders; undo it all on any failure."""
    step = None
    try:
        for step in slots:
            step.commit()
        for step in slots:
            os.fsync(step.folder)
    except BaseException as error:
        for slot in reversed(slots):
            try:
                slot.roll_back()
            except OSError as undo_error:  # rare: say exactly what is where
                kept, slot.backup = slot.backup, None  # the old file's only name now: keep it
                new = [s for s in slots if s.replaced]
                where = (f"; the old {slot.shown} is kept as "
                         f"{printable(slot.target.path.with_name(kept))}" if kept else "")
                raise WriteError(undo_error.errno, f"could not write {step.shown} "
                                 f"({printable(getattr(error, 'strerror', None) or error)}), "
                                 "and putting the old files back failed too "
                                 f"({printable(undo_error.strerror or undo_error)}): "
                                 f"{_names(new)} {'are' if len(new) > 1 else 'is'} new, the "
                                 f"others as before{where}") from None
        if isinstance(error, OSError):
            raise _failed(step, slots, error) from None
        raise


def save_png(image, path):
    """Write an image array to a PNG file at full resolution, atomically.

    ``path`` must end with ``.png`` and be a regular file or a new path
    (never a folder, device, FIFO or symbolic link).

    Returns
    -------
    pathlib.Path
    """
    image = checks.pixels("image", image, ndim=(2, 3))
    path = check_target(path, what="PNG file", suffixes=(".png",))
    _check_replaceable(path)
    return write_atomically(path, _image_chunks(image))


def _check_replaceable(path):
    """Refuse to replace a file that `png_bytes` did not write (a cover, a photo ...)."""
    try:
        with open(path, "rb") as handle:
            start = handle.read(_PNG_MARK_START + 8 + len(_PNG_MARK))
    except FileNotFoundError:
        return
    if start[_PNG_MARK_START + 4:_PNG_MARK_START + 8] != b"tEXt" or \
            start[_PNG_MARK_START + 8:] != _PNG_MARK:
        raise OutputError(f"PNG file '{printable(path)}' already exists and was not written by "
                          "save_png (it may be a cover or a picture of yours): give a new name, "
                          "or delete it first")


def write_atomically(path, data):
    """Write ``data`` (bytes, or an iterable of bytes) to ``path``: complete, or not at all (see `write_files`).

    The folder is created if needed. (Not tempfile.mkstemp: its files are
    private, mode 0600.)
    """
    return write_files([(path, data)])[0]

