"""Writing the grid and its positions under faults and stop signals (issue 21).

A fault or a signal is injected at every step of `files.write_files`: each
``os.open``, ``os.write``, ``os.fsync``, ``os.link`` and ``os.replace`` it
makes, counted in a clean run. After every case the pair must be old+old
or new+new, no temporary (``.part``) may be left, and the message must name
an output, never a temporary, on one line.
"""
import errno
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import write_striped_covers

from tutorial_kit import cli, interrupts
from tutorial_kit.files import OutputError, WriteError, pin_target, write_files

HELPERS = Path(__file__).resolve().parents[1] / "helpers.py"
STEPS = ("open", "write", "fsync", "link", "replace")
SIGNALS = {"SIGINT": signal.SIGINT, "SIGTERM": signal.SIGTERM, "SIGHUP": signal.SIGHUP}
OLD = {"g.png": b"old grid", "g.csv": b"old positions"}
NEW = {"g.png": b"new grid" * 5000, "g.csv": b"new positions"}


class Injector:
    """Wraps the os functions of `STEPS`: counts their calls and acts at one of them.

    ``action`` runs just before the ``call``-th call of ``step`` (it raises a
    fault, or sends a signal and lets the call go on). With ``no_links``,
    every ``os.link`` fails as on a file system without hard links.
    """

    def __init__(self, step=None, call=None, action=None, no_links=False):
        self.step, self.call, self.action, self.no_links = step, call, action, no_links
        self.calls = dict.fromkeys(STEPS, 0)
        self.fired = False

    def wrap(self, monkeypatch):
        for name in STEPS:
            monkeypatch.setattr(os, name, self._wrapper(name, getattr(os, name)))

    def _wrapper(self, name, real):
        def wrapper(*args, **kwargs):
            self.calls[name] += 1
            if name == self.step and self.calls[name] == self.call:
                self.fired = True
                self.action(name)
            if name == "link" and self.no_links:
                raise OSError(errno.EPERM, "Operation not permitted")
            return real(*args, **kwargs)
        return wrapper


def fault(name):
    code = errno.ENOSPC if name == "write" else errno.EIO
    raise OSError(code, os.strerror(code))


class SignalFrom:
    """Send a signal from the main thread or to another thread (as OpenBLAS's threads get them)."""

    def __init__(self, signum, thread):
        self.signum, self.thread = signum, thread

    def __call__(self, name):
        if self.thread is None:
            os.kill(os.getpid(), self.signum)
        else:
            signal.pthread_kill(self.thread.ident, self.signum)
        time.sleep(0.02)  # the signal is handled (in the main thread) before the step goes on


@pytest.fixture
def other_thread():
    """A thread that only waits, like an idle OpenBLAS worker."""
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, daemon=True)
    thread.start()
    yield thread
    stop.set()
    thread.join()


@pytest.fixture
def command_line_handlers():
    """Stop signals raise `interrupts.Interrupted`, as in the command line."""
    previous = interrupts.install()
    yield
    interrupts.restore(previous)


def prepare(folder, existing):
    folder.mkdir()
    if existing:
        for name, data in OLD.items():
            (folder / name).write_bytes(data)
    return [(pin_target(folder / name), data) for name, data in NEW.items()]


def state(folder):
    """'old', 'new' or 'none' if both files agree; else what each holds (a broken pair)."""
    held = []
    for name in NEW:
        path = folder / name
        data = path.read_bytes() if path.exists() else None
        held.append("old" if data == OLD[name] else "new" if data == NEW[name] else
                    "none" if data is None else "other")
    return held[0] if held[0] == held[1] else "+".join(held)


def clean_counts(tmp_path, monkeypatch, existing, no_links):
    injector = Injector(no_links=no_links)
    with monkeypatch.context() as patch:
        injector.wrap(patch)
        write_files(prepare(tmp_path / "clean", existing))
    assert state(tmp_path / "clean") == "new"
    return injector.calls


