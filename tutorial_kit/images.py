"""Robust image decoding for ``helpers.load_covers``.

Everything that makes loading survive real folders lives here: Pillow's
strict mode, EXIF orientation, odd colour modes, a working size chosen
robustly, reduced-scale decoding of big files, and one-line reasons for
every file that cannot be used.

The rule: any problem with one file skips that file, by name, with a reason.
Only a problem with the folder itself (missing, not a folder, no readable
cover at all) is an error.
"""

from __future__ import annotations

import collections
import contextlib
import math
import os
import re
import stat
import statistics
import threading
import warnings
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import (ExifTags, Image, ImageFile, ImageOps, PngImagePlugin, UnidentifiedImageError,
                 features)

from tutorial_kit import checks

COVER_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp")  # compared in lower case

# Default cap on the working size's long side, in pixels. A cover on the
# grid is a few hundred pixels at most, and the memory of every later step
# grows with the working size: 100 covers of 300x225 are 20 MB of pixels,
# 100 phone photos at full size (4000x3000) would be 3.6 GB.
MAX_SIDE = 300

# Covers decoded at once (Pillow decodes without Python's lock), and the most
# decoded or in hand at any moment: memory stays a few covers, never a folder.
DECODING_THREADS, DECODING_AHEAD = 2, 8

# The memory that decodes in progress may take together, on all decoding threads:
# a picture that needs more than this alone is skipped by name (shrink it first),
# and a big one waits until the other thread is done. 400 MiB plus the rest of a
# run of 100 covers stays under 700 MB (tests/test_memory.py measures it).
DECODE_BUDGET = 400 * 1024**2
# Bytes of memory one decode takes per pixel of the picture as stored (after a
# JPEG's reduced-scale `draft`), by Pillow mode: the decoded picture (Pillow keeps
# RGB in 4 bytes), the conversions before it is shrunk, and a margin of about a
# quarter. Measured with read_cover on 4000x4000 pictures; 16-bit and palette
# pictures are converted at full size, WebP is decoded by libwebp and then copied.
_DECODE_BYTES = {"1": 2, "L": 2, "P": 8, "RGB": 4.5, "RGBX": 4.5, "YCbCr": 4.5, "RGBA": 10,
                 "LA": 10, "La": 10, "PA": 10, "CMYK": 10}
_DECODE_BYTES_OTHER = 14  # 16- and 32-bit modes (I;16, I, F)
_DECODE_BYTES_WEBP = 20
# Over glibc's largest mmap threshold (32 MiB), so freed blocks go back at once.
_PILLOW_BLOCK = 64 * 1024**2

# Longest reason kept for a skipped file (the message stays one short line).
_MAX_REASON = 160


