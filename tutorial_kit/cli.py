"""The command line: ``python helpers.py COVERS_DIR [options]``.

Parses the options, checks every limit before any work, runs
``helpers.arrange_covers`` and writes the outputs as a pair. Bad input ends
with one ``error: ...`` line (at most one ``hint:`` line more) and a
non-zero exit code: 1 for bad input, 2 for a bad option, 128 + the signal
for Ctrl-C (130), SIGTERM (143) and SIGHUP (129). Messages go to stderr only:
with stderr closed they are lost, never printed on stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import importlib
import os
import re
import signal
import sys
import threading
import warnings

from helpers import (EXACT_UP_TO, MAX_COMPONENTS, NEIGHBORHOODS, PLACEMENTS, PRESETS, CoverSet,
                     arrange_covers, format_quality, grid_shape_for, make_features, som_settings)
from tutorial_kit import checks, fast, interrupts
from tutorial_kit import progress as _progress
from tutorial_kit.fast import DENSE_ASSIGNMENT_UP_TO
from tutorial_kit.files import (check_distinct, check_target, pin_target, png_chunks,
                                positions_csv, write_files)
from tutorial_kit.progress import to_stderr
from tutorial_kit.images import (MAX_SIDE, format_bytes, one_line, printable, read_folder,
                                 scan_folder, working_size)

# --- limits, checked before any work ---------------------------------------------------
# Estimated peak memory of one run, and estimated time of training and
# placement. Both estimates come from what the pipeline allocates and from
# the per-step cost measured on a 2-core machine; see `estimate`. (helpers.train_som
# keeps its own fixed rule for showing a progress bar, so that whether a notebook
# shows one never changes with these measurements.)
MEMORY_LIMIT = 4 * 1024**3  # bytes: half of a common 8 GB laptop
TIME_LIMIT = 600  # seconds: ten minutes of training is far beyond any useful map
# Measured with tutorial_kit.fast.train_steps on 5x5 to 100x100 grids (2 cores), then
# rounded up by about half, for slower laptops:
STEP_SECONDS = 1.5e-5  # fixed cost of one training step (the winner and the update)
CELL_SECONDS = 4e-8  # extra cost per grid cell and step (the neighbourhood, the winner)
WEIGHT_SECONDS = 2.5e-9  # extra cost per weight (cells x features) and step
# An option alone can be refused before the folder is even listed:
MAX_ITERATIONS = int(TIME_LIMIT / STEP_SECONDS)  # 40 million steps take the limit
# Skipped files listed one by one; past this, one line counts the rest.
MAX_LISTED = 30


def _duration(seconds):
    if seconds >= 5400:
        return f"{seconds / 3600:.1f} hours"
    return f"{seconds / 60:.0f} minutes" if seconds >= 90 else f"{seconds:.0f} s"


class LimitError(ValueError):
    """An option asks for more memory or time than the limits allow."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad option gives one ``error:`` line and one hint, not the usage."""

    def error(self, message):
        to_stderr(f"error: {printable(message)}\nhint: python helpers.py --help lists the options")
        sys.exit(2)


def _parser():
    parser = _Parser(
        prog="python helpers.py",
        description="Arrange a folder of movie covers on a grid with a Self-Organizing Map.")
    parser.add_argument("covers_dir", nargs="?", help="folder of cover images (jpg, png, webp)")
    parser.add_argument("--rows", type=int, help="grid rows (default: smallest near-square grid)")
    parser.add_argument("--cols", type=int, help="grid columns")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument("--out", help="write the grid as a full-resolution PNG here (.png)")
    parser.add_argument("--positions", help="write file,row,col of every cover to this CSV (.csv)")
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
    parser.add_argument("--max-side", type=int, default=MAX_SIDE,
                        help=f"longest side of a cover in pixels (default {MAX_SIDE})")
    parser.add_argument("--no-polish", dest="polish", action="store_false",
                        help="skip the final local swaps after the assignment (the notebooks' "
                             "and the explorer's arrangement)")
    parser.add_argument("--allow-drop", action="store_true",
                        help="drop covers that do not fit a too-small grid (they are listed)")
    parser.add_argument("--download-originals", metavar="FOLDER",
                        help="download the 100 covers of the 2019 post into FOLDER and stop")
    return parser