def every_step(tmp_path, monkeypatch, existing, no_links):
    """(step, call) for every call a clean write makes."""
    counts = clean_counts(tmp_path, monkeypatch, existing, no_links)
    assert all(counts[step] for step in ("open", "write", "fsync", "replace"))
    assert counts["link"] == (2 if existing else 0)
    return [(step, call) for step in STEPS for call in range(1, counts[step] + 1)]


def run_case(folder, monkeypatch, existing, injector):
    contents = prepare(folder, existing)
    with monkeypatch.context() as patch:
        injector.wrap(patch)
        try:
            write_files(contents)
        except (OSError, ValueError, KeyboardInterrupt) as error:
            outcome = error
        else:
            outcome = None
    assert injector.fired
    leftovers = [name for name in os.listdir(folder) if name not in NEW]
    return outcome, state(folder), leftovers


@pytest.mark.parametrize("existing", [True, False], ids=["replacing", "new"])
@pytest.mark.parametrize("no_links", [False, True], ids=["links", "no links"])
def test_a_fault_at_any_step_leaves_the_old_pair_and_says_which_file(
        tmp_path, monkeypatch, existing, no_links):
    before = "old" if existing else "none"
    for number, (step, call) in enumerate(every_step(tmp_path, monkeypatch, existing, no_links)):
        if step == "link" and no_links:
            continue  # every link fails already
        injector = Injector(step, call, fault, no_links)
        outcome, pair, leftovers = run_case(tmp_path / f"case{number}", monkeypatch, existing,
                                            injector)
        where = f"{step} #{call}"
        if step == "link":  # a missing hard link only changes how the old file is kept
            assert outcome is None and pair == "new", where
        else:
            assert isinstance(outcome, WriteError), (where, outcome)
            message = str(outcome)
            assert pair == before, (where, pair, message)
            assert "\n" not in message and ".part" not in message, (where, message)
            assert message.startswith((f"could not write {tmp_path / f'case{number}' / 'g.png'}: ",
                                       f"could not write {tmp_path / f'case{number}' / 'g.csv'}: "))
            assert "g.png and" in message, (where, message)
            assert ("No space left" if step == "write" else "Input/output error") in message
            assert message.endswith("were left as before"), (where, message)
        assert leftovers == [], (where, leftovers)


@pytest.mark.parametrize("existing", [True, False], ids=["replacing", "new"])
@pytest.mark.parametrize("sender", ["main thread", "other thread"])
@pytest.mark.parametrize("name", SIGNALS)
def test_a_signal_at_any_step_gives_the_old_or_the_new_pair(
        tmp_path, monkeypatch, command_line_handlers, other_thread, existing, sender, name):
    signum = SIGNALS[name]
    before = "old" if existing else "none"
    thread = other_thread if sender == "other thread" else None
    seen = set()
    for number, (step, call) in enumerate(every_step(tmp_path, monkeypatch, existing, False)):
        injector = Injector(step, call, SignalFrom(signum, thread))
        outcome, pair, leftovers = run_case(tmp_path / f"case{number}", monkeypatch, existing,
                                            injector)
        where = f"{step} #{call}"
        assert isinstance(outcome, interrupts.Interrupted), (where, outcome)
        assert outcome.signum == signum and outcome.exit_code == 128 + signum
        assert pair in (before, "new"), (where, pair)
        assert leftovers == [], (where, leftovers)
        seen.add(pair)
        if step == "replace":  # the commit has begun: it is finished, then the signal comes
            assert pair == "new", where
    assert seen == {before, "new"}  # early signals stop the write, late ones follow it


def test_a_failed_second_rename_without_hard_links_puts_the_first_back(tmp_path, monkeypatch):
    """Issue 21, case 4: os.link raises EPERM, then the second os.replace raises EIO."""
    folder = tmp_path / "out"
    contents = prepare(folder, existing=True)
    calls = []
    real_replace = os.replace

    def replace(source, target, **folders):
        calls.append(target)
        if len(calls) == 4:  # g.png aside, new g.png in, g.csv aside, new g.csv in: fails
            raise OSError(errno.EIO, "Input/output error")
        return real_replace(source, target, **folders)

    injector = Injector(no_links=True)
    with monkeypatch.context() as patch:
        injector.wrap(patch)
        patch.setattr(os, "replace", replace)
        with pytest.raises(WriteError) as error:
            write_files(contents)
    assert calls[1] == "g.png" and calls[3] == "g.csv"  # each old file moved aside first
    assert str(error.value) == ("could not write " + str(folder / "g.csv") + ": Input/output "
                                "error; " + str(folder / "g.png") + " and " + str(folder / "g.csv")
                                + " were left as before")
    assert state(folder) == "old" and sorted(os.listdir(folder)) == ["g.csv", "g.png"]


