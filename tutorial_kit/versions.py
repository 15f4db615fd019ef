"""Check the installed libraries against the floors in ``requirements.txt``.

The notebooks' setup cell calls :func:`check_versions`, so the minimum
versions are written in one place only: ``requirements.txt``.
"""

from __future__ import annotations

import re
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

REQUIREMENTS = Path(__file__).resolve().parents[1] / "requirements.txt"


def read_floors(requirements=REQUIREMENTS):
    """``{package: minimum version}`` for every ``name>=x.y`` line of a requirements file."""
    floors = {}
    for line in Path(requirements).read_text(encoding="utf-8").splitlines():
        match = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*>=\s*([0-9][0-9.]*)", line)
        if match:
            floors[match.group(1).lower()] = match.group(2)
    return floors


def _as_numbers(text):
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def check_versions(requirements=REQUIREMENTS):
    """Raise a readable error if a package is missing or older than its floor.

    Returns
    -------
    dict
        ``{package: installed version}``.
    """
    found = {}
    for package, minimum in read_floors(requirements).items():
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            raise ModuleNotFoundError(f"{package} is not installed: run  "
                                      "pip install -r requirements.txt") from None
        if _as_numbers(found[package]) < _as_numbers(minimum):
            raise ImportError(f"{package} {found[package]} is too old: this tutorial needs "
                              f"{package} >= {minimum}. Update it with  pip install -U {package}")
    return found
