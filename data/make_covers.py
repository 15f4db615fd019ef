"""Generate the project's own synthetic movie posters (CC0 1.0).

The 2019 post "Organizing movie covers with Neural Networks" arranged the
covers of the IMDB top 100 on a Self-Organizing Map. Those covers are
copyrighted, so this project ships 100 posters of its own, drawn here with
numpy and Pillow only. Each poster is 185 x 278 pixels (the size of the
originals): a background scene, a dominant motif, and a title band with a
made-up title, tagline and billing block.

Ten genres, ten posters each, every genre with a visual signature (palette,
composition, motif). A few posters per genre are drawn as a deliberate
*variant* that borrows from a neighbouring genre (a dark red sci-fi poster next
to horror, a sunset sea next to the western, a pastel cartoon next to
romance...), so a map trained on them shows gradients as well as clusters.
File names (``poster_000.jpg``...) are in a shuffled order and do not reveal
the genre: the SOM has to discover it.

Determinism: every random draw comes from ``np.random.default_rng([seed, i])``
for poster ``i`` (the catalogue uses ``np.random.default_rng([seed, CATALOGUE_STREAM])``,
not ``default_rng(seed)``: that is the generator a student would pick for a
"random" layout, and its permutation would then sort the posters by genre). Text
is drawn with the 5 x 7 bitmap font defined below, not with a system or
FreeType font, because font rasterisation differs between FreeType versions.
(``ImageFont.load_default(size=...)`` does work offline with Pillow >= 10.1,
it renders an embedded copy of Aileron through FreeType, but its pixels depend
on the FreeType build.)

Usage::

    python data/make_covers.py                      # data/covers, covers.csv, contact_sheet.jpg
    python data/make_covers.py --seed 7 --out /tmp/covers

or from Python::

    from make_covers import make_covers
    rows = make_covers("data/covers", n=100, seed=42)
"""
from __future__ import annotations

import argparse
import csv
import io
import math
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

W, H = 185, 278          # poster size of the 2019 post (width x height)
SS = 2                   # supersampling factor for anti-aliased shapes
JPEG_QUALITY = 87
DEFAULT_SEED = 42
DEFAULT_N = 100
HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "covers"

GENRES = (
    "horror", "scifi", "western", "romance", "noir",
    "animation", "war", "ocean", "comedy", "fantasy",
)

# Within-genre ordinal -> variant. Variants are the designed overlaps between
# genres; every other poster is "standard".
VARIANTS = {
    "horror": {3: "pale"},                       # washed-out, near noir
    "scifi": {1: "dark", 4: "dark"},             # black and red, near horror/noir
    "western": {2: "dusk"},                      # purple dusk, near fantasy
    "romance": {3: "sunset"},                    # peach/orange, near western/ocean
    "noir": {2: "red"},                          # one red accent, near horror
    "animation": {1: "pastel", 6: "pastel"},     # pastel sky, near romance
    "war": {4: "fire"},                          # orange blaze, near western
    "ocean": {0: "sunset", 5: "sunset"},         # orange sky, near western
    "comedy": {5: "white"},                      # mostly white, near animation
    "fantasy": {3: "night"},                     # blue night, near sci-fi
}

# ---------------------------------------------------------------------------
# Titles
# ---------------------------------------------------------------------------

WORDS = {
    "horror": (["CRIMSON", "HOLLOW", "SILENT", "WICKED", "PALE", "BURIED", "ROTTEN", "HUNGRY", "BLACK"],
               ["CELLAR", "WHISPER", "MARSH", "CHAPEL", "HARVEST", "MIRROR", "ORCHARD", "LULLABY", "ATTIC", "WELL"],
               ["THE DAMNED", "NO RETURN", "ASHES", "THE DEEP WOODS", "BONES"]),
    "scifi": (["DISTANT", "FROZEN", "HOLLOW", "LAST", "SILENT", "NEON", "BROKEN", "OUTER"],
              ["ORBIT", "SIGNAL", "HORIZON", "COLONY", "NEBULA", "DRIFT", "ECLIPSE", "VECTOR", "MOON", "ARRAY"],
              ["TITAN", "THE VOID", "KEPLER NINE", "ANDROMEDA", "THE STARS"]),
    "western": (["DUSTY", "LONG", "IRON", "BROKEN", "RED", "LONESOME", "HIGH", "DRY"],
                ["CANYON", "TRAIL", "SADDLE", "GULCH", "RIDGE", "SPUR", "CREEK", "FRONTIER", "MESA"],
                ["SANTA ROSA", "COYOTE HILL", "THE PLAINS", "DEADWATER", "LAREDO"]),
    "romance": (["SECOND", "PAPER", "SUMMER", "TENDER", "GOLDEN", "ENDLESS", "LITTLE", "SWEET"],
                ["LETTERS", "KISS", "PROMISE", "AFTERNOON", "WALTZ", "BLOSSOM", "VOWS", "GARDEN"],
                ["VERONA", "THE HEART", "APRIL", "PARIS", "YOU"]),
    "noir": (["NAKED", "SHADOW", "DOUBLE", "DEAD", "CROOKED", "MIDNIGHT", "COLD", "STOLEN"],
             ["ALIBI", "STREET", "DEAL", "WITNESS", "CITY", "CROSSING", "HOTEL", "LEDGER"],
             ["THE DOCKS", "RAIN", "BROKEN GLASS", "THE NIGHT", "ROOM 9"]),
    "animation": (["LITTLE", "BIG", "BOUNCY", "SUNNY", "TINY", "HAPPY", "MAGIC", "SILLY"],
                  ["BLOB", "ROBOT", "PEBBLE", "BUBBLE", "JELLY", "BUTTON", "MUFFIN", "SPROUT"],
                  ["THE MEADOW", "TOYLAND", "CLOUDTOWN", "THE MOON", "JUNGLE"]),
    "war": (["IRON", "LAST", "STEEL", "BRAVE", "GREY", "BLOODY", "SILENT", "FORGOTTEN"],
            ["BATTALION", "TRENCH", "FRONT", "SQUADRON", "HILL", "BRIDGE", "PLATOON", "DIVISION"],
            ["THE RIVER", "VERDUN", "THE RIDGE", "NORMANDY", "HONOUR"]),
    "ocean": (["DEEP", "SALT", "WILD", "RESTLESS", "OPEN", "SUNKEN", "LOST", "BLUE"],
              ["TIDE", "HARBOUR", "VOYAGE", "REEF", "CURRENT", "ANCHOR", "LAGOON", "SHIPWRECK"],
              ["THE ATLANTIC", "CAPE HORN", "THE ISLES", "THE SEA", "CORAL BAY"]),
    "comedy": (["ROWDY", "SUPER", "CRAZY", "LUCKY", "BAD", "ODD", "MEGA", "DOUBLE"],
               ["ROOMMATES", "WEDDING", "VACATION", "UNCLES", "NEIGHBOURS", "HOLIDAY", "INTERNS", "ROADTRIP"],
               ["MY BOSS", "THE SUBURBS", "CAMP LOLA", "THE OFFICE", "GRANDMA"]),
    "fantasy": (["SILVER", "ELDER", "HIDDEN", "ENCHANTED", "SUNKEN", "STORM", "EMERALD", "WILD"],
                ["CROWN", "KINGDOM", "DRAGON", "SPELL", "TOWER", "BLADE", "FOREST", "ORACLE"],
                ["AVALOR", "THE MISTS", "THORNWALD", "THE NORTH", "ELDERMOOR"]),
}

TAGLINES = {
    "horror": ["SOME DOORS STAY SHUT", "DO NOT LOOK BACK", "IT KNOWS YOUR NAME", "NOBODY LEAVES"],
    "scifi": ["BEYOND THE LAST STAR", "SPACE IS NOT EMPTY", "THE SIGNAL IS REAL", "NO WAY HOME"],
    "western": ["ONE TOWN. ONE SHOT.", "THE LAW IS A MAN", "RIDE OR DIE", "DUST NEVER SETTLES"],
    "romance": ["SOME HEARTS FIND THEIR WAY", "ONE SUMMER. FOREVER.", "LOVE TAKES TIME", "JUST SAY YES"],
    "noir": ["EVERYBODY HAS A PRICE", "TRUST NO ONE", "THE CITY NEVER SLEEPS", "SHE LIED"],
    "animation": ["A BIG LITTLE ADVENTURE", "FUN FOR EVERYONE", "SMALL HERO. BIG HEART.", "HOLD ON TIGHT!"],
    "war": ["NO ONE COMES BACK THE SAME", "HOLD THE LINE", "BROTHERS IN ARMS", "THE LONGEST DAY"],
    "ocean": ["THE SEA REMEMBERS", "ADVENTURE HAS NO SHORE", "FOLLOW THE TIDE", "ALL HANDS ON DECK"],
    "comedy": ["WHAT COULD GO WRONG?", "THEY HAD ONE JOB", "TROUBLE. DOUBLED.", "NO REFUNDS"],
    "fantasy": ["THE LEGEND AWAKENS", "MAGIC HAS A PRICE", "ONE CROWN. ONE FATE.", "BEYOND THE MISTS"],
}

FIRST = ["ANNA", "LEO", "MAYA", "OSCAR", "NINA", "HUGO", "IRIS", "JONAS", "CLARA", "MILO",
         "VERA", "FELIX", "LUCIA", "AXEL", "RUTH", "OTTO", "EMMA", "IVAN", "SARA", "TEO"]
LAST = ["MORENO", "BLAKE", "QUINN", "HALE", "ROSSI", "VANCE", "LINDQVIST", "OKAFOR", "PARK",
        "NOVAK", "DUARTE", "KELLER", "MARSH", "ABARA", "FINCH", "SATO", "WELLS", "IVERS"]


# What each poster shows, per genre. The catalogue deals motifs from a
# shuffled deck so every genre shows all of its motifs.
MOTIFS = {
    "horror": ("haunted house", "hooded figure", "pale face", "reaching hand"),
    "scifi": ("starship", "astronaut"),
    "western": ("gunslinger", "duel", "saguaro"),
    "romance": ("couple", "heart", "dancer"),
    "noir": ("detective", "street lamp", "femme fatale"),
    "animation": ("round hero", "hero and sidekick"),
    "war": ("platoon", "tank", "soldier"),
    "ocean": ("tall ship", "whale", "lighthouse"),
    "comedy": ("solo", "duo", "trio"),
    "fantasy": ("castle", "dragon"),
}


def _deck(items, rng: np.random.Generator):
    """Yield items forever, reshuffled on every pass (so repeats are spread out)."""
    while True:
        for k in rng.permutation(len(items)):
            yield items[k]


def _title_key(title: str) -> str:
    """Titles that differ only by "THE", "OF" or a sequel number count as the same."""
    return " ".join(sorted(w for w in title.split() if w not in ("THE", "OF") and not w.isdigit()))


def make_title(genre: str, rng: np.random.Generator, decks: dict) -> str:
    """A made-up title from the genre's word decks (adjectives, nouns, places)."""
    adjective, noun, place = (next(decks[genre][k]) for k in range(3))
    form = rng.choice(6, p=[0.22, 0.30, 0.15, 0.13, 0.12, 0.08])
    if form == 0:
        return f"THE {adjective} {noun}"
    if form == 1:
        return f"{adjective} {noun}"
    if form == 2:
        return f"{noun} OF {place}"
    if form == 3:
        return f"THE {noun}"
    if form == 4:
        return place
    return f"{adjective} {noun} {rng.integers(2, 4)}"


CATALOGUE_STREAM = 10**6  # far from any poster index: its own random stream


