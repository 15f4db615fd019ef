"""The package's layers, kept by a test: imports only point down.

1. the plumbing (``tutorial_kit``'s lower modules) imports nothing of the tutorial above it;
2. ``helpers.py``, what the notebooks teach, imports only the plumbing;
3. the applications (the explorer, the command line, the notebooks' setup cell, the
   exercise checks) sit on top and may import both.

And ``python helpers.py`` runs the command line with ``helpers`` imported once.
"""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
KIT = REPO / "tutorial_kit"
LOWER = {"batch", "checks", "exact", "fast", "figures", "files", "images", "interrupts", "progress", "versions",
         "download"}
APPLICATIONS = {"cli", "demos", "explorer", "explorer_preview", "explorer_view", "explorer_worker", "exercises", "notebook",
                "projector"}


def _imports(path):
    """``{(module imported, line)}`` of a file, imports inside functions included; the
    ``if __name__ == "__main__":`` block (the script's own entry point) left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = set()
    for node in tree.body:
        if (isinstance(node, ast.If) and isinstance(node.test, ast.Compare)
                and getattr(node.test.left, "id", None) == "__name__"):
            skipped |= {id(child) for child in ast.walk(node)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found |= {(alias.name, node.lineno) for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "tutorial_kit":
                found |= {(f"tutorial_kit.{alias.name}", node.lineno) for alias in node.names}
            else:
                found.add((node.module, node.lineno))
    return found


def _layer(name):
    """'lower', 'helpers', 'application' or None (not the tutorial's) for an imported module name."""
    if name == "helpers":
        return "helpers"
    if name.startswith("tutorial_kit."):
        module = name.split(".")[1]
        return "lower" if module in LOWER else "application" if module in APPLICATIONS else "unknown"
    return None


def test_every_module_of_the_package_has_a_layer():
    modules = {path.stem for path in KIT.glob("*.py")} - {"__init__"}
    assert modules == LOWER | APPLICATIONS, "add the new module to LOWER or APPLICATIONS"


@pytest.mark.parametrize("path", sorted(KIT.glob("*.py")) + [REPO / "helpers.py"], ids=lambda p: p.name)
def test_imports_only_point_down(path):
    own = "helpers" if path.name == "helpers.py" else _layer(f"tutorial_kit.{path.stem}")
    allowed = {"lower": {"lower"}, "helpers": {"lower"}, "application": {"lower", "helpers", "application"},
               None: {"lower", "helpers", "application"}}[own if path.stem != "__init__" else None]
    wrong = [(name, line) for name, line in _imports(path) if _layer(name) not in allowed | {None}]
    assert not wrong, f"{path.name} ({own}) imports upwards: {sorted(wrong)}"


def test_the_layer_check_catches_an_upward_import(tmp_path):
    bad = tmp_path / "fast.py"
    bad.write_text("def f():\n    import helpers\n    from tutorial_kit import explorer\n", encoding="utf-8")
    assert {_layer(name) for name, _ in _imports(bad)} == {"helpers", "application"}


def test_the_command_line_imports_helpers_once():
    """``python helpers.py`` is ``__main__``; the command line must not import a second copy."""
    result = subprocess.run([sys.executable, "-X", "importtime", "helpers.py", "--help"], cwd=REPO,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    imported = [line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if "|" in line]
    assert "tutorial_kit.cli" in imported  # the command line did run
    assert "helpers" not in imported
