"""The notebooks: committed executed, re-run by strict nbval, shaped for a class, runnable on any covers.

From cheap to slow:

1. every notebook is stored as one clean top-to-bottom run (execution counts
   1..n, every printing cell has its output), small (< 3 MB), with the plain
   python3 kernelspec, and without any traceback or stderr output;
2. every notebook is shaped for a 45-minute class: a header with title,
   previous/next links, objectives, prerequisites and a time of at most 45
   minutes; the identical setup cell first; the arc Aims, Theory, Practice,
   Discussion, Quiz; a quiz of 3-5 questions with answers in a collapsed
   ``<details>`` block at the end; every solution cell tagged ``solution``,
   collapsed, and following a stub that raises
   ``NotImplementedError("Student exercise: ...")``;
3. the student version made by the nbconvert command documented in
   TEACHING.md has no solution left, keeps every stub, and runs top to bottom;
4. strict nbval: every notebook re-run in a fresh kernel gives the outputs
   stored in it (text outputs; cells marked ``# NBVAL_IGNORE_OUTPUT`` such as
   timings and progress bars are run but not compared);
5. every notebook runs top to bottom on generated folders of 2, 3 and 12
   covers, and the whole sequence on 37 covers of mixed sizes and formats,
   chosen through ``COVERS_DIR``.

nbval compares text only, never pixels: what the figures show is tested
through the helpers' data in the other test files.
"""
import copy
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import numpy as np
import pytest
from conftest import write_mixed_covers

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = REPO / "notebooks"
SANITIZE = REPO / "tests" / "sanitize.cfg"
MAX_BYTES = 3_000_000
MAX_MINUTES = 45  # one class slot
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
ARC = ["Aims", "Theory", "Practice", "Discussion", "Quiz"]
STUB = 'NotImplementedError("Student exercise'
# The command TEACHING.md documents for making the student version (a test checks it is there).
# nbconvert runs TagRemovePreprocessor by default only for template formats (HTML, ...),
# not for --to notebook: hence --TagRemovePreprocessor.enabled=True.
STUDENT_COMMAND = ("jupyter nbconvert --to notebook --TagRemovePreprocessor.enabled=True "
                   "--TagRemovePreprocessor.remove_cell_tags=solution "
                   "--TagRemovePreprocessor.remove_all_outputs_tags=check "
                   "--output-dir output/student notebooks/*.ipynb")
# The variant without the quiz answers and notebook 7's tour answers (cells tagged 'answers').
NO_ANSWERS_COMMAND = ("jupyter nbconvert --to notebook --TagRemovePreprocessor.enabled=True "
                      "--TagRemovePreprocessor.remove_cell_tags=solution "
                      "--TagRemovePreprocessor.remove_cell_tags=answers "
                      "--TagRemovePreprocessor.remove_all_outputs_tags=check "
                      "--output-dir output/student-no-answers notebooks/*.ipynb")
EXPECTED = ["01_loading_covers.ipynb", "02_scaling_features.ipynb", "03_principal_axes.ipynb",
            "04_the_som_step.ipynb", "05_training_settings.ipynb", "06_placing_the_grid.ipynb",
            "07_interactive_explorer.ipynb"]


def _notebooks():
    """Every notebook in notebooks/, in order."""
    return [path for path in sorted(NOTEBOOK_DIR.glob("*.ipynb"))]


NOTEBOOKS = _notebooks()


def _ids(paths):
    return [path.name[:2] for path in paths]


@functools.lru_cache(maxsize=None)
def _read_stored(path):
    return nbformat.read(path, as_version=4)


def _read(path):
    """A notebook; the committed ones are read once per test session (they are ~1 MB each)."""
    path = Path(path)
    if path.parent == NOTEBOOK_DIR:
        return copy.deepcopy(_read_stored(path))
    return nbformat.read(path, as_version=4)


def test_there_are_notebooks():
    names = [path.name for path in NOTEBOOKS]
    assert names == EXPECTED, f"notebooks/ holds {names}, expected {EXPECTED}"


# ---------------------------------------------------------------------------
# 1. Stored as one clean run
# ---------------------------------------------------------------------------


def _code_cells(nb):
    return [cell for cell in nb.cells if cell.cell_type == "code" and cell.source.strip()]