# --- the command line -------------------------------------------------------------------


@pytest.fixture
def covers(tmp_path):
    return write_striped_covers(tmp_path / "cov", n=4, size=(8, 12))


def run_main(arguments, capsys):
    code = cli.main([*arguments, "--iterations", "50", "--sigma", "1"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_folder_swapped_for_the_covers_mid_run_is_not_written(tmp_path, covers, monkeypatch,
                                                                 capsys):
    """Issue 21, case 1: `mv outdir outdir.real && ln -s cov outdir` while the map trains."""
    outdir = tmp_path / "outdir"
    outdir.mkdir()
    (covers / "poster_000.png").write_bytes((covers / "cover00.jpg").read_bytes())
    before = {path.name: path.read_bytes() for path in covers.iterdir()}
    real_grid_png = cli.grid_png

    def swap_then_encode(result, border):  # the swap, after the checks and before the write
        outdir.rename(tmp_path / "outdir.real")
        outdir.symlink_to("cov")
        return real_grid_png(result, border)

    monkeypatch.setattr(cli, "grid_png", swap_then_encode)
    code, out, err = run_main([str(covers), "--out", str(outdir / "poster_000.png")], capsys)
    assert code == 1 and out == ""
    assert err.splitlines()[-1] == (f"error: --out '{outdir / 'poster_000.png'}': its folder is "
                                    "now the covers folder (it was replaced during the run): "
                                    "nothing was written")
    assert {path.name: path.read_bytes() for path in covers.iterdir()} == before
    assert os.listdir(tmp_path / "outdir.real") == []


def test_a_folder_moved_away_mid_run_is_not_written(tmp_path, covers, monkeypatch, capsys):
    outdir = tmp_path / "outdir"
    outdir.mkdir()
    real_grid_png = cli.grid_png

    def swap_then_encode(result, border):
        outdir.rename(tmp_path / "elsewhere")
        (tmp_path / "other").mkdir()
        outdir.symlink_to("other")
        return real_grid_png(result, border)

    monkeypatch.setattr(cli, "grid_png", swap_then_encode)
    code, out, err = run_main([str(covers), "--out", str(outdir / "g.png"),
                               "--positions", str(outdir / "g.csv")], capsys)
    assert code == 1
    assert "its folder was replaced during the run" in err and err.count("\n") == 1, err
    assert os.listdir(tmp_path / "other") == [] and os.listdir(tmp_path / "elsewhere") == []


@pytest.mark.parametrize("name", SIGNALS)
def test_a_signal_during_the_renames_is_reported_after_the_pair_is_complete(
        tmp_path, covers, monkeypatch, capsys, other_thread, name):
    """Issue 21, cases 2 and 3: the signal comes between the two renames, from another thread."""
    signum = SIGNALS[name]
    out = tmp_path / "out"
    out.mkdir()
    for file_name, data in OLD.items():
        (out / file_name).write_bytes(data)
    injector = Injector("replace", 1, SignalFrom(signum, other_thread))
    injector.wrap(monkeypatch)
    code, stdout, err = run_main([str(covers), "--out", str(out / "g.png"),
                                  "--positions", str(out / "g.csv")], capsys)
    monkeypatch.undo()
    assert injector.fired and code == 128 + signum and stdout == ""
    what = "Ctrl-C" if name == "SIGINT" else name
    assert err.splitlines() == [f"error: interrupted ({what}); {out / 'g.png'} and "
                                f"{out / 'g.csv'} had been written in full"]
    assert (out / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "g.csv").read_bytes().startswith(b"file,row,col\n")
    assert sorted(os.listdir(out)) == ["g.csv", "g.png"]


def test_a_signal_while_a_temporary_is_written_changes_nothing(tmp_path, covers, monkeypatch,
                                                                capsys):
    out = tmp_path / "out"
    out.mkdir()
    for file_name, data in OLD.items():
        (out / file_name).write_bytes(data)
    injector = Injector("write", 1, SignalFrom(signal.SIGTERM, None))
    injector.wrap(monkeypatch)
    code, _, err = run_main([str(covers), "--out", str(out / "g.png"),
                             "--positions", str(out / "g.csv")], capsys)
    monkeypatch.undo()
    assert code == 143
    assert err.splitlines() == ["error: interrupted (SIGTERM); no output was written or changed, "
                                "and no partial file was left behind"]
    assert state(out) == "old" and sorted(os.listdir(out)) == ["g.csv", "g.png"]


def test_a_failed_rename_is_one_line_naming_the_output(tmp_path, covers, monkeypatch, capsys):
    out = tmp_path / "out"
    out.mkdir()
    for file_name, data in OLD.items():
        (out / file_name).write_bytes(data)
    injector = Injector("replace", 2, fault, no_links=True)
    injector.wrap(monkeypatch)
    code, _, err = run_main([str(covers), "--out", str(out / "g.png"),
                             "--positions", str(out / "g.csv")], capsys)
    monkeypatch.undo()
    assert code == 1
    assert err.splitlines() == [f"error: could not write {out / 'g.png'}: Input/output error; "
                                f"{out / 'g.png'} and {out / 'g.csv'} were left as before"]
    assert state(out) == "old" and sorted(os.listdir(out)) == ["g.csv", "g.png"]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP"])
def test_sigterm_and_sighup_from_outside_while_writing(tmp_path, covers, name):
    """A real process, held inside the write (a delay injected before the first rename)."""
    out = tmp_path / "out"
    out.mkdir()
    for file_name, data in OLD.items():
        (out / file_name).write_bytes(data)
    script = (
        "import os, sys, time\n"
        f"sys.path.insert(0, {str(HELPERS.parent)!r})\n"
        "from tutorial_kit import cli\n"
        "real = os.replace\n"
        "def slow(*a, **k):\n"
        "    print('renaming', file=sys.stderr, flush=True)\n"
        "    time.sleep(2)\n"
        "    return real(*a, **k)\n"
        "os.replace = slow\n"
        "raise SystemExit(cli.main(sys.argv[1:]))\n")
    process = subprocess.Popen(
        [sys.executable, "-c", script, str(covers), "--iterations", "50", "--sigma", "1",
         "--out", str(out / "g.png"), "--positions", str(out / "g.csv")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    assert process.stderr.readline() == "renaming\n"
    process.send_signal(SIGNALS[name])
    stdout, rest = process.communicate(timeout=120)
    assert process.returncode == 128 + SIGNALS[name]
    lines = [line for line in rest.splitlines() if line != "renaming"]
    assert lines == [f"error: interrupted ({name}); {out / 'g.png'} and {out / 'g.csv'} had "
                     "been written in full"]
    assert stdout == ""
    assert sorted(os.listdir(out)) == ["g.csv", "g.png"]
    assert (out / "g.csv").read_bytes().startswith(b"file,row,col\n")


def test_outputs_named_for_the_write_are_checked_again(tmp_path):
    """A target that became a link to a cover between the check and the write."""
    covers = tmp_path / "cov"
    covers.mkdir()
    (covers / "a.png").write_bytes(b"cover")
    target = pin_target(tmp_path / "g.png", what="--out", covers_dir=covers)
    os.link(covers / "a.png", tmp_path / "g.png")
    with pytest.raises(OutputError, match="became an input cover during the run"):
        write_files([(target, b"grid")])
    assert (covers / "a.png").read_bytes() == b"cover"
    assert sorted(os.listdir(tmp_path)) == ["cov", "g.png"]
