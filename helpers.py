"""Helpers for the tutorial "Arranging movie covers with a Self-Organizing Map".

The notebooks in ``notebooks/`` read as prose plus one-line calls into this
module. It follows the pipeline of the 2019 post "Organizing movie covers with
Neural Networks" (the Glowing Python blog, by MiniSom's author) and then makes
it faster and measurably better:

1. Loading covers      ``load_covers``, ``download_original_covers``
2. Features            ``make_features`` (StandardScaler + exact PCA speed-up)
3. Training            ``train_som`` (wraps MiniSom), ``PRESETS``
4. Placement           ``place_covers`` (greedy as in the post, or assignment)
5. Quality             ``dpq``, ``quality_report``
6. Rendering           ``make_mosaic``, ``show_mosaic``, ``save_png``
7. Pipeline            ``arrange_covers`` (folder in, arrangement out)
8. Explorer            ``build_explorer`` (ipywidgets sliders over the pipeline)
9. Command line        ``python helpers.py COVERS_DIR [options]``

Functions that compute return data; functions that draw take data.
Inputs are validated once, at the boundary, with messages a student can act on.
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import hashlib
import html
import http.client
import io
import os
import re
import secrets
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
from collections import Counter
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import ExifTags, Image, ImageFile, ImageOps, UnidentifiedImageError, features

REPO_DIR = Path(__file__).resolve().parent
DATA_DIR = REPO_DIR / "data"
BUNDLED_COVERS = DATA_DIR / "covers"


# ---------------------------------------------------------------------------
# 1. Loading covers
# ---------------------------------------------------------------------------

# A cover folder holds JPEG, PNG or WebP files. `load_covers` turns it into one
# uint8 array of shape (N, height, width, 3) and reports, by name, every file it
# could not use. `download_original_covers` fetches the 100 covers of the 2019
# post and checks each one against data/original_covers.sha256.

COVER_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp")  # compared in lower case


class CoverSet(NamedTuple):
    """The covers of one folder, as returned by `load_covers`.

    Attributes
    ----------
    images : numpy.ndarray
        uint8 array of shape (N, height, width, 3): cover ``i`` is ``images[i]``.
    names : list of str
        File names (not paths) of the N covers, in sorted order.
    skipped : list of (str, str)
        ``(file name, reason)`` for every file that is not in ``images``.
    """

    images: np.ndarray
    names: list[str]
    skipped: list[tuple[str, str]]


def load_covers(folder, size=None) -> CoverSet:
    """Load every cover of a folder into one uint8 array.

    Files are read in sorted order of their names (plain ``sorted``, so it is
    case-sensitive: ``B.jpg`` comes before ``a.jpg``). Hidden files (names
    starting with ``.``) and subfolders are ignored. Every other file is
    either loaded or listed in ``skipped`` with a reason: nothing is dropped
    silently.

    Each cover is turned upright (EXIF orientation), converted to 8-bit RGB
    (transparent parts become white) and brought to one common size by
    scaling it until it covers that size and then cropping the centre. We crop
    rather than pad because padding bars would add black or white to the
    colour statistics that the map learns from.

    Parameters
    ----------
    folder : str or pathlib.Path
        Folder with the covers: ``.jpg``, ``.jpeg``, ``.png`` or ``.webp``
        (any case, e.g. ``.JPG``); WebP only if Pillow was built with it.
    size : (int, int), optional
        ``(width, height)`` of the output covers. By default the most common
        size in the folder; on a tie, the size of the first of the tied files
        in sorted order.

    Returns
    -------
    CoverSet
        ``images`` (N, height, width, 3) uint8, ``names`` and ``skipped``.

    Raises
    ------
    ValueError
        If ``folder`` does not exist or is not a folder, if ``size`` is not
        two positive integers, or if the folder has no readable cover.
    """
    folder = Path(folder)
    if not folder.exists():
        raise ValueError(f"cover folder '{folder}' does not exist")
    if not folder.is_dir():
        raise ValueError(f"'{folder}' is not a folder")
    if size is not None:
        size = _check_size(size)

    skipped = []
    with _strict_pillow():
        # Pass 1: read only the file headers, to learn each cover's size.
        covers = []  # (path, upright size)
        for path in sorted(folder.iterdir()):
            if path.name.startswith(".") or path.is_dir():
                continue
            try:
                reason = _reason_not_a_cover(path)
                if reason is None:
                    covers.append((path, _upright_size(path)))
            except _READ_ERRORS as error:
                reason = _describe_error(error)
            if reason is not None:
                skipped.append((path.name, reason))
        if not covers:
            raise ValueError(_no_cover_message(folder, skipped))

        if size is None:
            # most_common keeps first-seen order on ties: the first file wins.
            size = Counter(upright for _, upright in covers).most_common(1)[0][0]
        width, height = size

        # Pass 2: decode one file at a time straight into a preallocated array.
        images = np.empty((len(covers), height, width, 3), dtype=np.uint8)
        names = []
        for path, _ in covers:
            try:
                images[len(names)] = _read_cover(path, size)
            except _READ_ERRORS as error:  # e.g. a truncated file
                skipped.append((path.name, _describe_error(error)))
                continue
            names.append(path.name)

    skipped.sort()
    if not names:
        raise ValueError(_no_cover_message(folder, skipped))
    return CoverSet(images[: len(names)], names, skipped)


# What Pillow raises for a damaged, truncated or oversized file.
_READ_ERRORS = (
    OSError,  # includes UnidentifiedImageError and "image file is truncated"
    ValueError,
    SyntaxError,  # some plugins raise it for damaged data
    EOFError,
    Image.DecompressionBombError,
    Image.DecompressionBombWarning,  # turned into an error by _strict_pillow
)


@contextlib.contextmanager
def _strict_pillow():
    """Make Pillow raise, not guess, on truncated and oversized images."""
    load_truncated = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False  # Pillow's default, in case it was changed
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = load_truncated


def _check_size(size):
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


def _reason_not_a_cover(path):
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


def _upright_size(path):
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


def _read_cover(path, size):
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


def _describe_error(error):
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


def _no_cover_message(folder, skipped):
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


# The 100 covers of the 2019 post, pinned to one commit of the MiniSom repository.
ORIGINALS_COMMIT = "935d01422da6a271a29360a1684728d2b089f41a"
ORIGINALS_URL = (
    "https://raw.githubusercontent.com/JustGlowing/minisom/"
    f"{ORIGINALS_COMMIT}/examples/movie_covers/"
)
ORIGINALS_MANIFEST = DATA_DIR / "original_covers.sha256"


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
        Seconds to wait for the server before giving up on a file.
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
        error, interrupted transfer), its checksum differs or it cannot be
        written. Covers already written stay; nothing partial is left.
    ValueError
        If the manifest is malformed.
    """
    paths, _ = _download_covers(folder, base_url, manifest, timeout, progress)
    return paths