def _output_text(output):
    """All the text of one output, whatever its type."""
    if output.output_type == "stream":
        return output.text
    if output.output_type == "error":
        return "\n".join([output.ename, output.evalue, *output.traceback])
    return "\n".join(value for key, value in output.get("data", {}).items()
                     if key.startswith("text/") and isinstance(value, str))


def _tags(cell):
    return cell.get("metadata", {}).get("tags", [])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_is_stored_executed(path):
    nb = _read(path)
    cells = _code_cells(nb)
    counts = [cell.execution_count for cell in cells]
    missing = [i for i, count in enumerate(counts) if count is None]
    assert not missing, (f"{path.name}: code cells {missing} were never run; execute the notebook "
                         "top to bottom and save it with its outputs")
    assert counts == list(range(1, len(cells) + 1)), (
        f"{path.name}: execution counts are {counts}, not 1..{len(cells)}: restart the kernel and "
        "run all cells once, in order (jupyter nbconvert --to notebook --execute --inplace ...)")
    for cell in cells:
        prints = re.search(r"^print\(", cell.source, flags=re.MULTILINE)
        assert cell.outputs or not prints, (
            f"{path.name}: cell {cell.execution_count} prints but has no stored output")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_format(path):
    size = path.stat().st_size
    assert size < MAX_BYTES, f"{path.name} is {size / 1e6:.1f} MB; keep every notebook under 3 MB"
    nb = _read(path)
    nbformat.validate(nb)
    kernelspec = nb.metadata.get("kernelspec", {})
    # The name is what Jupyter and nbval look up (any other gives NoSuchKernel on a
    # fresh install); the display name is only shown in the interface.
    assert (kernelspec.get("name"), kernelspec.get("language")) == ("python3", "python"), (
        f"{path.name}: kernelspec {kernelspec} is not the plain python3 one {KERNELSPEC}")
    for cell in _code_cells(nb):
        for output in cell.outputs:
            where = f"{path.name}, cell {cell.execution_count}"
            assert output.output_type != "error", f"{where}: stored error {output.get('ename')}"
            assert output.get("name") != "stderr", (
                f"{where}: stored stderr output (a warning?): {output.text[:300]!r}")
            assert "Traceback" not in _output_text(output), f"{where}: stored traceback"


# ---------------------------------------------------------------------------
# 2. Shaped for a class
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_header_states_title_links_aims_and_time(path):
    nb = _read(path)
    first = nb.cells[0]
    assert first.cell_type == "markdown", f"{path.name}: the first cell must be the markdown header"
    header = first.source
    number = int(path.name[:2])
    assert header.startswith(f"# {number} · "), (
        f"{path.name}: the header must start with the title '# {number} · ...'")
    for part in ["objectives", "estimated time", "prerequisites"]:
        assert part in header.lower(), f"{path.name}: the first cell does not state the {part}"
    time = re.search(r"estimated time:\W*(\d+) minutes", header, flags=re.IGNORECASE)
    assert time, f"{path.name}: the header must say 'Estimated time: N minutes'"
    assert int(time.group(1)) <= MAX_MINUTES, (
        f"{path.name}: {time.group(1)} minutes does not fit a {MAX_MINUTES}-minute class; split it")
    index = EXPECTED.index(path.name)
    neighbours = EXPECTED[max(index - 1, 0):index] + EXPECTED[index + 1:index + 2]
    for other in neighbours:
        assert f"]({other})" in header, f"{path.name}: the header does not link to {other}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_setup_cell_is_the_same_everywhere(path):
    from tutorial_kit.notebook import SETUP_CELL

    first_code = _code_cells(_read(path))[0]
    assert first_code.source.strip() == SETUP_CELL, (
        f"{path.name}: the first code cell must be the setup cell of tutorial_kit/notebook.py, "
        f"word for word; it is:\n{first_code.source}")


