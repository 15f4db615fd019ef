"""Deterministic test folders for the scaling benchmark (written to benchmarks/work/).

    python benchmarks/make_folders.py            # everything (about 5 minutes on one core)
    python benchmarks/make_folders.py posters    # only the big poster folders
    python benchmarks/make_folders.py varied colour

What it makes (each folder is skipped when it is already complete):

* ``posters_300``, ``posters_1000``, ``posters_3000`` (and ``posters_10000``
  with ``--big``, about 9 minutes and 150 MB more): the project's own posters
  (``data/make_covers.py``), 185x278 JPEG. ``make_covers`` draws at most 1,000
  posters per catalogue, so the 3,000 are three catalogues (seeds 7, 8 and 9,
  files ``s7_poster_000.jpg`` ...) and the 10,000 ten (seeds 7 to 16); the
  smaller folders are the first N in that order (hard links, so they cost no
  disk): every folder is the same whichever is the biggest.
* ``varied_tune`` and ``varied_check``: 100 covers each of "real-world" variety,
  for tuning the arrangement on something other than the bundled posters. A
  mix of sources, sizes and formats: posters of other seeds (some re-scaled to
  other sizes), photo-like scenes (sky/ground gradients with noise textures and
  a sun or moon), portraits (face-like blobs on a backdrop, in colour or black
  and white), typographic covers (text blocks on a flat colour), abstract
  art (stripes, rings, blobs), dark film stills with grain. Both folders are
  drawn by the same generator with different seeds: tune on one, check on the
  other.
* ``colour1024``: the Colour-1024 benchmark of Barthel et al. (2023) as 1,024
  PNG tiles of 8x8 pixels, one random colour each (the paper's
  ``np.random.seed(3); np.random.uniform(0, 255, (32, 32, 3))``, as integers).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORK = HERE / "work"
SIZES = (300, 1000, 3000)
BIG_SIZES = SIZES + (10000,)
POSTER_SEEDS = tuple(range(7, 17))  # one catalogue of 1,000 posters each
W, H = 185, 278


def _poster_module():
    sys.path.insert(0, str(REPO / "data"))
    import make_covers
    return make_covers


def _complete(folder, n):
    return folder.is_dir() and sum(1 for p in folder.iterdir() if not p.name.startswith(".")) == n


def make_posters(work=WORK, sizes=SIZES, log=print):
    """posters_N folders of 185x278 JPEG posters; returns their paths."""
    mc = _poster_module()
    biggest = work / f"posters_{max(sizes)}"
    names = []
    for seed in POSTER_SEEDS[:-(-max(sizes) // 1000)]:
        rows = mc.catalogue(1000, seed)
        for i, row in enumerate(rows[:max(sizes) - len(names)]):
            names.append((seed, i, row))
    if not _complete(biggest, len(names)):
        biggest.mkdir(parents=True, exist_ok=True)
        for k, (seed, i, row) in enumerate(names):
            path = biggest / f"s{seed}_{row['file']}"
            if not path.exists():
                tmp = path.with_name("." + path.name + ".part")
                tmp.write_bytes(mc.jpeg_bytes(mc.render_poster(row, i, seed)))
                os.replace(tmp, path)
            if k % 250 == 249:
                log(f"posters: {k + 1}/{len(names)}")
    files = [f"s{seed}_{row['file']}" for seed, _, row in names]  # in the order drawn
    out = {max(sizes): biggest}
    for n in sizes:
        if n == max(sizes):
            continue
        folder = work / f"posters_{n}"
        if not _complete(folder, n):
            folder.mkdir(parents=True, exist_ok=True)
            for name in files[:n]:
                if not (folder / name).exists():
                    os.link(biggest / name, folder / name)
        out[n] = folder
    return out


def make_colour1024(work=WORK):
    """1,024 8x8 PNG tiles of the paper's random colours; returns the folder."""
    folder = work / "colour1024"
    if _complete(folder, 1024):
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    colours = np.random.RandomState(3).uniform(0, 255, (32, 32, 3)).astype(int).reshape(-1, 3)
    for i, colour in enumerate(colours):
        tile = np.broadcast_to(colour.astype(np.uint8), (8, 8, 3))
        Image.fromarray(np.ascontiguousarray(tile)).save(folder / f"colour_{i:04d}.png")
    return folder


