"""The setup cell that starts every notebook, in one function.

Every notebook's first code cell is :data:`SETUP_CELL`, word for word (a test
checks it)::

    # Setup (the same in every notebook): find helpers.py, check the libraries, fix the seed
    import sys; from pathlib import Path
    sys.path.insert(0, str(next(p for p in [Path.cwd(), *Path.cwd().parents] if (p / "helpers.py").exists())))
    from tutorial_kit.notebook import setup
    COVERS_DIR, SEED = setup()

Its third line finds the tutorial folder (the first folder, from the working
directory upwards, that holds ``helpers.py``), so the notebooks run whether
Jupyter was started in the tutorial folder, in ``notebooks/`` or in a copy
such as ``output/student/``.
"""

from __future__ import annotations

import os
from pathlib import Path

from tutorial_kit.versions import check_versions

REPO_DIR = Path(__file__).resolve().parents[1]
SEED = 42  # every random step in the notebooks takes this seed

SETUP_CELL = """\
# Setup (the same in every notebook): find helpers.py, check the libraries, fix the seed
import sys; from pathlib import Path
sys.path.insert(0, str(next(p for p in [Path.cwd(), *Path.cwd().parents] if (p / "helpers.py").exists())))
from tutorial_kit.notebook import setup
COVERS_DIR, SEED = setup()"""


def covers_dir():
    """The folder of covers: ``$COVERS_DIR`` if set, else the bundled ``data/covers``.

    A relative path in ``COVERS_DIR`` starts at the tutorial folder.
    """
    return REPO_DIR / Path(os.environ.get("COVERS_DIR", "data/covers")).expanduser()


def setup():
    """Check the libraries, set up figures, and return the folder of covers and the seed.

    Returns
    -------
    covers : pathlib.Path
        ``$COVERS_DIR`` if set (relative to the tutorial folder), else ``data/covers``.
    seed : int
        The seed every random step of the notebooks takes.

    Raises
    ------
    ModuleNotFoundError, ImportError
        If a library is missing or older than ``requirements.txt`` asks.
    FileNotFoundError
        If the folder of covers does not exist.
    """
    check_versions()
    folder = covers_dir()
    if not folder.is_dir():
        where = "COVERS_DIR" if "COVERS_DIR" in os.environ else "the bundled covers folder"
        raise FileNotFoundError(f"{where} points to {folder}, which is not a folder: set "
                                "COVERS_DIR to a folder of pictures (or unset it to use "
                                "data/covers) and restart the kernel")
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
    shown = folder.relative_to(REPO_DIR) if folder.is_relative_to(REPO_DIR) else folder
    print(f"Libraries are recent enough. Covers: {shown}. Seed: {SEED}.")
    return folder, SEED