def _headings(nb, level=2):
    """(cell index, heading text) of every markdown heading of the given level."""
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            found += [(index, line[level + 1:].strip()) for line in cell.source.splitlines()
                      if line.startswith("#" * level + " ")]
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_follows_the_arc(path):
    titles = [title for _, title in _headings(_read(path))]
    at = 0
    for part in ARC:
        while at < len(titles) and not titles[at].startswith(part):
            at += 1
        assert at < len(titles), (f"{path.name}: no '## {part}' section after the earlier parts of "
                                  f"the arc {ARC}; its sections are {titles}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_ends_with_a_quiz(path):
    nb = _read(path)
    headings = _headings(nb)
    quiz = [index for index, title in headings if title.startswith("Quiz")]
    assert quiz, f"{path.name}: no '## Quiz' section"
    start = quiz[-1]
    after = [title for index, title in headings if index > start]
    assert all(title.startswith("Summary") for title in after), (
        f"{path.name}: only a summary may follow the quiz, not {after}")
    assert not [cell for cell in nb.cells[start:] if cell.cell_type == "code"], (
        f"{path.name}: code cells after the quiz")
    text = "\n".join(cell.source for cell in nb.cells[start:] if cell.cell_type == "markdown")
    text = text.split("## Summary")[0]
    # Answers are hidden either one <details> block per question, or all together in one
    # <details> block after the questions.
    blocks = re.findall(r"<details>(.*?)</details>", text, flags=re.DOTALL)
    assert blocks, f"{path.name}: the quiz answers must be hidden in <details> blocks"
    assert all("<summary>" in block for block in blocks), (
        f"{path.name}: every <details> block needs a <summary>")
    questions = re.sub(r"<details>.*?</details>", "", text, flags=re.DOTALL)
    asked = re.findall(r"^\s*\d+\. ", questions, flags=re.MULTILINE)
    assert 3 <= len(asked) <= 5, f"{path.name}: the quiz asks {len(asked)} questions, not 3 to 5"
    if len(blocks) == 1 and len(asked) > 1:
        answered = re.findall(r"^\s*\d+\. ", blocks[0], flags=re.MULTILINE)
    else:
        answered = [block for block in blocks if block.split("</summary>")[-1].strip()]
    assert len(answered) == len(asked), (
        f"{path.name}: {len(asked)} questions but {len(answered)} hidden answers")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_every_solution_is_tagged_hidden_and_follows_a_stub(path):
    nb = _read(path)
    exercises = [title for _, title in _headings(nb, 3) if "Exercise" in title]
    solutions = [cell for cell in nb.cells if cell.cell_type == "code" and "solution" in _tags(cell)]
    assert len(solutions) >= len(exercises) > 0 or not exercises, (
        f"{path.name}: {len(exercises)} exercises but {len(solutions)} code cells tagged 'solution'")
    since_last = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if "solution" not in _tags(cell):
            since_last.append(cell.source)
            continue
        where = f"{path.name}, solution cell {cell.execution_count}"
        assert any(STUB in source for source in since_last), (
            f"{where}: no stub raising {STUB}: ...\") comes before it, so the student version "
            "would have nothing to fill in")
        assert cell.metadata.get("jupyter", {}).get("source_hidden"), (
            f"{where}: collapse it (metadata jupyter.source_hidden) so students try first")
        for output in cell.outputs:
            assert not _output_text(output).startswith("Not yet:"), (
                f"{where}: the solution fails its own check: {_output_text(output)}")
        since_last = []


PLAN = re.compile(r"aims (\d+) min · theory (\d+) min · practice (\d+) min · discussion (\d+) min · quiz (\d+) min")


def _teaching_plan():
    """The minutes of each part of the arc, from TEACHING.md's lesson-plan table."""
    guide = (REPO / "TEACHING.md").read_text(encoding="utf-8")
    return [int(re.search(rf"^\| {part} \| (\d+) \|", guide, flags=re.MULTILINE).group(1)) for part in ARC]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_header_time_plan_adds_to_45_and_matches_teaching_guide(path):
    header = _read(path).cells[0].source
    plan = PLAN.search(header)
    assert plan, f"{path.name}: the header must state the plan as {PLAN.pattern}"
    minutes = [int(value) for value in plan.groups()]
    assert sum(minutes) == MAX_MINUTES, f"{path.name}: the plan adds up to {sum(minutes)} minutes"
    assert minutes == _teaching_plan(), f"{path.name}: plan {minutes}, TEACHING.md {_teaching_plan()}"


MAX_WORDS, MAX_CODE_LINES, MAX_EXERCISES = 1300, 110, 2  # one 45-minute class (issue 18)


def _budget(nb):
    """(words of prose, lines of visible code, exercises) of a notebook, as issue 18 defines them.

    Words are runs of letters, digits and apostrophes in markdown cells outside ``solution``
    cells and ``<details>`` blocks, a ``$...$`` formula counting as one word; code lines are
    the non-blank, non-comment lines of code cells outside ``solution`` cells; exercises are
    headings that contain "Exercise".
    """
    words = lines = exercises = 0
    for cell in nb.cells:
        if "solution" in _tags(cell):
            continue
        if cell.cell_type == "markdown":
            text = re.sub(r"<details>.*?</details>", " ", cell.source, flags=re.DOTALL)
            text = re.sub(r"\$\$.*?\$\$|\$[^$]+\$", " formula ", text, flags=re.DOTALL)
            words += len(re.findall(r"[A-Za-z0-9']+", text))
            exercises += sum(1 for line in cell.source.splitlines()
                             if line.startswith("#") and "Exercise" in line)
        elif cell.cell_type == "code":
            lines += sum(1 for line in cell.source.splitlines()
                         if line.strip() and not line.strip().startswith("#"))
    return words, lines, exercises


def test_every_notebook_fits_the_budget_of_one_class():
    """At most 1,300 words of prose, 110 lines of visible code and 2 exercises a notebook."""
    table = {path.name: _budget(_read(path)) for path in NOTEBOOKS}
    print(f"\n{'notebook':<36} {'words':>6} {'code':>5} {'exercises':>9}")
    for name, (words, lines, exercises) in table.items():
        print(f"{name:<36} {words:>6} {lines:>5} {exercises:>9}")
    over = {name: row for name, row in table.items()
            if row[0] > MAX_WORDS or row[1] > MAX_CODE_LINES or row[2] > MAX_EXERCISES}
    assert not over, f"over the budget ({MAX_WORDS} words, {MAX_CODE_LINES} lines, {MAX_EXERCISES} exercises): {over}"


def test_the_budget_counts_as_defined():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("## Exercise 1: it's $a^2 + b^2$ here\n<details>not counted</details>"),
        nbformat.v4.new_markdown_cell("hidden words", metadata={"tags": ["solution"]}),
        nbformat.v4.new_code_cell("# a comment\n\nx = 1\n  y = 2"),
        nbformat.v4.new_code_cell("z = 3", metadata={"tags": ["solution"]})])
    assert _budget(nb) == (5, 2, 1)  # Exercise, 1, it's, formula, here


