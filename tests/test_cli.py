"""The command line, run as a student would: ``python helpers.py COVERS_DIR ...``.

Every run is a real subprocess in its own empty working folder. Starting
Python and importing the science stack takes a second or two, so all runs
are started at once (module fixture) and the tests then read their results.
"""
import colorsys
import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

import helpers

HELPERS = Path(helpers.__file__).resolve()
N_COVERS = 12
WIDTH, HEIGHT = 16, 24  # every cover's size in pixels
OUTPUTS = ["--out", "grid.png", "--positions", "pos.csv"]
QUICK = ["--iterations", "300"]


def make_covers(folder, n=N_COVERS):
    """n small JPEG covers of clearly different colours, with a stripe each."""
    folder.mkdir(parents=True)
    for i in range(n):
        r, g, b = (int(255 * v) for v in colorsys.hsv_to_rgb(i / n, 0.8, 0.9))
        image = Image.new("RGB", (WIDTH, HEIGHT), (r, g, b))
        image.paste((255 - r, 255 - g, 255 - b), (0, 2 * i % HEIGHT, WIDTH, 2 * i % HEIGHT + 2))
        image.save(folder / f"cover{i:02d}.jpg", quality=95)
    return folder


# name -> (covers folder key, extra arguments)
RUNS = {
    # successful runs
    "basic": ("good", [*OUTPUTS, *QUICK, "--seed", "7"]),
    "basic_again": ("good", [*OUTPUTS, *QUICK, "--seed", "7"]),
    "original_greedy": ("good", [*OUTPUTS, *QUICK, "--preset", "original", "--placement", "greedy"]),
    "with_broken_file": ("good_and_broken", [*OUTPUTS, *QUICK]),
    "allow_drop": ("good", [*OUTPUTS, *QUICK, "--rows", "3", "--cols", "3", "--allow-drop",
                            "--border", "2"]),
    "minisom_warning": ("four", [*OUTPUTS, *QUICK]),  # sigma 4 on a 2x2 grid: MiniSom warns
    # failures: each must fail on its own, with one line on stderr
    "missing_folder": ("missing", [*OUTPUTS, *QUICK]),
    "empty_folder": ("empty", [*OUTPUTS, *QUICK]),
    "only_broken": ("only_broken", [*OUTPUTS, *QUICK]),
    "grid_too_small": ("good", [*OUTPUTS, *QUICK, "--rows", "2", "--cols", "2"]),
    "sigma_zero": ("good", [*OUTPUTS, *QUICK, "--sigma", "0"]),
    "iterations_zero": ("good", [*OUTPUTS, "--iterations", "0"]),
    "rows_without_cols": ("good", [*OUTPUTS, *QUICK, "--rows", "3"]),
    "negative_border": ("good", [*OUTPUTS, *QUICK, "--border", "-1"]),
    "identical_covers": ("identical", [*OUTPUTS, *QUICK]),
}
FAILURES = ["missing_folder", "empty_folder", "only_broken", "grid_too_small", "sigma_zero",
            "iterations_zero", "rows_without_cols", "negative_border", "identical_covers"]


class Run:
    def __init__(self, cwd, returncode, stdout, stderr):
        self.cwd, self.returncode, self.stdout, self.stderr = cwd, returncode, stdout, stderr

    def positions(self):
        """The rows of pos.csv as (file, row, col), after checking its header."""
        text = (self.cwd / "pos.csv").read_text(encoding="utf-8")
        assert text.splitlines()[0] == "file,row,col"
        rows = list(csv.reader(io.StringIO(text)))[1:]
        return [(name, int(r), int(c)) for name, r, c in rows]

    def png_size(self):
        with Image.open(self.cwd / "grid.png") as image:
            assert image.format == "PNG"
            return image.size


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("cli")
    folders = {
        "good": make_covers(base / "good"),
        "good_and_broken": make_covers(base / "good_and_broken"),
        "missing": base / "no_such_folder",
        "empty": base / "empty",
        "only_broken": base / "only_broken",
    }
    folders["empty"].mkdir()
    folders["four"] = make_covers(base / "four", n=4)
    folders["identical"] = base / "identical"
    folders["identical"].mkdir()
    for i in range(4):
        Image.new("RGB", (WIDTH, HEIGHT), (40, 90, 200)).save(folders["identical"] / f"same{i}.png")
    folders["only_broken"].mkdir()
    (folders["only_broken"] / "broken.jpg").write_bytes(b"this is not a JPEG")
    (folders["good_and_broken"] / "broken.jpg").write_bytes(b"this is not a JPEG")

    started = {}
    for name, (folder, arguments) in RUNS.items():
        cwd = base / "runs" / name
        cwd.mkdir(parents=True)
        command = [sys.executable, str(HELPERS), str(folders[folder]), *arguments]
        started[name] = (cwd, subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE,
                                               stderr=subprocess.PIPE, text=True,
                                               stdin=subprocess.DEVNULL))
    results = {}
    for name, (cwd, process) in started.items():
        stdout, stderr = process.communicate(timeout=120)
        results[name] = Run(cwd, process.returncode, stdout, stderr)
    return results


def check_succeeded(run):
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    # only the two outputs, and no temporary file left behind
    assert sorted(os.listdir(run.cwd)) == ["grid.png", "pos.csv"]
    if os.name == "posix":  # ordinary new files (666 minus the umask), not private ones
        mask = os.umask(0o022)
        os.umask(mask)
        for name in ("grid.png", "pos.csv"):
            assert (run.cwd / name).stat().st_mode & 0o777 == 0o666 & ~mask, name


