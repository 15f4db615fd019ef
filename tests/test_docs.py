"""helpers.py reads like a chapter: PEP 8 spacing, numpydoc everywhere, examples that run.

- every public function of helpers has Parameters and Returns sections, every
  public class Attributes (numpydoc, as scikit-learn and MiniSom write them);
- the functions the notebooks teach from have an Examples section, and every
  example in helpers and tutorial_kit runs as a doctest here;
- two blank lines around every top-level definition (PEP 8's E302/E305).
"""
import ast
import doctest
import importlib
import inspect
import re
from pathlib import Path

import pytest

import helpers

REPO = Path(__file__).resolve().parents[1]
TAUGHT = ["load_covers", "make_features", "train_som", "place_covers", "dpq", "make_mosaic",
          "arrange_covers"]


def _public():
    """helpers' own public functions and classes (not the ones it re-exports)."""
    return {name: obj for name, obj in vars(helpers).items()
            if not name.startswith("_") and (inspect.isfunction(obj) or inspect.isclass(obj))
            and getattr(obj, "__module__", None) == "helpers"}


def _sections(obj):
    doc = inspect.getdoc(obj) or ""
    lines = doc.splitlines()
    return {lines[i].strip() for i in range(len(lines) - 1) if set(lines[i + 1].strip()) == {"-"}}


def test_every_public_name_has_a_full_numpydoc():
    missing = []
    for name, obj in _public().items():
        sections = _sections(obj)
        needed = {"Attributes"} if inspect.isclass(obj) else {"Parameters", "Returns"}
        if inspect.isfunction(obj) and not inspect.signature(obj).parameters:
            needed.discard("Parameters")
        if not needed <= sections:
            missing.append(f"{name}: {sorted(needed - sections)}")
    assert not missing, "docstrings without: " + "; ".join(missing)


def test_the_check_catches_a_missing_section():
    def undocumented(x):
        """Something."""
    assert _sections(undocumented) == set()
    assert _sections(helpers.dpq) >= {"Parameters", "Returns", "Examples"}


@pytest.mark.parametrize("name", TAUGHT)
def test_the_taught_functions_have_examples(name):
    assert "Examples" in _sections(getattr(helpers, name))


@pytest.mark.slow  # the examples load the bundled covers and train small maps
@pytest.mark.parametrize("module", ["helpers", "tutorial_kit.exact", "tutorial_kit.versions",
                                    "tutorial_kit.fast", "tutorial_kit.checks", "tutorial_kit.images",
                                    "tutorial_kit.explorer_worker"])
def test_the_examples_run(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples of {module} failed"
    if module in ("helpers", "tutorial_kit.exact"):
        assert result.attempted >= 10


def _blank_lines_before(lines, node):
    """Blank lines between a top-level definition (with the comments right above it) and the code before."""
    line = (node.decorator_list[0].lineno if getattr(node, "decorator_list", None) else node.lineno) - 1
    while line > 0 and lines[line - 1].lstrip().startswith("#"):
        line -= 1
    blanks = 0
    while line - blanks > 0 and not lines[line - blanks - 1].strip():
        blanks += 1
    return blanks


def test_two_blank_lines_around_top_level_definitions():
    path = REPO / "helpers.py"
    lines = path.read_text(encoding="utf-8").splitlines()
    body = ast.parse("\n".join(lines)).body
    wrong = []
    for before, node in zip(body, body[1:]):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) or isinstance(before, (ast.FunctionDef, ast.ClassDef)):
            if _blank_lines_before(lines, node) != 2:
                wrong.append(f"line {node.lineno}")
    assert not wrong, "PEP 8 wants two blank lines before: " + ", ".join(wrong)


# -- the README's summary of the benchmarks ---------------------------------------------

def _measured_numbers(text):
    """The measured numbers of ``text``: decimals such as 0.934 or 299.1, and speed-ups
    such as 529x."""
    return set(re.findall(r"(?<![\d.])\d[\d,]*\.\d+(?![\d.])", text)) \
        | set(re.findall(r"\b\d+x(?= faster)", text))


def test_the_readme_copies_its_numbers_from_the_benchmark_page():
    """Every sentence true: each measured number in the README's "What is measured"
    appears in benchmarks/README.md, which benchmarks/run.py writes in one run; so a
    re-run benchmark that changes a number also shows up here until the README follows."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    summary = readme.split("## What is measured", 1)[1].split("\n## ", 1)[0]
    page = (REPO / "benchmarks" / "README.md").read_text(encoding="utf-8")
    numbers = _measured_numbers(summary)
    assert len(numbers) > 20, numbers
    missing = sorted(n for n in numbers
                     if not re.search(rf"(?<![\d.]){re.escape(n)}(?![\d])", page))
    assert not missing, f"README numbers not in benchmarks/README.md: {missing}"


def test_the_number_check_sees_a_stale_number():
    summary = "0.926 with swaps, 367 s against 0.50 s (733x faster)"
    assert _measured_numbers(summary) == {"0.926", "0.50", "733x"}