def test_teaching_guide_documents_the_student_version():
    guide = (REPO / "TEACHING.md").read_text(encoding="utf-8")
    assert STUDENT_COMMAND in guide, f"TEACHING.md must give the command {STUDENT_COMMAND}"
    assert NO_ANSWERS_COMMAND in guide, f"TEACHING.md must give the command {NO_ANSWERS_COMMAND}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_check_cells_answers_and_hints_are_marked(path):
    """Every check cell is tagged 'check' (the student version drops its output), every
    <details> answer sits in a markdown cell of its own tagged 'answers', and every stub
    tells the student how to ask for hints."""
    nb = _read(path)
    for cell in nb.cells:
        tags = _tags(cell)
        if cell.cell_type == "code" and "exercises.check_" in cell.source and "solution" not in tags:
            assert "check" in tags, f"{path.name}: check cell not tagged 'check': {cell.source[:60]}"
        if cell.cell_type == "markdown" and "<details>" in cell.source:
            assert "answers" in tags or "solution" in tags, (
                f"{path.name}: an answer outside a cell tagged 'answers': {cell.source[:60]}")
            assert cell.source.lstrip().startswith("<details>"), f"{path.name}: {cell.source[:60]}"
        if cell.cell_type == "code" and STUB in cell.source:
            name = cell.source.split("def ", 1)[1].split("(", 1)[0]
            assert f'exercises.hint("{name}")' in cell.source, f"{path.name}: no hint offered for {name}"


# ---------------------------------------------------------------------------
# 3. The student version
# ---------------------------------------------------------------------------