def catalogue(n: int = DEFAULT_N, seed: int = DEFAULT_SEED) -> list[dict]:
    """The catalogue rows (file, title, genre, variant, motif) without drawing anything.

    Genres are dealt round-robin (so ``n=100`` gives ten of each) and then
    shuffled with the master seed, so that file order does not reveal genre.
    Titles are unique (also ignoring "THE", "OF" and sequel numbers).
    """
    _check_args(n, seed)
    rng = np.random.default_rng([seed, CATALOGUE_STREAM])
    genres = [GENRES[i % len(GENRES)] for i in range(n)]
    genres = [genres[i] for i in rng.permutation(n)]
    decks = {g: [_deck(words, rng) for words in WORDS[g]] for g in GENRES}
    motifs = {g: _deck(MOTIFS[g], rng) for g in GENRES}
    seen: set[str] = set()
    ordinal = {g: 0 for g in GENRES}
    rows = []
    for i, genre in enumerate(genres):
        for _ in range(1000):
            title = make_title(genre, rng, decks)
            if _title_key(title) not in seen:
                break
        else:  # pragma: no cover - only for n far beyond the word lists
            title = f"{title} {i}"
        seen.add(_title_key(title))
        variant = VARIANTS[genre].get(ordinal[genre], "standard")
        ordinal[genre] += 1
        rows.append({"file": f"poster_{i:03d}.jpg", "title": title, "genre": genre,
                     "variant": variant, "motif": next(motifs[genre])})
    return rows


