"""The command line's errors never become tracebacks, hangs or lines on the wrong stream (issue 21).

Closed or full stdout, closed stderr, an address-space limit (``ulimit -v``)
at which the libraries' import or OpenBLAS's threads fail, and a failing,
stuck or signal-raising background import.
"""
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import write_striped_covers

from tutorial_kit import cli, interrupts

HELPERS = Path(__file__).resolve().parents[1] / "helpers.py"
QUICK = ["--iterations", "300"]


@pytest.fixture(scope="module")
def covers(tmp_path_factory):
    return write_striped_covers(tmp_path_factory.mktemp("errors") / "covers", n=6, size=(16, 24))


def run(arguments, cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, limit_mb=None,
        closed=None):
    """``python helpers.py ARGUMENTS``, with ``ulimit -v LIMIT_MB`` or file descriptor ``closed``."""
    def before_start():
        if limit_mb:
            size = limit_mb * 1024**2
            resource.setrlimit(resource.RLIMIT_AS, (size, size))
        if closed is not None:
            os.close(closed)
    return subprocess.run([sys.executable, str(HELPERS), *map(str, arguments)], cwd=cwd,
                          stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL, timeout=300,
                          preexec_fn=before_start)


# --- case 5: stdout and stderr ----------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("stdout, reason", [("closed", "stdout is closed"),  # `>&-`
                                            ("/dev/full", "No space left on device")])
def test_a_closed_or_full_stdout_is_one_error_line_after_the_outputs(covers, tmp_path, stdout,
                                                                     reason):
    with open("/dev/full", "w") as full:
        result = run([covers, "--positions", tmp_path / "p.csv", *QUICK], tmp_path,
                     stdout=full if stdout == "/dev/full" else None,
                     closed=1 if stdout == "closed" else None)
    stderr = result.stderr.decode()
    lines = [line for line in stderr.splitlines() if not line.startswith("warning: ")]
    assert "Traceback" not in stderr
    assert lines == [f"error: could not print the result on stdout: {reason} "
                     f"({tmp_path / 'p.csv'} was written)"]
    assert result.returncode == 1
    assert (tmp_path / "p.csv").read_bytes().startswith(b"file,row,col\n")


@pytest.mark.slow
def test_with_stderr_closed_an_error_never_goes_to_stdout(tmp_path):
    result = run([tmp_path / "missing"], tmp_path, stderr=None, closed=2)  # `2>&-`
    assert result.returncode == 1
    assert result.stdout == b""


# --- case 6: memory limits and the background import ------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("limit_mb", [300, 350, 400, 425, 450, 500, 550])
def test_under_an_address_space_limit_there_is_no_hang_and_no_traceback(covers, tmp_path,
                                                                        limit_mb):
    started = time.monotonic()
    result = run([covers, "--positions", tmp_path / "p.csv", *QUICK, "--sigma", "1"], tmp_path,
                 limit_mb=limit_mb)
    seconds = time.monotonic() - started
    stderr = result.stderr.decode()
    assert "Traceback" not in stderr, stderr
    assert seconds < cli.IMPORT_SECONDS + 60
    # OpenBLAS's own notes about its threads may come first; then one line of ours
    ours = [line for line in stderr.splitlines() if not line.startswith("OpenBLAS blas_thread_init")]
    if result.returncode == 0:
        assert ours == [] and result.stdout.startswith(b"6 covers on a 2x3 grid")
    else:
        assert result.returncode == 1 and len(ours) == 1, stderr
        # "OpenBLAS error: Memory allocation still failed after 10 retries, giving up." is
        # OpenBLAS ending the process itself (C exit), which no Python code can catch
        assert ours[0].startswith(("error: out of memory", "OpenBLAS error: Memory allocation")), \
            stderr
        assert "interrupted" not in stderr  # OpenBLAS's own SIGINT is not a Ctrl-C


def write_module(folder, name, body):
    (folder / f"{name}.py").write_text(body)
    return name


