"""Fuzzing the loader: thousands of damaged JPEG, PNG and WebP files.

Small valid files (with and without EXIF, every colour mode, animated WebP)
are damaged by seeded byte mutations: flipped bits, overwritten and inserted
bytes, cuts, and header fields set to extreme values. A folder of them goes
through ``load_covers``: every file must come back either as a cover or as a
named skip with a one-line reason, and no exception may escape.

The fast test (a few hundred files) runs with the unit tests; the slow one
(a few thousand, ``-m slow``) is the full fuzz run.
"""
import io
import time

import numpy as np
import pytest
from PIL import Image, PngImagePlugin, features

from helpers import load_covers

HAS_WEBP = features.check("webp")


def _exif(orientation=6, bad_type=False):
    exif = Image.Exif()
    exif[274] = orientation
    exif[271] = "Cam"
    exif[305] = "fuzz"
    data = exif.tobytes()
    if bad_type:  # the malformed EXIF: Make retyped as RATIONAL
        data = data.replace(b"\x01\x0f\x00\x02", b"\x01\x1a\x00\x02", 1)
    return data


def _picture(mode, size=(16, 24), seed=0):
    rng = np.random.default_rng(seed)
    rgb = Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))
    if mode == "I;16":
        return Image.fromarray(rng.integers(0, 65536, (size[1], size[0]), dtype=np.uint16))
    if mode == "P":
        return rgb.quantize(16)
    return rgb.convert(mode)


def _encode(image, kind, **options):
    buffer = io.BytesIO()
    image.save(buffer, kind, **options)
    return buffer.getvalue()


def seed_files():
    """The valid files that get damaged: (extension, bytes)."""
    text = PngImagePlugin.PngInfo()
    text.add_text("Title", "a poster")
    files = [
        ("jpg", _encode(_picture("RGB"), "JPEG", quality=90)),
        ("jpg", _encode(_picture("RGB", seed=1), "JPEG", exif=_exif(6))),
        ("jpg", _encode(_picture("RGB", seed=2), "JPEG", exif=_exif(8, bad_type=True))),
        ("jpg", _encode(_picture("RGB", seed=3), "JPEG", progressive=True, exif=_exif(3))),
        ("jpg", _encode(_picture("L", seed=4), "JPEG")),
        ("jpg", _encode(_picture("CMYK", seed=5), "JPEG", icc_profile=b"not a profile" * 4)),
        ("png", _encode(_picture("RGB", seed=6), "PNG", pnginfo=text)),
        ("png", _encode(_picture("RGBA", seed=7), "PNG")),
        ("png", _encode(_picture("P", seed=8), "PNG", transparency=0)),
        ("png", _encode(_picture("I;16", seed=9), "PNG")),
        ("png", _encode(_picture("LA", seed=10), "PNG", exif=_exif(5))),
    ]
    if HAS_WEBP:
        frames = [_picture("RGB", seed=s) for s in (11, 12)]
        files += [
            ("webp", _encode(_picture("RGB", seed=13), "WEBP", quality=80)),
            ("webp", _encode(_picture("RGBA", seed=14), "WEBP", lossless=True, exif=_exif(6))),
            ("webp", _encode(frames[0], "WEBP", save_all=True, append_images=frames[1:])),
        ]
    return files


EXTREMES = [b"\x00", b"\xff", b"\x7f", b"\x80", b"\x00\x00", b"\xff\xff", b"\xff\xff\xff\xff"]


def mutate(data, rng):
    """One seeded damage of ``data``."""
    blob = bytearray(data)
    kind = rng.integers(0, 6)
    if kind == 0:  # flip a few bits
        for _ in range(rng.integers(1, 9)):
            blob[rng.integers(0, len(blob))] ^= 1 << int(rng.integers(0, 8))
    elif kind == 1:  # overwrite a few bytes, mostly near the header
        for _ in range(rng.integers(1, 9)):
            at = rng.integers(0, min(len(blob), 400) if rng.random() < 0.7 else len(blob))
            blob[at] = rng.integers(0, 256)
    elif kind == 2:  # an extreme value somewhere in the header (sizes, lengths, counts)
        value = EXTREMES[rng.integers(0, len(EXTREMES))]
        at = rng.integers(0, min(len(blob), 300))
        blob[at:at + len(value)] = value
    elif kind == 3:  # cut the file short
        blob = blob[: rng.integers(1, len(blob))]
    elif kind == 4:  # insert random bytes
        at = rng.integers(0, len(blob))
        blob[at:at] = rng.bytes(int(rng.integers(1, 64)))
    else:  # repeat a slice (duplicated chunks and markers)
        start = rng.integers(0, len(blob))
        stop = min(len(blob), start + rng.integers(1, 200))
        blob[stop:stop] = blob[start:stop]
    return bytes(blob)


def fuzz(tmp_path, n_files, seed, per_folder=250, seconds_per_file=0.05):
    """Write n_files damaged files in folders of per_folder; load each folder."""
    rng = np.random.default_rng(seed)
    seeds = seed_files()
    total_skipped = total_loaded = 0
    for batch in range(0, n_files, per_folder):
        folder = tmp_path / f"batch{batch}"
        folder.mkdir()
        written = []
        for i in range(batch, min(n_files, batch + per_folder)):
            extension, data = seeds[i % len(seeds)]
            name = f"f{i:05d}.{extension}"
            (folder / name).write_bytes(mutate(data, rng))
            written.append(name)
        start = time.perf_counter()
        try:
            covers = load_covers(folder)
        except ValueError as error:  # only allowed when no file at all was readable
            assert str(error).startswith("no readable cover"), error
            continue
        elapsed = time.perf_counter() - start
        assert elapsed < 5 + seconds_per_file * len(written), f"{folder.name}: {elapsed:.1f} s"
        skipped = [name for name, _ in covers.skipped]
        assert sorted(covers.names + skipped) == written  # each file exactly once
        assert covers.images.shape[0] == len(covers.names)
        assert covers.images.dtype == np.uint8 and covers.images.shape[3] == 3
        assert max(covers.images.shape[1:3]) <= 300  # never bigger than the cap
        for _, reason in covers.skipped:
            assert reason and "\n" not in reason and len(reason) <= 160
        total_skipped += len(skipped)
        total_loaded += len(covers.names)
    return total_loaded, total_skipped


@pytest.mark.filterwarnings("error")  # no Pillow warning may leak out either
def test_a_few_hundred_damaged_files(tmp_path):
    loaded, skipped = fuzz(tmp_path, 300, seed=0)
    assert loaded + skipped == 300
    assert loaded > 0 and skipped > 0  # the damage is neither always fatal nor always harmless


def test_seed_files_themselves_all_load(tmp_path):
    for i, (extension, data) in enumerate(seed_files()):
        (tmp_path / f"s{i:02d}.{extension}").write_bytes(data)
    covers = load_covers(tmp_path)
    # the one with the malformed EXIF (and a rotation) is skipped, the rest load
    assert [name for name, _ in covers.skipped] == ["s02.jpg"]
    assert covers.skipped[0][1].startswith("malformed EXIF data")
    assert len(covers.names) == len(seed_files()) - 1


@pytest.mark.slow
@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("seed", [1, 2])
def test_thousands_of_damaged_files(tmp_path, seed):
    loaded, skipped = fuzz(tmp_path, 2000, seed=seed)
    assert loaded + skipped == 2000
