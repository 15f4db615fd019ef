"""The command line, run as a student would: ``python helpers.py COVERS_DIR ...``.

Every run is a real subprocess in its own empty working folder. Starting
Python and importing the science stack takes a second or two, so all runs
are started at once (module fixture) and the tests then read their results.
"""
import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import write_striped_covers
from PIL import Image

import helpers

# Whole command-line runs (a fresh interpreter each): part of the full suite, not of the
# quick unit run (`-m "not slow"`).
pytestmark = pytest.mark.slow

HELPERS = Path(helpers.__file__).resolve()
N_COVERS = 12
WIDTH, HEIGHT = 16, 24  # every cover's size in pixels
OUTPUTS = ["--out", "grid.png", "--positions", "pos.csv"]
QUICK = ["--iterations", "300"]


def make_covers(folder, n=N_COVERS):
    """n small JPEG covers of clearly different colours, with a stripe each."""
    return write_striped_covers(folder, n=n, size=(WIDTH, HEIGHT))


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
    # hostile folders and careless paths (issue 10)
    "hostile": ("hostile", [*OUTPUTS, *QUICK]),
    "mixed_sizes": ("mixed_sizes", [*OUTPUTS, *QUICK]),
    "max_side": ("good", [*OUTPUTS, *QUICK, "--max-side", "12"]),
    "long_name": ("good", ["--out", "g" * 246 + ".png", "--positions", "p" * 246 + ".csv", *QUICK]),
    "replace_regular_files": ("good", [*OUTPUTS, *QUICK]),
    "border_huge": ("good", [*OUTPUTS, "--border", "100000"]),
    "iterations_huge": ("good", [*OUTPUTS, "--iterations", "1000000000"]),
    "grid_huge": ("good", [*OUTPUTS, "--rows", "3000", "--cols", "3000"]),
    "training_too_long": ("good", [*OUTPUTS, "--iterations", "20000000", "--rows", "30", "--cols", "30"]),
    "seed_negative": ("good", [*OUTPUTS, *QUICK, "--seed", "-1"]),
    "sigma_nan": ("good", [*OUTPUTS, *QUICK, "--sigma", "nan"]),
    "out_is_input": ("pngs", ["--out", "{pngs}/cover00.png", *QUICK]),
    "out_in_covers_folder": ("pngs", ["--out", "{pngs}/grid.png", *QUICK]),
    "out_hard_link_to_input": ("good", [*OUTPUTS, *QUICK]),
    "out_fifo": ("good", [*OUTPUTS, *QUICK]),
    "out_symlink": ("good", [*OUTPUTS, *QUICK]),
    "out_folder": ("good", [*OUTPUTS, *QUICK]),
    "out_devnull": ("good", ["--out", "/dev/null", *QUICK]),
    "out_empty": ("good", ["--out", "", *QUICK]),
    "out_jpg": ("good", ["--out", "grid.jpg", *QUICK]),
    "out_name_too_long": ("good", ["--out", "g" * 300 + ".png", *QUICK]),
    "out_under_a_file": ("good", ["--out", "pos.csv/grid.png", *QUICK]),
    "positions_folder": ("good", [*OUTPUTS, *QUICK]),
    "same_file_twice": ("good", [*OUTPUTS, *QUICK]),
}
FAILURES = ["missing_folder", "empty_folder", "only_broken", "grid_too_small", "sigma_zero",
            "iterations_zero", "rows_without_cols", "negative_border", "identical_covers",
            "border_huge", "iterations_huge", "grid_huge", "training_too_long", "seed_negative",
            "sigma_nan", "out_is_input", "out_in_covers_folder", "out_hard_link_to_input",
            "out_fifo", "out_symlink", "out_folder", "out_devnull", "out_empty", "out_jpg",
            "out_name_too_long", "out_under_a_file", "positions_folder", "same_file_twice"]
# What is in the working folder before the run (and must be unchanged after a refusal).
PREPARED = {
    "out_fifo": ["grid.png"], "out_symlink": ["grid.png", "target.png"],
    "out_folder": ["grid.png"], "positions_folder": ["pos.csv"],
    "same_file_twice": ["grid.png", "pos.csv"], "out_hard_link_to_input": ["grid.png"],
    "out_under_a_file": ["pos.csv"],
}