def colour1024_values():
    """The same 1,024 colours as a (1024, 3) float array, in file order."""
    return np.random.RandomState(3).uniform(0, 255, (32, 32, 3)).astype(int).reshape(-1, 3).astype(float)


# --------------------------------------------------------------------------
# The varied collection
# --------------------------------------------------------------------------

def _grid(h, w):
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    return y / h, x / w


def _noise(rng, h, w, cells, octaves=4):
    """Smooth value noise in [0, 1] (bilinear upsampling of random grids)."""
    out = np.zeros((h, w), np.float32)
    total = 0.0
    for o in range(octaves):
        c = int(cells * 2 ** o) + 1
        small = Image.fromarray((rng.random((c, c)) * 255).astype(np.uint8))
        big = np.asarray(small.resize((w, h), Image.BILINEAR), np.float32) / 255
        out += big / 2 ** o
        total += 1 / 2 ** o
    return out / total


def _palette(rng):
    hue = rng.random()
    base = np.array([np.cos(2 * np.pi * (hue + k / 3)) for k in range(3)]) * 0.5 + 0.5
    return base * rng.uniform(0.3, 1.0) + rng.uniform(0, 0.3)


def _blend(img, colour, mask):
    return img * (1 - mask[..., None]) + np.asarray(colour)[None, None, :] * mask[..., None]


def _ellipse(h, w, cy, cx, ry, rx, soft=0.03):
    y, x = _grid(h, w)
    r = ((y - cy) / ry) ** 2 + ((x - cx) / rx) ** 2
    return np.clip((1 - r) / (soft / min(rx, ry) + 1e-6), 0, 1)


def _landscape(rng, h, w):
    y, _ = _grid(h, w)
    sky0, sky1, ground = _palette(rng), _palette(rng), _palette(rng) * 0.6
    horizon = rng.uniform(0.45, 0.8)
    t = np.clip(y / horizon, 0, 1)[..., None]
    img = sky0 * (1 - t) + sky1 * t
    ridge = horizon + 0.08 * (_noise(rng, 1, w, 3)[0] - 0.5)
    land = (y > ridge[None, :]).astype(np.float32)
    img = _blend(img, ground, land)
    img *= (0.8 + 0.4 * _noise(rng, h, w, 6))[..., None]
    sun = _ellipse(h, w, rng.uniform(0.1, 0.4), rng.uniform(0.2, 0.8), 0.06, 0.09)
    return _blend(img, _palette(rng) * 0.5 + 0.5, sun * rng.uniform(0.5, 1))


def _portrait(rng, h, w):
    img = np.ones((h, w, 3)) * _palette(rng) * rng.uniform(0.2, 1.0)
    img *= (0.85 + 0.3 * _noise(rng, h, w, 2))[..., None]
    skin = np.array([0.9, 0.7, 0.55]) * rng.uniform(0.45, 1.05)
    for _ in range(rng.integers(1, 4)):
        cx, cy, s = rng.uniform(0.25, 0.75), rng.uniform(0.3, 0.6), rng.uniform(0.12, 0.25)
        img = _blend(img, _palette(rng) * 0.5, _ellipse(h, w, cy + 2.2 * s, cx, 1.3 * s, 1.6 * s))
        img = _blend(img, skin, _ellipse(h, w, cy, cx, s, 0.75 * s * h / w * 0.66))
        for dx in (-0.25, 0.25):
            img = _blend(img, [0.1, 0.08, 0.08], _ellipse(h, w, cy - 0.15 * s, cx + dx * s, 0.08 * s, 0.1 * s))
        img = _blend(img, [0.12, 0.1, 0.08], _ellipse(h, w, cy - 0.85 * s, cx, 0.4 * s, 0.8 * s * h / w * 0.66))
    if rng.random() < 0.35:  # black and white
        img = img.mean(axis=2, keepdims=True).repeat(3, axis=2)
    return img