def main(argv=None):
    """Run the command line; returns the exit code (0 on success)."""
    previous = interrupts.install()  # Ctrl-C, SIGTERM, SIGHUP: one line, not a traceback
    written = []  # the outputs, once they are all in place
    try:
        return _main(argv, written)
    except KeyboardInterrupt as stop:
        _progress.end_line()
        what = stop.what if isinstance(stop, interrupts.Interrupted) else "Ctrl-C"
        to_stderr(f"error: interrupted ({what}); {_interrupted_outputs(written)}")
        return getattr(stop, "exit_code", 130)
    except (MemoryError, RuntimeError) as error:
        if isinstance(error, RuntimeError) and "new thread" not in str(error):
            raise  # a bug, not a limit: its traceback is needed
        # no memory left for a thread's stack is out of memory too (`ulimit -v`)
        _progress.end_line()
        detail = f" ({one_line(error, name_file=True)})" if str(error) else ""
        to_stderr(f"error: out of memory{detail}; try fewer covers or a smaller --max-side")
        return 1
    finally:
        interrupts.restore(previous)


def _interrupted_outputs(written):
    """What an interruption left, in words (the write is all or nothing)."""
    if written:
        return f"{_names(written)} had been written in full"
    return "no output was written or changed, and no partial file was left behind"


def _names(paths):
    return " and ".join(printable(path) for path in paths)


def _main(argv, written):
    parser = _parser()
    args = parser.parse_args(argv)
    if args.download_originals is not None:
        from tutorial_kit.download import download_command  # urllib and http: only here
        return download_command(args.download_originals)
    if not args.covers_dir:
        parser.error("give a COVERS_DIR (or --download-originals FOLDER)")
    try:
        _check_options(args)
        outputs = _check_outputs(args)
        imports = _import_in_background()
        scan = scan_folder(args.covers_dir, max_side=args.max_side)
        _check_limits(args, n_covers=len(scan.covers), size=scan.size, decoding=scan.decoding,
                      uprights=[upright for _, upright in scan.covers])
        imports.wait()
        status = _progress.status_line()  # what a long run is doing, on a terminal
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            covers, result = _run_cli(args, scan, status)
        for warning in caught:  # e.g. MiniSom's "Warning: sigma might be too high"
            to_stderr("warning: " + re.sub(r"^warning:\s*", "", one_line(warning.message), flags=re.I))
        contents = []
        if "out" in outputs:
            status(f"writing {printable(outputs['out'].path.name)}")
            contents.append((outputs["out"], grid_png(result, args.border)))
        if "positions" in outputs:
            contents.append((outputs["positions"],
                             positions_csv(covers.names, result.placement.positions)))
        with interrupts.held():  # a signal now comes after `written` says what is done
            write_files(contents)  # both or neither
            written.extend(target.path for target, _ in contents)
        status(None)
    except (ValueError, OSError, ImportError) as error:
        _progress.end_line()
        to_stderr(f"error: {one_line(error, name_file=True)}")
        return 1
    placed = len(covers.names) - len(result.placement.dropped)
    return _summary(f"{placed} covers on a {result.rows}x{result.cols} grid: "
                    f"{format_quality(result.quality)}", written)


def grid_png(result, border):
    """The grid PNG of an arrangement, as pieces made a row of cells at a time while they
    are written (`files.png_chunks`): the full-resolution grid is never held whole."""
    height, width = result.covers.images.shape[1:3]
    shape = (result.rows * (height + border) - border, result.cols * (width + border) - border, 3)
    return png_chunks(result.mosaic_bands(border), shape)


def _summary(line, written):
    """Print the result line on stdout; a closed, gone or full stdout gives one error line."""
    try:
        if sys.stdout is None:  # `>&-`
            raise OSError(errno.EBADF, "stdout is closed")
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
    except OSError as error:
        if not isinstance(error, BrokenPipeError):  # `| head` ended: that reader wanted no more
            done = f" ({_names(written)} {'were' if len(written) > 1 else 'was'} written)" \
                if written else ""
            to_stderr(f"error: could not print the result on stdout: "
                      f"{printable(error.strerror or error)}{done}")
        with contextlib.suppress(OSError, ValueError, AttributeError):
            # Python's advice for a gone stdout: point it at devnull, so the
            # flush at exit fails no more
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return 1
    return 0


