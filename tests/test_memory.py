"""Memory that counts what is decoded (issue 21, case 11).

A 9400x9400 WebP of a few kilobytes took 1.47 GB to load, as its pixels are
decoded in full; a 9400x9400 PNG 420 MB. The decodes now share a budget
(``images.DECODE_BUDGET``), a file that alone would pass it is skipped by
name, and any folder of up to 100 covers stays under 700 MB.
"""
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import write_striped_covers
from PIL import Image

from tutorial_kit import images
from tutorial_kit.images import DECODE_BUDGET, read_header

HELPERS = Path(__file__).resolve().parents[1] / "helpers.py"


def test_a_file_whose_decode_would_pass_the_budget_is_skipped_by_name(tmp_path, monkeypatch):
    """Scaled down (a budget of 1 MiB): the rule that skips a 9400x9400 WebP at 400 MiB."""
    monkeypatch.setattr(images, "DECODE_BUDGET", 1024**2)
    Image.new("RGB", (300, 300), (200, 30, 40)).save(tmp_path / "huge.webp", quality=50)
    for name in ("a.png", "b.png"):
        Image.new("RGB", (30, 40), name[0] == "a" and "red" or "blue").save(tmp_path / name)
    scan = images.scan_folder(tmp_path)
    assert [path.name for path, _ in scan.covers] == ["a.png", "b.png"]
    assert scan.skipped == [("huge.webp", "too large to decode: 300x300 px of WEBP would take "
                             "about 2 MiB of memory, over the budget of 1 MiB for decoding; "
                             "shrink it first")]
    assert scan.decoding == 2 * 30 * 40 * 4.5  # both at once, counted in the limits


def test_the_cost_of_a_jpeg_counts_its_reduced_scale(tmp_path):
    Image.new("RGB", (8000, 6000), "green").save(tmp_path / "photo.jpg")
    header = read_header(tmp_path / "photo.jpg")
    assert header.upright == (8000, 6000)
    assert header.decode_bytes == 1000 * 750 * 4.5  # decoded at 1/8 scale at best


def test_a_progressive_jpeg_counts_its_coefficients_at_full_size(tmp_path):
    """libjpeg keeps a progressive file's coefficients whole: draft does not shrink them."""
    image = Image.new("RGB", (8000, 6000), "green")
    image.save(tmp_path / "progressive.jpg", progressive=True)  # 4:2:0, as by default
    image.save(tmp_path / "progressive444.jpg", progressive=True, subsampling=0)
    drafted = 1000 * 750 * 4.5
    assert read_header(tmp_path / "progressive.jpg").decode_bytes == drafted + 2 * 8000 * 6000 * 1.5
    assert read_header(tmp_path / "progressive444.jpg").decode_bytes == drafted + 2 * 8000 * 6000 * 3


def test_decodes_wait_for_the_budget_and_one_always_gets_through():
    budget = images._Budget(100)
    peak, lock = [0], threading.Lock()

    def decode(amount):
        with budget.taken(amount):
            with lock:
                peak[0] = max(peak[0], budget.used)
            time.sleep(0.02)

    threads = [threading.Thread(target=decode, args=(amount,))
               for amount in (60, 60, 30, 30, 100, 250, 10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert not any(thread.is_alive() for thread in threads)  # nobody waits for ever
    assert peak[0] <= 100 and budget.used == 0  # 250 counts as the whole budget, alone


def test_big_pictures_are_decoded_and_placed(tmp_path, monkeypatch):
    """Within the budget, big files of every kind still load (one at a time)."""
    monkeypatch.setattr(images, "DECODE_BUDGET", 40 * 1024**2)
    monkeypatch.setattr(images, "_decoding", images._Budget(40 * 1024**2))
    Image.new("RGB", (2000, 2000), (250, 0, 0)).save(tmp_path / "a.png")  # 18 MB to decode
    Image.new("RGB", (1200, 1200), (0, 250, 0)).save(tmp_path / "b.webp")  # 28.8 MB
    Image.new("I;16", (1500, 1500), 65535).save(tmp_path / "c.png")  # 31.5 MB
    Image.new("RGB", (2000, 2000), (0, 0, 250)).save(tmp_path / "d.webp")  # 80 MB: skipped
    covers = images.read_folder(tmp_path, size=(20, 30))
    assert covers[1] == ["a.png", "b.webp", "c.png"]
    assert [name for name, _ in covers[2]] == ["d.webp"]
    assert np.abs(covers[0][:, 10, 10].astype(int) - [[250, 0, 0], [0, 250, 0],
                                                       [255, 255, 255]]).max() <= 3


def peak_mb(command, cwd):
    """Run ``command`` in a fresh Python whose only child it is: its peak RSS, in MB."""
    measure = ("import resource, subprocess, sys; "
               "run = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, "
               "stderr=subprocess.PIPE, text=True); "
               "print(run.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024); "
               "print(run.stderr, file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", measure, *map(str, command)], cwd=cwd,
                            capture_output=True, text=True, timeout=900)
    code, peak = map(int, result.stdout.split())
    return code, peak, result.stderr


@pytest.fixture(scope="module")
def worst_folder(tmp_path_factory):
    """91 covers, then every kind of picture that is big when decoded, each under the bomb limit."""
    folder = write_striped_covers(tmp_path_factory.mktemp("worst") / "covers", n=91,
                                  size=(185, 278))
    for name, mode, side, colour in [("huge_a.png", "RGB", 9000, (10, 200, 30)),
                                     ("huge_b.png", "RGB", 9000, (200, 200, 30)),
                                     ("wide_a.webp", "RGB", 4400, (20, 20, 230)),
                                     ("wide_b.webp", "RGB", 4400, (220, 20, 230)),
                                     ("palette.png", "P", 7000, 7),
                                     ("deep.png", "I;16", 5000, 30000),
                                     ("bomb.webp", "RGB", 9400, (1, 2, 3)),
                                     ("progressive_a.jpg", "RGB", 9400, (90, 10, 10)),
                                     ("progressive_b.jpg", "RGB", 9400, (10, 90, 10))]:
        Image.new(mode, (side, side), colour).save(folder / name, quality=50, progressive=True)
    return folder


@pytest.mark.slow
def test_a_folder_of_the_biggest_pictures_stays_under_700_mb(worst_folder, tmp_path):
    code, peak, stderr = peak_mb([sys.executable, HELPERS, worst_folder, "--out",
                                  tmp_path / "g.png", "--positions", tmp_path / "g.csv"], tmp_path)
    assert code == 0, stderr
    assert peak < 700, f"peak {peak} MB"
    assert "skipped bomb.webp: too large to decode: 9,400x9,400 px of WEBP" in stderr
    assert sum(1 for _ in open(tmp_path / "g.csv")) == 1 + 99  # all the others are placed
    print(f"peak {peak} MB")
