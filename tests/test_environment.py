"""Declared versions: pip and conda agree, the floors and the lock are consistent, the
notebooks' version check gives readable errors, and CI runs what the README says."""
import re
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
from packaging.version import Version

from tutorial_kit import versions

REPO = Path(__file__).resolve().parent.parent
CI = (REPO / ".ci" / "run").read_text(encoding="utf-8")
README = (REPO / "README.md").read_text(encoding="utf-8")


def _requirement(line):
    """'minisom>=2.3.3  # why' -> ('minisom', '>=2.3.3')"""
    spec = line.split("#", 1)[0].strip()
    match = re.fullmatch(r"([A-Za-z0-9_.\-]+)\s*(.*)", spec)
    return match.group(1).lower().replace("_", "-"), match.group(2).replace(" ", "")


def _lines(path):
    """The requirement lines of a requirements file: no comments, no -r includes."""
    lines = [l.split("#", 1)[0].strip() for l in path.read_text(encoding="utf-8").splitlines()]
    return [l for l in lines if l and not l.startswith("-")]


def pip_requirements(path=REPO / "requirements.txt"):
    return dict(_requirement(l) for l in _lines(path))


def conda_requirements():
    lines = (REPO / "environment.yml").read_text(encoding="utf-8").splitlines()
    deps = [l.strip()[2:] for l in lines if l.strip().startswith("- ")]
    packages = dict(_requirement(d) for d in deps if not d.startswith("conda-forge"))
    packages.pop("python")
    return packages


def lock_pins(python_version=None):
    """{package: version} that requirements-lock.txt pins for a Python (this one by default);
    every line must be an exact pin (versions.read_lock raises otherwise)."""
    return versions.read_lock(REPO / "requirements-lock.txt", python_version)


def all_floors():
    """The floors of requirements.txt and tests/requirements.txt together."""
    return {**versions.read_floors(versions.REQUIREMENTS), **versions.read_floors(versions.TEST_REQUIREMENTS)}


# --- pip, conda and the floors agree ------------------------------------------------


def test_requirements_and_environment_list_the_same_packages_and_versions():
    assert pip_requirements() == conda_requirements()


# Declared for what they run, not imported by the tutorial's code.
NOT_IMPORTED = {"jupyterlab": "the notebook interface", "nbval": "the notebooks' tests (a pytest plugin)"}


def _imported_top_level_modules():
    """Top-level modules that helpers.py, tutorial_kit/ and the notebooks import."""
    import ast
    import json
    sources = [path.read_text(encoding="utf-8") for path in [REPO / "helpers.py", *(REPO / "tutorial_kit").glob("*.py")]]
    for notebook in (REPO / "notebooks").rglob("*.ipynb"):
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        sources += ["\n".join(line for line in "".join(cell["source"]).splitlines() if not line.startswith(("%", "!")))
                    for cell in cells if cell["cell_type"] == "code"]
    modules = set()
    for source in sources:
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules.add(node.module.split(".")[0])
    return modules


def _installed_by(requirements):
    """Every distribution that installing ``requirements`` brings, dependencies included."""
    from importlib.metadata import PackageNotFoundError, requires
    from packaging.requirements import Requirement
    seen, todo = set(), [name.lower() for name in requirements]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            needs = requires(name) or []
        except PackageNotFoundError:
            continue
        for line in needs:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(re.sub(r"[-_.]+", "-", requirement.name.lower()))
    return seen


def test_every_import_is_installed_by_requirements_and_every_requirement_is_used():
    import sys
    from importlib.metadata import packages_distributions
    distributions = packages_distributions()
    ours = {"helpers", "tutorial_kit", "conftest"}
    imported = {module for module in _imported_top_level_modules()
                if module not in sys.stdlib_module_names and module not in ours}
    declared = set(pip_requirements())
    installed = _installed_by(declared)
    used = set()
    for module in imported:
        # (Python 3.10 maps modules to distributions only through top_level.txt, which
        # wheels built by hatchling lack: then the distribution named like the module)
        names = {re.sub(r"[-_.]+", "-", name.lower()) for name in distributions.get(module, [module])}
        assert names & installed, f"the tutorial imports {module}, which requirements.txt does not install"
        used |= names & declared
    unused = declared - used - set(NOT_IMPORTED)
    assert not unused, f"requirements.txt declares {sorted(unused)}, which nothing imports"