def check_layout(run, names, rows, cols):
    placed = run.positions()
    files = [name for name, _, _ in placed]
    assert sorted(files) == sorted(names)          # every cover listed exactly once
    cells = [(r, c) for _, r, c in placed]
    assert len(set(cells)) == len(cells)           # no two covers in one cell
    assert all(0 <= r < rows and 0 <= c < cols for r, c in cells)


def cover_names():
    return [f"cover{i:02d}.jpg" for i in range(N_COVERS)]


def test_basic_run(runs):
    run = runs["basic"]
    check_succeeded(run)
    rows, cols = helpers.grid_shape_for(N_COVERS)   # the default grid
    assert run.png_size() == (cols * WIDTH, rows * HEIGHT)
    check_layout(run, cover_names(), rows, cols)
    assert len(run.positions()) == N_COVERS
    assert f"{N_COVERS} covers on a {rows}x{cols} grid" in run.stdout
    assert run.stderr == ""


def test_csv_is_plain_text_with_one_line_per_cover(runs):
    text = (runs["basic"].cwd / "pos.csv").read_text(encoding="utf-8")
    lines = text.split("\n")
    assert lines[0] == "file,row,col"
    assert lines[-1] == ""  # ends with a newline
    assert len(lines) == N_COVERS + 2
    assert "\r" not in text


def test_same_seed_gives_identical_csv_and_png(runs):
    first, second = runs["basic"], runs["basic_again"]
    check_succeeded(second)
    assert (first.cwd / "pos.csv").read_bytes() == (second.cwd / "pos.csv").read_bytes()
    assert (first.cwd / "grid.png").read_bytes() == (second.cwd / "grid.png").read_bytes()


def test_png_shows_each_cover_in_its_cell(runs):
    import numpy as np

    run = runs["basic"]
    with Image.open(run.cwd / "grid.png") as image:
        mosaic = np.asarray(image.convert("RGB")).astype(int)
    folder = run.cwd.parent.parent / "good"
    for name, r, c in run.positions():
        with Image.open(folder / name) as cover:
            pixels = np.asarray(cover.convert("RGB")).astype(int)
        placed = mosaic[r * HEIGHT:(r + 1) * HEIGHT, c * WIDTH:(c + 1) * WIDTH]
        assert np.abs(placed - pixels).max() <= 2, name


def test_original_preset_with_greedy_placement(runs):
    run = runs["original_greedy"]
    check_succeeded(run)
    rows, cols = helpers.grid_shape_for(N_COVERS)
    check_layout(run, cover_names(), rows, cols)
    assert run.png_size() == (cols * WIDTH, rows * HEIGHT)


def test_broken_file_next_to_good_covers_is_skipped_and_named(runs):
    run = runs["with_broken_file"]
    check_succeeded(run)
    lines = run.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("skipped broken.jpg: ")
    rows, cols = helpers.grid_shape_for(N_COVERS)
    check_layout(run, cover_names(), rows, cols)


def test_allow_drop_lists_the_dropped_covers(runs):
    run = runs["allow_drop"]
    check_succeeded(run)
    lines = run.stderr.splitlines()
    dropped = [line.split()[1].rstrip(":") for line in lines]
    assert len(lines) == N_COVERS - 9
    assert all(line.startswith("dropped ") for line in lines)
    assert all("3x3" in line for line in lines)
    placed = run.positions()
    assert len(placed) == 9
    assert sorted(dropped + [name for name, _, _ in placed]) == cover_names()
    check_layout(run, [n for n in cover_names() if n not in dropped], 3, 3)
    # border of 2 pixels between cells
    assert run.png_size() == (3 * WIDTH + 2 * 2, 3 * HEIGHT + 2 * 2)


@pytest.mark.parametrize("name", FAILURES)
def test_bad_input_fails_with_one_error_line(runs, name):
    run = runs[name]
    assert run.returncode != 0
    assert "Traceback" not in run.stderr
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("error: ")
    # nothing written: no grid.png, no pos.csv, no temporary file
    assert os.listdir(run.cwd) == []


def test_error_messages_say_what_is_wrong(runs):
    rows, cols = helpers.grid_shape_for(N_COVERS)
    assert "does not exist" in runs["missing_folder"].stderr
    assert "no readable cover" in runs["empty_folder"].stderr
    assert "broken.jpg" in runs["only_broken"].stderr
    assert f"use at least {rows}x{cols}" in runs["grid_too_small"].stderr
    assert "2x2" in runs["grid_too_small"].stderr
    assert "sigma" in runs["sigma_zero"].stderr
    assert "iterations" in runs["iterations_zero"].stderr
    assert "--rows and --cols" in runs["rows_without_cols"].stderr
    assert "border" in runs["negative_border"].stderr
    assert "identical" in runs["identical_covers"].stderr


def test_library_warnings_become_one_clean_line(runs):
    """MiniSom's own warning is reported as one 'warning:' line, not a raw warnings dump."""
    run = runs["minisom_warning"]
    check_succeeded(run)
    lines = run.stderr.strip().splitlines()
    assert lines and all(line.startswith("warning: ") for line in lines), run.stderr
    assert any("sigma" in line for line in lines)
    assert "UserWarning" not in run.stderr and "warn(" not in run.stderr