def _check_args(n, seed) -> None:
    """Validate n and seed; raise ValueError with a message a user can act on."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= 1000:
        raise ValueError(f"n must be an integer between 1 and 1000, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")


# ---------------------------------------------------------------------------
# A 5 x 7 bitmap font (so text is identical on every install)
# ---------------------------------------------------------------------------

_FONT_SRC = """
A .###. #...# #...# ##### #...# #...# #...#
B ####. #...# #...# ####. #...# #...# ####.
C .###. #...# #.... #.... #.... #...# .###.
D ####. #...# #...# #...# #...# #...# ####.
E ##### #.... #.... ####. #.... #.... #####
F ##### #.... #.... ####. #.... #.... #....
G .###. #...# #.... #.### #...# #...# .####
H #...# #...# #...# ##### #...# #...# #...#
I .###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.
J ..### ...#. ...#. ...#. ...#. #..#. .##..
K #...# #..#. #.#.. ##... #.#.. #..#. #...#
L #.... #.... #.... #.... #.... #.... #####
M #...# ##.## #.#.# #.#.# #...# #...# #...#
N #...# #...# ##..# #.#.# #..## #...# #...#
O .###. #...# #...# #...# #...# #...# .###.
P ####. #...# #...# ####. #.... #.... #....
Q .###. #...# #...# #...# #.#.# #..#. .##.#
R ####. #...# #...# ####. #.#.. #..#. #...#
S .#### #.... #.... .###. ....# ....# ####.
T ##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..
U #...# #...# #...# #...# #...# #...# .###.
V #...# #...# #...# #...# #...# .#.#. ..#..
W #...# #...# #...# #.#.# #.#.# #.#.# .#.#.
X #...# #...# .#.#. ..#.. .#.#. #...# #...#
Y #...# #...# .#.#. ..#.. ..#.. ..#.. ..#..
Z ##### ....# ...#. ..#.. .#... #.... #####
0 .###. #...# #..## #.#.# ##..# #...# .###.
1 ..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.
2 .###. #...# ....# ...#. ..#.. .#... #####
3 ####. ....# ....# .###. ....# ....# ####.
4 ...#. ..##. .#.#. #..#. ##### ...#. ...#.
5 ##### #.... ####. ....# ....# #...# .###.
6 ..##. .#... #.... ####. #...# #...# .###.
7 ##### ....# ...#. ..#.. .#... .#... .#...
8 .###. #...# #...# .###. #...# #...# .###.
9 .###. #...# #...# .#### ....# ...#. .##..
' ..#.. ..#.. .#... ..... ..... ..... .....
- ..... ..... ..... .###. ..... ..... .....
. ..... ..... ..... ..... ..... .##.. .##..
: ..... .##.. .##.. ..... .##.. .##.. .....
& .##.. #..#. #.#.. .#... #.#.# #..#. .##.#
! ..#.. ..#.. ..#.. ..#.. ..#.. ..... ..#..
? .###. #...# ....# ...#. ..#.. ..... ..#..
"""
FONT = {" ": np.zeros((7, 5), bool)}
for _line in _FONT_SRC.strip().splitlines():
    _char, *_rows = _line.split()
    FONT[_char] = np.array([[c == "#" for c in r] for r in _rows], bool)


def text_bitmap(text: str, sx: int = 1, sy: int = 1, spacing: int = 1,
                bold: bool = False, shear: float = 0.0) -> np.ndarray:
    """Render one line of text as a boolean array using the 5 x 7 font.

    ``sx``/``sy`` scale each font pixel, ``spacing`` is the gap between letters
    in font pixels, ``bold`` thickens strokes by one pixel, ``shear`` slants
    the letters (pixels of horizontal shift per pixel of height).
    """
    glyphs = []
    for char in text.upper():
        glyphs.append(FONT.get(char, FONT["?"]))
        glyphs.append(np.zeros((7, spacing), bool))
    line = np.concatenate(glyphs[:-1], axis=1) if glyphs else np.zeros((7, 1), bool)
    line = np.repeat(np.repeat(line, sy, axis=0), sx, axis=1)
    if bold:
        line = np.pad(line, ((0, 0), (0, 1)))
        line = line | np.roll(line, 1, axis=1)
    if shear:
        h = line.shape[0]
        extra = int(math.ceil(shear * h))
        out = np.zeros((h, line.shape[1] + extra), bool)
        for r in range(h):
            shift = int(round((h - 1 - r) * shear))
            out[r, shift:shift + line.shape[1]] = line[r]
        line = out
    return line


# ---------------------------------------------------------------------------
# Drawing primitives (float32 RGB arrays in 0..255)
# ---------------------------------------------------------------------------

_YY, _XX = np.mgrid[0:H, 0:W].astype(np.float32)


def col(rgb, rng: np.random.Generator | None = None, jitter: float = 0.0) -> np.ndarray:
    """An RGB colour as float32, optionally jittered per channel."""
    c = np.asarray(rgb, np.float32)
    if rng is not None and jitter:
        c = c * (1 + rng.normal(0, jitter * 0.35)) + rng.normal(0, jitter * 40, 3)
    return np.clip(c, 0, 255).astype(np.float32)


def gradient(stops, y0: float = 0, y1: float = H) -> np.ndarray:
    """A vertical gradient through ``stops`` = [(pos, rgb), ...] between rows y0 and y1."""
    t = np.clip((_YY - y0) / max(y1 - y0, 1e-6), 0, 1)
    pos = np.array([p for p, _ in stops], np.float32)
    cols = np.array([c for _, c in stops], np.float32)
    out = np.empty((H, W, 3), np.float32)
    for ch in range(3):
        out[..., ch] = np.interp(t, pos, cols[:, ch])
    return out


def paint(img: np.ndarray, color, mask: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """Alpha-blend ``color`` (RGB or image) onto ``img`` through ``mask``."""
    m = np.clip(mask * alpha, 0, 1)[..., None]
    return img * (1 - m) + np.asarray(color, np.float32) * m


def screen(img: np.ndarray, color, mask: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """Screen-blend light of ``color`` onto ``img`` (for glows and bokeh)."""
    light = np.asarray(color, np.float32) * np.clip(mask * alpha, 0, 1)[..., None]
    return 255 - (255 - img) * (255 - light) / 255


def radial(cx: float, cy: float, r: float, sharp: float = 2.0) -> np.ndarray:
    """A soft radial falloff, 1 at the centre, ``exp(-(d/r)^sharp)``."""
    d = np.hypot(_XX - cx, _YY - cy) / max(r, 1e-6)
    return np.exp(-d ** sharp)


def disk(cx: float, cy: float, r: float, soft: float = 1.0) -> np.ndarray:
    """An anti-aliased disk mask with a ``soft``-pixel edge."""
    d = np.hypot(_XX - cx, _YY - cy)
    return np.clip((r - d) / soft + 0.5, 0, 1)


def vignette(img: np.ndarray, strength: float, power: float = 2.0) -> np.ndarray:
    """Darken towards the corners."""
    d = np.hypot((_XX - W / 2) / (W / 2), (_YY - H / 2) / (H / 2)) / math.sqrt(2)
    return img * (1 - strength * d ** power)[..., None]


def noise(rng: np.random.Generator, cells: float = 4, octaves: int = 4,
          stretch: float = 1.0) -> np.ndarray:
    """Smooth fractal value noise in 0..1 (bicubic-upsampled random grids)."""
    total = np.zeros((H, W), np.float32)
    amp, norm = 1.0, 0.0
    for o in range(octaves):
        cx = max(2, int(cells * 2 ** o * stretch))
        cy = max(2, int(cells * 2 ** o * H / W))
        grid = rng.random((cy, cx)).astype(np.float32)
        up = Image.fromarray(grid, mode="F").resize((W, H), Image.Resampling.BICUBIC)
        total += amp * np.asarray(up, np.float32)
        norm += amp
        amp *= 0.5
    total /= norm
    lo, hi = np.percentile(total, [1, 99])
    return np.clip((total - lo) / max(hi - lo, 1e-6), 0, 1)


def grain(img: np.ndarray, rng: np.random.Generator, sigma: float) -> np.ndarray:
    """Film grain: mostly luminance noise with a little colour noise."""
    g = rng.normal(0, sigma, (H, W, 1)).astype(np.float32)
    c = rng.normal(0, sigma * 0.3, (H, W, 3)).astype(np.float32)
    return img + g + c


def smoothstep(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    """0 below ``e0``, 1 above ``e1``, a smooth S-curve between (reversed if e0 > e1)."""
    t = np.clip((x - e0) / (e1 - e0), 0, 1)
    return t * t * (3 - 2 * t)


class Layer:
    """A shape mask drawn with PIL at 2x resolution, returned soft at 1x.

    Coordinates are in poster pixels; ``mask(blur)`` downsamples (which
    anti-aliases edges) and optionally Gaussian-blurs the result.
    """

    def __init__(self) -> None:
        self.im = Image.new("L", (W * SS, H * SS), 0)
        self.draw = ImageDraw.Draw(self.im)

    @staticmethod
    def _p(points):
        return [(x * SS, y * SS) for x, y in points]

    def ellipse(self, cx, cy, rx, ry, fill=255):
        self.draw.ellipse([(cx - rx) * SS, (cy - ry) * SS, (cx + rx) * SS, (cy + ry) * SS], fill=fill)
        return self

    def rect(self, x0, y0, x1, y1, fill=255):
        self.draw.rectangle([x0 * SS, y0 * SS, x1 * SS, y1 * SS], fill=fill)
        return self

    def polygon(self, points, fill=255):
        self.draw.polygon(self._p(points), fill=fill)
        return self

    def line(self, points, width, fill=255):
        self.draw.line(self._p(points), fill=fill, width=max(1, int(round(width * SS))), joint="curve")
        return self

    def arc(self, cx, cy, rx, ry, start, end, width, fill=255):
        self.draw.arc([(cx - rx) * SS, (cy - ry) * SS, (cx + rx) * SS, (cy + ry) * SS],
                      start, end, fill=fill, width=max(1, int(round(width * SS))))
        return self

    def mask(self, blur: float = 0.0) -> np.ndarray:
        """The drawn shapes as a float mask in 0..1 at poster size, optionally blurred."""
        im = self.im.resize((W, H), Image.Resampling.BOX)
        if blur > 0:
            im = im.filter(ImageFilter.GaussianBlur(blur))
        return np.asarray(im, np.float32) / 255.0


def ridge(rng: np.random.Generator, base: float, rough: float, step: int = 6,
          smooth: int = 1) -> list[tuple[float, float]]:
    """A random-walk skyline from left to right around height ``base``."""
    xs = np.arange(-step, W + 2 * step, step, dtype=np.float32)
    ys = base + np.cumsum(rng.normal(0, rough, len(xs))).astype(np.float32)
    ys -= (ys.mean() - base)
    for _ in range(smooth):
        ys = np.convolve(np.pad(ys, 1, mode="edge"), [0.25, 0.5, 0.25], mode="valid")
    return list(zip(xs.tolist(), ys.tolist()))


def fill_below(layer: Layer, points, bottom: float = H + 5) -> Layer:
    """Fill the region under a polyline down to the bottom edge."""
    pts = [(points[0][0], bottom)] + list(points) + [(points[-1][0], bottom)]
    return layer.polygon(pts)


# ---------------------------------------------------------------------------
# Silhouettes
# ---------------------------------------------------------------------------

def figure(layer: Layer, x: float, base: float, h: float, kind: str = "plain",
           arms_up: bool = False, facing: float = 0.0) -> Layer:
    """Draw a standing human silhouette of height ``h`` with feet at ``base``.

    ``kind`` adds costume: plain, fedora (trench coat), cowboy, soldier
    (helmet and rifle), hood (cloak), dress, astronaut.
    """
    head_r = 0.068 * h
    head_y = base - h + head_r
    sh_y = base - 0.80 * h
    hip_y = base - 0.46 * h
    sw = 0.15 * h
    hw = 0.105 * h
    lean = facing * 0.03 * h
    if kind == "astronaut":
        head_r *= 1.45
        head_y = base - h + head_r
        sw *= 1.25
        hw *= 1.2
    if kind == "hood":
        # one cloak from head to ground
        layer.polygon([(x - head_r * 1.4, head_y - head_r * 0.2), (x, head_y - head_r * 2.2),
                       (x + head_r * 1.4, head_y - head_r * 0.2), (x + sw * 1.1, sh_y),
                       (x + hw * 2.4, base), (x - hw * 2.4, base), (x - sw * 1.1, sh_y)])
        layer.ellipse(x, head_y, head_r * 1.45, head_r * 1.5)
        return layer
    layer.ellipse(x + lean, head_y, head_r, head_r * 1.12)
    layer.rect(x - head_r * 0.45, head_y, x + head_r * 0.45, sh_y + 2)
    # torso (shoulders to hips)
    layer.polygon([(x - sw, sh_y + 0.02 * h), (x - sw * 0.8, sh_y - 0.01 * h), (x + sw * 0.8, sh_y - 0.01 * h),
                   (x + sw, sh_y + 0.02 * h), (x + hw, hip_y), (x - hw, hip_y)])
    if kind in ("fedora", "dress"):
        flare = 0.2 * h if kind == "fedora" else 0.26 * h
        hem = base - 0.16 * h if kind == "fedora" else base - 0.05 * h
        layer.polygon([(x - hw, hip_y - 2), (x + hw, hip_y - 2), (x + flare, hem), (x - flare, hem)])
    # legs
    leg = 0.06 * h
    gap = 0.015 * h
    layer.polygon([(x - hw, hip_y - 1), (x - gap, hip_y - 1), (x - gap - 0.01 * h, base), (x - hw - 0.01 * h - leg * 0.2, base)])
    layer.polygon([(x + gap, hip_y - 1), (x + hw, hip_y - 1), (x + hw + 0.01 * h + leg * 0.2, base), (x + gap + 0.01 * h, base)])
    # arms
    arm_w = 0.05 * h
    if arms_up:
        for s in (-1, 1):
            layer.line([(x + s * sw * 0.85, sh_y + 0.03 * h), (x + s * sw * 1.7, sh_y - 0.16 * h),
                        (x + s * sw * 2.1, sh_y - 0.30 * h)], arm_w)
    else:
        for s in (-1, 1):
            layer.polygon([(x + s * sw * 0.8, sh_y), (x + s * (sw + arm_w * 0.7), sh_y + 0.03 * h),
                           (x + s * (hw + arm_w * 1.3), hip_y + 0.04 * h), (x + s * hw, hip_y + 0.03 * h)])
    # headgear
    if kind == "fedora":
        layer.ellipse(x + lean, head_y - head_r * 0.55, head_r * 1.9, head_r * 0.32)
        layer.polygon([(x + lean - head_r * 1.05, head_y - head_r * 0.5), (x + lean - head_r * 0.85, head_y - head_r * 1.55),
                       (x + lean + head_r * 0.85, head_y - head_r * 1.55), (x + lean + head_r * 1.05, head_y - head_r * 0.5)])
        layer.polygon([(x - sw * 1.05, sh_y + 0.02 * h), (x - head_r * 0.5, sh_y - 0.07 * h),
                       (x + head_r * 0.5, sh_y - 0.07 * h), (x + sw * 1.05, sh_y + 0.02 * h)])  # collar
    elif kind == "cowboy":
        layer.ellipse(x + lean, head_y - head_r * 0.55, head_r * 2.5, head_r * 0.38)
        layer.polygon([(x + lean - head_r * 2.5, head_y - head_r * 0.9), (x + lean - head_r * 2.2, head_y - head_r * 0.45),
                       (x + lean + head_r * 2.2, head_y - head_r * 0.45), (x + lean + head_r * 2.5, head_y - head_r * 0.9),
                       (x + lean, head_y - head_r * 0.3)])
        layer.ellipse(x + lean, head_y - head_r * 1.1, head_r * 1.0, head_r * 0.75)
        layer.rect(x + hw + 0.01 * h, hip_y - 0.02 * h, x + hw + 0.045 * h, hip_y + 0.09 * h)  # holster
    elif kind == "soldier":
        layer.ellipse(x + lean, head_y - head_r * 0.25, head_r * 1.45, head_r * 1.05)
        layer.rect(x + lean - head_r * 1.6, head_y - head_r * 0.3, x + lean + head_r * 1.6, head_y)
        # rifle over the shoulder
        layer.line([(x + sw * 0.6, hip_y + 0.02 * h), (x + sw * 1.35, sh_y - 0.28 * h)], 0.022 * h)
        layer.polygon([(x - sw * 1.1, sh_y + 0.05 * h), (x + sw * 1.1, sh_y + 0.05 * h),
                       (x + sw * 0.9, sh_y + 0.22 * h), (x - sw * 0.9, sh_y + 0.22 * h)])  # pack
    elif kind == "dress":
        layer.ellipse(x + lean - head_r * 0.35, head_y + head_r * 0.9, head_r * 0.9, head_r * 1.6)  # hair
    elif kind == "astronaut":
        layer.rect(x - sw * 1.2, sh_y + 0.02 * h, x - sw * 0.6, hip_y - 0.05 * h)  # backpack
    return layer


def bare_tree(layer: Layer, rng: np.random.Generator, x: float, y: float, length: float,
              angle: float, width: float, depth: int = 6) -> None:
    """A recursive leafless tree (horror)."""
    x2 = x + length * math.cos(angle)
    y2 = y - length * math.sin(angle)
    layer.line([(x, y), (x2, y2)], width)
    if depth == 0 or width < 0.5:
        return
    for _ in range(2 + (rng.random() < 0.35)):
        bare_tree(layer, rng, x2, y2, length * rng.uniform(0.6, 0.8),
                  angle + rng.uniform(-0.75, 0.75), width * 0.65, depth - 1)


def dragon(layer: Layer, x: float, y: float, s: float, d: float) -> Layer:
    """A flying dragon silhouette centred at (x, y), scale ``s``, facing ``d`` = +1/-1."""
    def p(u, v):
        return (x + d * u * s, y + v * s)
    layer.ellipse(x, y, 17 * s, 6 * s)                                     # body
    layer.line([p(12, -2), p(22, -10), p(30, -14)], 5 * s)                 # neck
    layer.polygon([p(27, -18), p(40, -14), p(27, -10)])                    # head
    layer.polygon([p(28, -17), p(24, -24), p(31, -17)])                    # horn
    layer.line([p(-14, 1), p(-28, 6), p(-40, 2), p(-50, 8)], 3.5 * s)      # tail
    layer.polygon([p(-50, 4), p(-58, 9), p(-48, 12)])                      # tail spade
    layer.polygon([p(-6, -3), p(-12, -30), p(-2, -46), p(4, -36), p(8, -42),  # near wing
                   p(12, -30), p(16, -34), p(14, -3)])
    layer.polygon([p(-2, -3), p(-24, -20), p(-30, -34), p(-16, -26), p(-12, -32), p(2, -4)])  # far wing
    return layer


# ---------------------------------------------------------------------------
# Genre scenes. ``scene_x(rng, variant, motif, free)`` paints the whole
# poster as a float H x W x 3 array and returns it with the title colours
# ("look": fg, band colour, allowed band styles). ``free`` = (y0, y1) is the
# part of the picture not covered by the title band, where the motif goes.
# ---------------------------------------------------------------------------

def scene_horror(rng, variant, motif, free):
    """Black and red, a blood-red glow, heavy vignette and low mist."""
    y0, y1 = free
    red = col((120, 12, 18), rng, 0.15)
    img = gradient([(0, (8, 4, 6)), (0.45, red * 0.8), (0.7, red * 0.45), (1, (5, 2, 3))])
    gx, gy = rng.uniform(40, W - 40), rng.uniform(y0 + 30, y0 + 0.5 * (y1 - y0))
    img = screen(img, red * 1.6, radial(gx, gy, rng.uniform(50, 90)), 0.9)
    if motif in ("haunted house", "reaching hand"):       # a blood moon
        img = screen(img, (220, 50, 40), disk(gx, gy, rng.uniform(16, 26), 1.5), 0.9)
    dark = (6, 2, 3)
    if motif == "haunted house":
        hill = rng.uniform(y1 - 90, y1 - 55)
        lay = Layer().ellipse(W / 2 + rng.uniform(-40, 40), hill + 120, 170, 125)
        hx = rng.uniform(55, W - 55)
        top = hill - 2 + 120 - math.sqrt(max(125 ** 2 * (1 - ((hx - W / 2) / 170) ** 2), 0)) + 5
        hw_, hh = rng.uniform(28, 40), rng.uniform(24, 34)
        lay.rect(hx - hw_, top - hh, hx + hw_, top + 10)
        lay.polygon([(hx - hw_ - 6, top - hh), (hx, top - hh - 26), (hx + hw_ + 6, top - hh)])
        lay.rect(hx + hw_ * 0.4, top - hh - 40, hx + hw_ * 0.75, top - hh)
        lay.polygon([(hx + hw_ * 0.3, top - hh - 40), (hx + hw_ * 0.575, top - hh - 58), (hx + hw_ * 0.85, top - hh - 40)])
        bare_tree(lay, rng, hx - hw_ - 30 if hx > W / 2 else hx + hw_ + 30, top + 12, 30, math.pi / 2 + rng.uniform(-0.2, 0.2), 5)
        img = paint(img, dark, lay.mask(0.4))
        win = Layer()
        for wx in (-0.55, 0.15):
            if rng.random() < 0.8:
                win.rect(hx + wx * hw_, top - hh * 0.7, hx + (wx + 0.25) * hw_, top - hh * 0.35)
        img = screen(img, (255, 190, 90), win.mask(0.6), 0.95)
    elif motif == "hooded figure":
        x, h = rng.uniform(60, W - 60), rng.uniform(0.75, 0.95) * (y1 - y0)
        base = y1 + 8
        img = paint(img, dark, figure(Layer(), x, base, h, "hood").mask(0.6))
        ey = base - h + 0.068 * h * 1.2
        for s in (-1, 1):
            img = screen(img, (255, 40, 30), radial(x + s * 0.03 * h, ey, 2.2), 1.0)
            img = screen(img, (255, 30, 20), radial(x + s * 0.03 * h, ey, 7), 0.5)
    elif motif == "pale face":
        cx, cy = W / 2 + rng.uniform(-25, 25), rng.uniform(y0 + 0.35 * (y1 - y0), y0 + 0.5 * (y1 - y0))
        rx, ry = rng.uniform(40, 52), rng.uniform(58, 72)
        nx, ny = (_XX - cx) / rx, (_YY - cy) / ry
        nz = np.sqrt(np.clip(1 - nx ** 2 - ny ** 2, 0, 1))
        lx = rng.choice([-0.6, 0.6])
        light = np.clip(lx * nx - 0.45 * ny + 0.66 * nz, 0, 1)
        skin = col((215, 205, 195), rng, 0.05) * (0.08 + 0.92 * light ** 1.3)[..., None]
        face = Layer().ellipse(cx, cy, rx, ry).mask(2.5) * smoothstep(cy + ry * 0.95, cy + ry * 0.1, _YY)
        img = paint(img, skin, face, 0.95)
        holes = Layer()
        for sgn in (-1, 1):
            holes.ellipse(cx + sgn * rx * 0.36, cy - ry * 0.12, rx * 0.2, ry * 0.12)
        holes.ellipse(cx, cy + ry * 0.42, rx * 0.22, ry * 0.05)
        img = paint(img, dark, holes.mask(2.0) * face, 0.95)
        for sgn in (-1, 1):                               # pin-prick pupils
            img = screen(img, (255, 60, 40), radial(cx + sgn * rx * 0.36, cy - ry * 0.1, 1.6), 0.9)
    else:                                                 # a reaching hand
        x = rng.uniform(60, W - 60)
        s = rng.uniform(0.9, 1.3)
        top = y1 - 120 * s
        lay = Layer().polygon([(x - 22 * s, y1 + 10), (x + 22 * s, y1 + 10), (x + 24 * s, top + 50 * s), (x - 24 * s, top + 50 * s)])
        lay.ellipse(x, top + 52 * s, 25 * s, 20 * s)
        for dx, ln in ((-19, 30), (-7, 42), (5, 45), (16, 38)):
            lay.line([(x + dx * s, top + 48 * s), (x + dx * 1.25 * s, top + (48 - ln) * s)], 8 * s)
        lay.line([(x + 22 * s, top + 60 * s), (x + 38 * s, top + 40 * s)], 8 * s)
        img = paint(img, dark, lay.mask(0.8))
    mist = noise(rng, 3, 4, 1.5) * smoothstep(y1 - 70, y1, _YY)
    img = screen(img, (140, 50, 50), mist, 0.45)
    if variant == "pale":                                 # washed out, near noir
        grey = img.mean(axis=2, keepdims=True)
        img = 0.8 * grey + 0.2 * img
        img = img * 0.85 + 40
    img = vignette(img, 0.95, 1.6)
    look = dict(fg=(200, 20, 25) if rng.random() < 0.6 else (225, 215, 200), band=(5, 2, 3),
                band_styles=("fade", "clear", "solid"))
    return img, look


def scene_scifi(rng, variant, motif, free):
    """Deep blue space with stars, nebula and a shaded planet (sometimes ringed)."""
    y0, y1 = free
    if variant == "dark":
        img = gradient([(0, (2, 1, 3)), (0.6, (20, 5, 12)), (1, col((70, 10, 20), rng, 0.1))])
    else:
        top = col((4, 8, 35), rng, 0.08)
        img = gradient([(0, top), (0.55, col((15, 35, 95), rng, 0.12)), (1, col((40, 80, 150), rng, 0.12))])
    neb = noise(rng, 2.5, 5) ** 2.5
    neb_col = (150, 60, 160) if rng.random() < 0.5 else (40, 140, 190)
    img = screen(img, neb_col if variant != "dark" else (120, 20, 30), neb, 0.5)
    # stars
    stars = np.zeros((H, W), np.float32)
    k = rng.integers(160, 320)
    sx, sy = rng.integers(0, W, k), rng.integers(0, H, k)
    stars[sy, sx] = rng.uniform(0.3, 1.0, k) ** 2
    img = screen(img, (255, 255, 255), stars)
    for _ in range(rng.integers(3, 7)):
        img = screen(img, (210, 225, 255), radial(rng.uniform(0, W), rng.uniform(0, H), rng.uniform(1.2, 2.5)), 0.9)
    # the planet
    r = rng.uniform(40, 78)
    cx = rng.choice([rng.uniform(-r * 0.3, W * 0.35), rng.uniform(W * 0.65, W + r * 0.3)])
    cy = rng.uniform(y0 + r * 0.6, y1 - r * 0.4)
    base = {0: (60, 150, 200), 1: (220, 130, 70), 2: (150, 100, 200), 3: (180, 210, 230)}[int(rng.integers(4))]
    if variant == "dark":
        base = (190, 40, 30)
    base = col(base, rng, 0.1)
    nx, ny = (_XX - cx) / r, (_YY - cy) / r
    nz = np.sqrt(np.clip(1 - nx ** 2 - ny ** 2, 0, 1))
    L = np.array([rng.uniform(-0.8, 0.8), -0.5, 0.6], np.float32)
    L /= np.linalg.norm(L)
    light = np.clip(nx * L[0] + ny * L[1] + nz * L[2], 0, 1)
    bands = 0.85 + 0.15 * np.sin(ny * rng.uniform(8, 20) + noise(rng, 3, 2) * 3)
    surf = base * (0.06 + 0.94 * light ** 0.8)[..., None] * bands[..., None]
    pd = disk(cx, cy, r, 1.2)
    img = screen(img, base, radial(cx, cy, r * 1.15, 4) * (1 - pd), 0.6)   # atmosphere
    img = paint(img, surf, pd)
    if rng.random() < 0.5:                                # a ring
        ring = Layer().arc(W / 2, H / 2, r * 1.9, r * 0.45, 0, 360, r * 0.12).im
        ring = ring.rotate(rng.uniform(-25, 25), resample=Image.Resampling.BICUBIC,
                           center=(W * SS / 2, H * SS / 2), translate=((cx - W / 2) * SS, (cy - H / 2) * SS))
        rm = np.asarray(ring.resize((W, H), Image.Resampling.BOX), np.float32) / 255
        rm = rm * np.where((_YY < cy) & (pd > 0), 0.0, 1.0)
        img = paint(img, base * 1.1 + 30, rm, 0.8)
    if motif == "starship":                               # with engine glow
        x, y = rng.uniform(40, W - 40), rng.uniform(y0 + 20, y1 - 30)
        s = rng.uniform(0.8, 1.6)
        ship = Layer().polygon([(x - 24 * s, y + 6 * s), (x + 26 * s, y), (x - 24 * s, y - 6 * s), (x - 18 * s, y)])
        ship.polygon([(x - 14 * s, y - 4 * s), (x - 24 * s, y - 15 * s), (x - 6 * s, y - 3 * s)])
        img = paint(img, (12, 14, 22), ship.mask(0.3))
        img = screen(img, (120, 200, 255), radial(x - 26 * s, y, 4 * s), 1.0)
    else:                                                 # astronaut on an alien horizon
        hz = rng.uniform(y1 - 70, y1 - 35)
        ground = fill_below(Layer(), ridge(rng, hz, 2.5, 8, 2)).mask(0.5)
        gcol = gradient([(0, (30, 35, 60) if variant != "dark" else (30, 8, 10)), (1, (3, 3, 8))], hz, H)
        img = paint(img, gcol, ground)
        img = screen(img, base, radial(W / 2, hz, 120, 2) * (1 - ground), 0.25)
        fig = figure(Layer(), rng.uniform(40, W - 40), hz + rng.uniform(4, 12), rng.uniform(40, 70), "astronaut")
        img = paint(img, (5, 5, 10), fig.mask(0.3))
    img = vignette(img, 0.5)
    look = dict(fg=(220, 235, 255) if rng.random() < 0.5 else (110, 210, 255), band=(3, 6, 20),
                band_styles=("fade", "clear"))
    return img, look


def scene_western(rng, variant, motif, free):
    """Orange sky, low sun, mesas on a desert horizon, dark silhouettes."""
    y0, y1 = free
    hz = rng.uniform(0.55, 0.74) * H
    if variant == "dusk":
        sky = [(0, col((60, 30, 90), rng, 0.1)), (0.6, (170, 80, 120)), (1, (240, 150, 110))]
    else:
        sky = [(0, col((130, 35, 20), rng, 0.12)), (0.55, col((225, 105, 35), rng, 0.08)), (1, (255, 205, 110))]
    img = gradient(sky, 0, hz)
    sun_x = rng.uniform(30, W - 30)
    sun_y = hz - rng.uniform(5, 30)
    sun_r = rng.uniform(16, 30)
    img = screen(img, (255, 170, 60), radial(sun_x, sun_y, sun_r * 4), 0.7)
    img = screen(img, (255, 240, 180), disk(sun_x, sun_y, sun_r, 1.5), 1.0)
    clouds = noise(rng, 3, 4, 0.35) * smoothstep(hz, 0, _YY) * smoothstep(0, hz * 0.3, _YY)
    img = screen(img, (255, 150, 90), smoothstep(0.55, 0.9, clouds), 0.5)
    # mesas on the horizon
    mesa = Layer()
    x = rng.uniform(-40, 20)
    while x < W:
        w, h = rng.uniform(25, 70), rng.uniform(10, 40)
        if rng.random() < 0.6:
            mesa.polygon([(x, hz + 1), (x + w * 0.2, hz - h), (x + w * 0.8, hz - h), (x + w, hz + 1)])
        x += w + rng.uniform(0, 40)
    mesa_col = (120, 55, 60) if variant != "dusk" else (80, 40, 80)
    img = paint(img, mesa_col, mesa.mask(0.6), 0.85)
    if variant == "dusk":
        ground = gradient([(0, col((130, 75, 95), rng, 0.1)), (1, (35, 20, 40))], hz, H)
    else:
        ground = gradient([(0, col((200, 120, 60), rng, 0.1)), (1, (85, 40, 20))], hz, H)
    sand = noise(rng, 6, 3, 2.0)
    ground = ground * (0.85 + 0.25 * sand)[..., None]
    img = paint(img, ground, smoothstep(hz - 0.5, hz + 1.0, _YY))
    img = screen(img, (255, 190, 120), np.exp(-((_YY - hz) / 10) ** 2), 0.5)   # dust haze
    sil = Layer()
    dark = (35, 15, 10)
    if motif == "gunslinger":
        x = rng.choice([rng.uniform(35, 70), rng.uniform(W - 70, W - 35)])
        h = rng.uniform(0.6, 0.85) * (y1 - hz + 80)
        figure(sil, x, min(y1 + 5, H - 2), h, "cowboy")
        shadow = Layer().polygon([(x - 8, min(y1 + 5, H - 2)), (x + 8, min(y1 + 5, H - 2)),
                                  (x + (x - sun_x) * 0.9 + 6, hz + 12), (x + (x - sun_x) * 0.9 - 2, hz + 12)])
        img = paint(img, (70, 30, 15), shadow.mask(2), 0.55)
    elif motif == "duel":
        for x in (rng.uniform(25, 55), rng.uniform(W - 55, W - 25)):
            figure(sil, x, hz + rng.uniform(20, 40), rng.uniform(45, 70), "cowboy")
    else:                                                 # saguaro and a rider in the distance
        x = rng.uniform(40, W - 40)
        tall = rng.uniform(90, 140)
        base = H - rng.uniform(5, 40)
        sil.line([(x, base), (x, base - tall)], 14)
        sil.ellipse(x, base - tall, 7, 7)
        for s, fy in ((-1, rng.uniform(0.35, 0.55)), (1, rng.uniform(0.45, 0.7))):
            ay = base - tall * fy
            sil.line([(x, ay), (x + s * 20, ay), (x + s * 20, ay - 30)], 10)
            sil.ellipse(x + s * 20, ay - 30, 5, 5)
        figure(sil, rng.uniform(20, W - 20), hz + 6, rng.uniform(22, 32), "cowboy")
    img = paint(img, dark, sil.mask(0.4))
    img = vignette(img, 0.45)
    look = dict(fg=(250, 225, 160), band=(60, 25, 12), band_styles=("solid", "fade", "clear"))
    return img, look


def scene_romance(rng, variant, motif, free):
    """Pink pastels, soft bokeh and a glow, a soft-focus couple, heart or dancer."""
    y0, y1 = free
    if variant == "sunset":
        stops = [(0, col((230, 115, 65), rng, 0.05)), (0.6, (248, 160, 95)), (1, (255, 205, 140))]
    else:
        stops = [(0, col((245, 185, 205), rng, 0.05)), (0.55, col((252, 210, 220), rng, 0.04)),
                 (1, col((235, 205, 240), rng, 0.05) if rng.random() < 0.5 else (255, 225, 205))]
    img = gradient(stops)
    gx, gy = rng.uniform(50, W - 50), rng.uniform(y0 + 40, y1 - 60)
    img = screen(img, (255, 245, 225), radial(gx, gy, rng.uniform(50, 80)), 0.9)
    for _ in range(rng.integers(25, 45)):                 # soft bokeh
        r = rng.uniform(3, 16)
        b = Layer().ellipse(rng.uniform(-10, W + 10), rng.uniform(-10, H + 10), r, r).mask(r * 0.25 + 0.8)
        c = (255, 255, 255) if rng.random() < 0.5 else ((255, 200, 220) if variant != "sunset" else (255, 210, 150))
        img = screen(img, c, b, rng.uniform(0.2, 0.55))
    plum = col((125, 45, 80), rng, 0.1) if variant != "sunset" else col((105, 40, 30), rng, 0.1)
    if motif == "couple":
        x = gx + rng.uniform(-15, 15)
        h = rng.uniform(0.55, 0.8) * (y1 - y0)
        base = min(y1 + 10, H)
        lay = figure(Layer(), x - 0.075 * h, base, h, "plain", facing=1)
        figure(lay, x + 0.075 * h, base, h * 0.92, "dress", facing=-1)
        img = paint(img, plum, lay.mask(0.8), 0.9)
    elif motif == "heart":
        s = rng.uniform(28, 42)
        heart = Layer().ellipse(gx - s * 0.5, gy, s * 0.55, s * 0.55).ellipse(gx + s * 0.5, gy, s * 0.55, s * 0.55)
        heart.polygon([(gx - s * 1.02, gy + s * 0.1), (gx + s * 1.02, gy + s * 0.1), (gx, gy + s * 1.35)])
        m = heart.mask(2.0)
        img = screen(img, (255, 120, 160), heart.mask(12), 0.6)
        img = paint(img, col((225, 70, 110), rng, 0.08), m, 0.85)
    else:                                                 # a dancer in the breeze
        x = gx + rng.uniform(-10, 10)
        h = rng.uniform(0.6, 0.85) * (y1 - y0)
        lay = figure(Layer(), x, min(y1 + 10, H), h, "dress", facing=rng.choice([-1.0, 1.0]))
        img = paint(img, plum, lay.mask(1.2), 0.85)
        for _ in range(12):                               # petals
            p = Layer().ellipse(rng.uniform(0, W), rng.uniform(y0, y1), 3, 1.8).mask(0.6)
            img = paint(img, (240, 110, 150), p, 0.8)
    img = img * 0.92 + 255 * 0.08                         # soft haze
    look = dict(fg=(170, 45, 95) if rng.random() < 0.5 else (115, 35, 80), band=(255, 238, 242),
                band_styles=("clear", "solid", "fade"))
    return img, look


def scene_noir(rng, variant, motif, free):
    """Greyscale, hard diagonal light through blinds, a black silhouette, rain."""
    y0, y1 = free
    g0 = rng.uniform(10, 30)
    img = gradient([(0, (g0, g0, g0)), (1, (g0 + rng.uniform(20, 60),) * 3)])
    # hard diagonal light through blinds
    a = rng.uniform(0.5, 1.1) * rng.choice([-1, 1])
    u = _XX * math.cos(a) + _YY * math.sin(a)
    v = -_XX * math.sin(a) + _YY * math.cos(a)
    v0 = rng.uniform(v.min() + 60, v.max() - 60)
    window = smoothstep(0, 2, 70 - np.abs(v - v0))
    period = rng.uniform(12, 20)
    slats = (np.sin(u / period * 2 * math.pi) > rng.uniform(-0.3, 0.2)).astype(np.float32)
    slats = np.asarray(Image.fromarray((slats * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.6)), np.float32) / 255
    img = screen(img, (225, 225, 225), window * slats, rng.uniform(0.65, 0.9))
    lay = Layer()
    if motif == "detective":
        x = rng.uniform(55, W - 55)
        h = rng.uniform(0.75, 1.05) * (y1 - y0)
        figure(lay, x, y1 + 0.1 * h, h, "fedora", facing=rng.choice([-1.0, 1.0]))
    elif motif == "street lamp":
        lx = rng.uniform(30, W - 30)
        top = y0 + rng.uniform(15, 40)
        lay.rect(lx - 2.5, top, lx + 2.5, H)
        lay.polygon([(lx - 10, top + 8), (lx + 10, top + 8), (lx + 6, top - 6), (lx - 6, top - 6)])
        cone = Layer().polygon([(lx - 8, top + 8), (lx + 8, top + 8), (lx + 70, H), (lx - 70, H)]).mask(6)
        img = screen(img, (235, 235, 235), cone, 0.55)
        img = screen(img, (255, 255, 255), radial(lx, top + 8, 10), 1.0)
        fx = lx + rng.choice([-1, 1]) * rng.uniform(22, 45)
        figure(lay, fx, H - rng.uniform(20, 40), rng.uniform(90, 130), "fedora")
    else:                                                 # femme fatale and smoke
        x = rng.uniform(60, W - 60)
        h = rng.uniform(0.85, 1.1) * (y1 - y0)
        figure(lay, x, y1 + 0.15 * h, h, "dress", facing=rng.choice([-1.0, 1.0]))
        smoke = noise(rng, 4, 4, 0.5) * radial(x + 25, y0 + 0.3 * (y1 - y0), 45)
        img = screen(img, (200, 200, 200), smoke, 0.6)
    img = paint(img, (4, 4, 4), lay.mask(0.3))
    if rng.random() < 0.5:                                # rain
        rain = np.zeros((H, W), np.float32)
        k = rng.integers(150, 300)
        rain[rng.integers(0, H, k), rng.integers(0, W, k)] = 1
        rain_im = Image.fromarray((rain * 255).astype(np.uint8)).filter(ImageFilter.Kernel(
            (5, 5), [0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0], 1))
        img = screen(img, (200, 200, 200), np.asarray(rain_im, np.float32) / 255, 0.35)
    img = vignette(img, 0.7)
    grey = img @ np.array([0.299, 0.587, 0.114], np.float32)
    img = np.repeat(grey[..., None], 3, axis=2)
    fg = (200, 25, 30) if variant == "red" else (240, 240, 240)
    if variant == "red":                                  # a red accent: the only colour
        img = paint(img, (150, 15, 20), smoothstep(0.5, 0.0, np.abs(_YY - y0 - 0.4 * (y1 - y0)) / 50) * window, 0.45)
    look = dict(fg=fg, band=(0, 0, 0), band_styles=("solid", "clear"))
    return img, look


def scene_animation(rng, variant, motif, free):
    """Saturated primaries: blue sky, sun, clouds, green hills, a big round hero."""
    y0, y1 = free
    if variant == "pastel":
        sky = [(0, col((250, 190, 215), rng, 0.05)), (1, (215, 200, 250))]
        hill_cols = [(190, 230, 200), (160, 215, 180)]
        body_col = col((255, 160, 190), rng, 0.08)
    else:
        sky = [(0, col((20, 100, 240), rng, 0.08)), (1, (110, 200, 255))]
        hill_cols = [(60, 190, 60), (20, 150, 40)]
        body_col = [(240, 40, 40), (255, 200, 0), (150, 60, 220), (255, 120, 0), (0, 170, 220)][int(rng.integers(5))]
    img = gradient(sky)
    sx_, sy_ = rng.uniform(20, W - 20), rng.uniform(y0 + 10, y0 + 60)
    rays = Layer()
    nr = 12
    for k in range(nr):
        t = 2 * math.pi * k / nr + rng.uniform(0, 0.2)
        rays.polygon([(sx_, sy_), (sx_ + 45 * math.cos(t - 0.1), sy_ + 45 * math.sin(t - 0.1)),
                      (sx_ + 45 * math.cos(t + 0.1), sy_ + 45 * math.sin(t + 0.1))])
    img = paint(img, (255, 230, 60), rays.mask(0.5), 0.6)
    img = paint(img, (255, 215, 0), disk(sx_, sy_, rng.uniform(16, 24), 1.0))
    for _ in range(rng.integers(2, 4)):                   # clouds
        cx, cy, s = rng.uniform(0, W), rng.uniform(y0 + 10, y0 + 0.45 * (y1 - y0)), rng.uniform(10, 18)
        cl = Layer()
        for dx, dy, rr in ((-1.2, 0.3, 0.8), (0, 0, 1.1), (1.2, 0.3, 0.8), (0, 0.5, 0.9)):
            cl.ellipse(cx + dx * s, cy + dy * s, rr * s, rr * s)
        img = paint(img, (255, 255, 255), cl.mask(0.8))
    for k, hc in enumerate(hill_cols):                    # rolling hills
        hy = rng.uniform(0.6, 0.72) * H + k * 25
        hill = Layer().ellipse(rng.uniform(0, W), hy + 120, rng.uniform(130, 200), 120)
        hill.ellipse(rng.uniform(0, W), hy + 135, rng.uniform(130, 200), 120)
        img = paint(img, gradient([(0, hc), (1, np.array(hc) * 0.7)], hy, H), hill.mask(0.5))
    # the big round hero
    r = rng.uniform(32, 50)
    cx = rng.uniform(r + 10, W - r - 10)
    cy = min(rng.uniform(0.55, 0.7) * H, y1 - r - 8)
    body = Layer()
    squash = rng.uniform(0.85, 1.15)
    body.ellipse(cx, cy, r * squash, r / squash)
    for s in (-1, 1):
        body.ellipse(cx + s * r * 0.45, cy + r / squash + 3, r * 0.28, r * 0.14)
    shade = gradient([(0, np.minimum(np.array(body_col) * 1.25 + 20, 255)), (1, np.array(body_col) * 0.7)], cy - r, cy + r)
    bm = body.mask(0.3)
    img = paint(img, (20, 20, 40), Layer().ellipse(cx, cy + r + 6, r * 0.9, 5).mask(2), 0.3)
    img = paint(img, shade, bm)
    eyes, pupils, shine = Layer(), Layer(), Layer()
    look = rng.uniform(-0.12, 0.12) * r
    for s in (-1, 1):
        ex, ey = cx + s * r * 0.32, cy - r * 0.2
        eyes.ellipse(ex, ey, r * 0.22, r * 0.28)
        pupils.ellipse(ex + look, ey + r * 0.04, r * 0.11, r * 0.14)
        shine.ellipse(ex + look - r * 0.04, ey - r * 0.03, r * 0.04, r * 0.04)
    img = paint(img, (255, 255, 255), eyes.mask(0.3))
    img = paint(img, (15, 15, 25), pupils.mask(0.3))
    img = paint(img, (255, 255, 255), shine.mask(0.2))
    mouth = Layer().arc(cx, cy + r * 0.2, r * 0.35, r * 0.3, 20, 160, max(2, r * 0.07))
    img = paint(img, (60, 10, 20), mouth.mask(0.3))
    if motif == "hero and sidekick":
        r2 = r * 0.45
        x2 = cx + (r + r2 + 6) * (1 if cx < W / 2 else -1)
        y2 = cy + r - r2 + 2
        side = [(255, 220, 0), (0, 160, 230), (240, 50, 60)][int(rng.integers(3))]
        img = paint(img, side, disk(x2, y2, r2))
        for s in (-1, 1):
            img = paint(img, (255, 255, 255), disk(x2 + s * r2 * 0.35, y2 - r2 * 0.15, r2 * 0.25))
            img = paint(img, (10, 10, 20), disk(x2 + s * r2 * 0.35, y2 - r2 * 0.12, r2 * 0.12))
    fg = (255, 215, 0) if variant != "pastel" else (130, 70, 170)
    look = dict(fg=fg, band=(20, 25, 75) if variant != "pastel" else (255, 245, 250),
                band_styles=("clear", "solid"), rainbow=variant != "pastel")
    return img, look


def scene_war(rng, variant, motif, free):
    """Olive and khaki under smoke, a dark ridge with soldiers or a tank, barbed wire."""
    y0, y1 = free
    hz = rng.uniform(0.6, 0.78) * H
    if variant == "fire":
        sky = [(0, (70, 45, 25)), (0.7, col((200, 100, 40), rng, 0.08)), (1, (240, 160, 70))]
    else:
        sky = [(0, col((95, 95, 60), rng, 0.08)), (0.7, col((160, 150, 105), rng, 0.08)), (1, (185, 175, 130))]
    img = gradient(sky, 0, hz)
    smoke = noise(rng, 2.5, 5, 0.8)
    if variant == "fire":
        img = paint(img, (150, 70, 30), smoothstep(0.35, 0.9, smoke), 0.5)
    else:
        img = paint(img, (70, 68, 50), smoothstep(0.35, 0.9, smoke), 0.75)
    img = screen(img, (210, 200, 160), smoothstep(0.55, 1.0, 1 - smoke) * smoothstep(0, hz, _YY), 0.3)
    if variant == "fire" or rng.random() < 0.3:           # a distant blaze
        fx = rng.uniform(20, W - 20)
        img = screen(img, (255, 140, 40), radial(fx, hz, rng.uniform(30, 60)), 0.8)
    ground_line = ridge(rng, hz, 1.8, 7, 2)
    ground = fill_below(Layer(), ground_line).mask(0.5)
    soil = (75, 75, 45) if variant != "fire" else (100, 60, 30)
    img = paint(img, gradient([(0, col(soil, rng, 0.08)), (1, (30, 30, 18))], hz, H), ground)
    dark = (25, 25, 15)
    lay = Layer()
    if motif == "platoon":                                # on the ridge
        n = rng.integers(3, 7)
        xs = np.sort(rng.uniform(15, W - 15, n))
        for x in xs:
            figure(lay, x, hz + rng.uniform(1, 5), rng.uniform(34, 52), "soldier")
    elif motif == "tank":
        x, y, s = rng.uniform(60, W - 60), hz + rng.uniform(15, 35), rng.uniform(1.0, 1.5)
        lay.polygon([(x - 45 * s, y), (x + 45 * s, y), (x + 38 * s, y + 14 * s), (x - 38 * s, y + 14 * s)])
        lay.polygon([(x - 40 * s, y), (x - 30 * s, y - 10 * s), (x + 32 * s, y - 10 * s), (x + 42 * s, y)])
        lay.polygon([(x - 18 * s, y - 10 * s), (x - 12 * s, y - 22 * s), (x + 14 * s, y - 22 * s), (x + 18 * s, y - 10 * s)])
        d = rng.choice([-1, 1])
        lay.line([(x + d * 12 * s, y - 17 * s), (x + d * 58 * s, y - 25 * s)], 3.5 * s)
        wheels = Layer()
        for k in range(7):
            wheels.ellipse(x - 33 * s + k * 11 * s, y + 8 * s, 4 * s, 4 * s)
        img = paint(img, dark, lay.mask(0.4))
        img = paint(img, (70, 70, 50), wheels.mask(0.4), 0.5)
        lay = Layer()
    else:                                                 # one soldier in the foreground
        x = rng.choice([rng.uniform(45, 70), rng.uniform(W - 70, W - 45)])
        h = rng.uniform(0.75, 1.0) * (y1 - y0)
        figure(lay, x, y1 + 0.2 * h, h, "soldier")
        for k in range(rng.integers(1, 3)):
            figure(lay, rng.uniform(20, W - 20), hz + 3, rng.uniform(18, 28), "soldier")
    if rng.random() < 0.5:                                # aircraft
        for _ in range(rng.integers(2, 4)):
            px, py, s = rng.uniform(15, W - 15), rng.uniform(y0 + 10, hz - 60), rng.uniform(0.5, 1.0)
            lay.line([(px - 10 * s, py), (px + 10 * s, py)], 2.5 * s)
            lay.line([(px - 2 * s, py - 12 * s), (px - 2 * s, py + 12 * s)], 3 * s)
    wire = Layer()                                        # barbed wire
    wy = H - rng.uniform(15, 50)
    for k in range(5):
        px = k * 48 + rng.uniform(-8, 8)
        wire.line([(px, wy + 25), (px + 2, wy - 8)], 2.5)
    pts = [(x, wy - 3 + 4 * math.sin(x * 0.9)) for x in range(-5, W + 6, 3)]
    wire.line(pts, 1.0)
    img = paint(img, dark, lay.mask(0.4))
    img = paint(img, (15, 15, 10), wire.mask(0.3), 0.9)
    grey = img.mean(axis=2, keepdims=True)
    wash = 0.35 if variant != "fire" else 0.1
    img = wash * grey * np.array([1.05, 1.0, 0.8], np.float32) + (1 - wash) * img   # sepia wash
    img = vignette(img, 0.6)
    look = dict(fg=(225, 210, 160), band=(35, 35, 20), band_styles=("solid", "fade"))
    return img, look


def scene_ocean(rng, variant, motif, free):
    """Teal sky and sea with rows of wave crests, a ship, whale or lighthouse."""
    y0, y1 = free
    hz = rng.uniform(0.38, 0.58) * H if variant != "sunset" else rng.uniform(0.55, 0.66) * H
    if variant == "sunset":
        sky = [(0, col((120, 50, 70), rng, 0.08)), (0.6, (235, 120, 60)), (1, (255, 200, 110))]
    else:
        sky = [(0, col((15, 95, 115), rng, 0.1)), (0.7, col((90, 185, 190), rng, 0.08)), (1, (175, 225, 215))]
    img = gradient(sky, 0, hz)
    clouds = noise(rng, 3, 4, 0.4)
    img = screen(img, (255, 255, 255) if variant != "sunset" else (255, 170, 120),
                 smoothstep(0.5, 0.95, clouds) * smoothstep(hz, hz * 0.5, _YY), 0.55)
    sun_x = rng.uniform(30, W - 30)
    if variant == "sunset":
        img = screen(img, (255, 150, 60), radial(sun_x, hz, 80), 0.8)
        img = screen(img, (255, 235, 170), disk(sun_x, hz - rng.uniform(3, 12), rng.uniform(14, 22)), 1.0)
    if variant == "sunset":
        sea = gradient([(0, col((150, 90, 60), rng, 0.08)), (1, (35, 30, 45))], hz, H)
    else:
        sea = gradient([(0, col((25, 110, 125), rng, 0.08)), (1, (4, 35, 50))], hz, H)
    img = paint(img, sea, smoothstep(hz - 0.5, hz + 0.5, _YY))
    # wave crests: rows closer together near the horizon
    crest = np.zeros((H, W), np.float32)
    t = 0.0
    k = 0
    while True:
        t += 0.035 + 0.012 * k
        y = hz + (H - hz) * t ** 1.6 * 1.2
        if y > H + 10:
            break
        amp = 0.8 + 6 * t
        ph = rng.uniform(0, 2 * math.pi)
        f = rng.uniform(0.05, 0.09) / (0.5 + t)
        wave = y + amp * np.sin(_XX * f + ph) + amp * 0.4 * np.sin(_XX * f * 2.3 + ph * 1.7)
        crest = np.maximum(crest, smoothstep(1.5 + 5 * t, 0, np.abs(_YY - wave)) * (0.3 + 0.7 * (np.sin(_XX * f * 3 + ph) > -0.3)))
        k += 1
    img = screen(img, (150, 220, 215) if variant != "sunset" else (255, 170, 110), crest, 0.5)
    glint = radial(sun_x, hz + 40, 60) * (crest > 0.3)
    img = screen(img, (255, 240, 200), glint, 0.6)
    foam = noise(rng, 8, 3, 1.0) * smoothstep(H - 40, H, _YY)
    img = screen(img, (230, 250, 245), smoothstep(0.5, 0.8, foam), 0.6)
    dark = (8, 25, 35) if variant != "sunset" else (40, 20, 25)
    lay = Layer()
    if motif == "tall ship":
        x, s = rng.uniform(55, W - 55), rng.uniform(0.8, 1.3)
        y = hz + rng.uniform(6, 25)
        lay.polygon([(x - 40 * s, y - 8 * s), (x + 45 * s, y - 8 * s), (x + 32 * s, y + 6 * s), (x - 30 * s, y + 6 * s)])
        sails = Layer()
        for mx, mh in ((-20, 60), (2, 78), (24, 55)):
            lay.line([(x + mx * s, y - 8 * s), (x + mx * s, y - mh * s)], 1.6 * s)
            for k2 in range(3):
                top = y - mh * s + 6 * s + k2 * (mh - 14) * s / 3
                sails.polygon([(x + (mx - 11) * s, top), (x + (mx + 11) * s, top),
                               (x + (mx + 12) * s, top + (mh - 20) * s / 3.2), (x + (mx - 12) * s, top + (mh - 20) * s / 3.2)])
        img = paint(img, dark, lay.mask(0.4))
        img = paint(img, (235, 225, 200) if variant != "sunset" else (250, 200, 150), sails.mask(0.4), 0.9)
        lay = Layer()
    elif motif == "whale":                                # its tail
        x, y, s = rng.uniform(50, W - 50), rng.uniform(hz + 45, H - 30), rng.uniform(0.9, 1.4)
        lay.polygon([(x - 8 * s, y + 10 * s), (x + 8 * s, y + 10 * s), (x + 5 * s, y - 25 * s), (x - 5 * s, y - 25 * s)])
        lay.polygon([(x, y - 22 * s), (x - 40 * s, y - 45 * s), (x - 30 * s, y - 30 * s), (x - 8 * s, y - 18 * s)])
        lay.polygon([(x, y - 22 * s), (x + 40 * s, y - 45 * s), (x + 30 * s, y - 30 * s), (x + 8 * s, y - 18 * s)])
        splash = Layer().ellipse(x, y + 10 * s, 30 * s, 5 * s).mask(3)
        img = paint(img, dark, lay.mask(0.5))
        img = screen(img, (230, 250, 250), splash, 0.8)
        lay = Layer()
    else:                                                 # a lighthouse on a rock
        x = rng.choice([rng.uniform(30, 60), rng.uniform(W - 60, W - 30)])
        base = hz + rng.uniform(10, 40)
        rock = Layer().ellipse(x, base + 15, 45, 22)
        lay.polygon([(x - 10, base), (x + 10, base), (x + 6, base - 70), (x - 6, base - 70)])
        lay.rect(x - 8, base - 80, x + 8, base - 70)
        lay.polygon([(x - 8, base - 80), (x, base - 90), (x + 8, base - 80)])
        beam_dir = -1 if x > W / 2 else 1
        beam = Layer().polygon([(x, base - 76), (x + beam_dir * 200, base - 110), (x + beam_dir * 200, base - 50)]).mask(4)
        img = screen(img, (255, 250, 210), beam, 0.45)
        img = paint(img, dark, rock.mask(0.8))
        img = paint(img, (220, 220, 210), lay.mask(0.4))
        img = paint(img, (180, 30, 30), Layer().rect(x - 9, base - 40, x + 9, base - 28).rect(x - 8, base - 60, x + 8, base - 50).mask(0.3), 0.9)
        img = screen(img, (255, 240, 180), radial(x, base - 75, 7), 1.0)
        lay = Layer()
    img = paint(img, dark, lay.mask(0.4))
    img = vignette(img, 0.4)
    look = dict(fg=(255, 250, 235), band=(5, 45, 60), band_styles=("fade", "clear", "solid"))
    return img, look


def scene_comedy(rng, variant, motif, free):
    """Bright yellow and white starburst, a cheerful cast, a bold title on white."""
    y0, y1 = free
    yellow = col((255, 212, 20), rng, 0.05)
    if variant == "white":
        img = gradient([(0, (252, 252, 250)), (1, (235, 235, 230))])
        burst_col, burst_alpha = yellow, 0.5
    else:
        img = gradient([(0, yellow), (1, yellow * 0.92)])
        burst_col, burst_alpha = (255, 255, 255), rng.uniform(0.35, 0.55)
    bx, by = rng.uniform(40, W - 40), rng.uniform(y0 + 40, y1 - 40)
    burst = Layer()
    n = int(rng.integers(14, 22))
    for k in range(0, n, 1):
        t0, t1 = 2 * math.pi * k / n, 2 * math.pi * (k + 0.5) / n
        burst.polygon([(bx, by), (bx + 300 * math.cos(t0), by + 300 * math.sin(t0)),
                       (bx + 300 * math.cos(t1), by + 300 * math.sin(t1))])
    img = paint(img, burst_col, burst.mask(0.6), burst_alpha)
    img = screen(img, (255, 255, 255), radial(bx, by, 50), 0.5)
    # the cast: cheerful figures in bright clothes
    n_people = {"solo": 1, "duo": 2, "trio": 3}[motif]
    clothes = [(230, 30, 40), (20, 90, 220), (30, 170, 70), (250, 120, 0), (140, 40, 180)]
    skins = [(240, 200, 170), (200, 150, 110), (150, 100, 70), (250, 215, 190)]
    xs = W * (np.arange(n_people) + 0.5) / n_people + rng.uniform(-10, 10)
    base = y1 + 2
    for i, x in enumerate(xs):
        h = rng.uniform(0.65, 0.85) * (y1 - y0) * {1: 1.0, 2: 0.85, 3: 0.7}[n_people]
        cloth = col(clothes[int(rng.integers(len(clothes)))], rng, 0.05)
        skin = col(skins[int(rng.integers(len(skins)))])
        arms = bool(rng.random() < 0.6)
        body = figure(Layer(), x, base, h, "plain", arms_up=arms)
        img = paint(img, (90, 70, 0), body.mask(4), 0.25)              # soft drop shadow
        bm = body.mask(0.3)
        img = paint(img, cloth, bm)
        img = paint(img, (35, 35, 60), bm * (_YY > base - 0.46 * h), 0.9)  # trousers
        head_r = 0.068 * h * 1.3
        hy = base - h + 0.068 * h
        img = paint(img, skin, disk(x, hy, head_r, 1.0))
        for s in (-1, 1):
            img = paint(img, (20, 20, 20), disk(x + s * head_r * 0.35, hy - head_r * 0.15, max(1.2, head_r * 0.12)))
        img = paint(img, (120, 20, 30), Layer().arc(x, hy + head_r * 0.1, head_r * 0.55, head_r * 0.5, 15, 165,
                                                    max(1.2, head_r * 0.15)).mask(0.2))
        if arms:
            for s in (-1, 1):
                img = paint(img, skin, disk(x + s * 0.15 * h * 2.1, base - 0.8 * h - 0.30 * h, 0.03 * h + 1.5))
    look = dict(fg=(225, 20, 30) if rng.random() < 0.6 else (20, 20, 20), band=(255, 255, 255),
                band_styles=("solid",))
    return img, look


def scene_fantasy(rng, variant, motif, free):
    """Violet twilight, aurora, moon, misty mountain ranges, a castle (and dragon)."""
    y0, y1 = free
    if variant == "night":
        sky = [(0, col((5, 10, 40), rng, 0.08)), (0.7, (30, 60, 120)), (1, (70, 110, 160))]
        far, mist_col = np.array((40, 60, 110)), (90, 120, 180)
    else:
        sky = [(0, col((35, 15, 70), rng, 0.1)), (0.6, col((90, 50, 130), rng, 0.1)), (1, col((70, 150, 130), rng, 0.1))]
        far, mist_col = np.array((120, 90, 160)), (150, 200, 180)
    img = gradient(sky, 0, y0 + 0.75 * (y1 - y0))
    if variant == "standard":                             # aurora
        v = noise(rng, 2, 3, 0.5)
        band = np.exp(-((_YY - (0.25 * H + 40 * (v - 0.5)) - 15 * np.sin(_XX / 25)) / 18) ** 2)
        img = screen(img, (80, 255, 170), band * (0.4 + 0.6 * noise(rng, 6, 2, 1.0)), 0.5)
    mx, my = rng.uniform(40, W - 40), rng.uniform(y0 + 30, y0 + 0.22 * (y1 - y0) + 10)
    mr = rng.uniform(14, 26) if motif == "castle" else rng.uniform(28, 36)
    img = screen(img, (220, 220, 255), radial(mx, my, mr * 3), 0.6)
    img = screen(img, (245, 240, 230), disk(mx, my, mr, 1.2))
    stars = np.zeros((H, W), np.float32)
    k = int(rng.integers(40, 90)) if variant == "standard" else int(rng.integers(150, 250))
    stars[rng.integers(0, int(0.5 * H), k), rng.integers(0, W, k)] = rng.uniform(0.3, 1, k)
    img = screen(img, (255, 255, 255), stars)
    near = np.array((15, 10, 30))
    layers = 4
    castle_peak = None
    for j in range(layers):                               # mountains, far to near
        t = j / (layers - 1)
        base = y0 + (y1 - y0) * (0.45 + 0.2 * t) + rng.uniform(-8, 8)
        line = ridge(rng, base, 7 - 3 * t, 8, 1)
        c = far * (1 - t) + near * t
        img = paint(img, c, fill_below(Layer(), line).mask(0.5))
        mist = noise(rng, 4, 3, 0.4) * np.exp(-((_YY - base - 10) / 14) ** 2)
        img = screen(img, mist_col, mist, 0.5 * (1 - t))
        if j == layers - 2:
            castle_peak = min(line[2:-2], key=lambda p: p[1] + 0.8 * abs(p[0] - W / 2))
    cx, cy = castle_peak
    s = rng.uniform(0.8, 1.3) if motif == "castle" else rng.uniform(0.6, 0.85)
    castle = Layer()
    glow = Layer()
    for dx, tw, th in ((-18, 7, 40), (-6, 9, 58), (8, 7, 46), (20, 6, 34)):
        x = cx + dx * s
        castle.rect(x - tw * s / 2, cy - th * s, x + tw * s / 2, cy + 12)
        castle.polygon([(x - tw * s / 2 - 1.5, cy - th * s), (x, cy - th * s - 14 * s), (x + tw * s / 2 + 1.5, cy - th * s)])
        glow.rect(x - 1, cy - th * s * 0.7, x + 1, cy - th * s * 0.7 + 3)
    castle.rect(cx - 20 * s, cy - 22 * s, cx + 22 * s, cy + 12)
    img = paint(img, c * 0.8, castle.mask(0.4))
    img = screen(img, (255, 200, 90), glow.mask(0.6), 1.0)
    img = screen(img, (255, 190, 100), radial(cx, cy - 20 * s, 30), 0.25)
    if motif == "dragon":
        d = -1.0 if cx > W / 2 else 1.0                   # crossing the moon
        dx = mx + rng.uniform(-8, 8)
        dy = my + rng.uniform(0, 12)
        img = paint(img, near, dragon(Layer(), dx, dy, rng.uniform(0.8, 1.1), d).mask(0.4))
    for _ in range(int(rng.integers(15, 30))):            # fireflies
        img = screen(img, (255, 220, 120), radial(rng.uniform(0, W), rng.uniform(0.6 * H, H), rng.uniform(1.0, 2.0)), 0.9)
    img = vignette(img, 0.55)
    look = dict(fg=(240, 200, 110), band=(20, 10, 35), band_styles=("fade", "clear"))
    return img, look


SCENES = {
    "horror": scene_horror, "scifi": scene_scifi, "western": scene_western,
    "romance": scene_romance, "noir": scene_noir, "animation": scene_animation,
    "war": scene_war, "ocean": scene_ocean, "comedy": scene_comedy, "fantasy": scene_fantasy,
}

# Typography per genre: font pixel scale (sx, sy), letter spacing, bold, slant.
TYPE = {
    "horror": dict(sx=2, sy=4, spacing=1, bold=False, shear=0.0),
    "scifi": dict(sx=3, sy=3, spacing=2, bold=False, shear=0.0),
    "western": dict(sx=3, sy=3, spacing=1, bold=True, shear=0.0),
    "romance": dict(sx=2, sy=3, spacing=1, bold=False, shear=0.0),
    "noir": dict(sx=3, sy=4, spacing=1, bold=True, shear=0.35),
    "animation": dict(sx=3, sy=3, spacing=1, bold=True, shear=0.0),
    "war": dict(sx=3, sy=3, spacing=2, bold=True, shear=0.0),
    "ocean": dict(sx=3, sy=3, spacing=1, bold=True, shear=0.0),
    "comedy": dict(sx=4, sy=4, spacing=1, bold=True, shear=0.0),
    "fantasy": dict(sx=3, sy=3, spacing=1, bold=False, shear=0.0),
}

# grain strength per genre
GRAIN = {"horror": 5, "scifi": 3, "western": 4, "romance": 2.5, "noir": 7,
         "animation": 1.5, "war": 6, "ocean": 3.5, "comedy": 1.5, "fantasy": 3}


# ---------------------------------------------------------------------------
# Title band
# ---------------------------------------------------------------------------

MARGIN = 8


def _wrap(words: list[str], max_chars: int) -> list[str] | None:
    """Greedy word wrap; None if a single word does not fit."""
    lines, cur = [], ""
    for w in words:
        if len(w) > max_chars:
            return None
        if not cur:
            cur = w
        elif len(cur) + 1 + len(w) <= max_chars:
            cur += " " + w
        else:
            lines.append(cur)
            cur = w
    lines.append(cur)
    return lines


def layout_title(title: str, typo: dict) -> tuple[list[np.ndarray], np.ndarray | None]:
    """Bitmaps for the title lines (largest scale that fits in two lines),
    plus a small bitmap for a leading "THE" if there is one."""
    words = title.split()
    small = None
    if words[0] == "THE" and len(words) > 1:
        small = text_bitmap("THE", 2, 2, 1, bold=typo["bold"], shear=typo["shear"])
        words = words[1:]
    if len(words) > 1 and words[-1].isdigit():           # keep "HARVEST 2" on one line
        words = words[:-2] + [f"{words[-2]} {words[-1]}"]
    sy_per_sx = typo["sy"] / typo["sx"]
    for sx in range(typo["sx"], 0, -1):
        sy = max(1, int(round(sx * sy_per_sx)))
        adv = (5 + typo["spacing"]) * sx + (1 if typo["bold"] else 0)
        max_chars = int((W - 2 * MARGIN + typo["spacing"] * sx) // adv)
        lines = _wrap(words, max_chars)
        if lines is not None and len(lines) <= 2:
            bitmaps = [text_bitmap(t, sx, sy, typo["spacing"], typo["bold"], typo["shear"] * sx / sy)
                       for t in lines]
            if all(b.shape[1] <= W - 2 * MARGIN for b in bitmaps):
                return bitmaps, small
    raise ValueError(f"title does not fit on a poster: {title!r}")


TITLE_GAP = 4        # pixels between title lines
BILLING_H = 14       # two condensed lines of credits
PAD = 8              # band padding above and below the text block


def title_block_height(title_bitmaps, small) -> int:
    """Height of the title lines plus the small "THE" above them."""
    h = sum(b.shape[0] for b in title_bitmaps) + TITLE_GAP * (len(title_bitmaps) - 1)
    return h + (small.shape[0] + 3 if small is not None else 0)


def stamp(img: np.ndarray, bitmap: np.ndarray, x: int, y: int, color, alpha: float = 1.0,
          soften: float = 0.0, shadow: bool = False, fill: np.ndarray | None = None) -> np.ndarray:
    """Draw a text bitmap with its top-left corner at (x, y).

    ``soften`` blurs the edges slightly, ``shadow`` adds a soft drop shadow,
    ``fill`` (an H x W x 3 image) replaces the flat colour.
    """
    h, w = bitmap.shape
    m = np.zeros((H, W), np.float32)
    ys, xs = slice(max(y, 0), min(y + h, H)), slice(max(x, 0), min(x + w, W))
    m[ys, xs] = bitmap[ys.start - y:ys.stop - y, xs.start - x:xs.stop - x]
    if soften:
        m = np.asarray(Image.fromarray((m * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(soften)),
                       np.float32) / 255
    if shadow:
        sh = np.asarray(Image.fromarray((np.roll(m, (2, 2), (0, 1)) * 255).astype(np.uint8))
                        .filter(ImageFilter.GaussianBlur(1.5)), np.float32) / 255
        img = paint(img, (0, 0, 0), sh, 0.6)
    return paint(img, color if fill is None else fill, m, alpha)


RAINBOW = np.array([(255, 60, 50), (255, 210, 0), (40, 140, 255), (60, 200, 80)], np.float32)


def draw_title_band(img, rng, row, look, band_top: bool, band_style: str, band_h: int,
                    title_bitmaps, small):
    """Compose the band, title, billing block and (opposite edge) tagline onto ``img``."""
    genre = row["genre"]
    band_col = np.array(look["band"], np.float32)
    fg = np.array(look["fg"], np.float32)
    y_a, y_b = (0, band_h) if band_top else (H - band_h, H)
    if band_style == "solid":
        shade = gradient([(0, band_col * 1.06), (1, band_col * 0.92)], y_a, y_b)
        img = paint(img, shade, ((_YY >= y_a) & (_YY < y_b)).astype(np.float32), 0.93)
        edge = np.exp(-((_YY - (y_b if band_top else y_a)) / 1.2) ** 2)
        img = paint(img, fg, edge, 0.35)
    elif band_style == "fade":
        t = (1 - smoothstep(band_h * 0.75, band_h * 1.4, _YY)) if band_top \
            else smoothstep(H - band_h * 1.4, H - band_h * 0.75, _YY)
        img = paint(img, band_col, t, 0.9)
    light_bg = band_col.mean() > 128 if band_style != "clear" else genre in ("comedy", "romance")
    shadow = band_style != "solid" and not light_bg
    # title block (small "THE", title lines) then billing block, centred in the band
    y = y_a + (band_h - title_block_height(title_bitmaps, small) - BILLING_H - 3) // 2
    if small is not None:
        img = stamp(img, small, (W - small.shape[1]) // 2, y, fg, 0.9, 0.3, shadow)
        y += small.shape[0] + 3
    for b in title_bitmaps:
        x = (W - b.shape[1]) // 2
        fill = None
        if look.get("rainbow"):                             # one colour per letter
            cell = (5 + TYPE[genre]["spacing"]) * (b.shape[0] // 7)
            fill = RAINBOW[((_XX - x) // cell).astype(int) % len(RAINBOW)]
        img = stamp(img, b, x, y, fg, 1.0, 0.35, shadow or bool(look.get("rainbow")), fill)
        y += b.shape[0] + TITLE_GAP
    y += 3 - TITLE_GAP
    credit_col = fg * 0.55 + band_col * 0.45 if band_style == "solid" else \
        (np.array((80, 60, 60)) if light_bg else np.array((210, 210, 210)))
    names = [f"{FIRST[rng.integers(len(FIRST))]} {LAST[rng.integers(len(LAST))]}" for _ in range(4)]
    for line in (f"{names[0]}  {names[1]}  {names[2]}", f"DIRECTED BY {names[3]}"):
        bm = text_bitmap(line, 1, 1, 1)
        # condense the billing block to 60 % width, as real billing blocks are
        im = Image.fromarray((bm * 255).astype(np.uint8)).resize(
            (max(1, int(bm.shape[1] * 0.6)), 5), Image.Resampling.BOX)
        cb = (np.asarray(im, np.float32) / 255)[:, : W - 2 * MARGIN]
        img = stamp(img, cb, (W - cb.shape[1]) // 2, y, credit_col, 0.85)
        y += 7
    tag = TAGLINES[genre][int(rng.integers(len(TAGLINES[genre])))]
    tb = text_bitmap(tag, 1, 1, 1)
    ty = H - 14 if band_top else 7
    tag_col = (70, 40, 50) if genre in ("comedy", "romance") or row["variant"] == "pastel" else (245, 245, 245)
    return stamp(img, tb, (W - tb.shape[1]) // 2, ty, tag_col, 0.85, 0.25)


# ---------------------------------------------------------------------------
# Posters
# ---------------------------------------------------------------------------

def render_poster(row: dict, index: int, seed: int = DEFAULT_SEED) -> Image.Image:
    """Draw one poster for a catalogue row, deterministically from (seed, index).

    The title is laid out first, which fixes the band height; the scene is
    then composed in the space left free, and the band drawn over it.
    """
    genre = row["genre"]
    rng = np.random.default_rng([seed, index])
    band_top = bool(rng.random() < 0.4)
    title_bitmaps, small = layout_title(row["title"], TYPE[genre])
    band_h = title_block_height(title_bitmaps, small) + BILLING_H + 3 + 2 * PAD
    free = (band_h, H - 16) if band_top else (16, H - band_h)
    img, look = SCENES[genre](np.random.default_rng([seed, index, 1]), row["variant"], row["motif"], free)
    band_style = look["band_styles"][int(rng.integers(len(look["band_styles"])))]
    img = draw_title_band(img, rng, row, look, band_top, band_style, band_h, title_bitmaps, small)
    img = grain(img, rng, GRAIN[genre])
    return Image.fromarray(np.clip(np.round(img), 0, 255).astype(np.uint8), "RGB")


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file and an atomic rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def jpeg_bytes(img: Image.Image, quality: int = JPEG_QUALITY) -> bytes:
    """Encode as a plain baseline JPEG (no metadata, so bytes depend only on pixels)."""
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, optimize=True)
    return buf.getvalue()


def contact_sheet(images: list[Image.Image], cols: int = 10, thumb: tuple[int, int] = (92, 139),
                  gap: int = 4) -> Image.Image:
    """A grid of thumbnails on a dark background."""
    rows = math.ceil(len(images) / cols)
    tw, th = thumb
    sheet = Image.new("RGB", (cols * tw + (cols + 1) * gap, rows * th + (rows + 1) * gap), (24, 24, 24))
    for i, im in enumerate(images):
        r, c = divmod(i, cols)
        sheet.paste(im.resize(thumb, Image.Resampling.LANCZOS), (gap + c * (tw + gap), gap + r * (th + gap)))
    return sheet


def write_catalogue(rows: list[dict], path: Path) -> None:
    """Write covers.csv (file,title,genre,variant,motif) atomically."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=["file", "title", "genre", "variant", "motif"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    _atomic_write_bytes(path, buf.getvalue().encode("utf-8"))


