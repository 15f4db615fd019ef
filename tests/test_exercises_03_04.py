"""The checks of notebooks 04 and 06 (the step and loop, the placement; this file keeps the
name of the five-notebook sequence) in tutorial_kit/exercises.py: each is tried
with a right answer (it must accept it) and with typical wrong ones (it must
refuse them and say, in one sentence, what is wrong)."""
import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist

import helpers
from tutorial_kit import exercises


# ---------------------------------------------------------------------------
# Notebook 03, exercise 1: one SOM step
# ---------------------------------------------------------------------------


def som_step(weights, x, t, T, sigma0, eta0, neighbourhood="gaussian", *, flip=1,
             decay=True, only_winner=False, wrong_winner=False, neighbours_away=False):
    """The notebook's solution, with switches that make the typical mistakes."""
    eta = eta0 * (1 - t / T) if decay else eta0
    sigma = sigma0 + t * (1 - sigma0) / T if decay else sigma0
    rows, cols = weights.shape[:2]
    distance = np.linalg.norm(weights - x, axis=-1)
    c = np.unravel_index((np.argmax if wrong_winner else np.argmin)(distance), (rows, cols))
    di = np.arange(rows)[:, None] - c[0]
    dj = np.arange(cols)[None, :] - c[1]
    if neighbourhood == "gaussian":
        h = np.exp(-di ** 2 / (2 * sigma ** 2)) * np.exp(-dj ** 2 / (2 * sigma ** 2))
    elif neighbourhood == "triangle":
        h = np.maximum(sigma - np.abs(di), 0) * np.maximum(sigma - np.abs(dj), 0)
    else:
        h = ((np.abs(di) < sigma) & (np.abs(dj) < sigma)).astype(float)
    if only_winner:
        h = np.where((di == 0) & (dj == 0), h, 0.0)
    if neighbours_away:
        h = np.where((di == 0) & (dj == 0), h, -h)
    return weights + flip * eta * h[..., None] * (x - weights)


def test_som_step_right_answer_is_accepted():
    feedback = exercises.check_som_step(som_step)
    assert feedback.ok, feedback.message
    assert repr(feedback).startswith("Correct: ")


def test_som_step_in_place_update_is_accepted_too():
    def in_place(weights, *args):
        weights[:] = som_step(weights, *args)
        return weights
    assert exercises.check_som_step(in_place).ok


@pytest.mark.parametrize("mistake, words", [
    (dict(flip=-1), "moved away from the cover"),
    (dict(neighbours_away=True), "the winner is right, but the neighbours moved away"),
    (dict(only_winner=True), "only the winner moved"),
    (dict(wrong_winner=True), "the winner is wrong"),
    (dict(decay=False), "learning rate must shrink"),
])
def test_som_step_mistakes_are_named(mistake, words):
    feedback = exercises.check_som_step(lambda *args: som_step(*args, **mistake))
    assert not feedback.ok
    assert words in feedback.message, feedback.message
    assert "\n" not in feedback.message


def test_som_step_wrong_sigma_decay_points_at_the_neighbours():
    def sigma_not_shrinking(weights, x, t, T, sigma0, eta0, neighbourhood):
        # the learning rate shrinks, sigma does not
        return som_step(weights, x, 0, T, sigma0, eta0 * (1 - t / T), neighbourhood)
    feedback = exercises.check_som_step(sigma_not_shrinking)
    assert not feedback.ok and "neighbours moved the wrong share" in feedback.message, feedback.message


def test_som_step_stub_none_and_shape():
    def stub(*args):
        raise NotImplementedError("Student exercise: one SOM step")
    assert "still raises NotImplementedError" in exercises.check_som_step(stub).message
    assert "returned None" in exercises.check_som_step(lambda *args: None).message
    assert "shape" in exercises.check_som_step(lambda w, *args: w[0]).message
    assert "no neuron moved" in exercises.check_som_step(lambda w, *args: w).message
    assert "ZeroDivisionError" in exercises.check_som_step(lambda *args: 1 / 0).message