def test_environment_uses_conda_forge():
    text = (REPO / "environment.yml").read_text(encoding="utf-8")
    assert re.search(r"channels:\s*\n\s*- conda-forge", text)


@pytest.mark.parametrize("path", [REPO / "requirements.txt", REPO / "tests" / "requirements.txt"],
                         ids=["requirements.txt", "tests/requirements.txt"])
def test_every_requirement_is_a_floor_the_check_reads(path):
    """A line written any other way (==, <, no version) would escape the check and the floor step."""
    specs = pip_requirements(path)
    assert specs and all(re.fullmatch(r">=[0-9][0-9.]*", spec) for spec in specs.values()), specs
    assert versions.read_floors(path) == {name: spec[2:] for name, spec in specs.items()}


def test_floors_file_is_generated_from_the_requirements():
    floors_file = REPO / "requirements-floors.txt"
    assert floors_file.read_text(encoding="utf-8") == versions.floors_constraints(), (
        "requirements-floors.txt is out of date: run  python -m tutorial_kit.versions floors")
    pinned = dict(line.split("==") for line in _lines(floors_file))
    assert pinned == all_floors()


def test_python_floor_is_the_same_in_environment_readme_and_ci():
    conda = (REPO / "environment.yml").read_text(encoding="utf-8")
    floor = re.search(r"- python>=(3\.\d+)", conda).group(1)
    newest = re.search(r"Python 3\.\d+ to (3\.\d+)", README).group(1)
    assert f"Python {floor} to {newest}" in README
    assert f"python{floor}" in CI, ".ci/run's floor step should look for the oldest Python claimed"
    # the main run looks for the newest claimed Python first
    minors = re.search(r"for minor in ([\d ]+); do", CI).group(1).split()
    assert f"3.{minors[0]}" == newest, ".ci/run's main run should try the newest Python claimed first"


# --- the lock -----------------------------------------------------------------------


@pytest.mark.parametrize("python_version", ["3.10.13", "3.11.7", "3.13.0"])
def test_lock_pins_every_required_package_at_or_above_its_floor(python_version):
    pins = lock_pins(python_version)
    for package, floor in all_floors().items():
        assert package in pins, f"requirements-lock.txt does not pin {package} for Python {python_version}"
        assert Version(pins[package]) >= Version(floor), (
            f"requirements-lock.txt pins {package}=={pins[package]}, below its floor {floor}")


def test_the_lock_has_one_set_of_pins_per_line_of_pythons(tmp_path):
    assert lock_pins("3.10.13")["numpy"] != lock_pins("3.13.0")["numpy"]  # numpy 2.3+ needs 3.11
    assert Version(lock_pins("3.10.13")["numpy"]) < Version("2.3")
    bad = tmp_path / "lock.txt"
    bad.write_text("numpy>=2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not a 'name==version' pin"):
        versions.read_lock(bad, "3.12.0")
    bad.write_text("numpy==2.2.6\nnumpy==2.4.6 ; python_version >= '3.11'\n", encoding="utf-8")
    assert versions.read_lock(bad, "3.10.0") == {"numpy": "2.2.6"}
    with pytest.raises(ValueError, match="pins numpy twice"):
        versions.read_lock(bad, "3.12.0")


def test_writing_the_lock_keeps_the_other_line_and_marks_what_differs(monkeypatch):
    monkeypatch.setattr(versions, "python_line", lambda: "3.11+")
    text = versions.lock_text({"numpy": "2.4.6", "six": "1.17.0", "tomli": "2.0.0"},
                              {"3.10": {"numpy": "2.2.6", "six": "1.17.0"}})
    pins = [line for line in text.splitlines() if not line.startswith("#")]
    assert pins == ['numpy==2.2.6 ; python_version < "3.11"', 'numpy==2.4.6 ; python_version >= "3.11"',
                    "six==1.17.0", 'tomli==2.0.0 ; python_version >= "3.11"']