def _kernel_env(folder, env):
    """``env`` plus a JUPYTER_PATH whose "python3" kernel is this very interpreter.

    The temporary kernelspec is searched before the user's own kernels, so the
    notebooks run with the packages under test, whatever else is installed.
    """
    kernel_dir = folder / "jupyter" / "kernels" / "python3"
    kernel_dir.mkdir(parents=True, exist_ok=True)
    (kernel_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (ipykernel)", "language": "python"}))
    return dict(env, JUPYTER_PATH=str(folder / "jupyter"))


def _execute(notebooks, output_dir, env):
    """Execute notebooks with nbconvert in a separate process, with this interpreter's kernel.

    A separate process keeps the kernels' sockets out of the test process.
    """
    env = _kernel_env(output_dir, env)
    command = [sys.executable, "-m", "nbconvert", "--to", "notebook", "--execute",
               "--ExecutePreprocessor.timeout=300", "--output-dir", str(output_dir),
               *map(str, notebooks)]
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=900)


def _assert_clean_run(run, executed, what):
    """nbconvert succeeded, and no executed cell has an error or stderr output."""
    assert run.returncode == 0, f"{what} failed:\n{run.stderr[-3000:]}"
    for cell in _code_cells(_read(executed)):
        for output in cell.outputs:
            where = f"{what}, cell {cell.execution_count}"
            assert output.output_type != "error", f"{where}: {output.get('ename')}"
            assert output.get("name") != "stderr", f"{where}: stderr output {output.text[:300]!r}"


@pytest.fixture(scope="module")
def student_dir():
    """The student versions, made by the documented command, in a folder under output/.

    Under the tutorial folder (output/ is git-ignored), as a teacher would make
    them, so that their setup cell finds helpers.py.
    """
    (REPO / "output").mkdir(exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="test-student-", dir=REPO / "output"))
    # The documented command, with this interpreter's nbconvert instead of "jupyter nbconvert".
    _make_student_version(STUDENT_COMMAND, folder)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)
    shutil.rmtree(folder.parent / (folder.name + "-no-answers"), ignore_errors=True)


def _make_student_version(command, folder):
    """Run a documented nbconvert command (with this interpreter's nbconvert) into ``folder``."""
    args = command.split()[2:]
    args[args.index(next(arg for arg in args if arg.startswith("output/student")))] = str(folder)
    args = [arg for arg in args if arg != "notebooks/*.ipynb"] + [str(path) for path in NOTEBOOKS]
    run = subprocess.run([sys.executable, "-m", "nbconvert", *args], cwd=REPO, capture_output=True,
                         text=True, stdin=subprocess.DEVNULL, timeout=300)
    assert run.returncode == 0, f"making the student version failed:\n{run.stderr[-3000:]}"