def _check_options(args):
    """The limits that depend on the options alone."""
    if (args.rows is None) != (args.cols is None):
        raise ValueError("give both --rows and --cols, or neither")
    for name in ("rows", "cols", "border", "max_side", "seed", "sigma", "learning_rate"):
        if getattr(args, name) is not None:  # the same rules as helpers' (tutorial_kit.checks)
            checks.value(name, getattr(args, name), shown="--" + name.replace("_", "-"))
    iterations = som_settings(args.preset, iterations=args.iterations)["iterations"]
    checks.value("iterations", iterations, shown="--iterations")
    if iterations > MAX_ITERATIONS:
        raise LimitError(f"--iterations {iterations:,} is over the limit of {MAX_ITERATIONS:,}: "
                         f"at {STEP_SECONDS * 1e6:.0f} us a step it would train for over "
                         f"{_duration(iterations * STEP_SECONDS)} (limit {_duration(TIME_LIMIT)}); "
                         f"any one of these would fit: --iterations {MAX_ITERATIONS}")


def _check_outputs(args):
    """Check both output paths before any work; return {'out': Path, 'positions': Path}."""
    outputs = {}
    if args.out is not None:
        outputs["out"] = check_target(args.out, what="--out", suffixes=(".png",),
                                      covers_dir=args.covers_dir)
    if args.positions is not None:
        outputs["positions"] = check_target(args.positions, what="--positions",
                                            suffixes=(".csv",), covers_dir=args.covers_dir)
    if len(outputs) == 2:
        check_distinct(outputs["out"], outputs["positions"])
    return {key: pin_target(path, what=f"--{key}", covers_dir=args.covers_dir)
            for key, path in outputs.items()}


def estimate(n_covers, size, rows, cols, iterations, border, with_png, decoding=0):
    """Estimated peak memory (bytes, by part) and time (seconds) of one run.

    Memory:
    - covers: the uint8 pixels, N x height x width x 3 bytes;
    - map: the weights and the training loop's two work copies (cells x
      features float64 each);
    - tables: up to ``fast.DENSE_ASSIGNMENT_UP_TO`` covers, the tables held
      whole: about 4 of N x cells float64 (the assignment's costs, MiniSom's
      quantization and topographic errors) and 3 of N x N (the local swaps);
      always, the passes that go a block of rows at a time (the features, DPQ,
      the windows): about ten arrays of ``2**21`` float64 (168 MB);
    - picture: the grid PNG is written a row of cells at a time, so one row
      of cells with the border below it, held three times (the row, its
      filtered copy and the compressor's input); nothing without ``--out``;
    - decoding: ``decoding`` bytes, the most the decoding threads take at
      once (``Scan.decoding``: the two costliest files, at most
      ``images.DECODE_BUDGET``).
    The features are the N - 1 exact ones up to ``EXACT_UP_TO`` covers, then
    ``MAX_COMPONENTS`` (see ``helpers.make_features``).
    Time: every training step costs STEP_SECONDS, plus CELL_SECONDS per
    cell and WEIGHT_SECONDS per weight (cells x features), as measured with
    grids of 10x10 to 100x100 cells; the learning curve adds 51 quantization
    errors of at most 500 covers x cells x features each.
    """
    width, height = size
    features = max(n_covers - 1, 1)
    if n_covers > EXACT_UP_TO:
        features = min(features, MAX_COMPONENTS)
    cells = rows * cols
    held = n_covers <= DENSE_ASSIGNMENT_UP_TO
    band = (height + border) * (cols * (width + border) - border) * 3
    memory = {
        "covers": n_covers * width * height * 3,
        "map": 8 * cells * (3 * features + 8),
        "tables": 8 * (10 * 2 ** 21 + (4 * n_covers * cells + 3 * n_covers ** 2 if held else 0)),
        "picture": 3 * band if with_png else 0,
        "decoding": decoding,
    }
    seconds = (iterations * (STEP_SECONDS + cells * (CELL_SECONDS + WEIGHT_SECONDS * features))
               + 51 * min(n_covers, 500) * cells * features * 1e-9)
    return memory, seconds