def _typographic(rng, h, w):
    back, ink = _palette(rng), _palette(rng)
    if rng.random() < 0.5:
        back, ink = back * 0.2, ink * 0.5 + 0.5
    img = np.ones((h, w, 3)) * back
    y = rng.uniform(0.05, 0.2)
    while y < 0.95:
        line_h = rng.uniform(0.02, 0.09)
        x0, x1 = rng.uniform(0.05, 0.3), rng.uniform(0.6, 0.95)
        words = np.zeros((h, w), np.float32)
        r0, r1 = int(y * h), int((y + line_h) * h)
        x = x0
        while x < x1:
            ww = rng.uniform(0.04, 0.2)
            words[r0:r1, int(x * w):int(min(x + ww, x1) * w)] = 1
            x += ww + 0.03
        img = _blend(img, ink, words * rng.uniform(0.6, 1))
        y += line_h + rng.uniform(0.01, 0.12)
    return img


def _abstract(rng, h, w):
    y, x = _grid(h, w)
    kind = rng.integers(3)
    a, b = _palette(rng), _palette(rng)
    if kind == 0:
        t = 0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(2, 10) * (x * np.cos(rng.random() * 3) + y))
    elif kind == 1:
        t = 0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(3, 12) * np.hypot(x - rng.random(), y - rng.random()))
    else:
        t = (_noise(rng, h, w, rng.uniform(1, 4)) > 0.5).astype(np.float32)
    return a * t[..., None] + b * (1 - t[..., None])


def _dark_still(rng, h, w):
    img = np.ones((h, w, 3)) * _palette(rng) * 0.15
    light = _ellipse(h, w, rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.5), rng.uniform(0.3, 0.6), 0.5)
    img = _blend(img, _palette(rng) * 0.6, light * 0.7)
    return img + rng.normal(0, 0.06, (h, w, 1))


_KINDS = (_landscape, _portrait, _typographic, _abstract, _dark_still)
_SIZES = ((185, 278), (182, 268), (300, 450), (200, 300), (140, 210), (185, 278))


def make_varied(folder, n=100, seed=1, log=print):
    """``n`` covers of mixed kinds, sizes and formats into ``folder``."""
    folder = Path(folder)
    if _complete(folder, n):
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    mc = _poster_module()
    rows = mc.catalogue(1000, 100 + seed)
    for i in range(n):
        rng = np.random.default_rng([seed, i])
        kind = rng.integers(len(_KINDS) + 2)  # posters count twice: the likeliest source
        w, h = _SIZES[rng.integers(len(_SIZES))]
        if kind >= len(_KINDS):
            image = mc.render_poster(rows[i], i, 100 + seed)
            if (w, h) != image.size:
                image = image.resize((w, h), Image.LANCZOS)
        else:
            pixels = _KINDS[kind](rng, h, w)
            image = Image.fromarray(np.clip(pixels * 255, 0, 255).astype(np.uint8))
        suffix = ".png" if rng.random() < 0.2 else ".jpg"
        path = folder / f"cover_{i:03d}{suffix}"
        tmp = path.with_name("." + path.name + ".part")
        if suffix == ".png":
            image.save(tmp, format="PNG")
        else:
            image.save(tmp, format="JPEG", quality=int(rng.integers(70, 95)))
        os.replace(tmp, path)
    log(f"varied: {n} covers in {folder}")
    return folder


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", nargs="*", choices=["posters", "varied", "colour"], default=[])
    parser.add_argument("--work", default=str(WORK), help="where to write (default benchmarks/work)")
    parser.add_argument("--big", action="store_true", help="posters_10000 too (about 9 minutes)")
    args = parser.parse_args(argv)
    what = set(args.what) or {"posters", "varied", "colour"}
    work = Path(args.work)
    log = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    if "colour" in what:
        log(f"colour: {make_colour1024(work)}")
    if "varied" in what:
        make_varied(work / "varied_tune", seed=1, log=log)
        make_varied(work / "varied_check", seed=2, log=log)
    if "posters" in what:
        for n, folder in sorted(make_posters(work, BIG_SIZES if args.big else SIZES, log=log).items()):
            log(f"posters: {n} in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