def download_command(
    folder, *, base_url=ORIGINALS_URL, manifest=ORIGINALS_MANIFEST, progress=None
) -> int:
    """``python helpers.py --download-originals FOLDER``: download, then report in one line.

    Returns the exit code: 0 on success, 1 on an error (printed to stderr as
    ``error: ...``, without a traceback), 130 if interrupted with Ctrl-C.
    """
    try:
        paths, present = _download_covers(folder, base_url, manifest, 30, progress)
    except (DownloadError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted (no partial file was left behind)", file=sys.stderr)
        return 130
    print(f"downloaded {len(paths) - present} covers to {folder} ({present} already present)")
    return 0


def _download_covers(folder, base_url, manifest, timeout, progress):
    """Do the work of `download_original_covers`; also return how many were present."""
    entries = read_manifest(manifest)
    if progress is None:
        progress = sys.stderr.isatty()
    if not base_url.endswith("/"):
        base_url += "/"
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DownloadError(f"cannot create folder '{folder}': {error}") from None

    paths, present = [], 0
    for number, (name, digest) in enumerate(entries, start=1):
        path = folder / name
        if path.is_file() and _sha256(path.read_bytes()) == digest:
            present += 1
            status = "already present"
        else:
            url = base_url + urllib.parse.quote(name)
            data = _fetch(name, url, timeout)
            if _sha256(data) != digest:
                raise DownloadError(
                    f"checksum mismatch for {name} from {url}: "
                    f"expected {digest[:12]}..., got {_sha256(data)[:12]}..."
                )
            try:
                _write_atomically(path, data)
            except OSError as error:
                raise DownloadError(f"could not write {path}: {error}") from None
            status = "downloaded"
        if progress:
            print(f"[{number}/{len(entries)}] {name} {status}", file=sys.stderr)
        paths.append(path)
    return paths, present


def _sha256(data):
    """SHA-256 of some bytes, as lower-case hex."""
    return hashlib.sha256(data).hexdigest()


def _fetch(name, url, timeout):
    """Return the bytes at ``url``, or raise DownloadError naming the file."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.read()  # raises IncompleteRead if the transfer stops early
    except urllib.error.HTTPError as error:
        reason = f"HTTP error {error.code} {error.reason}"
    except urllib.error.URLError as error:
        reason = f"{error.reason} (are you offline?)"
    except http.client.IncompleteRead as error:
        reason = f"transfer interrupted after {len(error.partial)} bytes"
    except (OSError, http.client.HTTPException) as error:  # timeouts, dropped connections
        reason = f"{str(error) or type(error).__name__} (are you offline?)"
    raise DownloadError(f"could not download {name} from {url}: {reason}")


def _write_atomically(path, data):
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


# ---------------------------------------------------------------------------
# 2. Features
# ---------------------------------------------------------------------------
# The 2019 post flattens every cover into one long vector of pixel values and
# standardises each pixel position with scikit-learn's StandardScaler. A cover
# of 185x278 px has 154,290 numbers, and that is what makes the post slow.
#
# N covers, once centred, span at most N-1 directions. Rotating them onto those
# directions (their principal axes) keeps every pairwise distance, so the SOM
# learns exactly the same map from N-1 numbers per cover instead of 154,290.
# We find the axes from the small N x N Gram matrix, never from a D x D
# covariance (which MiniSom's pca_weights_init would build: ~190 GB here).

_CHUNK_PIXELS = 16384  # columns processed at a time: keeps float copies small


class CoverFeatures:
    """Standardised cover pixels, rotated onto the covers' principal axes.

    Do not build this directly: call :func:`make_features`.

    Attributes
    ----------
    values : ndarray of shape (n_covers, n_components)
        One row per cover. Distances between rows equal the distances between
        the standardised pixel vectors of the 2019 post (up to float rounding).
    scaler : sklearn.preprocessing.StandardScaler
        The fitted per-pixel scaler, as in the 2019 post.
    image_shape : tuple of int
        (height, width, 3) of one cover.
    """

    def __init__(self, values, scaler, coefficients, images):
        self.values = values
        self.scaler = scaler
        self.image_shape = images.shape[1:]
        self._coefficients = coefficients  # maps a feature vector to cover weights
        self._images = images

    def __len__(self):
        return len(self.values)

    def inverse_transform(self, vectors):
        """Turn feature vectors (for example a neuron's weights) into images.

        Each vector is a mix of the standardised covers; undoing the scaling
        gives a picture: the "average cover" that vector stands for.

        Parameters
        ----------
        vectors : array_like of shape (m, n_components) or (n_components,)

        Returns
        -------
        ndarray of shape (m, height, width, 3), dtype uint8
        """
        vectors = np.atleast_2d(np.asarray(vectors, dtype=np.float64))
        if vectors.shape[1] != self.values.shape[1]:
            raise ValueError(f"expected vectors with {self.values.shape[1]} "
                             f"features, got {vectors.shape[1]}")
        mix = vectors @ self._coefficients  # (m, n_covers) weights on the covers
        pixels = self._images.reshape(len(self._images), -1)
        mean = self.scaler.mean_
        out = np.empty((len(mix), pixels.shape[1]), dtype=np.uint8)
        # standardised x = (p - mean) / scale and x_new = mix @ x, so
        # p_new = x_new * scale + mean = mix @ p + (1 - sum(mix)) * mean
        for start in range(0, pixels.shape[1], _CHUNK_PIXELS):
            cols = slice(start, start + _CHUNK_PIXELS)
            block = mix @ pixels[:, cols] + np.outer(1 - mix.sum(1), mean[cols])
            out[:, cols] = np.clip(np.rint(block), 0, 255)
        return out.reshape((len(mix),) + self.image_shape)


def make_features(images):
    """Standardise the covers' pixels and keep their principal coordinates.

    Parameters
    ----------
    images : ndarray of shape (n_covers, height, width, 3), dtype uint8
        For example ``load_covers(folder).images``. At least 2 covers.

    Returns
    -------
    CoverFeatures
        ``features.values`` has one row per cover and at most n_covers - 1
        columns; its pairwise distances are those of the standardised pixels.

    Raises
    ------
    ValueError
        If fewer than two covers are given or the array is not (N, H, W, 3).
    """
    from sklearn.preprocessing import StandardScaler

    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
        raise ValueError("images must be a uint8 array of shape (N, height, width, 3), "
                         f"got {images.dtype} {images.shape}")
    if len(images) < 2:
        raise ValueError(f"need at least 2 covers to compare, got {len(images)}")
    pixels = images.reshape(len(images), -1)

    # 1. StandardScaler, fitted a few covers at a time so no float copy of
    #    the whole collection is ever made.
    scaler = StandardScaler()
    for start in range(0, len(pixels), 64):
        scaler.partial_fit(pixels[start:start + 64].astype(np.float32))

    # 2. The Gram matrix G = X X^T of the standardised pixels X (N x N).
    gram = np.zeros((len(pixels), len(pixels)))
    for start in range(0, pixels.shape[1], _CHUNK_PIXELS):
        cols = slice(start, start + _CHUNK_PIXELS)
        block = ((pixels[:, cols] - scaler.mean_[cols]) / scaler.scale_[cols]).astype(np.float32)
        gram += block @ block.T

    # 3. G = U diag(lam) U^T. The principal coordinates are U sqrt(lam);
    #    directions with (numerically) zero variance carry no distance.
    #    X's columns sum to zero, so G @ ones = 0; the float32 blocks leave a
    #    little rounding there (enough to keep an N-th, pure-noise column).
    #    Double centring, as in classical MDS, removes it.
    gram = gram - gram.mean(axis=0) - gram.mean(axis=1)[:, None] + gram.mean()
    lam, u = np.linalg.eigh(gram)
    order = np.argsort(lam)[::-1]
    lam, u = lam[order], u[:, order]
    # eigh may flip any axis; make each one's largest entry positive (as
    # scikit-learn's PCA does) so that every machine learns the same map.
    u = u * np.sign(u[np.abs(u).argmax(axis=0), np.arange(u.shape[1])])
    if not lam[0] > 0:
        raise ValueError(f"all {len(images)} covers are identical, pixel for pixel: "
                         "there is nothing to arrange")
    keep = lam > lam[0] * 1e-10
    lam, u = lam[keep], u[:, keep]
    values = u * np.sqrt(lam)
    # A feature vector v stands for the standardised pixels v @ coefficients @ X.
    coefficients = (u / np.sqrt(lam)).T
    return CoverFeatures(values, scaler, coefficients, images)


# ---------------------------------------------------------------------------
# 3. Training
# ---------------------------------------------------------------------------
# A Self-Organizing Map (Kohonen, 1982) is a grid of neurons, each holding a
# weight vector with as many numbers as a cover's features. Training shows it
# one cover at a time: the closest neuron (the winner) and, more weakly, its
# grid neighbours move towards that cover. The neighbourhood (sigma) and the
# step size (learning rate) shrink as training goes on, so the map first
# settles its overall layout and then its details. We use MiniSom for the map.

PRESETS = {
    # The 2019 post, as published: MiniSom's random initial weights,
    # train_random(data, 2500) and MiniSom's asymptotic decay of both rates.
    "original": dict(sigma=3.0, learning_rate=0.5, iterations=2500,
                     neighborhood_function="triangle", topology="rectangular",
                     decay_function="asymptotic_decay",
                     sigma_decay_function="asymptotic_decay",
                     initialization="random"),
    # Our defaults, chosen by measuring DPQ16 over a grid of settings and
    # seeds (benchmarks/README.md): a smooth gaussian neighbourhood, a start
    # from the covers' two main principal axes, and rates that shrink
    # linearly, so the last steps only polish. Bigger grids gain from more
    # iterations (about 50 per neuron).
    "default": dict(sigma=4.0, learning_rate=0.5, iterations=5000,
                    neighborhood_function="gaussian", topology="rectangular",
                    decay_function="linear_decay_to_zero",
                    sigma_decay_function="linear_decay_to_one",
                    initialization="pca"),
}
INITIALIZATIONS = ("random", "samples", "pca")
NEIGHBORHOODS = ("gaussian", "triangle", "bubble", "mexican_hat")  # MiniSom's names


def som_settings(preset="default", **overrides):
    """The training settings of a preset, with some of them changed.

    Parameters
    ----------
    preset : {'default', 'original'}
        'original' reproduces the 2019 post; 'default' is our tuned choice.
    **overrides
        Any of sigma, learning_rate, iterations, neighborhood_function,
        topology, decay_function, sigma_decay_function, initialization.
        ``None`` values are ignored, so command-line options can be passed
        straight through.

    Returns
    -------
    dict
    """
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
    settings = dict(PRESETS[preset])
    unknown = set(overrides) - set(settings)
    if unknown:
        raise ValueError(f"unknown setting(s) {sorted(unknown)}; known: {sorted(settings)}")
    settings.update({k: v for k, v in overrides.items() if v is not None})
    return settings


class TrainedSom(NamedTuple):
    """What :func:`train_som` returns.

    Attributes
    ----------
    som : minisom.MiniSom
        The trained map; ``som.get_weights()`` has shape (rows, cols, n_features).
    curve_iterations : ndarray of int
        Iteration numbers at which the quantization error was recorded.
    curve_errors : ndarray of float
        Quantization error (mean distance of each cover to its winner) then.
    """
    som: object
    curve_iterations: np.ndarray
    curve_errors: np.ndarray


def _whole_number(name, value):
    """``value`` as an int, or a ValueError if it is not a whole number >= 1."""
    if not (np.isfinite(value) and value >= 1 and int(value) == value):
        raise ValueError(f"{name} must be a whole number >= 1, got {value}")
    return int(value)


def _check_features(data):
    data = np.asarray(data, dtype=np.float64)
    if data.ndim != 2 or len(data) == 0:
        raise ValueError(f"features must be a 2-D array with one row per cover, got shape {data.shape}")
    if not np.isfinite(data).all():
        raise ValueError("features contain NaN or infinite values")
    return data


def train_som(data, rows, cols, *, sigma, learning_rate, iterations,
              neighborhood_function="gaussian", topology="rectangular",
              decay_function="linear_decay_to_zero",
              sigma_decay_function="linear_decay_to_one",
              initialization="pca", random_seed=42, progress=None,
              curve_points=50):
    """Train a MiniSom map on the cover features.

    This is MiniSom's ``train_random``, step by step: the same random order of
    covers and the same decay schedule, so the result is identical, but we
    can record a learning curve and show a progress bar on the way.

    Parameters
    ----------
    data : array_like of shape (n_covers, n_features)
        For example ``make_features(images).values``.
    rows, cols : int
        Grid size, at least 1x1.
    sigma : float
        Initial neighbourhood radius, in grid cells (> 0).
    learning_rate : float
        Initial step size (> 0).
    iterations : int
        Number of single-cover updates (>= 1).
    neighborhood_function : {'gaussian', 'triangle', 'bubble', 'mexican_hat'}
    topology : {'rectangular', 'hexagonal'}
    decay_function : {'linear_decay_to_zero', 'inverse_decay_to_zero', 'asymptotic_decay'}
        How the learning rate shrinks (MiniSom's names).
    sigma_decay_function : {'linear_decay_to_one', 'inverse_decay_to_one', 'asymptotic_decay'}
        How sigma shrinks.
    initialization : {'pca', 'random', 'samples'}
        'random' keeps MiniSom's random initial weights (as in the 2019 post),
        'samples' starts every neuron at a random cover, 'pca' spreads the
        neurons over the plane of the two main principal axes (on a grid
        with one row or column, or with one feature, 'samples' is used).
    random_seed : int
        Same seed, same map.
    progress : bool or callable, optional
        True shows a progress bar (a widget in a notebook, text otherwise)
        when training is long; a callable is called as ``progress(done, total)``.
    curve_points : int
        How many times to record the quantization error.

    Returns
    -------
    TrainedSom

    Raises
    ------
    ValueError
        For invalid settings, or when training diverges.
    """
    from minisom import MiniSom

    data = _check_features(data)
    rows, cols = _check_grid(rows, cols)
    for name, value in (("sigma", sigma), ("learning_rate", learning_rate)):
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a finite number > 0, got {value}")
    iterations = _whole_number("iterations", iterations)
    if initialization not in INITIALIZATIONS:
        raise ValueError(f"initialization must be one of {INITIALIZATIONS}, got {initialization!r}")
    if initialization == "pca" and (data.shape[1] < 2 or min(rows, cols) < 2):
        initialization = "samples"  # PCA needs two features and a 2-D grid

    som = MiniSom(rows, cols, data.shape[1], sigma=sigma, learning_rate=learning_rate,
                  neighborhood_function=neighborhood_function, topology=topology,
                  decay_function=decay_function, sigma_decay_function=sigma_decay_function,
                  random_seed=random_seed)
    if initialization == "samples":
        som.random_weights_init(data)
    elif initialization == "pca":
        som.pca_weights_init(data)  # cheap: data has at most n_covers - 1 columns

    # The order of train_random: every cover equally often, shuffled by the
    # map's own seeded generator.
    order = np.arange(iterations) % len(data)
    som._random_generator.shuffle(order)

    checkpoints = set(np.linspace(0, iterations, min(curve_points, iterations) + 1).astype(int))
    curve = []
    # Rough cost on a 2-core laptop: a fixed ~25 us per step plus ~1 ns per weight.
    seconds = iterations * (2.5e-5 + 1e-9 * rows * cols * (data.shape[1] + 20))
    report = _progress_reporter(progress, iterations, seconds)
    # A too-large learning rate (or mexican_hat's negative neighbours) can make
    # the weights grow without bound; we check for that once, at the end:
    # healthy weights stay among the covers, never 100 times further out.
    with np.errstate(over="ignore", invalid="ignore"):
        for t, i in enumerate(order):
            if t in checkpoints:
                curve.append((t, som.quantization_error(data)))
                report(t)
            som.update(data[i], som.winner(data[i]), t, iterations)
        curve.append((iterations, som.quantization_error(data)))
    report(iterations)
    weights = som.get_weights()
    if not (np.isfinite(weights).all() and np.abs(weights).max() <= 100 * max(np.abs(data).max(), 1.0)):
        raise ValueError("training diverged: the weights grew without bound; "
                         "lower the learning rate or choose another neighbourhood function")
    steps, errors = zip(*curve)
    return TrainedSom(som, np.array(steps), np.array(errors))


def _progress_reporter(progress, total, seconds):
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
        print(f"\rtraining {100 * done // total:3d}%", end="\n" if done >= total else "",
              file=sys.stderr, flush=True)
    return report


DECAY_FUNCTIONS = ("asymptotic_decay", "linear_decay_to_zero", "inverse_decay_to_zero",
                   "linear_decay_to_one", "inverse_decay_to_one")


def decay_schedule(name, start, iterations):
    """How MiniSom shrinks the learning rate or sigma over a training run.

    Parameters
    ----------
    name : str
        A MiniSom decay function: 'asymptotic_decay' (either rate, the 2019
        post's), 'linear_decay_to_zero' or 'inverse_decay_to_zero' (learning
        rate), 'linear_decay_to_one' or 'inverse_decay_to_one' (sigma).
    start : float
        The value at iteration 0: the initial learning rate or sigma.
    iterations : int
        Length of the training run (>= 1).

    Returns
    -------
    ndarray of shape (iterations + 1,)
        The value at iterations 0, 1, ..., iterations, computed by MiniSom's
        own function.
    """
    from minisom import MiniSom

    if name not in DECAY_FUNCTIONS:
        raise ValueError(f"unknown decay function {name!r}; choose one of {DECAY_FUNCTIONS}")
    iterations = _whole_number("iterations", iterations)
    # MiniSom keeps each decay function as a method named after the option.
    decay = getattr(MiniSom(1, 1, 1), "_" + name)
    steps = np.arange(iterations + 1)
    return np.asarray(decay(start, steps, iterations), dtype=np.float64)


# ---------------------------------------------------------------------------
# 4. Placement
# ---------------------------------------------------------------------------
# A trained map tells each cover its winning neuron, but several covers can
# win the same neuron (a collision) while other neurons win none. The 2019
# post keeps the first cover of each neuron and pours the others into the
# empty cells, wherever they are. Optimal assignment instead gives every cover
# its own cell so that the total distance from covers to their neurons' weights
# is as small as possible (the Hungarian method, scipy's linear_sum_assignment).

PLACEMENTS = ("assignment", "greedy")


class Placement(NamedTuple):
    """Where each cover goes.

    Attributes
    ----------
    positions : ndarray of shape (n_covers, 2), int
        (row, col) of each cover; (-1, -1) for a dropped cover.
    dropped : list of int
        Indices of covers that did not fit (only with ``allow_drop=True``).
    """
    positions: np.ndarray
    dropped: list


def grid_shape_for(n_covers):
    """The smallest near-square grid (rows, cols) with room for n_covers.

    Examples
    --------
    >>> grid_shape_for(100)
    (10, 10)
    >>> grid_shape_for(37)
    (6, 7)
    """
    if n_covers < 1:
        raise ValueError(f"need at least one cover, got {n_covers}")
    rows = int(np.floor(np.sqrt(n_covers)))
    cols = -(-n_covers // rows)
    if cols > rows + 1:  # rows x (rows + 1) is too small: the next square fits
        rows, cols = rows + 1, rows + 1
    return rows, cols


def _check_grid(rows, cols):
    return _whole_number("rows", rows), _whole_number("cols", cols)


def _check_placement(n_covers, rows, cols, strategy, allow_drop):
    """Raise a ValueError for an unknown strategy or covers that do not fit."""
    if strategy not in PLACEMENTS:
        raise ValueError(f"placement must be one of {PLACEMENTS}, got {strategy!r}")
    if n_covers > rows * cols and not allow_drop:
        fit_rows, fit_cols = grid_shape_for(n_covers)
        raise ValueError(f"{n_covers} covers do not fit on a {rows}x{cols} grid "
                         f"({rows * cols} cells); use at least {fit_rows}x{fit_cols}")


def place_covers(weights, data, strategy="assignment", allow_drop=False):
    """Give every cover one grid cell.

    Parameters
    ----------
    weights : ndarray of shape (rows, cols, n_features)
        The trained map's weights, ``som.get_weights()``.
    data : array_like of shape (n_covers, n_features)
        The same features the map was trained on.
    strategy : {'assignment', 'greedy'}
        'greedy' is the 2019 post's rule: the first cover to win a neuron stays
        there; the colliding covers then fill the empty cells in row-major
        order. 'assignment' finds the one-cover-per-cell matching with the
        smallest total squared distance between covers and their neurons.
    allow_drop : bool
        With more covers than cells, drop the ones that do not fit instead of
        raising. Dropped covers are listed in ``Placement.dropped``.

    Returns
    -------
    Placement

    Raises
    ------
    ValueError
        If there are more covers than cells and ``allow_drop`` is False; the
        message names the smallest grid that fits.
    """
    from scipy.optimize import linear_sum_assignment

    data = _check_features(data)
    weights = np.asarray(weights, dtype=np.float64)
    if weights.ndim != 3 or weights.shape[2] != data.shape[1]:
        raise ValueError(f"weights of shape {weights.shape} do not match features with "
                         f"{data.shape[1]} columns")
    rows, cols = weights.shape[:2]
    _check_placement(len(data), rows, cols, strategy, allow_drop)
    n_cells = rows * cols
    cost = squared_distances(data, weights.reshape(n_cells, -1))
    cell_of = np.full(len(data), -1)
    if strategy == "assignment":
        covers, cells = linear_sum_assignment(cost)
        cell_of[covers] = cells
    else:
        winners = cost.argmin(axis=1)
        taken = np.zeros(n_cells, dtype=bool)
        collided = []
        for cell in range(n_cells):           # row-major, as in the post
            for cover in np.flatnonzero(winners == cell):
                if taken[cell]:
                    collided.append(cover)
                else:
                    cell_of[cover], taken[cell] = cell, True
        empty = iter(np.flatnonzero(~taken))
        for cover, cell in zip(collided, empty):
            cell_of[cover] = cell
    positions = np.full((len(data), 2), -1)
    placed = cell_of >= 0
    positions[placed] = np.column_stack(np.unravel_index(cell_of[placed], (rows, cols)))
    return Placement(positions, np.flatnonzero(~placed).tolist())


def squared_distances(a, b):
    """All squared Euclidean distances between the rows of a and of b."""
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
    return np.maximum(d, 0)


# ---------------------------------------------------------------------------
# 5. Quality
# ---------------------------------------------------------------------------
# How good is an arrangement? MiniSom gives two classic measures:
# - quantization error: mean distance from each cover to its winning neuron
#   (how well the neurons summarise the covers);
# - topographic error: share of covers whose two closest neurons are not
#   grid neighbours (how smoothly the map folds).
# Neither looks at where the covers finally sit. Distance Preservation Quality
# (DPQ, Barthel, Hezel, Jung and Schall, Computer Graphics Forum 2023) does:
# it asks whether the covers next to each one on the grid are about as similar
# to it as its truly most similar covers. 1 is perfect; random is much lower.


def _check_positions(positions, n_covers, what="feature rows", rows=None, cols=None):
    """Check (row, col) positions of covers; returns them and which are placed.

    One position per cover; (-1, -1) marks a dropped cover. No two placed
    covers may share a cell, and with ``rows``/``cols`` every cell must be
    inside the grid.
    """
    positions = np.asarray(positions)
    if positions.ndim != 2 or positions.shape[1] != 2:
        raise ValueError(f"positions must be (row, col) pairs, got an array of shape {positions.shape}")
    if len(positions) != n_covers:
        raise ValueError(f"{n_covers} {what} but {len(positions)} positions")
    placed = (positions >= 0).all(axis=1)
    cells = positions[placed]
    if len(np.unique(cells, axis=0)) < len(cells):
        raise ValueError("two covers have the same position: each cell holds at most one cover")
    if rows is not None and len(cells) and ((cells[:, 0] >= rows) | (cells[:, 1] >= cols)).any():
        raise ValueError(f"a position lies outside the {rows}x{cols} grid")
    return positions, placed


def dpq(data, positions, p=16):
    """Distance Preservation Quality DPQ_p of a grid arrangement.

    For every cover, its neighbours are taken in two orders: by feature
    distance (the best possible) and by grid distance (what the layout gives;
    ties broken by feature distance). D_k is the mean distance to the first k
    neighbours, averaged over covers; its gain is max(0, (mean - D_k) / mean).
    DPQ_p is the p-norm of the grid gains over the p-norm of the best gains.

    Parameters
    ----------
    data : array_like of shape (n_covers, n_features)
    positions : array_like of shape (n_covers, 2)
        (row, col) of each cover. Rows with a negative position (dropped
        covers) are left out; empty cells simply do not count.
    p : float
        The norm; Barthel et al. report p = 16.

    Returns
    -------
    float in [0, 1]
    """
    data = _check_features(data)
    positions, placed = _check_positions(positions, len(data))
    data, positions = data[placed], positions[placed].astype(np.float64)
    n = len(data)
    if n < 2:
        raise ValueError("DPQ needs at least two placed covers")
    d = np.sqrt(squared_distances(data, data))
    grid = squared_distances(positions, positions)
    off = ~np.eye(n, dtype=bool)
    d_others = d[off].reshape(n, n - 1)
    grid_others = grid[off].reshape(n, n - 1)
    mean_d = d_others.mean()
    by_features = np.sort(d_others, axis=1)
    by_grid = np.take_along_axis(d_others, np.lexsort((d_others, grid_others), axis=1), axis=1)

    def gains(sorted_d):
        d_k = (np.cumsum(sorted_d, axis=1) / np.arange(1, n)).mean(axis=0)
        return np.maximum(0.0, (mean_d - d_k) / mean_d)

    best = np.linalg.norm(gains(by_features), ord=p)
    if best == 0:
        return 1.0  # all covers equally far apart: every layout is as good
    return float(np.linalg.norm(gains(by_grid), ord=p) / best)


def _adjacent_pairs(positions, n_covers, what="feature rows", required=True):
    """The placed covers and the index pairs (i, j) of covers side by side.

    Checks that there is one position per cover and, if ``required``, that
    at least two covers sit side by side.

    Returns
    -------
    placed : ndarray of bool, one per cover (False for dropped covers)
    pairs : ndarray of shape (n_pairs, 2), int (4-neighbours on the grid)
    """
    positions, placed = _check_positions(positions, n_covers, what)
    index = {tuple(positions[i]): i for i in np.flatnonzero(placed)}
    pairs = [(i, index[(r + dr, c + dc)])
             for (r, c), i in index.items() for dr, dc in ((0, 1), (1, 0))
             if (r + dr, c + dc) in index]
    if required and not pairs:
        raise ValueError("no two covers sit side by side")
    return placed, np.array(sorted(pairs), dtype=int).reshape(-1, 2)


def neighbour_distance_ratio(data, positions):
    """Mean feature distance of side-by-side covers over the mean of all pairs.

    1.0 is what a random layout gives; the lower, the better neighbours match.
    """
    data = _check_features(data)
    placed, pairs = _adjacent_pairs(positions, len(data))
    d = np.sqrt(squared_distances(data, data))
    d_placed = d[np.ix_(placed, placed)]  # dropped covers are in no pair
    mean_all = d_placed[~np.eye(len(d_placed), dtype=bool)].mean()
    return float(d[pairs[:, 0], pairs[:, 1]].mean() / mean_all)


def same_genre_share(genres, positions):
    """Share of side-by-side covers with the same genre, and its random expectation.

    Parameters
    ----------
    genres : sequence of str, one per cover
    positions : array_like of shape (n_covers, 2)

    Returns
    -------
    share, expected : float, float
        ``expected`` is the share two covers drawn at random would have.
    """
    genres = np.asarray(genres)
    placed, pairs = _adjacent_pairs(positions, len(genres), "genres")
    placed = genres[placed]
    counts = np.unique(placed, return_counts=True)[1]
    expected = (counts * (counts - 1)).sum() / (len(placed) * (len(placed) - 1))
    return float((genres[pairs[:, 0]] == genres[pairs[:, 1]]).mean()), float(expected)


def quality_report(som, data, positions, genres=None):
    """All quality figures of one arrangement, in a dict.

    Keys: 'quantization_error', 'topographic_error', 'dpq16',
    'neighbour_ratio', and with genres also 'same_genre' and
    'same_genre_random'. A figure the layout does not define is NaN: the
    topographic error of a 1x1 map, DPQ with fewer than two placed covers,
    and the neighbour figures when no two covers sit side by side (e.g. 3
    covers in the corners of a 3x3 grid).
    """
    data = _check_features(data)
    placed, pairs = _adjacent_pairs(positions, len(data), required=False)
    placed, side_by_side = placed.sum(), len(pairs) > 0
    nan = float("nan")
    report = {
        "quantization_error": float(som.quantization_error(data)),
        # a 1x1 map has no second-best neuron: topographic error is undefined
        "topographic_error": float(som.topographic_error(data)) if som.get_weights().shape[:2] != (1, 1) else nan,
        "dpq16": dpq(data, positions, p=16) if placed >= 2 else nan,
        "neighbour_ratio": neighbour_distance_ratio(data, positions) if side_by_side else nan,
    }
    if genres is not None:
        report["same_genre"], report["same_genre_random"] = (
            same_genre_share(genres, positions) if side_by_side else (nan, nan))
    return report


def format_quality(report):
    """One line of quality figures, 3 decimals, for printing."""
    names = {"quantization_error": "QE", "topographic_error": "TE", "dpq16": "DPQ16",
             "neighbour_ratio": "neighbour/all distance", "same_genre": "same-genre neighbours",
             "same_genre_random": "random"}
    return ", ".join(f"{names[k]} {v:.3f}" for k, v in report.items())


# ---------------------------------------------------------------------------
# 6. Rendering
# ---------------------------------------------------------------------------
# The 2019 post drew one matplotlib axis per cell, which takes longer than our
# whole pipeline. A grid of covers is just one big image: we paste each cover
# into its place in a single array, then show or save that array.


def make_mosaic(images, positions, rows, cols, border=0, background=255):
    """Paste covers into one grid image.

    Parameters
    ----------
    images : ndarray of shape (n_covers, height, width, 3), uint8
    positions : array_like of shape (n_covers, 2)
        (row, col) of each cover; covers at a negative position are left out.
    rows, cols : int
        Grid size. Cells without a cover stay blank (``background``).
    border : int
        Width in pixels of the blank lines between cells.
    background : int
        Grey level (0-255) of empty cells and borders.

    Returns
    -------
    ndarray of shape (rows*(height+border)-border, cols*(width+border)-border, 3), uint8
    """
    images = np.asarray(images)
    rows, cols = _check_grid(rows, cols)
    positions, _ = _check_positions(positions, len(images), "images", rows, cols)
    h, w = images.shape[1:3]
    mosaic = np.full((rows * (h + border) - border, cols * (w + border) - border, 3),
                     background, dtype=np.uint8)
    for image, (r, c) in zip(images, positions):
        if r >= 0 and c >= 0:
            top, left = r * (h + border), c * (w + border)
            mosaic[top:top + h, left:left + w] = image
    return mosaic


def show_mosaic(mosaic, ax=None, title=None, width=9):
    """Show a grid image with matplotlib, at screen size.

    Parameters
    ----------
    mosaic : ndarray, as made by :func:`make_mosaic`
    ax : matplotlib Axes, optional
        Where to draw; a new figure ``width`` inches wide if not given.
    title : str, optional

    Returns
    -------
    matplotlib Axes
    """
    import matplotlib.pyplot as plt

    if ax is None:
        height = width * mosaic.shape[0] / mosaic.shape[1]
        _, ax = plt.subplots(figsize=(width, height + (0.4 if title else 0)), layout="constrained")
    ax.imshow(mosaic, interpolation="antialiased")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def save_png(image, path):
    """Write an image array to a PNG file at full resolution.

    The file is written under a temporary name and then renamed, so an
    interrupted save never leaves half a PNG behind.

    Returns
    -------
    pathlib.Path
    """
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(image, dtype=np.uint8)).save(buffer, format="PNG", compress_level=1)
    return _write_atomically(path, buffer.getvalue())


def show_covers(images, titles=None, axes=None, width=9):
    """Show a few covers side by side, each with an optional title.

    Parameters
    ----------
    images : sequence of ndarray of shape (height, width, 3), uint8
        The covers; they may differ in size.
    titles : sequence of str, optional
        One per cover.
    axes : sequence of matplotlib Axes, optional
        One per cover; a new row of axes ``width`` inches wide if not given.
    width : float
        Width of the new figure, in inches.

    Returns
    -------
    list of matplotlib Axes
    """
    import matplotlib.pyplot as plt

    images = [np.asarray(image) for image in images]
    if not images:
        raise ValueError("no covers to show")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"{len(images)} covers but {len(titles)} titles")
    if axes is None:
        height, cover_width = images[0].shape[:2]
        figure_height = width / len(images) * height / cover_width + (0.5 if titles else 0.1)
        _, axes = plt.subplots(1, len(images), figsize=(width, figure_height),
                               layout="constrained", squeeze=False)
        axes = axes[0]
    axes = list(axes)
    if len(axes) != len(images):
        raise ValueError(f"{len(images)} covers but {len(axes)} axes")
    for ax, image, title in zip(axes, images, titles or [None] * len(images)):
        ax.imshow(image, interpolation="antialiased")
        ax.set_axis_off()
        if title:
            ax.set_title(title, fontsize=9)
    return axes


# ---------------------------------------------------------------------------
# 7. Pipeline
# ---------------------------------------------------------------------------


class Arrangement(NamedTuple):
    """Everything :func:`arrange_covers` computed, for showing and measuring."""
    covers: CoverSet
    features: CoverFeatures
    trained: TrainedSom
    placement: Placement
    rows: int
    cols: int
    settings: dict
    quality: dict

    def mosaic(self, border=0):
        """The grid image (see :func:`make_mosaic`)."""
        return make_mosaic(self.covers.images, self.placement.positions, self.rows, self.cols, border)


def read_genres(names, catalogue=DATA_DIR / "covers.csv"):
    """Genres of the bundled posters from ``data/covers.csv``, or None.

    Returns None when any of ``names`` is not in the catalogue (for example
    for your own covers), since there is no ground truth to compare with.
    """
    catalogue = Path(catalogue)
    if not catalogue.exists():
        return None
    with open(catalogue, newline="", encoding="utf-8") as handle:
        genre_of = {row["file"]: row["genre"] for row in csv.DictReader(handle)}
    if not all(name in genre_of for name in names):
        return None
    return [genre_of[name] for name in names]


def arrange_covers(covers=BUNDLED_COVERS, rows=None, cols=None, *, preset="default",
                   placement="assignment", seed=42, allow_drop=False, progress=None,
                   features=None, **settings):
    """The whole pipeline: covers in, arranged grid and its quality out.

    Parameters
    ----------
    covers : str, Path or CoverSet
        A folder of covers, or covers already loaded with :func:`load_covers`.
    rows, cols : int, optional
        Grid size; by default the smallest near-square grid that fits.
    preset : {'default', 'original'}
    placement : {'assignment', 'greedy'}
    seed : int
        Random seed of the map.
    allow_drop : bool
        Allow a grid with fewer cells than covers (see :func:`place_covers`).
    progress : bool or callable, optional
        Passed to :func:`train_som`.
    features : CoverFeatures, optional
        Reuse features already made from the same covers (saves time).
    **settings
        Overrides of the preset (see :func:`som_settings`).

    Returns
    -------
    Arrangement
    """
    if not isinstance(covers, CoverSet):
        covers = load_covers(covers)
    if rows is None and cols is None:
        rows, cols = grid_shape_for(len(covers.names))
    elif rows is None or cols is None:
        raise ValueError("give both rows and cols, or neither")
    rows, cols = _check_grid(rows, cols)
    _check_placement(len(covers.names), rows, cols, placement, allow_drop)  # before training
    chosen = som_settings(preset, **settings)
    if features is None:
        features = make_features(covers.images)
    trained = train_som(features.values, rows, cols, random_seed=seed, progress=progress, **chosen)
    where = place_covers(trained.som.get_weights(), features.values, placement, allow_drop)
    quality = quality_report(trained.som, features.values, where.positions,
                             read_genres(covers.names))
    return Arrangement(covers, features, trained, where, rows, cols, chosen, quality)


# ---------------------------------------------------------------------------
# 8. Interactive explorer
# ---------------------------------------------------------------------------

# The explorer puts the whole pipeline behind sliders, so students can see
# what each setting does to the map. Every change re-trains and redraws. The
# features are made once per folder and reused, so an update costs one
# training run (well under a second at the default settings on 100 covers).
# Each update gets a number (its generation); a result whose number is no
# longer the newest is thrown away, so a late result never hides a newer one.
# Anything that goes wrong becomes one line in the status area, and the last
# good picture stays.

class Explorer:
    """Sliders and dropdowns over :func:`arrange_covers`, with live pictures.

    Build it with :func:`build_explorer` and end a notebook cell with it (or
    call ``display(explorer)``) to show it. Every change of a control
    re-trains the map and redraws the mosaic, the U-matrix and the metrics.

    Attributes
    ----------
    widget : ipywidgets.VBox
        The whole explorer, ready to display. It has the CSS class
        ``som-explorer``, and each control and output below the class
        ``som-explorer-<attribute>`` (with ``-`` for ``_``), for tests and styling.
    folder : ipywidgets.Text
        Path of the cover folder; press ``load_button`` to load it.
    load_button : ipywidgets.Button
    preset : ipywidgets.Dropdown
        'default' or 'original'; choosing one sets the sliders to its values.
        The preset also fixes what has no control here: the initial weights
        and how sigma and the learning rate decay (see :data:`PRESETS`).
    rows, cols : ipywidgets.IntSlider
        Grid size; after a folder is loaded, the smallest grid that fits.
    sigma, learning_rate : ipywidgets.FloatSlider
    iterations : ipywidgets.IntSlider
    neighborhood : ipywidgets.Dropdown
        MiniSom's neighbourhood function.
    placement : ipywidgets.Dropdown
        'assignment' or 'greedy' (see :func:`place_covers`).
    seed : ipywidgets.BoundedIntText
    mosaic : ipywidgets.Image
        The arranged covers, as a JPEG ``display_width`` pixels wide.
    umatrix : ipywidgets.Image
        The U-matrix (``som.distance_map()``) as a PNG with a colour bar.
    metrics : ipywidgets.HTML
        QE, TE, DPQ16 and, for the bundled posters, same-genre neighbours.
    status : ipywidgets.HTML
        One line: what was shown, or why nothing new was shown.
    message : str
        The text of that line, for use from code.
    progress : ipywidgets.IntProgress
        Visible only while a training run takes longer than ``progress_delay``.
    covers : CoverSet or None
        The loaded covers; None until a folder loaded.
    features : CoverFeatures or None
        Their features, made once per folder.
    arrangement : Arrangement or None
        The arrangement shown now (the last good one).
    generation : int
        Number of the newest update started; older results are discarded.
    seconds : float or None
        How long the last successful update took, from start to new picture.
    """

    def __init__(self, covers=BUNDLED_COVERS, *, display_width=600, progress_delay=0.5):
        import ipywidgets as w

        self.display_width = int(display_width)
        self.progress_delay = float(progress_delay)
        self.covers = self.features = self.arrangement = None
        self.generation = 0
        self.seconds = None
        self.message = ""
        self._holding = 0
        self._thumbs = (None, None)  # (cell size, resized covers)
        self._umatrix_plot = None  # the U-matrix figure of the current grid size
        self._feature_cache = {}

        # Controls, the U-matrix and the figures in a 360 px column on the
        # left, the mosaic on the right: move a slider, see the grid change.
        # On a narrow screen the mosaic wraps below.
        column = "360px"
        wide = dict(description_width="8.5em")
        full = dict(style=wide, layout=w.Layout(width="100%"))
        slider = dict(continuous_update=False, **full)
        defaults = PRESETS["default"]
        self.folder = w.Text(value=_short_path(covers), placeholder="folder of covers",
                             layout=w.Layout(flex="1 1 auto", width="auto"))
        self.load_button = w.Button(description="load", icon="folder-open",
                                    tooltip="load the covers of this folder",
                                    layout=w.Layout(width="6em"))
        self.preset = w.Dropdown(options=list(PRESETS), value="default", description="preset",
                                 tooltip="'original' is the 2019 post's settings", **full)
        self.neighborhood = w.Dropdown(options=NEIGHBORHOODS, description="neighbourhood",
                                       value=defaults["neighborhood_function"], **full)
        self.placement = w.Dropdown(options=PLACEMENTS, value="assignment",
                                    description="placement", **full)
        self.seed = w.BoundedIntText(value=42, min=0, max=2**31 - 1, description="seed", **full)
        self.rows = w.IntSlider(value=10, min=1, max=20, description="rows", **slider)
        self.cols = w.IntSlider(value=10, min=1, max=20, description="columns", **slider)
        self.sigma = w.FloatSlider(value=defaults["sigma"], min=0.5, max=10.0, step=0.5,
                                   description="sigma", readout_format=".1f", **slider)
        self.iterations = w.IntSlider(value=defaults["iterations"], min=100, max=50000, step=100,
                                      description="iterations", **slider)
        self.learning_rate = w.FloatSlider(value=defaults["learning_rate"], min=0.01, max=2.0,
                                           step=0.01, description="learning rate", **slider)
        self.progress = w.IntProgress(value=0, min=0, max=1, description="training",
                                      style=dict(description_width="5em"),
                                      layout=w.Layout(visibility="hidden", width="20em"))
        self.status = w.HTML(layout=w.Layout(min_height="1.6em", flex="1 1 auto"))
        self.metrics = w.HTML(layout=w.Layout(width="100%"))
        self.mosaic = w.Image(format="jpeg")
        self.umatrix = w.Image(format="png", layout=w.Layout(width="100%"))
        for name in ("folder", "load_button", "preset", "neighborhood", "placement", "seed",
                     "rows", "cols", "sigma", "iterations", "learning_rate", "progress",
                     "status", "metrics", "mosaic", "umatrix"):  # stable hooks for tests
            getattr(self, name).add_class("som-explorer-" + name.replace("_", "-"))

        controls = w.VBox(
            [w.HBox([self.folder, self.load_button]), self.preset, self.neighborhood,
             self.placement, self.seed, self.rows, self.cols, self.sigma, self.iterations,
             self.learning_rate, self.metrics, self.umatrix],
            layout=w.Layout(width=column, min_width=column, margin="0 16px 0 0",
                            overflow="visible"))  # no clipped dropdown edges
        self.widget = w.VBox([
            w.HBox([self.status, self.progress], layout=w.Layout(width="100%")),
            w.HBox([controls, self.mosaic],
                   layout=w.Layout(flex_flow="row wrap", align_items="flex-start")),
        ])
        self.widget.add_class("som-explorer")

        self.load_button.on_click(lambda _button: self.load())
        self.preset.observe(self._on_preset, names="value")
        for control in (self.neighborhood, self.placement, self.seed, self.rows, self.cols,
                        self.sigma, self.iterations, self.learning_rate):
            control.observe(self._on_change, names="value")
        self.load()

    # -- showing in a notebook ---------------------------------------------

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        if isinstance(bundle, tuple):  # (data, metadata)
            bundle = bundle[0]
        bundle = dict(bundle)
        n = len(self.covers.names) if self.covers is not None else 0
        folder = Path(self.folder.value).expanduser()
        where = ("the bundled posters" if folder.resolve() == BUNDLED_COVERS.resolve()
                 else f"'{folder}'")
        bundle["text/plain"] = (f"SOM explorer: {n} covers from {where} "
                                "(run the notebook in JupyterLab to use the sliders)")
        return bundle

    # -- loading -----------------------------------------------------------

    def load(self, folder=None):
        """Load a cover folder, make its features and show a first map.

        Parameters
        ----------
        folder : str or Path, optional
            By default the path in the ``folder`` box.

        Returns
        -------
        bool
            True if the folder was loaded (and an update was run). On an
            error the message goes to the status area and the previous
            covers and picture stay. If the first map of the new covers
            cannot be made, the pictures are cleared rather than left
            showing the previous folder.
        """
        if folder is not None:
            with self._hold():
                self.folder.value = str(folder)
        path = Path(self.folder.value.strip()).expanduser()
        generation = self._begin()  # a new folder supersedes any older update
        self._say(f"loading covers from {path} ...")
        try:
            covers = load_covers(path)
            if len(covers.names) < 2:
                raise ValueError(f"found only {len(covers.names)} cover in '{path}'; "
                                 "the map needs at least 2")
            features = self._features_for(covers)
        except Exception as error:  # any failure is one line of text, never a traceback
            if generation == self.generation:
                self._say(f"could not load '{path}': {_one_line(error)}", "error")
            return False
        self.covers, self.features, self._thumbs = covers, features, (None, None)
        rows, cols = grid_shape_for(len(covers.names))
        with self._hold():
            for slider, fit in ((self.rows, rows), (self.cols, cols)):
                slider.max = max(20, 2 * fit)
                slider.value = fit
            # MiniSom warns about a sigma wider than the grid (a few covers
            # on a tiny grid): start such a folder with one that fits.
            widest = np.floor(2 * np.hypot(rows, cols)) / 2
            self.sigma.value = min(self.sigma.value, widest)
        if not self.update():
            self.arrangement = None
            self.mosaic.value = self.umatrix.value = b""
            self.metrics.value = ""
        return True

    def _features_for(self, covers):
        """Features of these covers, made once and then reused."""
        pixels = np.ascontiguousarray(covers.images)
        key = (pixels.shape, hashlib.blake2b(memoryview(pixels).cast("B"), digest_size=16).digest())
        if key not in self._feature_cache:
            if len(self._feature_cache) >= 3:  # keep memory in check
                self._feature_cache.pop(next(iter(self._feature_cache)))
            self._feature_cache[key] = make_features(covers.images)
        return self._feature_cache[key]

    # -- reacting to the controls -------------------------------------------

    def _on_change(self, _change):
        if not self._holding:
            self.update()

    def _on_preset(self, change):
        """Set the sliders to the chosen preset's values, then update once."""
        values = PRESETS[change["new"]]
        with self._hold():
            self.sigma.value = values["sigma"]
            self.learning_rate.value = values["learning_rate"]
            self.iterations.value = values["iterations"]
            self.neighborhood.value = values["neighborhood_function"]
        self.update()

    @contextlib.contextmanager
    def _hold(self):
        """Control changes inside ``with self._hold():`` do not update."""
        self._holding += 1
        try:
            yield
        finally:
            self._holding -= 1

    def settings(self):
        """The current values of the controls, as keyword arguments of arrange_covers.

        Returns
        -------
        dict
        """
        return dict(rows=self.rows.value, cols=self.cols.value, preset=self.preset.value,
                    placement=self.placement.value, seed=self.seed.value,
                    sigma=float(self.sigma.value), learning_rate=float(self.learning_rate.value),
                    iterations=int(self.iterations.value),
                    neighborhood_function=self.neighborhood.value)

    # -- one update: begin, compute, show ------------------------------------

    def update(self):
        """Re-train with the current settings and show the result.

        Returns
        -------
        bool
            True if a new picture is shown; False if the settings were
            refused (the message is in ``status``, the old picture stays) or
            a newer update started meanwhile.
        """
        if self.covers is None:
            self._say("no covers loaded yet: choose a folder and press 'load'", "error")
            return False
        started = time.perf_counter()
        generation = self._begin()
        try:
            result = self._compute(self.settings(), generation, started)
        except Exception as error:  # a refused setting: one line, keep the picture
            if generation == self.generation:
                self._say(_one_line(error), "error")
            return False
        finally:
            self._hide_progress(generation)
        return self._show(generation, result, started)

    def _begin(self):
        """Start an update: returns its generation number, the newest."""
        self.generation += 1
        return self.generation

    def _compute(self, settings, generation, started):
        """Train, place, measure and draw; returns what :meth:`_show` needs.

        Invalid settings and a diverging training raise a ValueError (from
        :func:`arrange_covers`). Warnings are turned into one too, so the
        settings are refused and the last good picture stays: MiniSom's
        warnings are advice, for example sigma not a whole number with
        triangle or bubble.
        """
        settings = dict(settings)
        rows, cols = settings.pop("rows"), settings.pop("cols")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            arrangement = arrange_covers(self.covers, rows, cols, features=self.features,
                                         progress=self._reporter(generation, started),
                                         **settings)
        if caught:
            first = caught[0]
            source = ("MiniSom" if Path(first.filename).stem == "minisom"
                      else first.category.__name__)
            text = _one_line(first.message).removeprefix("Warning: ").rstrip(".")
            text = text.replace("bubbleare", "bubble are")  # a typo in MiniSom's message
            raise ValueError(f"{source} warns: {text}; picture not updated")
        return arrangement, self._mosaic_jpeg(arrangement), self._umatrix_png(arrangement)

    def _show(self, generation, result, started=None):
        """Show a computed result, unless a newer update has started.

        Returns
        -------
        bool
            False if ``generation`` is no longer the newest (the result is
            discarded and the display is left alone).
        """
        if generation != self.generation:
            return False
        arrangement, mosaic_jpeg, umatrix_png = result
        self.arrangement = arrangement
        self.mosaic.value = mosaic_jpeg
        self.umatrix.value = umatrix_png
        self.metrics.value = _metrics_html(arrangement.quality)
        if started is not None:
            self.seconds = time.perf_counter() - started
        took = f" in {self.seconds:.2f} s" if started is not None else ""
        self._say(f"{len(arrangement.covers.names)} covers on a "
                  f"{arrangement.rows}x{arrangement.cols} grid, trained{took}")
        return True

    # -- drawing -------------------------------------------------------------

    def _mosaic_jpeg(self, arrangement):
        """The mosaic at screen size, as JPEG bytes.

        The covers are shrunk once per cell size and then pasted. JPEG, not
        PNG: the covers are photos, and a 600 px mosaic is then about ten
        times smaller and quicker to encode and send.
        """
        border = 2
        images = arrangement.covers.images
        height, width = images.shape[1:3]
        cell_w = max(8, (self.display_width + border) // arrangement.cols - border)
        cell_h = max(8, round(cell_w * height / width))
        if self._thumbs[0] != (cell_w, cell_h):
            small = np.stack([np.asarray(Image.fromarray(image).resize(
                (cell_w, cell_h), Image.Resampling.LANCZOS)) for image in images])
            self._thumbs = ((cell_w, cell_h), small)
        mosaic = make_mosaic(self._thumbs[1], arrangement.placement.positions,
                             arrangement.rows, arrangement.cols, border=border)
        buffer = io.BytesIO()
        Image.fromarray(mosaic).save(buffer, format="JPEG", quality=90)
        return buffer.getvalue()

    def _umatrix_png(self, arrangement):
        """The U-matrix (``som.distance_map()``) as a PNG with title and colour bar."""
        with np.errstate(divide="ignore", invalid="ignore"):  # all weights equal: 0 / 0
            distances = arrangement.trained.som.distance_map(scaling="mean")  # largest is 1
        distances = np.nan_to_num(distances)
        if self._umatrix_plot is None or self._umatrix_plot.shape != distances.shape:
            self._umatrix_plot = _UMatrixPlot(*distances.shape)
        return self._umatrix_plot.png(distances)

    # -- progress and messages -------------------------------------------------

    def _reporter(self, generation, started):
        """A ``progress(done, total)`` callable that shows the bar after a delay."""
        bar = self.progress

        def report(done, total):
            if generation != self.generation:
                return
            if bar.layout.visibility != "visible":
                if time.perf_counter() - started < self.progress_delay or done >= total:
                    return
                bar.max = total
                bar.layout.visibility = "visible"
                self._say(f"training {total} iterations on a {self.rows.value}x"
                          f"{self.cols.value} grid ...")
            bar.value = done
        return report

    def _hide_progress(self, generation):
        if generation == self.generation and self.progress.layout.visibility == "visible":
            self.progress.layout.visibility = "hidden"
            self.progress.value = 0

    def _say(self, text, kind="info"):
        """Put one line in the status area; kind is 'info' or 'error'."""
        colour = {"info": "#444", "error": "#b00020"}[kind]
        mark = "&#9888; " if kind == "error" else ""
        self.message = text
        self.status.value = f'<span style="color:{colour}">{mark}{html.escape(text)}</span>'


def _short_path(path):
    """``path`` relative to the working folder if that is short, else as given.

    The bundled posters then read ``../data/covers`` from ``notebooks/``,
    not a long absolute path that only exists on one machine.
    """
    try:
        relative = os.path.relpath(Path(path).expanduser())
    except ValueError:  # another drive on Windows
        return str(path)
    return relative if relative.split(os.sep).count("..") <= 1 else str(path)


def _one_line(error):
    """The first line of an error or warning message, without the traceback."""
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def _metrics_html(quality):
    """The quality figures as a small HTML table: name, value, what it says."""
    rows = [("QE", f"{quality['quantization_error']:.3f}", "neurons fit the covers: lower is closer",
             "quantization error: mean distance from a cover to its neuron"),
            ("TE", f"{quality['topographic_error']:.3f}", "lower: a smoother map",
             "topographic error: share of covers whose two best neurons are not neighbours"),
            ("DPQ16", f"{quality['dpq16']:.3f}", "similar covers sit close: 1 is perfect",
             "Distance Preservation Quality (Barthel et al. 2023), p = 16")]
    if "same_genre" in quality:
        rows.append(("same genre", f"{quality['same_genre']:.0%}",
                     f"of side-by-side covers (random: {quality['same_genre_random']:.0%})",
                     "share of side-by-side covers with the same genre (data/covers.csv)"))
    cells = "".join(
        f'<tr title="{html.escape(tip)}"><td style="padding:0 8px 0 0"><b>{name}</b></td>'
        f'<td style="padding:0 8px 0 0;text-align:right">{value}</td>'
        f'<td style="color:#666">{html.escape(note)}</td></tr>'
        for name, value, note, tip in rows)
    return f'<table style="line-height:1.5;margin:4px 0">{cells}</table>'


class _UMatrixPlot:
    """A U-matrix figure for one grid size, drawn in full once.

    A matplotlib figure takes about 0.1 s to draw, a fifth of an update.
    Title, axes and colour bar stay the same from map to map, so we keep
    them as a background picture and for each new map paint only the
    cells on top of it (matplotlib's "blitting"), which takes 10 ms.
    """

    def __init__(self, rows, cols):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.shape = (rows, cols)
        width = 3.6
        height = min(6.0, max(2.4, width * 0.8 * rows / cols + 0.9))
        figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
        self.canvas = FigureCanvasAgg(figure)
        self.axes = figure.add_subplot()
        self.image = self.axes.imshow(np.zeros(self.shape), cmap="bone_r", vmin=0, vmax=1,
                                      interpolation="nearest")
        self.axes.set_title("U-matrix: light = similar neighbours,\n"
                            "dark = border between groups", fontsize=9)
        self.axes.set_xlabel("column", fontsize=8)
        self.axes.set_ylabel("row", fontsize=8)
        self.axes.tick_params(labelsize=7)
        bar = figure.colorbar(self.image, ax=self.axes, shrink=0.9)
        bar.set_label("distance to neighbouring neurons\n(share of the largest)", fontsize=8)
        bar.ax.tick_params(labelsize=7)
        self.image.set_visible(False)
        self.canvas.draw()  # lays everything out once, then keeps the layout
        figure.set_layout_engine("none")
        self.background = self.canvas.copy_from_bbox(figure.bbox)
        self.image.set_visible(True)

    def png(self, distances):
        """PNG bytes of the figure showing ``distances`` (rows x cols, 0 to 1)."""
        self.image.set_data(distances)
        self.canvas.restore_region(self.background)
        self.axes.draw_artist(self.image)
        for spine in self.axes.spines.values():  # the frame goes over the cells
            self.axes.draw_artist(spine)
        pixels = np.asarray(self.canvas.buffer_rgba())[..., :3]
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format="PNG", compress_level=1)
        return buffer.getvalue()


def build_explorer(covers=BUNDLED_COVERS, *, display_width=600, progress_delay=0.5):
    """Sliders over the whole pipeline: change a setting, see the new map.

    Parameters
    ----------
    covers : str or Path
        Folder of covers to start with (it can be changed in the explorer).
    display_width : int
        Width in pixels of the mosaic on screen.
    progress_delay : float
        Seconds a training run must last before the progress bar appears.

    Returns
    -------
    Explorer
        End a notebook cell with it to show it; its ``widget`` attribute is
        the ipywidgets box, its other attributes the controls and outputs.
        A folder that cannot be loaded gives a message in the explorer, not
        an exception.
    """
    return Explorer(covers, display_width=display_width, progress_delay=progress_delay)


# ---------------------------------------------------------------------------
# 9. Command line
# ---------------------------------------------------------------------------


def _parser():
    parser = argparse.ArgumentParser(
        prog="python helpers.py",
        description="Arrange a folder of movie covers on a grid with a Self-Organizing Map.")
    parser.add_argument("covers_dir", nargs="?", help="folder of cover images (jpg, png, webp)")
    parser.add_argument("--rows", type=int, help="grid rows (default: smallest near-square grid)")
    parser.add_argument("--cols", type=int, help="grid columns")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument("--out", help="write the grid as a full-resolution PNG here")
    parser.add_argument("--positions", help="write file,row,col of every cover to this CSV")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="default",
                        help="'original' reproduces the 2019 post (default: default)")
    parser.add_argument("--sigma", type=float, help="initial neighbourhood radius")
    parser.add_argument("--learning-rate", type=float, help="initial learning rate")
    parser.add_argument("--iterations", type=int, help="number of training steps")
    parser.add_argument("--neighborhood", choices=NEIGHBORHOODS,
                        help="neighbourhood function")
    parser.add_argument("--placement", choices=PLACEMENTS, default="assignment",
                        help="how covers get cells (default: assignment)")
    parser.add_argument("--border", type=int, default=0, help="pixels between cells in the PNG")
    parser.add_argument("--allow-drop", action="store_true",
                        help="drop covers that do not fit a too-small grid (they are listed)")
    parser.add_argument("--download-originals", metavar="FOLDER",
                        help="download the 100 covers of the 2019 post into FOLDER and stop")
    return parser


def _write_positions(path, names, positions):
    """Write file,row,col for every placed cover, atomically."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["file", "row", "col"])
    writer.writerows([name, r, c] for name, (r, c) in zip(names, positions) if r >= 0)
    _write_atomically(path, text.getvalue().encode("utf-8"))


def main(argv=None):
    """Run the command line; returns the exit code (0 on success)."""
    args = _parser().parse_args(argv)
    if args.download_originals:
        return download_command(args.download_originals)
    if not args.covers_dir:
        _parser().error("give a COVERS_DIR (or --download-originals FOLDER)")
    try:
        if args.border < 0:
            raise ValueError(f"--border must be >= 0, got {args.border}")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            covers, result = _run_cli(args)
        for warning in caught:  # e.g. MiniSom's "sigma might be too high"
            print(f"warning: {str(warning.message).strip()}", file=sys.stderr)
        if args.out:
            save_png(result.mosaic(args.border), args.out)
        if args.positions:
            _write_positions(args.positions, covers.names, result.placement.positions)
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    placed = len(covers.names) - len(result.placement.dropped)
    print(f"{placed} covers on a {result.rows}x{result.cols} grid: {format_quality(result.quality)}")
    return 0


def _run_cli(args):
    """Load, report skipped files, arrange and report dropped covers."""
    covers = load_covers(args.covers_dir)
    for name, reason in covers.skipped:
        print(f"skipped {name}: {reason}", file=sys.stderr)
    result = arrange_covers(
        covers, args.rows, args.cols, preset=args.preset, placement=args.placement,
        seed=args.seed, allow_drop=args.allow_drop, progress=True, sigma=args.sigma,
        learning_rate=args.learning_rate, iterations=args.iterations,
        neighborhood_function=args.neighborhood)
    for index in result.placement.dropped:
        print(f"dropped {covers.names[index]}: no room on the "
              f"{result.rows}x{result.cols} grid", file=sys.stderr)
    return covers, result


if __name__ == "__main__":
    sys.exit(main())
