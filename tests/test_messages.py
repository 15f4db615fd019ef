"""One formatter turns every error into one safe line: tutorial_kit.images.one_line.

The command line, the explorer and the skip reasons all use it, so a message never
spans lines, never carries a terminal code, and is never empty.
"""
import ast
from pathlib import Path

import pytest

from tutorial_kit.images import one_line

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("error, options, expected", [
    (ValueError(), {}, "ValueError"),                                   # never "error: " alone
    (ValueError("  spread\nover\tlines "), {}, "spread over lines"),
    (ValueError("a\x1b[31mb"), {}, "a\\x1b[31mb"),                       # a terminal code, escaped
    (UserWarning("first line\nsecond line"), {"first_line": True}, "first line"),
    (FileNotFoundError(2, "No such file or directory", "out/g.png"), {"name_file": True},
     "out/g.png: No such file or directory"),
    (FileNotFoundError(2, "No such file or directory", "g\nx.png"), {"name_file": True},
     "g\\nx.png: No such file or directory"),
    (PermissionError(13, "Permission denied"), {"name_file": True}, "[Errno 13] Permission denied"),
])
def test_one_line(error, options, expected):
    assert one_line(error, **options) == expected


def test_no_module_keeps_a_formatter_of_its_own():
    own = [f"{path.name}:{node.lineno}" for path in [REPO / "helpers.py", *sorted((REPO / "tutorial_kit").glob("*.py"))]
           for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
           if isinstance(node, ast.FunctionDef) and "one_line" in node.name and path.name != "images.py"]
    assert own == [], f"use tutorial_kit.images.one_line instead: {own}"
