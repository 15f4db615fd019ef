"""Robust image decoding for ``helpers.load_covers``.

Everything that makes loading survive real folders lives here: Pillow's
strict mode, EXIF orientation, odd colour modes, and one-line reasons for
every file that cannot be used.
"""

from __future__ import annotations

import contextlib
import re
import warnings

import numpy as np
from PIL import ExifTags, Image, ImageFile, ImageOps, UnidentifiedImageError, features

COVER_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp")  # compared in lower case

# What Pillow raises for a damaged, truncated or oversized file.
READ_ERRORS = (
    OSError,  # includes UnidentifiedImageError and "image file is truncated"
    ValueError,
    SyntaxError,  # some plugins raise it for damaged data
    EOFError,
    Image.DecompressionBombError,
    Image.DecompressionBombWarning,  # turned into an error by strict_pillow
)


@contextlib.contextmanager
def strict_pillow():
    """Make Pillow raise, not guess, on truncated and oversized images."""
    load_truncated = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False  # Pillow's default, in case it was changed
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = load_truncated


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


def _cover_formats():
    """Pillow format names that `load_covers` accepts (never EPS, PDF, ...)."""
    return ["JPEG", "PNG", "WEBP"] if features.check("webp") else ["JPEG", "PNG"]


def reason_not_a_cover(path):
    """Why ``path`` cannot be a cover without even opening it, or None."""
    extension = path.suffix.lower()
    if extension not in COVER_EXTENSIONS:
        found = f"extension {path.suffix}" if path.suffix else "no extension"
        return f"not a JPEG, PNG or WebP file ({found})"
    if extension == ".webp" and not features.check("webp"):
        return "WebP is not supported by this installation of Pillow"
    if not path.is_file():
        return "not a regular file"
    if path.stat().st_size == 0:
        return "empty file (0 bytes)"
    return None


def upright_size(path):
    """(width, height) of an image once turned upright, reading only its header."""
    with Image.open(path, formats=_cover_formats()) as image:
        width, height = image.size
        if image.format == "PNG" and "exif" not in image.info:
            orientation = 1  # PNG's getexif() would decode the whole image
        else:
            orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
    if orientation in (5, 6, 7, 8):  # rotated by 90 or 270 degrees
        return height, width
    return width, height


def read_cover(path, size):
    """Decode one cover into a (height, width, 3) uint8 array of the given size."""
    with Image.open(path, formats=_cover_formats()) as image:
        # For a big JPEG, decode at 1/2, 1/4 or 1/8 scale if that is still
        # at least `size`, whichever way the EXIF orientation turns it.
        side = max(size)
        image.draft(None, (side, side))
        image.load()  # decodes the pixels; raises OSError if the file is truncated
        image = ImageOps.exif_transpose(image)
        image = _to_rgb(image)
    # Scale so the cover fills `size`, then cut off what sticks out, centred.
    image = ImageOps.fit(image, size, method=Image.Resampling.LANCZOS)
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
    return image.convert("RGB")


def describe_error(error):
    """One short line saying why Pillow could not read a file."""
    message = " ".join(str(error).split())  # always a single line
    if isinstance(error, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
        pixels = re.search(r"\((\d+) pixels\)", message)  # Pillow: "Image size (N pixels) ..."
        count = f"{pixels.group(1)} pixels" if pixels else "too many pixels"
        return f"too large: {count}, over Pillow's decompression-bomb limit"
    if isinstance(error, UnidentifiedImageError):
        return "not a readable image: no JPEG, PNG or WebP data found"
    if "truncated" in message.lower():
        return f"truncated image: {message}"
    if isinstance(error, OSError) and error.strerror:  # e.g. permission denied
        return f"cannot read file: {error.strerror}"
    return f"not a readable image: {message}"


def no_cover_message(folder, skipped):
    """The one-line error message for a folder without any readable cover."""
    if not skipped:
        return (
            f"no readable cover in '{folder}': no files "
            "(hidden files and subfolders are ignored)"
        )
    shown = "; ".join(f"{name}: {reason}" for name, reason in skipped[:3])
    if len(skipped) > 3:
        shown += f"; and {len(skipped) - 3} more"
    return f"no readable cover in '{folder}': {len(skipped)} files skipped ({shown})"



def read_folder(folder, size=None):
    """Decode every cover of ``folder``; see ``helpers.load_covers``.

    Returns
    -------
    images : ndarray (N, height, width, 3) uint8
    names : list of str
    skipped : list of (str, str)
    """
    from collections import Counter
    from pathlib import Path

    folder = Path(folder)
    if not folder.exists():
        raise ValueError(f"cover folder '{folder}' does not exist")
    if not folder.is_dir():
        raise ValueError(f"'{folder}' is not a folder")
    if size is not None:
        size = check_size(size)

    skipped = []
    with strict_pillow():
        # Pass 1: read only the file headers, to learn each cover's size.
        covers = []  # (path, upright size)
        for path in sorted(folder.iterdir()):
            if path.name.startswith(".") or path.is_dir():
                continue
            try:
                reason = reason_not_a_cover(path)
                if reason is None:
                    covers.append((path, upright_size(path)))
            except READ_ERRORS as error:
                reason = describe_error(error)
            if reason is not None:
                skipped.append((path.name, reason))
        if not covers:
            raise ValueError(no_cover_message(folder, skipped))

        if size is None:
            # most_common keeps first-seen order on ties: the first file wins.
            size = Counter(upright for _, upright in covers).most_common(1)[0][0]
        width, height = size

        # Pass 2: decode one file at a time straight into a preallocated array.
        images = np.empty((len(covers), height, width, 3), dtype=np.uint8)
        names = []
        for path, _ in covers:
            try:
                images[len(names)] = read_cover(path, size)
            except READ_ERRORS as error:  # e.g. a truncated file
                skipped.append((path.name, describe_error(error)))
                continue
            names.append(path.name)

    skipped.sort()
    if not names:
        raise ValueError(no_cover_message(folder, skipped))
    return images[: len(names)], names, skipped