# ---------------------------------------------------------------------------
# Notebook 03, exercise 2: a map trained with one's own loop
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def blobs():
    """Covers stand-ins: 30 points in 5 dimensions along a curved line."""
    s = np.linspace(0, 1, 30)
    return np.column_stack([s, s ** 2, np.sin(3 * s), np.cos(2 * s), s ** 3]) * 10


def _train(data, rows, cols, steps=600, **mistake):
    rng = np.random.default_rng(0)
    weights = data[rng.integers(len(data), size=(rows, cols))].astype(float)
    for t, i in enumerate(rng.integers(len(data), size=steps)):
        weights = som_step(weights, data[i], t, steps, 2.0, 0.5, **mistake)
    return weights


def test_trained_map_is_accepted(blobs):
    feedback = exercises.check_trained_map(_train(blobs, 3, 4), blobs)
    assert feedback.ok, feedback.message


def test_untrained_and_unordered_maps_are_refused(blobs):
    far = np.full((3, 4, 5), 1000.0)
    assert "still far from the covers" in exercises.check_trained_map(far, blobs).message
    rng = np.random.default_rng(1)
    shuffled = blobs[rng.permutation(30)[:12]].reshape(3, 4, 5)  # among the covers, but no order
    feedback = exercises.check_trained_map(shuffled, blobs)
    assert not feedback.ok and "not ordered" in feedback.message, feedback.message
    only_winners = _train(blobs, 3, 4, only_winner=True)
    assert not exercises.check_trained_map(only_winners, blobs).ok


def test_trained_map_bad_shapes(blobs):
    assert "no map yet" in exercises.check_trained_map(None, blobs).message
    assert "not (rows, cols, 5)" in exercises.check_trained_map(np.zeros((3, 4)), blobs).message
    assert "NaN" in exercises.check_trained_map(np.full((3, 4, 5), np.nan), blobs).message


def test_tiny_grid_is_judged_on_distance_only(blobs):
    assert exercises.check_trained_map(blobs[:2].reshape(1, 2, 5), blobs[:2]).ok
    # on 2 x 2 most neuron pairs are neighbours: no order to judge, but distance still counts
    feedback = exercises.check_trained_map(blobs[[0, 29, 5, 20]].reshape(2, 2, 5), blobs)
    assert feedback.ok and "too small to judge" in feedback.message
    assert not exercises.check_trained_map(np.full((2, 2, 5), 1000.0), blobs).ok


# ---------------------------------------------------------------------------
# Notebook 04, exercise 1: the assignment in two lines
# ---------------------------------------------------------------------------


def assign_cells(weights, data):
    covers, cells = linear_sum_assignment(cdist(data, weights.reshape(-1, weights.shape[-1]), "sqeuclidean"))
    return np.column_stack(np.divmod(cells[np.argsort(covers)], weights.shape[1]))


def test_assignment_right_answer_is_accepted():
    feedback = exercises.check_assignment(assign_cells)
    assert feedback.ok, feedback.message


def test_assignment_mistakes_are_named():
    def plain_distance(weights, data):
        covers, cells = linear_sum_assignment(cdist(data, weights.reshape(-1, weights.shape[-1])))
        return np.column_stack(np.divmod(cells, weights.shape[1]))

    def swapped(weights, data):
        return assign_cells(weights, data)[:, ::-1]

    def winners(weights, data):
        cells = cdist(data, weights.reshape(-1, weights.shape[-1])).argmin(axis=1)
        return np.column_stack(np.divmod(cells, weights.shape[1]))

    def greedy(weights, data):
        return helpers.place_covers(weights, data, "greedy").positions

    assert "sum of distances" in exercises.check_assignment(plain_distance).message
    assert "swapped" in exercises.check_assignment(swapped).message
    assert "share a cell" in exercises.check_assignment(winners).message
    feedback = exercises.check_assignment(greedy)
    assert not feedback.ok and "not the smallest possible" in feedback.message, feedback.message
    assert "returned shape" in exercises.check_assignment(lambda w, d: np.zeros(3)).message


# ---------------------------------------------------------------------------
# Notebook 04, exercise 2: DPQ in numpy
# ---------------------------------------------------------------------------


