"""Safe file writing: complete files or none, never half a file."""

from __future__ import annotations

import csv
import io
import os
import secrets
from pathlib import Path

import numpy as np
from PIL import Image


def write_atomically(path, data):
    """Write the bytes ``data`` to ``path``: complete, or not at all.

    The bytes go to a hidden temporary file in the same folder (load_covers
    ignores it), and os.replace then swaps the whole file in at once, so an
    interruption never leaves half a file behind. The folder is created if
    needed. (Not tempfile.mkstemp: its files are private, mode 0600.)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
    try:
        with open(temporary, "xb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path



def save_png(image, path):
    """Write an image array to a PNG file at full resolution, atomically.

    Returns
    -------
    pathlib.Path
    """
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(image, dtype=np.uint8)).save(buffer, format="PNG", compress_level=1)
    return write_atomically(path, buffer.getvalue())


def write_positions(path, names, positions):
    """Write file,row,col for every placed cover, atomically."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["file", "row", "col"])
    writer.writerows([name, r, c] for name, (r, c) in zip(names, positions) if r >= 0)
    write_atomically(path, text.getvalue().encode("utf-8"))
