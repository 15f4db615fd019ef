"""Tests of the bundled synthetic poster collection (data/covers, data/covers.csv)
and of its generator, data/make_covers.py.

Run with:  python -m pytest tests/test_posters.py -q
"""
from __future__ import annotations

import csv
import importlib.util
import io
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"
COVERS = DATA / "covers"
CATALOGUE = DATA / "covers.csv"
SHEET = DATA / "contact_sheet.jpg"
SCRIPT = DATA / "make_covers.py"


@pytest.fixture(scope="module")
def gen():
    """The generator module, imported from its file (data/ is not a package)."""
    spec = importlib.util.spec_from_file_location("make_covers", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def rows():
    with open(CATALOGUE, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def pixels(rows):
    """All committed posters, decoded, in catalogue order: (100, 278, 185, 3) float32."""
    return np.stack([np.asarray(Image.open(COVERS / r["file"]), np.float32) for r in rows])


@pytest.fixture(scope="module")
def genres(rows):
    return np.array([r["genre"] for r in rows])


# ---------------------------------------------------------------------------
# The files
# ---------------------------------------------------------------------------

def test_one_hundred_185x278_rgb_jpegs():
    files = sorted(COVERS.iterdir())
    assert len(files) == 100, [f.name for f in files][:5]
    for f in files:
        with Image.open(f) as im:
            assert im.format == "JPEG", f.name
            assert im.size == (185, 278), f.name      # width x height, as in the 2019 post
            assert im.mode == "RGB", f.name


def test_file_names_do_not_reveal_the_genre(gen):
    for f in COVERS.iterdir():
        assert re.fullmatch(r"poster_\d{3}\.jpg", f.name), f.name
        assert not any(g in f.name for g in gen.GENRES)


@pytest.mark.parametrize("seed", [0, 1, 7, 42, 123])
def test_a_students_random_layout_is_not_sorted_by_genre(genres, seed):
    """The file order must not line up with common seeds: a 'random' 10x10 layout
    made with default_rng(seed).permutation stays near the random same-genre share."""
    order = np.random.default_rng(seed).permutation(100)
    cell_holds = genres[order]              # cell k holds cover order[k]
    cover_at = np.empty_like(genres)
    cover_at[order] = genres                # cover i goes to cell order[i]
    for layout in (cell_holds, cover_at):
        grid = layout.reshape(10, 10)
        same = np.concatenate([(grid[:, 1:] == grid[:, :-1]).ravel(), (grid[1:] == grid[:-1]).ravel()])
        assert same.mean() < 0.25, f"seed {seed}: {same.mean():.0%} of neighbours share a genre"


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(gen, tmp_path, monkeypatch):
    """The generator writes each poster to a hidden temporary file and renames it;
    when the rename fails, the old poster stays and the temporary file is removed."""
    name = gen.catalogue(100, 42)[0]["file"]
    (tmp_path / name).write_bytes(b"old poster")

    def fail(source, target):
        raise OSError("disk full")

    monkeypatch.setattr(gen.os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        gen.make_covers(tmp_path, indices=[0])
    assert [p.name for p in tmp_path.iterdir()] == [name]
    assert (tmp_path / name).read_bytes() == b"old poster"


def test_sizes():
    total = sum(f.stat().st_size for f in COVERS.iterdir())
    assert total < 3_000_000, f"posters take {total} bytes"
    assert SHEET.stat().st_size < 400_000
    with Image.open(SHEET) as im:
        assert im.format == "JPEG"
        # 10 x 10 thumbnails of 92 x 139 with gutters
        assert 920 <= im.width <= 1000 and 1390 <= im.height <= 1480, im.size


# ---------------------------------------------------------------------------
# The catalogue
# ---------------------------------------------------------------------------

def test_catalogue_lists_exactly_the_files_in_sorted_order(rows):
    with open(CATALOGUE, newline="", encoding="utf-8") as f:
        header = next(csv.reader(f))
    assert header[:3] == ["file", "title", "genre"]
    listed = [r["file"] for r in rows]
    assert listed == sorted(listed)
    assert listed == sorted(p.name for p in COVERS.iterdir())


def test_catalogue_genres_and_titles(rows):
    counts = Counter(r["genre"] for r in rows)
    assert 9 <= len(counts) <= 10, counts
    assert min(counts.values()) >= 8, counts
    titles = [r["title"] for r in rows]
    assert all(t.strip() for t in titles)
    assert len(set(titles)) == len(titles), "titles must be unique"


def test_default_seed_reproduces_the_committed_catalogue(gen, rows):
    assert gen.catalogue(100, 42) == rows


# ---------------------------------------------------------------------------
# The generator
# ---------------------------------------------------------------------------

def _decoded(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path), np.int16)


@pytest.mark.slow  # renders posters
def test_same_seed_same_pixels_other_seed_other_pixels(gen, tmp_path):
    some = [0, 1, 2]
    a = gen.make_covers(tmp_path / "a", seed=42, indices=some)
    b = gen.make_covers(tmp_path / "b", seed=42, indices=some)
    c = gen.make_covers(tmp_path / "c", seed=7, indices=some)
    assert a == b
    for row in a:
        assert np.array_equal(_decoded(tmp_path / "a" / row["file"]), _decoded(tmp_path / "b" / row["file"]))
        assert (tmp_path / "a" / row["file"]).read_bytes() == (tmp_path / "b" / row["file"]).read_bytes()
        assert not np.array_equal(_decoded(tmp_path / "a" / row["file"]), _decoded(tmp_path / "c" / row["file"]))
    assert [p.name for p in (tmp_path / "a").iterdir() if p.suffix != ".jpg"] == []


@pytest.mark.slow  # renders posters
def test_committed_posters_match_a_fresh_render(gen, rows):
    """One poster per genre, re-rendered with the default seed, JPEG-encoded the
    same way, decodes to (nearly) the committed pixels. The tolerance allows
    for a different libjpeg build; with the same one the bytes are identical."""
    first_of_genre = {}
    for i, r in enumerate(rows):
        first_of_genre.setdefault(r["genre"], i)
    for genre, i in first_of_genre.items():
        fresh = Image.open(io.BytesIO(gen.jpeg_bytes(gen.render_poster(rows[i], i, 42))))
        diff = np.abs(np.asarray(fresh, np.int16) - _decoded(COVERS / rows[i]["file"]))
        assert diff.mean() < 1.0 and np.percentile(diff, 99) <= 8, (genre, rows[i]["file"], diff.mean())


def test_bad_arguments_are_rejected(gen, tmp_path):
    with pytest.raises(ValueError):
        gen.catalogue(0, 42)
    with pytest.raises(ValueError):
        gen.catalogue(10, -1)
    with pytest.raises(ValueError):
        gen.make_covers(tmp_path, n=10, indices=[10])


@pytest.mark.parametrize("args", [["--n", "0"], ["--seed", "abc"]])
def test_command_line_errors_are_one_line_without_traceback(args, tmp_path):
    proc = subprocess.run([sys.executable, str(SCRIPT), *args, "--out", str(tmp_path / "covers")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert not (tmp_path / "covers").exists() or not any((tmp_path / "covers").iterdir())


# ---------------------------------------------------------------------------
# What the posters look like
# ---------------------------------------------------------------------------

def test_posters_are_pictures_not_flat_fills(pixels):
    luminance = pixels.mean(axis=3)
    for k, lum in enumerate(luminance):
        assert lum.std() > 15, k                                  # has contrast
        assert np.percentile(lum, 95) - np.percentile(lum, 5) > 40, k


# Each genre's palette signature, tested on mean colour (r, g, b) and mean
# chroma (|r-g| + |g-b|) of its standard (non-variant) posters.
SIGNATURES = {
    "horror": lambda r, g, b, c: r > 1.8 * g and r < 100,            # dark red
    "scifi": lambda r, g, b, c: b > r and b > g and b < 130,          # deep blue
    "western": lambda r, g, b, c: r > g > b and r > 110,              # orange
    "romance": lambda r, g, b, c: r > 220 and b > g,                  # pink pastel
    "noir": lambda r, g, b, c: c < 3,                                 # greyscale
    "animation": lambda r, g, b, c: c > 100,                          # saturated
    "war": lambda r, g, b, c: abs(r - g) < 10 and b < g - 10 and r < 110,  # olive
    "ocean": lambda r, g, b, c: g > r + 20 and b > r + 20,            # teal
    "comedy": lambda r, g, b, c: r > 190 and g > 180 and b < 160,     # bright yellow
    "fantasy": lambda r, g, b, c: b > g and b > r,                    # violet
}


def test_each_genre_has_its_palette_signature(rows, pixels):
    for row, px in zip(rows, pixels):
        if row.get("variant", "standard") != "standard" or row["genre"] not in SIGNATURES:
            continue
        r, g, b = px.reshape(-1, 3).mean(axis=0)
        chroma = np.abs(px[..., 0] - px[..., 1]).mean() + np.abs(px[..., 1] - px[..., 2]).mean()
        assert SIGNATURES[row["genre"]](r, g, b, chroma), (row["file"], row["genre"], (r, g, b, chroma))


@pytest.fixture(scope="module")
def small(pixels):
    """Posters box-averaged 5 x 5 (to 55 x 37), flattened: the scale a SOM sees."""
    n = len(pixels)
    cropped = pixels[:, :275, :185]
    return cropped.reshape(n, 55, 5, 37, 5, 3).mean(axis=(2, 4)).reshape(n, -1)


def test_genre_is_a_visible_signal(small, genres):
    d = np.sqrt(((small[:, None] - small[None]) ** 2).sum(-1))
    same = genres[:, None] == genres[None]
    off_diagonal = ~np.eye(len(genres), dtype=bool)
    intra, inter = d[same & off_diagonal].mean(), d[~same].mean()
    assert intra < 0.8 * inter, (intra, inter)


def test_genre_is_not_a_trivial_pixel_signal(small, pixels, genres):
    """Designed overlaps: some posters sit closer to another genre."""
    # nearest neighbour in pixel space
    d = np.sqrt(((small[:, None] - small[None]) ** 2).sum(-1))
    np.fill_diagonal(d, np.inf)
    nn_accuracy = (genres[d.argmin(axis=1)] == genres).mean()
    # nearest centroid on the mean colour alone
    mean_rgb = pixels.reshape(len(pixels), -1, 3).mean(axis=1)
    names = sorted(set(genres))
    centroids = np.stack([mean_rgb[genres == g].mean(axis=0) for g in names])
    predicted = np.array(names)[np.linalg.norm(mean_rgb[:, None] - centroids[None], axis=2).argmin(axis=1)]
    colour_accuracy = (predicted == genres).mean()
    assert 0.5 < nn_accuracy < 1.0, nn_accuracy
    assert 0.5 < colour_accuracy < 1.0, colour_accuracy