@pytest.fixture
def module_folder(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_a_failed_background_import_reaches_the_main_thread_as_one_error(module_folder):
    name = write_module(module_folder, "needs_memory", "raise MemoryError('failed to map segment')")
    imports = cli._import_in_background((name,))
    with pytest.raises(MemoryError, match="importing needs_memory: failed to map segment"):
        imports.wait()
    name = write_module(module_folder, "broken_import", "raise ImportError('libfoo.so missing')")
    with pytest.raises(ImportError, match="could not import broken_import: ImportError: libfoo"):
        cli._import_in_background((name,)).wait()


def test_a_stuck_background_import_ends_the_wait(module_folder):
    name = write_module(module_folder, "stuck_import", "import threading\nthreading.Event().wait()")
    imports = cli._import_in_background((name,))
    started = time.monotonic()
    with pytest.raises(ImportError, match=r"importing stuck_import did not finish within 0.5 s"):
        imports.wait(seconds=0.5)
    assert time.monotonic() - started < 5


def test_a_sigint_raised_inside_the_background_import_is_not_a_ctrl_c(module_folder):
    """OpenBLAS raises SIGINT in the thread whose workers could not start."""
    name = write_module(module_folder, "raises_sigint",
                        "import signal\nsignal.raise_signal(signal.SIGINT)\nDONE = True")
    previous = interrupts.install()
    try:
        imports = cli._import_in_background((name,))
        imports.wait()
        time.sleep(0.1)  # a delivered signal would raise Interrupted here
    finally:
        interrupts.restore(previous)
    assert sys.modules[name].DONE


def test_a_thread_that_cannot_start_is_out_of_memory(monkeypatch, capsys, tmp_path):
    def no_thread(*args, **kwargs):
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(cli, "_import_in_background", no_thread)
    write_striped_covers(tmp_path / "covers", n=4, size=(8, 12))
    assert cli.main([str(tmp_path / "covers")]) == 1
    assert capsys.readouterr().err == ("error: out of memory (can't start new thread); try fewer "
                                       "covers or a smaller --max-side\n")


def test_signal_handlers_are_given_back(tmp_path, capsys):
    before = {number: signal.getsignal(number) for number in interrupts.STOP_SIGNALS}
    cli.main([str(tmp_path / "missing")])
    assert {number: signal.getsignal(number) for number in interrupts.STOP_SIGNALS} == before


# --- messages that mislead -----------------------------------------------------------------


def test_a_hidden_output_in_the_covers_folder_is_refused_for_the_true_reason(tmp_path, capsys):
    folder = write_striped_covers(tmp_path / "covers", n=4, size=(8, 12))
    assert cli.main([str(folder), "--out", str(folder / ".hidden.png")]) == 1
    assert capsys.readouterr().err == (
        f"error: --out '{folder / '.hidden.png'}' is inside the covers folder (an output never "
        "goes into the folder of its inputs): write it elsewhere\n")


def test_a_library_warning_has_one_prefix(tmp_path, capsys):
    folder = write_striped_covers(tmp_path / "covers", n=4, size=(8, 12))  # sigma 4 on 2x2
    assert cli.main([str(folder), "--iterations", "50"]) == 0
    assert capsys.readouterr().err == ("warning: sigma might be too high for the dimension of "
                                       "the map.\n")


def test_past_thirty_skipped_files_one_line_counts_the_rest(tmp_path, capsys):
    folder = write_striped_covers(tmp_path / "covers", n=4, size=(8, 12))
    for number in range(45):
        (folder / f"junk{number:02d}.txt").write_text("junk")
    assert cli.main([str(folder), "--iterations", "50", "--sigma", "1"]) == 0
    lines = capsys.readouterr().err.splitlines()
    assert lines[:30] == [f"skipped junk{number:02d}.txt: not a JPEG, PNG or WebP file "
                          "(extension .txt)" for number in range(30)]
    assert lines[30:] == ["skipped 15 more files (only the first 30 are listed; 45 in all)"]


def test_a_file_deleted_after_the_listing_is_named_as_deleted(tmp_path, monkeypatch):
    from tutorial_kit import images

    folder = write_striped_covers(tmp_path / "covers", n=3, size=(8, 12))
    real = images.reason_not_a_cover

    def delete_first(path):  # the file goes between the listing and its check
        if path.name == "cover00.jpg":
            path.unlink()
        return real(path)

    monkeypatch.setattr(images, "reason_not_a_cover", delete_first)
    scan = images.scan_folder(folder)
    assert scan.skipped == [("cover00.jpg", "deleted while the folder was being read")]


# --- every limit names a change that passes (issue 22) ------------------------------------

LIMIT_CASES = {  # command line, number of covers, their (width, height)
    "the picture (a huge border)": (["covers", "--out", "g.png", "--border", "10000"], 100, (185, 278)),
    "the grid": (["covers", "--rows", "3000", "--cols", "3000", "--out", "g.png"], 100, (185, 278)),
    "the training time": (["covers", "--iterations", "20000000", "--rows", "30", "--cols", "30"],
                          100, (185, 278)),
    "the covers": (["covers", "--out", "g.png"], 40000, (185, 278)),
    "big pictures": (["covers", "--max-side", "4000", "--out", "g.png"], 3000, (3000, 4000)),
    "only fewer covers help": (["covers"], 10 ** 8, (1, 1)),
}


def _apply(args, fix, n_covers):
    """``args`` and the number of covers after the change ``fix`` names, read from its words."""
    args = cli.argparse.Namespace(**vars(args))
    if fix == "no --out":
        args.out = None
    elif fix.startswith("at most "):
        n_covers = int(fix.split()[2])
    else:
        words = fix.split()
        assert len(words) % 2 == 0 and all(word.startswith("--") for word in words[::2]), fix
        for option, value in zip(words[::2], words[1::2]):
            setattr(args, option[2:].replace("-", "_"), int(value))
    return args, n_covers


@pytest.mark.parametrize("case", LIMIT_CASES)
def test_every_limit_message_names_changes_that_pass(case):
    argv, n_covers, size = LIMIT_CASES[case]
    args = cli._parser().parse_args(argv)
    with pytest.raises(cli.LimitError) as refused:
        cli._check_limits(args, n_covers, size)
    message = str(refused.value)
    assert "\n" not in message and "; any one of these would fit: " in message
    fixes = message.split("; any one of these would fit: ")[1].split(", ")
    for fix in fixes:
        changed, n = _apply(args, fix, n_covers)
        # as the command line does, the working size comes from --max-side
        cli._check_limits(changed, n, cli.working_size([size], changed.max_side))  # no error
    if case == "the picture (a huge border)":
        assert fixes[0] == "no --out" and fixes[1].startswith("--border ")
        # the widest border that fits: one pixel more does not
        wider = cli.argparse.Namespace(**{**vars(args), "border": int(fixes[1].split()[1]) + 1})
        with pytest.raises(cli.LimitError):
            cli._check_limits(wider, n_covers, size)


def test_the_option_limit_names_iterations_that_pass():
    args = cli._parser().parse_args(["covers", "--iterations", "1000000000"])
    with pytest.raises(cli.LimitError, match="any one of these would fit: --iterations") as refused:
        cli._check_options(args)
    changed, _ = _apply(args, str(refused.value).split("would fit: ")[1], 100)
    cli._check_options(changed)  # no error


def test_ten_thousand_covers_pass_the_limits_with_a_grid_picture():
    """Issue 22: 10,000 covers of 185x278 were refused (the N x N tables); they fit now."""
    memory, seconds = cli.estimate(10000, (185, 278), 100, 100, 20480, 0, True)
    assert sum(memory.values()) < 3 * 1024 ** 3 and seconds < cli.TIME_LIMIT
    cli._check_limits(cli._parser().parse_args(["covers", "--out", "g.png"]), 10000, (185, 278))