def _limit_problem(args, n_covers, size, decoding=0):
    """What the run would pass, in words (its first half of a `LimitError`), or None."""
    rows, cols = (args.rows, args.cols) if args.rows is not None else grid_shape_for(n_covers)
    settings = som_settings(args.preset, grid=(rows, cols), iterations=args.iterations)
    iterations = settings["iterations"]  # as arrange_covers will train
    memory, seconds = estimate(n_covers, size, rows, cols, iterations, args.border,
                               args.out is not None, decoding)
    width, height = size
    total = sum(memory.values())
    if total > MEMORY_LIMIT:
        over = (f"about {format_bytes(total)} in all, over the memory limit of "
                f"{format_bytes(MEMORY_LIMIT)}")
        biggest = max(memory, key=memory.get)
        if biggest == "picture":
            mosaic_w = cols * (width + args.border) - args.border
            return (f"the grid image would be {mosaic_w:,} px wide, and a row of its cells "
                    f"{height + args.border:,} px high with --border ({args.border}): {over}")
        if biggest in ("map", "tables"):
            return f"a {rows}x{cols} grid ({rows * cols:,} cells) for {n_covers:,} covers needs {over}"
        return f"{n_covers:,} covers of {width}x{height} px need {over}"
    if seconds > TIME_LIMIT:
        return (f"training {iterations:,} steps on a {rows}x{cols} grid would take about "
                f"{_duration(seconds)}, over the time limit of {_duration(TIME_LIMIT)}")
    return None


def _largest(passes, low, high):
    """The largest whole number in low..high for which ``passes`` holds, or None (it must
    hold for every number below one where it holds)."""
    if high < low or not passes(low):
        return None
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if passes(middle) else (low, middle - 1)
    return low


def _check_limits(args, n_covers, size, decoding=0, uprights=None):
    """The limits that depend on the folder too: memory and time of the whole run.

    A refusal names every change of one kind that would pass (each checked
    here): no ``--out``, the widest ``--border``, the largest ``--max-side``,
    the grid that fits the covers, the most ``--iterations``; if none would,
    how many covers would.
    ``uprights`` are the covers' upright (width, height), from which
    ``--max-side`` sets the working size (by default, ``size`` alone).
    """
    problem = _limit_problem(args, n_covers, size, decoding)
    if problem is None:
        return
    uprights = uprights or [size]

    def passes(n=n_covers, max_side=None, **changes):
        changed = argparse.Namespace(**{**vars(args), **changes})
        shrunk = size if max_side is None else working_size(uprights, max_side)
        return _limit_problem(changed, n, shrunk, decoding) is None

    fixes = []
    if args.out is not None and passes(out=None):
        fixes.append("no --out")
    border = _largest(lambda b: passes(border=b), 0, args.border - 1)
    if border is not None:
        fixes.append(f"--border {border}")
    side = _largest(lambda m: passes(max_side=m), 1, min(args.max_side, max(size)) - 1)
    if side is not None:
        fixes.append(f"--max-side {side}")
    grid = grid_shape_for(n_covers)
    if (args.rows, args.cols) not in (grid, (None, None)) and passes(rows=grid[0], cols=grid[1]):
        fixes.append(f"--rows {grid[0]} --cols {grid[1]}")
    steps = _largest(lambda k: passes(iterations=k), 1, MAX_ITERATIONS)
    if steps is not None and steps < som_settings(args.preset, grid=grid if args.rows is None else (
            args.rows, args.cols), iterations=args.iterations)["iterations"]:
        fixes.append(f"--iterations {steps}")
    if not fixes:
        most = _largest(lambda n: passes(n=n), 2, n_covers - 1)
        fixes.append(f"at most {most} covers in the folder" if most else "fewer covers")
    raise LimitError(f"{problem}; any one of these would fit: {', '.join(fixes)}")


# The longest wait for the libraries' import on the second thread. It takes about
# 0.1 s (MiniSom); an import stuck for good (OpenBLAS cannot start its threads when the
# address space is nearly used up, `ulimit -v`) must end the run, not hang it.
IMPORT_SECONDS = 60


