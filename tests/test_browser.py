"""The explorer in a real JupyterLab, driven with Playwright and Debian's Chromium.

The test starts ``jupyter lab`` on 127.0.0.1 with a random port and token, in a
temporary root that holds a copy of notebook 05 (outputs cleared), a copy of
helpers.py and a link to data/, so the committed notebook is never touched.
Jupyter's config, data and runtime folders and IPython's folder are temporary
too. Chromium opens the notebook, runs all cells from the Run menu, waits for
the mosaic, then presses arrow keys on the sigma slider and waits until the
mosaic's <img> shows a new picture. Screenshots go to tests/artifacts/.

It skips when Chromium or the playwright package is missing, unless the
environment variable REQUIRE_BROWSER=1 is set (as in CI): then it fails.
Playwright's own browser downloads are never used.
"""
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "05_interactive_explorer.ipynb"
ARTIFACTS = REPO / "tests" / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 45_000  # for any single wait in the browser


def _unavailable(reason):
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason}, and REQUIRE_BROWSER=1 asks for the browser test to run")
    pytest.skip(reason)


def _chromium():
    for candidate in (shutil.which("chromium"), "/usr/bin/chromium", shutil.which("chromium-browser")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _api(base, token, path, method="GET"):
    request = urllib.request.Request(f"{base}{path}", method=method,
                                     headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        body = response.read()
    return json.loads(body) if body else None


def _lab_root(root):
    """A throwaway copy of what notebook 05 needs: itself, helpers.py, data/."""
    notebook = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    notebook["metadata"].pop("widgets", None)  # no saved picture: we wait for a live one
    (root / NOTEBOOK.name).write_text(json.dumps(notebook), encoding="utf-8")
    shutil.copy2(REPO / "helpers.py", root / "helpers.py")
    (root / "data").symlink_to(REPO / "data", target_is_directory=True)  # only read


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server in its own process group; yields (base URL, token)."""
    root = tmp_path_factory.mktemp("lab_root")
    home = tmp_path_factory.mktemp("lab_home")
    _lab_root(root)
    config = home / "config"
    (config / "labconfig").mkdir(parents=True)
    # No news pop-up (and no fetching it); the update check is off below.
    (config / "labconfig" / "page_config.json").write_text(json.dumps(
        {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}))
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(config), JUPYTER_DATA_DIR=str(home / "data"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"), IPYTHONDIR=str(home / "ipython"),
               PYTHONDONTWRITEBYTECODE="1")
    env.pop("COVERS_DIR", None)  # the notebook's default: the bundled posters
    env.pop("JUPYTER_PATH", None)
    port, token = _free_port(), secrets.token_hex(16)
    command = [sys.executable, "-m", "jupyterlab", "--no-browser",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
               "--LabApp.news_url=None", "--LabApp.extension_manager=readonly",
               "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # containers often run as root
    log = open(home / "server.log", "wb")
    server = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 40
        while True:
            if server.poll() is not None:
                raise RuntimeError("jupyter lab exited early:\n"
                                   + (home / "server.log").read_text(errors="replace")[-3000:])
            try:
                _api(base, token, "/api/status")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("jupyter lab did not answer within 40 s")
                time.sleep(0.3)
        yield base, token
    finally:
        _stop(server, base, token)
        log.close()


def _stop(server, base, token):
    """Shut the kernels and the server down; kill the process group if needed."""
    if server.poll() is None:
        try:
            for kernel in _api(base, token, "/api/kernels"):
                _api(base, token, f"/api/kernels/{kernel['id']}", method="DELETE")
            _api(base, token, "/api/shutdown", method="POST")
            server.wait(timeout=15)
        except (OSError, subprocess.TimeoutExpired):
            pass
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if server.poll() is not None:
            break
        try:
            os.killpg(server.pid, sig)
            server.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass


@pytest.fixture(scope="module")
def browser_page():
    """A Chromium page (Debian's Chromium, never a downloaded one)."""
    chromium = _chromium()
    if chromium is None:
        _unavailable("Chromium not found (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install playwright)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(viewport={"width": 1600, "height": 1200})
        finally:
            browser.close()


def _mosaic_src(page):
    return page.evaluate("() => document.querySelector('img.som-explorer-mosaic').src")


def _wait_for_new_mosaic(page, old):
    page.wait_for_function(
        "old => { const img = document.querySelector('img.som-explorer-mosaic');"
        "         return img && img.src !== old && img.complete && img.naturalWidth > 0; }",
        arg=old, timeout=TIMEOUT_MS)


def test_a_slider_moved_with_the_keyboard_redraws_the_mosaic(browser_page, lab):
    page = browser_page
    base, token = lab
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{base}/lab/tree/{NOTEBOOK.name}?token={token}")

    # The kernel is up and idle.
    page.locator(".jp-NotebookPanel .jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for()
    page.get_by_text(re.compile(r"\|\s*Idle$")).first.wait_for()

    # Run > Run All Cells.
    page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-item[data-command='runmenu:run-all'], "
                 ".lm-Menu-item[data-command='notebook:run-all-cells']").first.click()

    # The explorer appears; then every code cell finishes.
    mosaic = page.locator("img.som-explorer-mosaic")
    mosaic.wait_for(state="visible")
    page.wait_for_function(
        "() => { const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')];"
        "        return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent)); }",
        timeout=TIMEOUT_MS)
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for()
    assert page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count() == 0
    _wait_for_new_mosaic(page, "")  # a decoded picture is shown
    width = page.evaluate("() => document.querySelector('img.som-explorer-mosaic').naturalWidth")
    assert width >= 500, f"the mosaic is only {width} px wide"
    assert "DPQ16" in page.locator(".som-explorer-metrics").inner_text()
    assert page.locator("img.som-explorer-umatrix").is_visible()

    explorer = page.locator(".som-explorer")
    explorer.scroll_into_view_if_needed()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    explorer.screenshot(path=ARTIFACTS / "explorer_before.png")
    sigma = page.locator(".som-explorer-sigma")
    before = _mosaic_src(page)
    start_value = sigma.locator(".widget-readout").inner_text()

    # Focus the sigma handle and press the right arrow: one step up.
    sigma.locator(".noUi-handle").focus()
    pressed = time.monotonic()
    page.keyboard.press("ArrowRight")
    _wait_for_new_mosaic(page, before)
    print(f"key press to new mosaic in the browser: {time.monotonic() - pressed:.2f} s")
    after_right = _mosaic_src(page)
    assert after_right != before
    assert float(sigma.locator(".widget-readout").inner_text()) == float(start_value) + 0.5
    explorer.screenshot(path=ARTIFACTS / "explorer_after.png")

    # And back with the left arrow: another new picture, the status line says so.
    page.keyboard.press("ArrowLeft")
    _wait_for_new_mosaic(page, after_right)
    assert float(sigma.locator(".widget-readout").inner_text()) == float(start_value)
    assert re.search(r"\d+ covers on a \d+x\d+ grid", page.locator(".som-explorer-status").inner_text())

    # A long training (End: the most iterations) shows the progress bar, then hides it.
    progress = page.locator(".som-explorer-progress")
    assert progress.evaluate("e => getComputedStyle(e).visibility") == "hidden"
    before = _mosaic_src(page)
    page.locator(".som-explorer-iterations .noUi-handle").focus()
    page.keyboard.press("End")
    page.wait_for_function(
        "() => getComputedStyle(document.querySelector('.som-explorer-progress')).visibility"
        " === 'visible'", timeout=TIMEOUT_MS)
    explorer.screenshot(path=ARTIFACTS / "explorer_training.png")
    _wait_for_new_mosaic(page, before)
    page.wait_for_function(
        "() => getComputedStyle(document.querySelector('.som-explorer-progress')).visibility"
        " === 'hidden'", timeout=TIMEOUT_MS)