def my_dpq(data, positions, p=16, *, skip_ties=False, no_clip=False):
    d = cdist(data, data)
    g = cdist(positions, positions, "sqeuclidean")
    n = len(data)
    off = ~np.eye(n, dtype=bool)
    d, g = d[off].reshape(n, n - 1), g[off].reshape(n, n - 1)
    order = np.argsort(g, axis=1, kind="stable") if skip_ties else np.lexsort((d, g), axis=1)
    mean = d.mean()

    def gains(sorted_d):
        d_k = (np.cumsum(sorted_d, axis=1) / np.arange(1, n)).mean(axis=0)
        gain = (mean - d_k) / mean
        return gain if no_clip else np.maximum(gain, 0)

    best = np.linalg.norm(gains(np.sort(d, axis=1)), p)
    return 1.0 if best == 0 else np.linalg.norm(gains(np.take_along_axis(d, order, axis=1)), p) / best


def test_dpq_right_answer_is_accepted():
    feedback = exercises.check_dpq(my_dpq)
    assert feedback.ok, feedback.message


def test_dpq_mistakes_are_refused():
    feedback = exercises.check_dpq(lambda *args: my_dpq(*args, skip_ties=True))
    assert not feedback.ok and "ordered by feature distance" in feedback.message, feedback.message
    assert "above 1" in exercises.check_dpq(lambda *args: 1.5).message
    assert "returned None" in exercises.check_dpq(lambda *args: None).message
    assert "return one number" in exercises.check_dpq(lambda *args: "x").message


# ---------------------------------------------------------------------------
# The notebooks themselves: stubs, solutions (tagged 'solution') and checks agree
# ---------------------------------------------------------------------------

import inspect  # noqa: E402

import nbformat  # noqa: E402
from pathlib import Path  # noqa: E402

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _namespace(notebook, tagged, defining=()):
    """Run the code cells tagged 'solution' (tagged=True) or the stubs that raise
    NotImplementedError (tagged=False), plus cells defining the names in `defining`."""
    nb = nbformat.read(NOTEBOOKS / notebook, as_version=4)
    namespace = {"np": np, "cdist": cdist, "linear_sum_assignment": linear_sum_assignment,
                 "exercises": exercises, "helpers": helpers}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        is_solution = "solution" in cell.metadata.get("tags", [])
        is_stub = "NotImplementedError(\"Student exercise" in cell.source
        if (tagged and is_solution) or (not tagged and is_stub) or any(f"def {name}(" in cell.source and not is_stub and not is_solution for name in defining):
            exec(cell.source, namespace)
    return namespace


def test_notebook_04_solutions_pass_their_checks(blobs):
    solved = _namespace("04_the_som_step.ipynb", tagged=True)
    assert exercises.check_som_step(solved["som_step"]).ok
    rng = np.random.default_rng(0)
    start = blobs[rng.integers(len(blobs), size=(3, 4))]
    weights = solved["train_my_map"](start, blobs, rng.integers(len(blobs), size=600), 2.0, 0.5)
    assert exercises.check_trained_map(weights, blobs).ok
    assert exercises.check_train_my_map(solved["train_my_map"]).ok


def test_notebook_06_solutions_pass_their_checks():
    solved = _namespace("06_placing_the_grid.ipynb", tagged=True, defining=["gain_curves"])
    assert exercises.check_assignment(solved["assign_cells"]).ok
    assert exercises.check_dpq(solved["my_dpq"]).ok