def _answer_numbers(teacher):
    """The numbers the teacher version's "Correct: ..." lines give away (e.g. 0.905)."""
    found = set()
    for cell in teacher.cells:
        if "check" in _tags(cell):
            for output in cell.get("outputs", []):
                text = _output_text(output)
                if text.startswith("Correct:"):
                    found |= set(re.findall(r"\d+\.\d+", text))
    return found


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_student_version_gives_nothing_away(path, student_dir):
    """No solution, no "Correct:" output, no stored check output, no exact answer, and 05 no
    longer promises solutions "at the end of this section"; the variant also drops every
    quiz and tour answer and keeps the same code cells."""
    teacher = _read(path)
    variant_dir = student_dir.parent / (student_dir.name + "-no-answers")
    if not (variant_dir / path.name).exists():
        _make_student_version(NO_ANSWERS_COMMAND, variant_dir)
    for folder in (student_dir, variant_dir):
        student = _read(folder / path.name)
        outputs = [_output_text(o) for c in _code_cells(student) for o in c.outputs]
        assert not any("Correct:" in text for text in outputs), f"{path.name}: a 'Correct:' output is left"
        for cell in student.cells:
            if "check" in _tags(cell):
                assert all(_output_text(o).startswith("Not yet:") and "fill it in first" in _output_text(o)
                           for o in cell.outputs), f"{path.name}: a check cell keeps an output"
        text = "\n".join(cell.source for cell in student.cells) + "\n".join(outputs)
        checks = "\n".join(o for c in student.cells if "check" in _tags(c) for o in map(_output_text, c.outputs))
        assert not [number for number in _answer_numbers(teacher) if number in checks]
        assert "at the end of this section" not in text and "in a collapsed cell" not in text
        assert not [cell for cell in student.cells if "solution" in _tags(cell)]
    variant = _read(variant_dir / path.name)
    assert not [cell for cell in variant.cells if "<details>" in cell.source], (
        f"{path.name}: the no-answers version still has an answer")
    assert [c.source for c in _code_cells(variant)] == [c.source for c in _code_cells(_read(student_dir / path.name))]
    if "Quiz" in "".join(cell.source for cell in teacher.cells):
        assert any("## Quiz" in cell.source for cell in variant.cells), "the questions stay"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_student_version_has_no_solution_left(path, student_dir):
    teacher = _read(path)
    student = _read(student_dir / path.name)
    tagged = [cell for cell in student.cells if "solution" in _tags(cell)]
    assert not tagged, f"{path.name}: the student version still has {len(tagged)} solution cells"
    solutions = [cell.source for cell in teacher.cells if "solution" in _tags(cell)]
    sources = [cell.source for cell in student.cells]
    left = [source.splitlines()[0] for source in solutions if source in sources]
    assert not left, f"{path.name}: solution code left in the student version: {left}"
    assert len(student.cells) == len(teacher.cells) - len(solutions)
    stubs = [cell for cell in teacher.cells if cell.cell_type == "code" and STUB in cell.source]
    assert sum(STUB in source for source in sources) == len(stubs), (
        f"{path.name}: the student version lost an exercise stub")


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_student_version_runs_top_to_bottom(path, student_dir, tmp_path):
    # Without the solutions, nothing later in the notebook may need them.
    env = dict(_without_covers_dir(), OUTPUT_DIR=str(tmp_path / "output"))
    run = _execute([student_dir / path.name], tmp_path, env)
    _assert_clean_run(run, tmp_path / path.name, f"the student version of {path.name}")
    for cell in _read(tmp_path / path.name).cells:  # every check says the exercise is not done
        if "check" in _tags(cell):
            said = " ".join(_output_text(output) for output in cell.outputs)
            assert said.startswith("Not yet:") and "NotImplementedError" in said, said


# ---------------------------------------------------------------------------
# 4. Strict nbval
# ---------------------------------------------------------------------------


def _without_covers_dir():
    """The environment, minus the variables that point the notebooks elsewhere."""
    return {key: value for key, value in os.environ.items() if key not in ("COVERS_DIR", "OUTPUT_DIR")}


@pytest.mark.slow
@pytest.mark.lock  # the stored outputs belong to the versions of requirements-lock.txt
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_passes_strict_nbval(path, tmp_path):
    # OUTPUT_DIR keeps the notebooks from overwriting the user's output/grid.png.
    env = dict(_without_covers_dir(), OUTPUT_DIR=str(tmp_path / "output"))
    command = [sys.executable, "-m", "pytest", "--nbval", str(path.relative_to(REPO)),
               "--nbval-sanitize-with", str(SANITIZE.relative_to(REPO)), "--nbval-current-env",
               "-p", "no:cacheprovider", "-q"]
    run = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, (
        f"strict nbval failed on {path.name}: its fresh outputs differ from the stored ones (or "
        "it raised). Re-execute the notebook if the change is intended.\n"
        + run.stdout[-20000:] + run.stderr[-5000:])


# ---------------------------------------------------------------------------
# 5. Other covers: any number, mixed sizes and formats
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_folders(tmp_path_factory):
    """Folders of 2, 3 and 12 generated covers (the smallest folders a map can arrange)."""
    root = tmp_path_factory.mktemp("small")
    return {count: write_mixed_covers(root / f"covers_{count}", count=count) for count in (2, 3, 12)}


@pytest.mark.slow
@pytest.mark.parametrize("count", [2, 3, 12])
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_runs_on_a_small_folder(path, count, small_folders, tmp_path):
    env = dict(os.environ, COVERS_DIR=str(small_folders[count]), OUTPUT_DIR=str(tmp_path / "output"))
    run = _execute([path], tmp_path, env)
    _assert_clean_run(run, tmp_path / path.name, f"{path.name} on {count} covers")
    executed = _read(tmp_path / path.name)
    printed = "\n".join(_output_text(output) for cell in _code_cells(executed) for output in cell.outputs)
    assert str(small_folders[count]) in printed, f"{path.name} did not read COVERS_DIR"