@pytest.mark.lock
def test_this_environment_has_the_locked_versions():
    """Strict nbval compares with outputs made by the lock's versions: install them."""
    different = []
    for package, pinned in lock_pins().items():
        try:
            installed = version(package)
        except PackageNotFoundError:
            continue  # pip installs only what tests/requirements.txt needs
        if Version(installed) != Version(pinned):
            different.append(f"{package} {installed} (lock: {pinned})")
    assert not different, ("installed versions differ from requirements-lock.txt: "
                           + ", ".join(different) + ". Install with  pip install -r "
                           "tests/requirements.txt -c requirements-lock.txt")


# --- the version check in the notebooks' setup cell ---------------------------------------


def test_version_check_covers_every_requirement_and_passes_here():
    found = versions.check_versions()
    assert set(found) == set(pip_requirements())


def test_too_old_package_gives_one_readable_line(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("numpy>=999.1  # from the future\n", encoding="utf-8")
    with pytest.raises(ImportError) as caught:
        versions.check_versions(requirements)
    message = str(caught.value)
    assert "\n" not in message
    assert f"numpy {version('numpy')} is too old" in message
    assert "numpy >= 999.1" in message and 'pip install -U "numpy>=999.1"' in message


def test_missing_package_gives_one_readable_line(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("numpy>=1.0\nno-such-package-for-this-tutorial>=1.0\n", encoding="utf-8")
    with pytest.raises(ModuleNotFoundError) as caught:
        versions.check_versions(requirements)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("no-such-package-for-this-tutorial is not installed")
    assert "pip install -r requirements.txt" in message


def test_command_line_check_prints_an_error_line_not_a_traceback(tmp_path, monkeypatch, capsys):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("numpy>=999.1\n", encoding="utf-8")
    monkeypatch.setattr(versions, "REQUIREMENTS", requirements)
    assert versions.main(["check"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: numpy ") and err.count("\n") == 1


@pytest.mark.parametrize("older, newer", [
    ("1.24", "1.24.1"), ("1.9", "1.10"), ("8.0.4", "8.0.5"), ("9.5.1", "10.0"),
    ("2.3.2", "2.3.3"), ("1.26.4", "2.0.0rc1"), ("2.3.3", "2.3.6+local"),
    ("2.0.0rc1", "2.0"), ("3.7.0b2", "3.7"), ("1.24.4.dev0", "1.24.4")])
def test_version_comparison_orders_releases_like_pip(older, newer):
    assert versions.is_older(older, newer)
    assert not versions.is_older(newer, older)


def test_floor_written_short_is_met_by_the_full_version():
    assert not versions.is_older("1.24.0", "1.24") and not versions.is_older("1.24", "1.24.0")
    assert not versions.is_older("not-a-version", "1.0")  # cannot be ordered: not refused


# --- the test command and CI --------------------------------------------------------------


def _readme_test_command():
    block = re.search(r"<!-- test-command -->\s*```\w*\n(.*?)\n```\s*<!-- /test-command -->", README, re.S)
    assert block, "README.md has no test command between <!-- test-command --> markers"
    return block.group(1).strip()


def test_ci_runs_the_readme_test_command():
    """.ci/run extracts the README's test command; it must find exactly the documented one."""
    command = _readme_test_command()
    assert "pytest" in command and "\n" not in command
    extracted = subprocess.run(
        ["bash", "-c", "sed -n '/<!-- test-command -->/,/<!-- \\/test-command -->/p' README.md "
                       "| grep -v -e '^<!--' -e '^```'"],
        cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
    assert extracted == command
    assert "README.md" in CI


def test_readme_test_command_installs_the_lock_and_runs_everything():
    command = _readme_test_command()
    assert "pip install -r tests/requirements.txt -c requirements-lock.txt" in command
    assert command.endswith("python -m pytest tests")  # no -m filter: the slow tests run too


def test_slow_and_lock_markers_are_registered(pytestconfig):
    markers = [line.split(":", 1)[0] for line in pytestconfig.getini("markers")]
    assert {"slow", "lock"} <= set(markers)
    assert "--strict-markers" in pytestconfig.getini("addopts")