@pytest.mark.parametrize("notebook, names", [
    ("04_the_som_step.ipynb", ["som_step", "train_my_map"]),
    ("06_placing_the_grid.ipynb", ["assign_cells", "my_dpq"]),
])
def test_every_stub_has_a_tagged_solution_and_a_check(notebook, names):
    stubs = _namespace(notebook, tagged=False)
    nb = nbformat.read(NOTEBOOKS / notebook, as_version=4)
    sources = [cell.source for cell in nb.cells if cell.cell_type == "code"]
    solutions = [cell.source for cell in nb.cells if "solution" in cell.metadata.get("tags", [])]
    for name in names:
        with pytest.raises(NotImplementedError, match="Student exercise"):
            required = [p for p in inspect.signature(stubs[name]).parameters.values()
                        if p.default is inspect.Parameter.empty]
            stubs[name](*[None] * len(required))
        assert any(f"def {name}(" in source for source in solutions), f"{name} has no tagged solution"
        assert any("exercises.check_" in source and name in source for source in sources)
    # solution cells are collapsed, so the student sees the stub first
    for cell in nb.cells:
        if cell.cell_type == "code" and "solution" in cell.metadata.get("tags", []):
            assert cell.metadata.get("jupyter", {}).get("source_hidden") is True


# ---------------------------------------------------------------------------
# The demos next to the concepts: a control moves, the picture changes
# ---------------------------------------------------------------------------

PROBES = {  # the demos draw on a thread: wait() until the picture matches the controls
    "04_the_som_step.ipynb": (
        "before = sigma_demo.picture.value\n"
        "sigma_demo.controls['neighbourhood'].value = 'bubble'\n"
        "sigma_demo.wait()\n"
        "after_shape = sigma_demo.picture.value\n"
        "sigma_demo.controls['sigma'].value = sigma_demo.controls['sigma'].min\n"
        "sigma_demo.wait()\n"
        "print('demo redraws:', before != after_shape != sigma_demo.picture.value)"),
    "05_training_settings.ipynb": (
        "before = iterations_demo.picture.value\n"
        "iterations_demo.controls['iterations'].value = 100\n"
        "iterations_demo.wait()\n"
        "print('demo redraws:', before != iterations_demo.picture.value)"),
    "06_placing_the_grid.ipynb": (
        "before = fill_demo.picture.value\n"
        "fill_demo.controls['fill'].value = 'assignment'\n"
        "grid_before = grid_demo.picture.value\n"
        "grid_demo.controls['extra'].value = 2\n"
        "fill_demo.wait(), grid_demo.wait()\n"
        "print('demo redraws:', before != fill_demo.picture.value and grid_before != grid_demo.picture.value)"),
}