def make_covers(out_dir, n: int = DEFAULT_N, seed: int = DEFAULT_SEED, *, indices=None,
                csv_path=None, sheet_path=None) -> list[dict]:
    """Generate the posters into ``out_dir`` and return the catalogue rows.

    ``indices`` limits drawing to some posters of the ``n``-poster set (the
    catalogue is the same either way; used by the tests). When drawing the
    full set, stale ``poster_*.jpg`` files from a larger earlier run are
    removed, and ``csv_path`` / ``sheet_path`` (if given) receive the
    catalogue and the contact sheet.
    """
    rows = catalogue(n, seed)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"output path exists and is not a directory: {out}")
    out.mkdir(parents=True, exist_ok=True)
    todo = range(n) if indices is None else sorted(set(int(i) for i in indices))
    images = []
    for i in todo:
        if not 0 <= i < n:
            raise ValueError(f"poster index {i} out of range 0..{n - 1}")
        img = render_poster(rows[i], i, seed)
        _atomic_write_bytes(out / rows[i]["file"], jpeg_bytes(img))
        images.append(img)
    if indices is None:
        keep = {r["file"] for r in rows}
        for stale in out.glob("poster_*.jpg"):
            if stale.name not in keep:
                stale.unlink()
        if csv_path is not None:
            write_catalogue(rows, Path(csv_path))
        if sheet_path is not None:
            buf = io.BytesIO()
            contact_sheet(images).save(buf, "JPEG", quality=82, optimize=True)
            _atomic_write_bytes(Path(sheet_path), buf.getvalue())
    return rows if indices is None else [rows[i] for i in todo]


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line, without the usage block."""

    def error(self, message):
        self.exit(2, f"make_covers.py: error: {message}\n")


def main(argv=None) -> int:
    """Command line: regenerate posters, covers.csv and the contact sheet."""
    p = _Parser(description="Generate the project's synthetic movie posters (CC0).")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="master seed (default %(default)s)")
    p.add_argument("--n", type=int, default=DEFAULT_N, help="number of posters (default %(default)s)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT,
                   help="folder for the JPEGs (default data/covers); covers.csv and "
                        "contact_sheet.jpg go next to this folder unless --csv/--contact-sheet say otherwise")
    p.add_argument("--csv", type=Path, default=None, help="catalogue path (default OUT/../covers.csv)")
    p.add_argument("--contact-sheet", type=Path, default=None,
                   help="contact sheet path (default OUT/../contact_sheet.jpg)")
    p.add_argument("--no-contact-sheet", action="store_true", help="skip the contact sheet")
    args = p.parse_args(argv)
    out = args.out
    csv_path = args.csv or out.resolve().parent / "covers.csv"
    sheet = None if args.no_contact_sheet else (args.contact_sheet or out.resolve().parent / "contact_sheet.jpg")
    try:
        rows = make_covers(out, args.n, args.seed, csv_path=csv_path, sheet_path=sheet)
    except (ValueError, OSError) as e:
        print(f"make_covers.py: error: {e}", file=sys.stderr)
        return 1
    size = sum((out / r["file"]).stat().st_size for r in rows)
    print(f"wrote {len(rows)} posters to {out} ({size / 1e6:.2f} MB), catalogue {csv_path}"
          + (f", contact sheet {sheet}" if sheet else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