def prepare(name, cwd, folders):
    """Put things in the way of the outputs, before the run."""
    if name == "out_fifo":
        os.mkfifo(cwd / "grid.png")
    elif name == "out_symlink":
        (cwd / "target.png").write_bytes(b"precious")
        os.symlink("target.png", cwd / "grid.png")
    elif name == "out_folder":
        (cwd / "grid.png").mkdir()
    elif name == "positions_folder":
        (cwd / "pos.csv").mkdir()
    elif name == "same_file_twice":
        (cwd / "pos.csv").write_bytes(b"old")
        os.link(cwd / "pos.csv", cwd / "grid.png")
    elif name == "out_hard_link_to_input":
        os.link(folders["good"] / "cover00.jpg", cwd / "grid.png")
    elif name in ("out_under_a_file", "replace_regular_files"):
        (cwd / "pos.csv").write_bytes(b"old")
        if name == "replace_regular_files":
            (cwd / "grid.png").write_bytes(b"old")


def bad_exif_jpeg(path):
    """The issue's malformed EXIF, exactly."""
    exif = Image.Exif()
    exif[274] = 6
    exif[271] = "Cam"
    Image.new("RGB", (16, 24)).save(
        path, exif=exif.tobytes().replace(b"\x01\x0f\x00\x02", b"\x01\x1a\x00\x02", 1))


# Covers of the hostile folder whose names are dangerous in a terminal or a spreadsheet.
HOSTILE_GOOD = ["=HYPERLINK(1).jpg", "+1.jpg", "-2.jpg", "@3.jpg", "evil\x1b[2J\nname.jpg",
                os.fsdecode(b"latin1_\xff.jpg"), "plain.jpg"]


def make_hostile(folder):
    make_covers(folder, n=4)
    for i, name in enumerate(HOSTILE_GOOD):
        Image.new("RGB", (WIDTH, HEIGHT), (30 * i, 200 - 20 * i, 90)).save(folder / name, "JPEG")
    bad_exif_jpeg(folder / "bad.jpg")
    (folder / "empty.png").write_bytes(b"")
    (folder / "\x1b[31mred.png").write_bytes(b"not a png")
    os.mkfifo(folder / "fifo.jpg")
    os.symlink("/dev/zero", folder / "zero.jpg")
    (folder / "dir.jpg").mkdir()
    return folder


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
    folders["hostile"] = make_hostile(base / "hostile")
    folders["mixed_sizes"] = make_covers(base / "mixed_sizes")
    Image.new("RGB", (WIDTH * 40, HEIGHT * 40), "red").save(folders["mixed_sizes"] / "000.jpg")
    Image.new("RGB", (1, 1), "blue").save(folders["mixed_sizes"] / "000_icon.png")
    folders["pngs"] = base / "pngs"
    folders["pngs"].mkdir()
    for i in range(4):
        Image.new("RGB", (WIDTH, HEIGHT), (60 * i, 0, 0)).save(folders["pngs"] / f"cover{i:02d}.png")
    (folders["only_broken"] / "broken.jpg").write_bytes(b"this is not a JPEG")
    (folders["good_and_broken"] / "broken.jpg").write_bytes(b"this is not a JPEG")

    commands = []
    for name, (folder, arguments) in RUNS.items():
        cwd = base / "runs" / name
        cwd.mkdir(parents=True)
        prepare(name, cwd, folders)
        arguments = [a.format(**{k: str(v) for k, v in folders.items()}) for a in arguments]
        commands.append((name, cwd, [sys.executable, str(HELPERS), str(folders[folder]),
                                     *arguments]))
    # A few at a time: the machine may be small and busy.
    results, running = {}, []
    while commands or running:
        while commands and len(running) < 4:
            name, cwd, command = commands.pop(0)
            running.append((name, cwd, subprocess.Popen(
                command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                stdin=subprocess.DEVNULL)))
        name, cwd, process = running.pop(0)
        try:
            stdout, stderr = process.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            for _, _, other in [(name, cwd, process), *running]:
                other.kill()  # leave no run behind
            raise
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
    assert sorted(os.listdir(run.cwd)) == PREPARED.get(name, [])


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


# --- hostile folders and careless paths (issue 10) ---------------------------------------


