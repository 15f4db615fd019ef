"""Shared test setup: ``import helpers`` from anywhere, synthetic covers, tidy figures.

Test modules import the cover makers with ``from conftest import ...``:

- ``random_covers`` / ``structured_covers``: uint8 arrays (N, height, width, 3)
- ``write_plain_covers``: one flat colour per cover, PNG, in two sizes
- ``write_striped_covers``: clearly different hues with a stripe each, JPEG
- ``write_family_covers``: four colour families with a dark band, PNG
- ``write_mixed_covers``: gradients with blobs, three sizes, PNG and JPEG, plus a text file
"""
import colorsys
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def pytest_configure(config):
    if not any(line.startswith("slow") for line in config.getini("markers")):
        config.addinivalue_line("markers", "slow: takes more than about 2 s")


@pytest.fixture(autouse=True)
def close_figures():
    """Close every matplotlib figure a test opened (without importing matplotlib)."""
    yield
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


# --- covers as arrays --------------------------------------------------------

def random_covers(n, height, width, seed=0):
    """``n`` covers of uniform noise."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(n, height, width, 3), dtype=np.uint8)


def structured_covers(n, height, width, seed=0):
    """Covers that look alike (a shared gradient plus a little noise), with a
    pixel that never changes and two identical covers: a harder case than
    pure noise, since the covers span fewer directions."""
    rng = np.random.default_rng(seed)
    base = np.linspace(0, 200, height * width * 3).reshape(height, width, 3)
    covers = base + rng.normal(0, 20, size=(n, height, width, 3)) * rng.uniform(0.2, 1, (n, 1, 1, 1))
    covers = np.clip(np.rint(covers), 0, 255).astype(np.uint8)
    covers[:, 0, 0, 0] = 77          # zero variance at one pixel position
    covers[-1] = covers[0]           # a duplicate cover
    return covers


# --- covers as files -----------------------------------------------------------

def write_plain_covers(folder, n=11, seed=3):
    """``n`` flat-colour PNGs ``c00.png`` ...; every third is 40x60, the others 20x30."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        size = (20, 30) if i % 3 else (40, 60)
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        Image.new("RGB", size, colour).save(folder / f"c{i:02d}.png")
    return folder


def write_striped_covers(folder, n=12, size=(16, 24)):
    """``n`` JPEGs ``cover00.jpg`` ... of clearly different hues, each with its own stripe."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    width, height = size
    for i in range(n):
        r, g, b = (int(255 * v) for v in colorsys.hsv_to_rgb(i / n, 0.8, 0.9))
        image = Image.new("RGB", (width, height), (r, g, b))
        image.paste((255 - r, 255 - g, 255 - b), (0, 2 * i % height, width, 2 * i % height + 2))
        image.save(folder / f"cover{i:02d}.jpg", quality=95)
    return folder


def write_family_covers(folder, n=16, seed=1):
    """``n`` 30x45 PNGs ``cover_00.png`` ...: four colour families with a darker band."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    families = np.array([[200, 40, 40], [40, 160, 60], [40, 60, 200], [220, 200, 60]])
    for i in range(n):
        base = families[i % len(families)] + rng.integers(-30, 30, size=3)
        image = np.empty((45, 30, 3), dtype=np.int64)
        image[:] = base
        image[rng.integers(0, 30):, :, :] //= 2  # a darker band at a random height
        image += rng.integers(-10, 10, size=image.shape)
        Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)).save(folder / f"cover_{i:02d}.png")
    return folder


def write_mixed_covers(folder, count=37, seed=42):
    """``count`` covers: gradients with blobs, in three sizes, PNG and JPEG, plus a text file.

    The most common size is 185 x 278; a third of the files are PNG.
    """
    import imageio.v3 as iio

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    sizes = [(185, 278), (185, 278), (200, 300), (150, 225)]  # (width, height)
    for i in range(count):
        width, height = sizes[i % len(sizes)]
        yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
        angle = rng.uniform(0, 2 * np.pi)
        ramp = np.clip((np.cos(angle) * xx + np.sin(angle) * yy) / max(width, height) + 0.5, 0, 1)
        start, end = rng.integers(0, 256, size=(2, 3))
        image = start + (end - start) * ramp[..., None]
        for _ in range(rng.integers(1, 4)):
            cy, cx = rng.uniform(0, height), rng.uniform(0, width)
            radius = rng.uniform(0.1, 0.35) * width
            image[(yy - cy) ** 2 + (xx - cx) ** 2 < radius ** 2] = rng.integers(0, 256, size=3)
        extension = "png" if i % 3 == 0 else "jpg"
        iio.imwrite(folder / f"cover_{i:02d}.{extension}", image.astype(np.uint8))
    (folder / "notes.txt").write_text("not a cover\n")
    return folder