@pytest.mark.slow
@pytest.mark.parametrize("notebook", sorted(PROBES))
def test_demo_widgets_redraw_on_a_small_folder(notebook, tmp_path, monkeypatch):
    """Run the notebook on 12 of the bundled covers, then move its demo's controls."""
    import shutil

    from nbclient import NotebookClient

    folder = tmp_path / "covers"
    folder.mkdir()
    for path in sorted(helpers.BUNDLED_COVERS.iterdir())[:12]:
        shutil.copy(path, folder / path.name)
    monkeypatch.setenv("COVERS_DIR", str(folder))
    monkeypatch.setenv("OUTPUT_DIR", str(tmp_path / "output"))
    # "python3" must be this very interpreter, whatever other kernels are installed
    import json
    import sys
    kernel_dir = tmp_path / "jupyter" / "kernels" / "python3"
    kernel_dir.mkdir(parents=True)
    (kernel_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (ipykernel)", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    nb = nbformat.read(NOTEBOOKS / notebook, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(PROBES[notebook]))
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            assert output.get("name") != "stderr", f"{notebook}: stderr {output.get('text', '')[:300]!r}"
    assert nb.cells[-1].outputs[0].text.strip() == "demo redraws: True"


# ---------------------------------------------------------------------------
# The wrong answers each check is tried with (issue 18): every one must be refused with a
# sentence that names the mistake. A new mistake students make goes into this list.
# ---------------------------------------------------------------------------


def _loop(start, data, order, sigma0, eta0, mistake=None):
    """The notebook's training loop (with the notebook's step), or one of the usual mistakes."""
    weights, n = start.copy(), len(data)
    steps = list(enumerate(order))
    if mistake == "half the steps":
        steps = steps[:len(order) // 2]
    for t, i in steps:
        x = data[t % n] if mistake == "ignores the order" else data[i]
        step_t = {"t stuck at 0": 0, "cover index as t": i}.get(mistake, t)
        T = n if mistake == "T = len(data)" else len(order)
        new = som_step(weights, x, step_t, T, sigma0, eta0)
        if mistake != "discards the result":
            weights = new
    return weights


def _dpq_mistake(**mistake):
    return lambda data, positions, p=16: exercises._dpq_variant(data, positions, p, **mistake)


def _assign_by_rows(weights, data):
    covers, cells = linear_sum_assignment(cdist(data, weights.reshape(-1, weights.shape[-1]), "sqeuclidean"))
    return np.column_stack(np.divmod(cells, weights.shape[0]))


def _step_mistake(**mistake):
    return lambda w, x, t, T, s, e, nb="gaussian": exercises._reference_step(w, x, t, T, s, e, nb, **mistake)


WRONG_ANSWERS = [
    # (check, wrong answer, words the feedback must contain)
    ("som_step", lambda *a: som_step(*a, flip=-1), "moved away from the cover"),
    ("som_step", lambda *a: som_step(*a, neighbours_away=True), "the neighbours moved away"),
    ("som_step", lambda *a: som_step(*a, only_winner=True), "only the winner moved"),
    ("som_step", lambda *a: som_step(*a, wrong_winner=True), "the winner is wrong"),
    ("som_step", lambda *a: som_step(*a, decay=False), "learning rate must shrink"),
    ("som_step", _step_mistake(scaled_triangle=True), "do not divide h by sigma ** 2"),
    ("som_step", _step_mistake(inclusive_bubble=True), "edge is strict"),
    ("som_step", _step_mistake(asymptotic=True), "asymptotic decay"),
    ("som_step", lambda w, *a: w, "no neuron moved"),
    ("train_my_map", lambda *a: _loop(*a, mistake="t stuck at 0"), "never shrink"),
    ("train_my_map", lambda *a: _loop(*a, mistake="ignores the order"), "data[order[t]]"),
    ("train_my_map", lambda *a: _loop(*a, mistake="half the steps"), "120 of the 240 steps"),
    ("train_my_map", lambda *a: _loop(*a, mistake="discards the result"), "did not keep what it returns"),
    ("train_my_map", lambda *a: _loop(*a, mistake="cover index as t"), "cover's index as the step"),
    ("train_my_map", lambda *a: _loop(*a, mistake="T = len(data)"), "T = len(data)"),
    ("train_my_map", lambda *a: None, "returned None"),
    ("assignment", _assign_by_rows, "divided the cell numbers by the number of rows"),
    ("assignment", lambda w, d: assign_cells(w, d)[:, ::-1], "swapped"),
    ("assignment", lambda w, d: helpers.place_covers(w, d, "greedy").positions, "not the smallest possible"),
    ("dpq", _dpq_mistake(root=False), "left out the 1/p root"),
    ("dpq", _dpq_mistake(clip=False), "negative gains must count as 0"),
    ("dpq", _dpq_mistake(ties=False), "ordered by feature distance"),
    ("dpq", _dpq_mistake(with_self=True), "its own neighbour"),
    ("dpq", _dpq_mistake(), "equally far apart"),  # no 'return 1' when the best gains are all 0
]


@pytest.mark.parametrize("name, wrong, words", WRONG_ANSWERS,
                         ids=[f"{name}-{i}" for i, (name, _, _) in enumerate(WRONG_ANSWERS)])
def test_every_listed_wrong_answer_is_refused_and_named(name, wrong, words):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a wrong answer may divide by zero
        feedback = getattr(exercises, f"check_{name}")(wrong)
    assert not feedback.ok, f"{name}: a wrong answer was accepted ({words})"
    assert words in feedback.message, feedback.message
    assert "\n" not in feedback.message


def test_the_training_loop_right_answer_is_accepted():
    feedback = exercises.check_train_my_map(_loop)
    assert feedback.ok, feedback.message


@pytest.mark.parametrize("name", ["som_step", "train_my_map", "assign_cells", "my_dpq"])
def test_every_exercise_has_two_graded_hints(name):
    first, second = exercises.hint(name), exercises.hint(name, 2)
    assert repr(first).startswith("Hint 1 of 2: ") and repr(second).startswith("Hint 2 of 2: ")
