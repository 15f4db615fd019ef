"""The notebooks: committed executed, re-run by strict nbval, and runnable on any covers.

Four checks, from cheap to slow:

1. every notebook is stored as one clean top-to-bottom run (execution counts
   1..n, every printing cell has its output), small, with the plain python3
   kernelspec and a header that states title, objectives and estimated time,
   and without any traceback or stderr output;
2. strict nbval: every notebook re-run in a fresh kernel gives the outputs
   stored in it (text outputs; cells marked ``# NBVAL_IGNORE_OUTPUT`` such as
   timings and progress bars are run but not compared);
3. the whole sequence runs on a folder of generated covers of mixed sizes and
   formats and a non-square count (37), chosen through ``COVERS_DIR``.

nbval compares text only, never pixels: what the figures show is tested
through the helpers' data in the other test files.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = REPO / "notebooks"
SANITIZE = REPO / "tests" / "sanitize.cfg"
MAX_BYTES = 3_000_000
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def _notebooks():
    """Every notebook in notebooks/ and notebooks/solutions/, in order."""
    found = sorted(NOTEBOOK_DIR.glob("*.ipynb")) + sorted(NOTEBOOK_DIR.glob("solutions/*.ipynb"))
    return [path for path in found if ".ipynb_checkpoints" not in path.parts]


NOTEBOOKS = _notebooks()


def _ids(paths):
    return [str(path.relative_to(NOTEBOOK_DIR)) for path in paths]


def test_there_are_notebooks():
    names = {path.name for path in NOTEBOOKS}
    for expected in ["01_loading_covers.ipynb", "02_scaling_features.ipynb",
                     "03_training_the_som.ipynb", "04_placing_the_grid.ipynb"]:
        assert expected in names, f"notebooks/{expected} is missing"


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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_is_stored_executed(path):
    nb = nbformat.read(path, as_version=4)
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
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    kernelspec = nb.metadata.get("kernelspec", {})
    # The name is what Jupyter and nbval look up (any other gives NoSuchKernel on a
    # fresh install); the display name is only shown in the interface.
    assert (kernelspec.get("name"), kernelspec.get("language")) == ("python3", "python"), (
        f"{path.name}: kernelspec {kernelspec} is not the plain python3 one {KERNELSPEC}")

    first = nb.cells[0]
    assert first.cell_type == "markdown", f"{path.name}: the first cell must be the markdown header"
    header = first.source.lower()
    assert header.startswith("# "), f"{path.name}: the first cell must start with a '# ' title"
    for part in ["objectives", "estimated time", "prerequisites"]:
        assert part in header, f"{path.name}: the first cell does not state the {part}"

    for cell in _code_cells(nb):
        for output in cell.outputs:
            where = f"{path.name}, cell {cell.execution_count}"
            assert output.output_type != "error", f"{where}: stored error {output.get('ename')}"
            assert output.get("name") != "stderr", (
                f"{where}: stored stderr output (a warning?): {output.text[:300]!r}")
            assert "Traceback" not in _output_text(output), f"{where}: stored traceback"


# ---------------------------------------------------------------------------
# 2. Strict nbval
# ---------------------------------------------------------------------------


def _without_covers_dir():
    """The environment, minus the variables that point the notebooks elsewhere."""
    return {key: value for key, value in os.environ.items() if key not in ("COVERS_DIR", "OUTPUT_DIR")}


def test_notebooks_pass_strict_nbval(tmp_path):
    # OUTPUT_DIR keeps the notebooks from overwriting the user's output/grid.png.
    env = dict(_without_covers_dir(), OUTPUT_DIR=str(tmp_path / "output"))
    command = [sys.executable, "-m", "pytest", "--nbval", *map(str, NOTEBOOKS),
               "--nbval-sanitize-with", str(SANITIZE.relative_to(REPO)), "--nbval-current-env",
               "-p", "no:cacheprovider", "-q"]
    run = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, (
        "strict nbval failed: a notebook's fresh outputs differ from the stored ones (or it "
        "raised). Re-execute the notebook if the change is intended.\n"
        + run.stdout[-20000:] + run.stderr[-5000:])


# ---------------------------------------------------------------------------
# 3. The whole sequence on other covers
# ---------------------------------------------------------------------------


def write_mixed_covers(folder, count=37, seed=42):
    """``count`` covers: gradients with blobs, in three sizes, PNG and JPEG, plus a text file.

    The most common size is 185 x 278; a third of the files are PNG.
    """
    import imageio.v3 as iio

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    sizes = [(185, 278), (185, 278), (200, 300), (150, 225)]  # (width, height)
    for i in range(count):
        width, height = sizes[i % len(sizes)]
        yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
        angle = rng.uniform(0, 2 * np.pi)
        ramp = np.clip((np.cos(angle) * xx + np.sin(angle) * yy) / max(width, height) + 0.5, 0, 1)
        start, end = rng.integers(0, 256, size=(2, 3))
        image = start + (end - start) * ramp[..., None]
        for _ in range(rng.integers(1, 4)):
            cy, cx = rng.uniform(0, height), rng.uniform(0, width)
            radius = rng.uniform(0.1, 0.35) * width
            image[(yy - cy) ** 2 + (xx - cx) ** 2 < radius ** 2] = rng.integers(0, 256, size=3)
        extension = "png" if i % 3 == 0 else "jpg"
        iio.imwrite(folder / f"cover_{i:02d}.{extension}", image.astype(np.uint8))
    (folder / "notes.txt").write_text("not a cover\n")
    return folder


def _execute(notebooks, output_dir, env):
    """Execute notebooks with nbconvert in a separate process, with this interpreter's kernel.

    A separate process keeps the kernels' sockets out of the test process. The
    kernelspec in a temporary JUPYTER_PATH (searched before the user's own
    kernels) makes "python3" this very interpreter, whatever else is installed.
    """
    import json

    kernel_dir = output_dir / "jupyter" / "kernels" / "python3"
    kernel_dir.mkdir(parents=True)
    (kernel_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (ipykernel)", "language": "python"}))
    env = dict(env, JUPYTER_PATH=str(output_dir / "jupyter"))
    command = [sys.executable, "-m", "nbconvert", "--to", "notebook", "--execute",
               "--ExecutePreprocessor.timeout=300", "--output-dir", str(output_dir),
               *map(str, notebooks)]
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=900)


def test_sequence_runs_on_other_covers(tmp_path):
    covers = write_mixed_covers(tmp_path / "covers")
    env = dict(os.environ, COVERS_DIR=str(covers), OUTPUT_DIR=str(tmp_path / "output"))
    run = _execute(NOTEBOOKS, tmp_path, env)
    # nbconvert stops at the first cell that raises, and says which.
    assert run.returncode == 0, f"a notebook failed on 37 mixed covers:\n{run.stderr[-3000:]}"
    for path in NOTEBOOKS:
        nb = nbformat.read(tmp_path / path.name, as_version=4)  # the executed copy
        for cell in _code_cells(nb):
            for output in cell.outputs:
                where = f"{path.name} on 37 mixed covers, cell {cell.execution_count}"
                assert output.output_type != "error", f"{where}: {output.get('ename')}"
                assert output.get("name") != "stderr", f"{where}: stderr output {output.text[:300]!r}"
    assert (tmp_path / "output" / "grid.png").is_file(), "notebook 4 did not save the grid"