def printable(text):
    """``text`` safe to print on one line of a terminal.

    Newlines, tabs, terminal escape codes and other control or invisible
    format characters become Python-style escapes (``\\n``, ``\\x1b``,
    ``\\u202e``). Bytes of a file name that were not valid UTF-8 (which
    Python keeps as lone surrogates) become ``\\xff``-style escapes, so the
    text can always be encoded. Ordinary names come back unchanged.
    """
    text = str(text)
    if text.isprintable():
        return text
    out = []
    for char in text:
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, kept by surrogateescape
            out.append(f"\\x{code - 0xDC00:02x}")
        elif char.isprintable() and not 0xD800 <= code <= 0xDFFF:
            out.append(char)
        elif code < 0x100:
            out.append(repr(char)[1:-1] if char in "\n\r\t" else f"\\x{code:02x}")
        else:
            out.append(f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    return "".join(out)


@contextlib.contextmanager
def strict_pillow():
    """Make Pillow raise, not guess, on truncated and oversized images.

    One exception, made on purpose: a PNG text chunk (a comment, a title)
    may unzip to 64 MB instead of Pillow's 1 MB, its limit for all text
    chunks together, so a cover with a long comment still loads. Memory
    stays bounded by that 64 MB.

    Pillow also allocates pictures in blocks of ``_PILLOW_BLOCK`` bytes
    meanwhile: glibc hands blocks that big back to the system when they are
    freed, where it kept Pillow's usual 16 MiB blocks in each decoding
    thread's heap (a folder of big pictures then took 894 MB instead of 365 MB).

    These are settings of the whole process (Pillow's module globals, the
    warnings filter), changed only while one folder is read and put back
    after. Why that is safe: every change is on the strict side. Another
    thread that decodes a picture meanwhile gets an error instead of a
    guess for a truncated file or a decompression bomb, a text-chunk limit
    that is still bounded (64 MB), and blocks that go back to the system
    sooner; nothing it decodes can come out different.
    """
    load_truncated = ImageFile.LOAD_TRUNCATED_IMAGES
    text_chunk = PngImagePlugin.MAX_TEXT_CHUNK
    block_size = Image.core.get_block_size()
    ImageFile.LOAD_TRUNCATED_IMAGES = False  # Pillow's default, in case it was changed
    PngImagePlugin.MAX_TEXT_CHUNK = max(text_chunk, PngImagePlugin.MAX_TEXT_MEMORY)
    Image.core.set_block_size(max(block_size, _PILLOW_BLOCK))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = load_truncated
        PngImagePlugin.MAX_TEXT_CHUNK = text_chunk
        Image.core.set_block_size(block_size)


def check_size(size):
    """Return ``size`` as a ``(width, height)`` pair of positive ints, or raise ValueError."""
    message = f"size must be (width, height), two positive integers; got {size!r}"
    try:
        width, height = size
    except (TypeError, ValueError):
        raise ValueError(message) from None
    for value in (width, height):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
            raise ValueError(message)
    return int(width), int(height)


def check_max_side(max_side):
    """Return ``max_side`` as a positive int, or raise ValueError."""
    if (isinstance(max_side, bool) or not isinstance(max_side, (int, np.integer))
            or max_side < 1):
        raise ValueError(f"max_side must be a positive whole number of pixels; got {max_side!r}")
    return int(max_side)


def _cover_formats():
    """Pillow format names that `load_covers` accepts (never EPS, PDF, ...)."""
    return ["JPEG", "PNG", "WEBP"] if features.check("webp") else ["JPEG", "PNG"]


class CoverError(Exception):
    """One file cannot be used as a cover; the message is the one-line reason."""


def reason_not_a_cover(path):
    """Why ``path`` cannot be a cover without even opening it, or None."""
    extension = path.suffix.lower()
    if extension not in COVER_EXTENSIONS:
        found = f"extension {printable(path.suffix)}" if path.suffix else "no extension"
        return f"not a JPEG, PNG or WebP file ({found})"
    if extension == ".webp" and not features.check("webp"):
        return "WebP is not supported by this installation of Pillow"
    try:
        status = path.stat()
    except OSError:  # gone since the folder was listed, or a broken link or a link loop
        return "not a regular file" if os.path.lexists(path) else \
            "deleted while the folder was being read"
    if not stat.S_ISREG(status.st_mode):  # FIFO, device ...
        return "not a regular file"
    if status.st_size == 0:
        return "empty file (0 bytes)"
    return None


def _orientation(image):
    """The EXIF orientation (1..8) of an open image, or raise CoverError."""
    if image.format == "PNG" and "exif" not in image.info:
        return 1  # PNG's getexif() would decode the whole image
    try:
        orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
    except Exception as error:
        raise CoverError(f"malformed EXIF data: {one_line(error)}") from None
    return orientation if orientation in range(1, 9) else 1  # 1: as stored


def decode_bytes(image, stored_size):
    """The memory decoding an opened (not yet loaded) image takes, in bytes (see _DECODE_BYTES).

    ``image.size`` is the size it will be decoded at (after a JPEG's ``draft``),
    ``stored_size`` its size in the file. A progressive JPEG also keeps the
    coefficients of the whole picture, at full size, whatever the scale: 2
    bytes per sample of each colour component (measured: 260 MB for a
    9400x9400 one, even at 1/8 scale).
    """
    width, height = image.size
    per_pixel = (_DECODE_BYTES_WEBP if image.format == "WEBP" else
                 _DECODE_BYTES.get(image.mode, _DECODE_BYTES_OTHER))
    cost = int(width * height * per_pixel)
    if image.format == "JPEG" and image.info.get("progressive"):
        most_h = max(h for _, h, _, _ in image.layer)
        most_v = max(v for _, _, v, _ in image.layer)
        full_w, full_h = stored_size
        cost += sum(2 * math.ceil(full_w * h / most_h) * math.ceil(full_h * v / most_v)
                    for _, h, v, _ in image.layer)
    return cost


def _over_budget(image, needed):
    """The reason for skipping an image whose decode would pass DECODE_BUDGET."""
    width, height = image.size
    return (f"too large to decode: {width:,}x{height:,} px of {image.format} would take about "
            f"{format_bytes(needed)} of memory, over the budget of "
            f"{format_bytes(DECODE_BUDGET)} for decoding; shrink it first")


def format_bytes(n_bytes):
    """``n_bytes`` for a message: ``1.6 GiB`` or ``400 MiB``."""
    return f"{n_bytes / 1024**3:.1f} GiB" if n_bytes >= 1024**3 else f"{n_bytes / 1024**2:.0f} MiB"


class Header(NamedTuple):
    """What `read_header` learns without decoding any pixel."""
    upright: tuple  # (width, height) once turned upright
    decode_bytes: int  # the least memory its decode takes (a JPEG at 1/8 scale)


def read_header(path):
    """Read only the header of an image: its upright size and what decoding it would cost.

    Raises
    ------
    CoverError
        If the header says 0 pixels, or decoding would pass DECODE_BUDGET
        even at the smallest scale the format allows.
    """
    with Image.open(path, formats=_cover_formats()) as image:
        width, height = image.size
        orientation = _orientation(image)
        if width < 1 or height < 1:
            raise CoverError(f"not a readable image: its header says {width}x{height} pixels")
        image.draft(None, (1, 1))  # a JPEG's smallest scale; only the header is changed
        cost = decode_bytes(image, (width, height))
        if cost > DECODE_BUDGET:
            raise CoverError(_over_budget(image, cost))
    upright = (height, width) if orientation in (5, 6, 7, 8) else (width, height)
    return Header(upright, cost)


class _Budget:
    """Memory that decodes in progress take together, at most ``total`` bytes.

    A decode waits until its share fits, unless nothing else is decoding: one
    picture of up to ``total`` always gets through, so every decode ends.
    """

    def __init__(self, total):
        self.total, self.used = total, 0
        self._changed = threading.Condition()

    @contextlib.contextmanager
    def taken(self, amount):
        amount = min(amount, self.total)
        with self._changed:
            self._changed.wait_for(lambda: self.used == 0 or self.used + amount <= self.total)
            self.used += amount
        try:
            yield
        finally:
            with self._changed:
                self.used -= amount
                self._changed.notify_all()


_decoding = _Budget(DECODE_BUDGET)  # one for the process: every folder, every thread


# Modes that Image.reduce accepts (P, 1 and 16-bit modes are converted later).
_REDUCIBLE = {"L", "LA", "La", "RGB", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr", "I", "F", "PA"}


def read_cover(path, size):
    """Decode one cover into a (height, width, 3) uint8 array of the given size.

    Peak memory is one decoded file: a big JPEG is decoded at 1/2, 1/4 or
    1/8 scale (Pillow's ``draft``), and any big picture is shrunk by a whole
    factor before the colour conversions copy it. All decodes together stay
    within DECODE_BUDGET; a file that alone would pass it raises CoverError.
    """
    width, height = size
    # The budget is given back only once the file is closed and every full-size
    # copy is freed (the `with` holds the picture it opened until it ends).
    with contextlib.ExitStack() as budget:
        with Image.open(path, formats=_cover_formats()) as image:
            # The smallest stored size that still fills `size` once turned upright.
            orientation = _orientation(image)
            stored_w, stored_h = image.size
            upright_w, upright_h = ((stored_h, stored_w) if orientation in (5, 6, 7, 8)
                                    else image.size)
            scale = max(width / upright_w, height / upright_h)
            needed = (math.ceil(stored_w * scale), math.ceil(stored_h * scale))
            # A JPEG is decoded at 1/2, 1/4 or 1/8 scale if that still gives `needed`.
            image.draft(None, needed)
            cost = decode_bytes(image, (stored_w, stored_h))
            if cost > DECODE_BUDGET:
                raise CoverError(_over_budget(image, cost))
            budget.enter_context(_decoding.taken(cost))  # waits while the budget is used up
            image.load()  # decodes the pixels; raises OSError if the file is truncated
            # Any other big picture is shrunk by a whole factor, to twice `needed`.
            factor = min(image.size[0] // needed[0], image.size[1] // needed[1]) // 2
            if factor >= 2 and image.mode in _REDUCIBLE:
                image = image.reduce(factor)
            if orientation != 1:  # (1: stored upright; each step below is skipped when it
                try:              # would only copy the picture: 0.3 of 0.7 ms a cover)
                    image = ImageOps.exif_transpose(image)
                except Exception as error:
                    raise CoverError(f"malformed EXIF data: {one_line(error)}") from None
            image = _to_rgb(image)
        # Scale so the cover fills `size`, then cut off what sticks out, centred
        # (still in the budget: a palette or 16-bit picture is converted at full size).
        if image.size != (width, height):
            image = ImageOps.fit(image, (width, height), method=Image.Resampling.LANCZOS)
    return np.asarray(image)


def _to_rgb(image):
    """Convert any Pillow image to 8-bit RGB; transparent parts become white."""
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        # 16-bit greyscale: convert() would clip at 255, so rescale 0..65535 to 0..255.
        grey = np.clip(np.asarray(image), 0, 65535) // 257
        image = Image.fromarray(grey.astype(np.uint8))
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        white = Image.new("RGBA", image.size, "white")
        image = Image.alpha_composite(white, image.convert("RGBA"))
    return image if image.mode == "RGB" else image.convert("RGB")


def one_line(error, name_file=False, first_line=False):
    """An exception or a warning as one short line of printable text: the one formatter.

    The command line, the explorer and the skip reasons all say errors
    through it, so a message never spans lines, never carries a terminal
    code, and is never empty.

    Parameters
    ----------
    error : BaseException or Warning
    name_file : bool
        An ``OSError`` that names a file reads ``file: reason`` (the command
        line's outputs); otherwise its own text.
    first_line : bool
        Keep only the first line of a long message (MiniSom's warnings).

    Returns
    -------
    str
        The message with its white space folded and control characters
        escaped (:func:`printable`); the exception's type name if it has no message.

    Examples
    --------
    >>> one_line(ValueError()), one_line(ValueError("two\\nlines")), one_line(ValueError("a\\x1bb"))
    ('ValueError', 'two lines', 'a\\\\x1bb')
    >>> one_line(FileNotFoundError(2, "No such file", "g.png"), name_file=True)
    'g.png: No such file'
    """
    if name_file and isinstance(error, OSError) and error.strerror and error.filename is not None:
        return f"{printable(error.filename)}: {printable(error.strerror)}"
    text = str(error).strip()
    if first_line and text:
        text = text.splitlines()[0]
    return printable(" ".join(text.split())) or type(error).__name__


def describe_error(error):
    """One short line saying why a file could not be read."""
    reason = _describe(error)
    if len(reason) > _MAX_REASON:
        reason = reason[: _MAX_REASON - 3] + "..."
    return reason


def _describe(error):
    message = one_line(error)
    if isinstance(error, CoverError):
        return message
    if isinstance(error, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
        pixels = re.search(r"\((\d+) pixels\)", message)  # Pillow: "Image size (N pixels) ..."
        count = f"{pixels.group(1)} pixels" if pixels else "too many pixels"
        return f"too large: {count}, over Pillow's decompression-bomb limit"
    if isinstance(error, MemoryError):
        return "not enough memory to decode it"
    if isinstance(error, UnidentifiedImageError):
        return "not a readable image: no JPEG, PNG or WebP data found"
    if "truncated" in message.lower():
        return f"truncated image: {message}"
    if isinstance(error, OSError) and error.strerror:  # e.g. permission denied
        return f"cannot read file: {printable(error.strerror)}"
    if isinstance(error, (OSError, ValueError, SyntaxError, EOFError)):
        return f"not a readable image: {message}"
    # Anything else is a damaged file that tripped Pillow up in an unplanned way.
    return f"not a readable image: {type(error).__name__}: {message}"


def no_cover_message(folder, skipped):
    """The one-line error message for a folder without any readable cover."""
    folder = printable(folder)
    if not skipped:
        return (
            f"no readable cover in '{folder}': no files "
            "(hidden files and subfolders are ignored)"
        )
    shown = "; ".join(f"{name}: {reason}" for name, reason in skipped[:3])
    if len(skipped) > 3:
        shown += f"; and {len(skipped) - 3} more"
    return f"no readable cover in '{folder}': {len(skipped)} files skipped ({shown})"


def working_size(sizes, max_side=MAX_SIDE):
    """The common size (width, height) for covers of the given upright sizes.

    The size most covers share, if more than half of them share one;
    otherwise the median aspect ratio at the median area. Either way the
    long side is then capped at ``max_side`` (keeping the aspect ratio), so
    one huge file or one icon never decides the size of all the others.
    """
    sizes = list(sizes)
    size, count = Counter(sizes).most_common(1)[0]
    width, height = size
    if 2 * count <= len(sizes):  # no majority: the typical shape and size
        aspect = statistics.median(h / w for w, h in sizes)
        area = statistics.median(w * h for w, h in sizes)
        width = math.sqrt(area / aspect)
        height = width * aspect
    scale = min(1.0, max_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


class Scan(NamedTuple):
    """What the header pass found (see `scan_folder`)."""
    covers: list  # (path, upright (width, height)) of every file that looks usable
    skipped: list  # (printable name, reason)
    size: tuple  # (width, height) the covers will be brought to
    capped: bool  # the long side was capped at max_side
    decoding: int = 0  # bytes: the most the decodes take at once (see DECODE_BUDGET)


def scan_folder(folder, size=None, max_side=MAX_SIDE):
    """Read only the file headers of ``folder``: which files, which working size.

    Cheap (no pixels are decoded), so the command line can check its limits
    before any real work.

    Raises
    ------
    ValueError
        If ``folder`` is missing, not a folder, unreadable or holds no file
        that looks like a readable cover.
    """
    folder = Path(checks.instance("folder", folder, (str, os.PathLike), "the path of a folder"))
    if not folder.exists():
        raise ValueError(f"cover folder '{printable(folder)}' does not exist")
    if not folder.is_dir():
        raise ValueError(f"'{printable(folder)}' is not a folder")
    if size is not None:
        size = check_size(size)
    max_side = check_max_side(max_side)
    try:
        paths = sorted(folder.iterdir())
    except OSError as error:
        raise ValueError(f"cannot read folder '{printable(folder)}': "
                         f"{printable(error.strerror or error)}") from None

    skipped, covers, costs = [], [], []
    with strict_pillow():
        for path in paths:
            try:
                if path.name.startswith(".") or path.is_dir():
                    continue
                reason = reason_not_a_cover(path)
                if reason is None:
                    header = read_header(path)
                    covers.append((path, header.upright))
                    costs.append(header.decode_bytes)
            except Exception as error:  # any failure skips this file only
                reason = describe_error(error)
            if reason is not None:
                skipped.append((printable(path.name), reason))
    if not covers:
        raise ValueError(no_cover_message(folder, sorted(skipped)))
    capped = False
    if size is None:
        typical = working_size([upright for _, upright in covers], max_side=10**9)
        size = working_size([upright for _, upright in covers], max_side)
        capped = size != typical
    decoding = min(DECODE_BUDGET, sum(sorted(costs)[-DECODING_THREADS:]))
    return Scan(covers, skipped, size, capped, decoding)


def read_folder(folder, size=None, max_side=MAX_SIDE, scan=None, progress=None):
    """Decode every cover of ``folder``; see ``helpers.load_covers``.

    ``scan``, the result of ``scan_folder(folder, size, max_side)`` if the
    caller already has it (the command line checks its limits on it first),
    saves reading every header twice. ``progress(done, total)``, if given, is
    called after every 50th file and after the last.

    Returns
    -------
    images : ndarray (N, height, width, 3) uint8
    names : list of str
        The real file names (they may hold any character).
    skipped : list of (str, str)
        (name, reason); names are `printable`, so safe to show.
    resized : str
        One line saying how many covers were resized and to what, or "".
    """
    if scan is None:
        scan = scan_folder(folder, size, max_side)
    skipped = list(scan.skipped)
    width, height = scan.size
    # Pass 2: decode straight into a preallocated array.
    images = np.empty((len(scan.covers), height, width, 3), dtype=np.uint8)
    names, was_resized = [], []

    def finish(path, upright, decoding):
        """Store one decoded cover, or name it as skipped."""
        try:
            images[len(names)] = decoding.result()
        except Exception as error:  # e.g. a truncated file, malformed EXIF
            skipped.append((printable(path.name), describe_error(error)))
        else:
            names.append(path.name)
            was_resized.append(upright != scan.size)
        done = len(names) + len(skipped) - len(scan.skipped)
        if progress is not None and (done % 50 == 0 or done == len(scan.covers)):
            progress(done, len(scan.covers))

    # Pillow lets go of Python's lock while it reads and decodes, so two threads
    # decode two files at once; at most DECODING_AHEAD are in hand, in order.
    with strict_pillow(), ThreadPoolExecutor(DECODING_THREADS) as pool:
        waiting = collections.deque()
        for path, upright in scan.covers:
            waiting.append((path, upright, pool.submit(read_cover, path, scan.size)))
            if len(waiting) >= DECODING_AHEAD:
                finish(*waiting.popleft())
        while waiting:
            finish(*waiting.popleft())
    changed = sum(was_resized)

    skipped.sort()
    if not names:
        raise ValueError(no_cover_message(folder, skipped))
    resized = ""
    if changed and size is None:
        why = (f"the folder's typical size, long side capped at {max_side} px" if scan.capped
               else "the folder's typical size")
        resized = (f"{changed} of {len(names)} covers were resized to {width}x{height} px "
                   f"({why})")
    elif changed:
        resized = f"{changed} of {len(names)} covers were resized to {width}x{height} px"
    return images[: len(names)], names, skipped, resized