class _Imports:
    """The libraries the pipeline needs, imported on a second thread (see `wait`)."""

    def __init__(self, modules):
        self.modules, self.failure = modules, None
        self.thread = threading.Thread(target=self._run, name="imports", daemon=True)

    def _run(self):
        # OpenBLAS raises SIGINT in the thread that cannot start its workers
        # (pthread_create fails under `ulimit -v`), which would read as Ctrl-C.
        # Blocked in this thread only, it stays here; a real Ctrl-C, sent to the
        # process, goes to the main thread.
        if hasattr(signal, "pthread_sigmask"):
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        for name in self.modules:
            try:
                importlib.import_module(name)
            except BaseException as error:  # noqa: BLE001 - handed to the main thread whole
                self.failure = (name, error)
                return

    def wait(self, seconds=IMPORT_SECONDS):
        """Wait for the imports; a failure or a stuck import becomes one error here.

        Raises
        ------
        MemoryError
            The import ran out of memory (address space).
        ImportError
            Any other failure, or the import did not end within ``seconds``.
        """
        self.thread.join(seconds)
        if self.thread.is_alive():
            raise ImportError(f"importing {', '.join(self.modules)} did not finish within "
                              f"{seconds} s (is memory short, e.g. under `ulimit -v`?)")
        if self.failure is not None:
            name, error = self.failure
            text = one_line(error)
            if isinstance(error, MemoryError) or any(
                    sign in text.lower() for sign in ("failed to map", "cannot allocate memory")):
                raise MemoryError(f"importing {name}: {text}")
            raise ImportError(f"could not import {name}: {type(error).__name__}: {text}")


def _import_in_background(modules=("minisom",)):
    """Start importing the libraries the pipeline needs on a second thread; returns `_Imports`.

    MiniSom takes about 0.1 s to import (it imports numpy.testing and
    unittest), while reading the covers' headers mostly waits on the disk,
    which lets other threads run: on two cores the import then costs almost
    nothing. (scipy is not imported at all at 100 covers: tutorial_kit.fast
    has its distances and loads its assignment alone.) The main thread calls
    ``wait()`` before it needs them: it never waits on an import lock that a
    stuck import holds.
    """
    imports = _Imports(modules)
    imports.thread.start()
    return imports


def _run_cli(args, scan, status):
    """Load (the headers were read by ``scan_folder``), report skipped files, arrange
    and report dropped covers; ``status`` shows each stage (see `progress.status_line`)."""
    covers = CoverSet(*read_folder(
        args.covers_dir, max_side=args.max_side, scan=scan,
        progress=lambda done, total: status(f"reading covers: {done:,} of {total:,}")))
    status(None)
    for name, reason in covers.skipped[:MAX_LISTED]:
        to_stderr(f"skipped {name}: {reason}")
    if len(covers.skipped) > MAX_LISTED:
        to_stderr(f"skipped {len(covers.skipped) - MAX_LISTED:,} more files (only the first "
                  f"{MAX_LISTED} are listed; {len(covers.skipped):,} in all)")
    if covers.resized:
        to_stderr(f"note: {covers.resized}")

    def training(done, total):
        status(f"training: {100 * done // total}%" if done < total else
               "placing the covers and measuring the map")

    status(f"building the features of {len(covers.names):,} covers")
    features = None
    if len(covers.names) > EXACT_UP_TO:
        # A big folder's features are a few large float32 products (the sampled PCA):
        # both cores halve them (1,000 covers: 0.8 s against 1.3 s)
        features = make_features(covers.images)
    # One BLAS thread for the rest: a small folder's Gram matrix products are exact whatever
    # the threads (tutorial_kit/exact.py), and a second BLAS thread, spinning while it waits,
    # competes with the PNG threads and the training loop (100 covers on a busy 2-core
    # machine: 0.17 s for the Gram matrix against 1.5 to 3 s)
    with fast.one_blas_thread():
        result = arrange_covers(
            covers, args.rows, args.cols, preset=args.preset, placement=args.placement,
            seed=args.seed, allow_drop=args.allow_drop, progress=training, polish=args.polish,
            features=features, curve_points=1,  # no learning curve is shown
            sigma=args.sigma,
            learning_rate=args.learning_rate, iterations=args.iterations,
            neighborhood_function=args.neighborhood)
    status(None)
    for index in result.placement.dropped:
        to_stderr(f"dropped {printable(covers.names[index])}: no room on the "
                  f"{result.rows}x{result.cols} grid")
    return covers, result
