"""The setup cell that starts every notebook, in one function.

Every notebook begins with the same short cell::

    import sys; from pathlib import Path
    sys.path.insert(0, str(next(p for p in [Path.cwd(), *Path.cwd().parents] if (p / "helpers.py").exists())))
    from tutorial_kit.notebook import setup
    COVERS_DIR, SEED = setup()
"""

from __future__ import annotations

import os
from pathlib import Path

from tutorial_kit.versions import check_versions

REPO_DIR = Path(__file__).resolve().parents[1]
SEED = 42  # every random step in the notebooks takes this seed


def covers_dir():
    """The folder of covers: ``$COVERS_DIR`` if set, else the bundled ``data/covers``.

    A relative path in ``COVERS_DIR`` starts at the tutorial folder.
    """
    return REPO_DIR / Path(os.environ.get("COVERS_DIR", "data/covers")).expanduser()


def setup():
    """Check the libraries, set up figures, and return ``(COVERS_DIR, SEED)``."""
    check_versions()
    try:
        from IPython import get_ipython
        shell = get_ipython()
    except ImportError:
        shell = None
    if shell is not None:
        shell.run_line_magic("matplotlib", "inline")
        # Covers are photo-like pictures: JPEG figures keep the notebooks small.
        shell.run_line_magic("config", 'InlineBackend.figure_formats = ["jpeg"]')
        shell.run_line_magic("config", 'InlineBackend.print_figure_kwargs = '
                             '{"bbox_inches": "tight", "pil_kwargs": {"quality": 90}}')
    folder = covers_dir()
    shown = folder.relative_to(REPO_DIR) if folder.is_relative_to(REPO_DIR) else folder
    print(f"Libraries are recent enough. Covers: {shown}. Seed: {SEED}.")
    return folder, SEED