def test_limits_are_refused_at_once_naming_the_limit(runs):
    border = runs["border_huge"].stderr
    assert "grid image would be" in border and "--border (100000)" in border
    assert "memory limit" in border
    iterations = runs["iterations_huge"].stderr
    assert "--iterations 1,000,000,000 is over the limit of 40,000,000" in iterations
    grid = runs["grid_huge"].stderr
    assert "3000x3000" in grid and "memory limit" in grid
    assert "time limit" in runs["training_too_long"].stderr
    assert "--seed must be a whole number between 0 and 4294967295, got -1" in runs["seed_negative"].stderr
    assert "--sigma must be a finite number >= 1e-100 (2 sigma^2 must not round to 0), got nan" in runs["sigma_nan"].stderr


def test_outputs_in_the_way_are_named_and_left_alone(runs):
    assert "is an input cover" in runs["out_is_input"].stderr
    assert "inside the covers folder" in runs["out_in_covers_folder"].stderr
    assert "same file as the input cover 'cover00.jpg'" in runs["out_hard_link_to_input"].stderr
    assert "is a FIFO" in runs["out_fifo"].stderr
    assert "is a symbolic link" in runs["out_symlink"].stderr
    assert "is a folder" in runs["out_folder"].stderr
    assert "'pos.csv' is a folder" in runs["positions_folder"].stderr
    assert "must end with .png" in runs["out_devnull"].stderr
    assert "--out is empty" in runs["out_empty"].stderr
    assert "must end with .png (got '.jpg')" in runs["out_jpg"].stderr
    assert "longer than 255 bytes" in runs["out_name_too_long"].stderr
    assert "is a file, not a folder" in runs["out_under_a_file"].stderr
    assert "both as the grid and as the positions file" in runs["same_file_twice"].stderr
    # what was in the way is untouched
    cwd = runs["out_symlink"].cwd
    assert (cwd / "target.png").read_bytes() == b"precious"
    assert os.readlink(cwd / "grid.png") == "target.png"
    assert (runs["same_file_twice"].cwd / "pos.csv").read_bytes() == b"old"
    import stat
    assert stat.S_ISFIFO(os.lstat(runs["out_fifo"].cwd / "grid.png").st_mode)
    folder = runs["out_is_input"].cwd.parent.parent / "pngs"
    assert sorted(os.listdir(folder)) == [f"cover{i:02d}.png" for i in range(4)]
    with Image.open(folder / "cover00.png") as cover:
        assert cover.size == (WIDTH, HEIGHT)


def test_regular_files_are_replaced(runs):
    run = runs["replace_regular_files"]
    check_succeeded(run)
    check_layout(run, cover_names(), *helpers.grid_shape_for(N_COVERS))


def test_a_250_character_name_is_written(runs):
    run = runs["long_name"]
    assert run.returncode == 0, run.stderr
    assert sorted(os.listdir(run.cwd)) == ["g" * 246 + ".png", "p" * 246 + ".csv"]


def test_hostile_folder_places_every_good_cover_once(runs):
    run = runs["hostile"]
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert sorted(os.listdir(run.cwd)) == ["grid.png", "pos.csv"]
    data = (run.cwd / "pos.csv").read_bytes()
    rows = list(csv.reader(io.StringIO(data.decode("utf-8", errors="surrogateescape"))))[1:]
    written = [name for name, _, _ in rows]
    expected = [f"cover{i:02d}.jpg" for i in range(4)] + HOSTILE_GOOD
    formula = {"=HYPERLINK(1).jpg", "+1.jpg", "-2.jpg", "@3.jpg"}
    shown = ["'" + name if name in formula else name for name in expected]
    assert sorted(written) == sorted(shown)  # every good cover once, formulas neutralised
    assert b"latin1_\xff.jpg" in data  # the real bytes of the name, to find the file
    cells = [(r, c) for _, r, c in rows]
    assert len(set(cells)) == len(cells)


def test_hostile_folder_names_every_bad_file_on_one_escaped_line(runs):
    run = runs["hostile"]
    lines = run.stderr.splitlines()
    skipped = sorted(line for line in lines if line.startswith("skipped "))
    assert skipped == [
        "skipped \\x1b[31mred.png: not a readable image: no JPEG, PNG or WebP data found",
        "skipped bad.jpg: malformed EXIF data: bad operand type for abs(): 'str'",
        "skipped empty.png: empty file (0 bytes)",
        "skipped fifo.jpg: not a regular file",
        "skipped zero.jpg: not a regular file",
    ]
    assert "\x1b" not in run.stderr and "\x1b" not in run.stdout
    assert len(lines) == len(skipped)  # nothing else: all covers had the same size


