"""The pip and conda environments list the same packages, and CI runs the README's command."""
import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _requirement(line):
    """'minisom>=2.3.2  # why' -> ('minisom', '>=2.3.2')"""
    spec = line.split("#", 1)[0].strip()
    match = re.fullmatch(r"([A-Za-z0-9_.\-]+)\s*(.*)", spec)
    return match.group(1).lower().replace("_", "-"), match.group(2).replace(" ", "")


def pip_requirements():
    lines = (REPO / "requirements.txt").read_text(encoding="utf-8").splitlines()
    return dict(_requirement(l) for l in lines if l.split("#", 1)[0].strip())


def conda_requirements():
    lines = (REPO / "environment.yml").read_text(encoding="utf-8").splitlines()
    deps = [l.strip()[2:] for l in lines if l.strip().startswith("- ")]
    packages = dict(_requirement(d) for d in deps if not d.startswith("conda-forge"))
    packages.pop("python")
    return packages


def test_requirements_and_environment_list_the_same_packages_and_versions():
    assert pip_requirements() == conda_requirements()


def test_environment_covers_the_design_card():
    card = {"jupyterlab", "numpy", "imageio", "scikit-learn", "minisom", "matplotlib", "ipywidgets", "nbval"}
    assert card <= set(pip_requirements())


def test_environment_uses_conda_forge():
    text = (REPO / "environment.yml").read_text(encoding="utf-8")
    assert re.search(r"channels:\s*\n\s*- conda-forge", text)


def test_ci_runs_the_readme_test_command():
    """.ci/run extracts the README's test command; it must find exactly the documented one."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- test-command -->\s*```\w*\n(.*?)\n```\s*<!-- /test-command -->", readme, re.S)
    assert block, "README.md has no test command between <!-- test-command --> markers"
    command = block.group(1).strip()
    assert "pytest" in command and "\n" not in command
    extracted = subprocess.run(
        ["bash", "-c", "sed -n '/<!-- test-command -->/,/<!-- \\/test-command -->/p' README.md "
                       "| grep -v -e '^<!--' -e '^```'"],
        cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
    assert extracted == command
    assert "README.md" in (REPO / ".ci" / "run").read_text(encoding="utf-8")