@pytest.mark.slow
def test_sequence_runs_on_other_covers(tmp_path):
    covers = write_mixed_covers(tmp_path / "covers")
    env = dict(os.environ, COVERS_DIR=str(covers), OUTPUT_DIR=str(tmp_path / "output"))
    run = _execute(NOTEBOOKS, tmp_path, env)
    # nbconvert stops at the first cell that raises, and says which.
    assert run.returncode == 0, f"a notebook failed on 37 mixed covers:\n{run.stderr[-3000:]}"
    for path in NOTEBOOKS:
        _assert_clean_run(run, tmp_path / path.name, f"{path.name} on 37 mixed covers")
    assert (tmp_path / "output" / "grid.png").is_file(), "notebook 6 did not save the grid"


# ---------------------------------------------------------------------------
# Claims in the prose of notebooks 01 and 02, checked against their stored outputs
# (strict nbval checks that the stored outputs are what a fresh run prints)
# ---------------------------------------------------------------------------


def _printed(path):
    return "\n".join(_output_text(output) for cell in _code_cells(_read(path)) for output in cell.outputs)


def test_claims_of_notebook_01():
    printed = _printed(NOTEBOOK_DIR / EXPECTED[0])
    # The quiz answer and the theory: a 185 x 278 cover is 154,290 numbers.
    assert "D = 278 x 185 x 3 = 154,290 numbers" in printed
    # "the uint8 distance is wrong": the two printed distances differ.
    floats = re.search(r"in floats: ([\d,]+)", printed).group(1)
    wrapped = re.search(r"straight from uint8: +([\d,]+)", printed).group(1)
    assert floats != wrapped


def test_claims_of_notebook_02():
    printed = _printed(NOTEBOOK_DIR / EXPECTED[1])
    # "the largest sigma is less than twice the smallest" (bundled posters)
    low, high = map(int, re.search(r"averaged over R, G, B\): from (\d+) to (\d+)", printed).groups())
    assert low < high < 2 * low
    # "Exercise 2 measures how little it changes": most of the 5 nearest stay.
    kept = float(re.search(r"on average ([\d.]+) of the 5 nearest", printed).group(1))
    assert 4 <= kept <= 5


def test_claims_of_notebook_03():
    printed = _printed(NOTEBOOK_DIR / EXPECTED[2])
    # the 2-D example: C = [[2, 1], [1, 2]] stretches (1, 1)/sqrt 2 by 3 and (1, -1)/sqrt 2 by 1
    assert "eigenvalue 1.000, eigenvector [ 0.707 -0.707]" in printed
    assert "eigenvalue 3.000, eigenvector [0.707 0.707]" in printed
    # The Gram-matrix PCA agrees with make_features and keeps every distance.
    for claim in ["our F keeps every distance of the pixels: True", "make_features keeps them too:",
                  "same coordinates, up to each axis's sign: True",
                  "largest pixel difference to the originals: 0"]:
        assert claim in printed, f"notebook 02 no longer prints {claim!r}"
    assert "make_features keeps them too:            True" in printed


def test_quiz_answer_of_notebook_03_feature_shapes():
    # Quiz question 2: 2, 3 and 10 covers give (2, 1), (3, 2) and (10, 9) features.
    import helpers

    rng = np.random.default_rng(7)
    for count in (2, 3, 10):
        images = rng.integers(0, 256, size=(count, 6, 4, 3), dtype=np.uint8)
        assert helpers.make_features(images).values.shape == (count, count - 1)


PROJECTOR_PAGE = NOTEBOOK_DIR / "projector" / "explorer.ipynb"


def test_the_projector_page_is_stored_executed():
    """``pytest --nbval notebooks/`` finds it too: an unexecuted cell would pass unchecked."""
    cells = _code_cells(_read(PROJECTOR_PAGE))
    assert [cell.execution_count for cell in cells] == list(range(1, len(cells) + 1))
    assert all(cell.outputs for cell in cells), "execute the projector page and save it with its outputs"