def test_resized_covers_are_reported_in_one_line(runs):
    run = runs["mixed_sizes"]
    check_succeeded(run)
    notes = [line for line in run.stderr.splitlines() if line.startswith("note: ")]
    assert notes == [f"note: 2 of {N_COVERS + 2} covers were resized to {WIDTH}x{HEIGHT} px "
                     "(the folder's typical size)"]
    rows, cols = helpers.grid_shape_for(N_COVERS + 2)
    assert run.png_size() == (cols * WIDTH, rows * HEIGHT)  # cells at the working size


def test_max_side_shrinks_the_cells(runs):
    run = runs["max_side"]
    check_succeeded(run)
    rows, cols = helpers.grid_shape_for(N_COVERS)
    assert run.png_size() == (cols * 8, rows * 12)
    assert "note: 12 of 12 covers were resized to 8x12 px" in run.stderr


@pytest.mark.parametrize("arguments, expected", [
    (["--rows", "nan"], "error: argument --rows: invalid int value: 'nan'"),
    (["--colour", "red"], "error: unrecognized arguments: --colour red"),
    (["--preset", "best"], "error: argument --preset: invalid choice: 'best'"),
])
def test_a_bad_option_is_one_error_line_and_one_hint(tmp_path, arguments, expected):
    result = subprocess.run([sys.executable, str(HELPERS), str(tmp_path), *arguments],
                            capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and lines[0].startswith(expected), result.stderr
    assert lines[1].startswith("hint: ") and "usage" not in result.stderr


def test_a_closed_stdout_ends_without_a_traceback(tmp_path):
    folder = make_covers(tmp_path / "covers", n=4)
    process = subprocess.Popen([sys.executable, str(HELPERS), str(folder), *QUICK,
                                "--out", "grid.png"], cwd=tmp_path, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    process.stdout.close()  # like `| head -0`: nobody reads the summary line
    stderr = process.stderr.read().decode()
    process.wait(timeout=120)
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr and "Exception" not in stderr
    assert all(line.startswith("warning: ") for line in stderr.splitlines())  # MiniSom's sigma
    assert process.returncode == 1
    assert (tmp_path / "grid.png").exists()  # the outputs were complete before the print


@pytest.mark.slow
def test_ctrl_c_prints_one_line_exits_130_and_leaves_nothing(tmp_path):
    import signal

    folder = make_covers(tmp_path / "covers")
    Image.new("RGB", (WIDTH * 2, HEIGHT * 2), "red").save(folder / "big.png")  # gives a note
    cwd = tmp_path / "run"
    cwd.mkdir()
    process = subprocess.Popen([sys.executable, str(HELPERS), str(folder), *OUTPUTS,
                                "--iterations", "2000000"],  # about a minute
                               cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL, text=True)
    first = process.stderr.readline()  # the note comes after loading: training starts
    assert first.startswith("note: "), first
    process.send_signal(signal.SIGINT)
    rest = process.stderr.read()
    process.wait(timeout=120)
    assert process.returncode == 130
    assert rest.splitlines() == ["error: interrupted (Ctrl-C); no output was written or changed, "
                                 "and no partial file was left behind"]
    assert os.listdir(cwd) == []


@pytest.mark.slow
def test_twenty_photos_of_1200x1800_stay_under_700_mb(tmp_path):
    from test_loading import write_photos

    folder = tmp_path / "photos"
    folder.mkdir()
    write_photos(folder, 20, (1200, 1800))
    # A fresh Python whose only child is the command line: its peak is the run's peak.
    measure = ("import resource, subprocess, sys; "
               "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode; "
               "print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)")
    result = subprocess.run(
        [sys.executable, "-c", measure, sys.executable, str(HELPERS), str(folder),
         "--out", str(tmp_path / "grid.png"), "--positions", str(tmp_path / "grid.csv")],
        capture_output=True, text=True, timeout=600, cwd=tmp_path)
    code, peak_mb = map(int, result.stdout.split())
    assert code == 0, result.stderr
    assert peak_mb < 700, f"peak {peak_mb} MB"
    with Image.open(tmp_path / "grid.png") as grid:
        assert grid.size == (5 * 200, 4 * 300)  # cells at the working size, 200x300


def test_an_unfinished_progress_line_is_ended_before_an_error(monkeypatch):
    from tutorial_kit import progress

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    report = progress.progress_reporter(True, total=10, seconds=5)
    report(4)
    progress.end_line()
    progress.end_line()  # only once
    assert terminal.getvalue() == "\rtraining  40%\n"
    report(10)
    progress.end_line()  # a finished bar already ended its line
    assert terminal.getvalue() == "\rtraining  40%\n\rtraining 100%\n"


def test_the_headers_are_read_once(tmp_path, monkeypatch, capsys):
    """The limits are checked on the header pass, and loading reuses it."""
    from tutorial_kit import cli, images

    folder = make_covers(tmp_path / "covers", n=4)
    calls = []
    real = images.scan_folder
    monkeypatch.setattr(cli, "scan_folder", lambda *a, **k: calls.append(a) or real(*a, **k))
    monkeypatch.setattr(images, "scan_folder", lambda *a, **k: calls.append(a) or real(*a, **k))
    assert cli.main([str(folder), *QUICK]) == 0
    assert len(calls) == 1
    assert "4 covers on a 2x2 grid" in capsys.readouterr().out


def test_a_terminal_sees_each_stage_on_one_status_line(tmp_path):
    """On a terminal, a long run says what it is doing (reading, features, training,
    placing, writing) on one line that it rewrites and finally clears."""
    import pty
    import select

    folder = make_covers(tmp_path / "covers", n=60)
    controller, terminal = pty.openpty()
    process = subprocess.Popen([sys.executable, str(HELPERS), str(folder), "--out",
                                str(tmp_path / "grid.png"), *QUICK],
                               stdout=subprocess.PIPE, stderr=terminal, cwd=tmp_path)
    os.close(terminal)
    seen = b""
    while True:
        ready, _, _ = select.select([controller], [], [], 120)
        assert ready, "no output for two minutes"
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the other end closed
            break
        if not chunk:
            break
        seen += chunk
    stdout = process.communicate(timeout=120)[0].decode()
    os.close(controller)
    assert process.returncode == 0, seen
    text = seen.decode()
    stages = ["reading covers: 50 of 60", "reading covers: 60 of 60", "building the features of 60",
              "training: 0%", "placing the covers", "writing grid.png"]
    positions = [text.find(stage) for stage in stages]
    assert -1 not in positions and positions == sorted(positions), text
    assert text.endswith("\r\x1b[K")  # the line is cleared at the end
    assert "\n" not in text  # nothing else was written to stderr
    assert stdout.startswith("60 covers on a")


def test_a_100_cover_run_imports_neither_scipy_optimize_nor_scipy_spatial(tmp_path):
    """Together about 0.6 s of start-up: tutorial_kit.fast loads scipy's distances and
    assignment alone, from their compiled modules' files."""
    script = ("import sys; sys.path.insert(0, sys.argv[1]); from tutorial_kit import cli; "
              "code = cli.main(sys.argv[2:]); "
              "print(sorted(m for m in sys.modules if m.split('.')[:2] in "
              "(['scipy', 'optimize'], ['scipy', 'spatial']) and m not in "
              "('scipy.optimize._lsap', 'scipy.spatial._distance_pybind')))")
    result = subprocess.run([sys.executable, "-c", script, str(HELPERS.parent),
                             str(HELPERS.parent / "data" / "covers"), "--positions", "pos.csv"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "[]"
    assert result.stdout.startswith("100 covers on a 10x10 grid")


def test_the_pipeline_runs_on_one_blas_thread(tmp_path, monkeypatch, capsys):
    """A second BLAS thread made the 100-cover Gram matrix 10x slower on a busy 2-core
    machine; its products are exact (tutorial_kit/exact.py), so one thread changes no bit."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from tutorial_kit import cli

    folder = make_covers(tmp_path / "covers", n=4)
    seen = []
    real = cli.arrange_covers

    def arrange(*args, **kwargs):
        seen.append({info["num_threads"] for info in threadpoolctl.threadpool_info()
                     if info["user_api"] == "blas"})
        return real(*args, **kwargs)

    monkeypatch.setattr(cli, "arrange_covers", arrange)
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        assert cli.main([str(folder), *QUICK]) == 0
        after = {info["num_threads"] for info in threadpoolctl.threadpool_info()
                 if info["user_api"] == "blas"}
    assert seen == [{1}]
    assert after == {2}  # restored
    assert "4 covers on a 2x2 grid" in capsys.readouterr().out
