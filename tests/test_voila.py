"""Projector mode: notebook 07 as a standalone page with Voilà, in Chromium.

``voila notebooks/07_interactive_explorer.ipynb`` runs the notebook and shows
its prose and outputs without the code: the explorer, the tour and its
panels. The test starts Voilà on 127.0.0.1 (random port, no browser, its
own Jupyter folders), waits for the explorer's mosaic, presses an arrow key
on the sigma slider and waits for a new mosaic.

It skips with the reason when Voilà, Chromium or playwright is missing
(unless REQUIRE_BROWSER=1, as in CI, which turns the skip into a failure).
"""
import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_browser import (ARTIFACTS, CHROMIUM_ARGS, NOTEBOOK, REPO, _free_port,  # noqa: E402
                          _kill_group, _require_browser, _unavailable, _wait_until_answering)

pytestmark = pytest.mark.slow
PAGE_TIMEOUT_MS = 600_000  # Voilà runs every cell of the notebook before it is done


def _voila():
    try:
        import voila  # noqa: F401
    except ImportError:
        return None
    return [sys.executable, "-m", "voila"]


@pytest.fixture(scope="module")
def voila_page(tmp_path_factory):
    command = _voila()
    if command is None:
        _unavailable("Voilà is not installed (pip install voila): projector mode not tested")
    chromium, sync_playwright = _require_browser()

    home = tmp_path_factory.mktemp("voila_home")
    port = _free_port()
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(home / "config"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"), IPYTHONDIR=str(home / "ipython"),
               PYTHONDONTWRITEBYTECODE="1")
    env.pop("COVERS_DIR", None)
    log = open(home / "voila.log", "wb")
    server = subprocess.Popen(
        [*command, str(NOTEBOOK), "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
         "--Voila.root_dir=" + str(REPO), "--ServerApp.port_retries=0"],
        cwd=NOTEBOOK.parent, env=env, stdout=log, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}/"
    def answers():
        try:
            urllib.request.urlopen(base + "voila/static/", timeout=2)
        except urllib.error.HTTPError:
            pass  # the server answers (404 for the folder itself is fine)

    try:
        _wait_until_answering(server, "voila", home / "voila.log", answers, seconds=60, interval=0.5)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1366, "height": 768})
                page.set_default_timeout(PAGE_TIMEOUT_MS)
                page.goto(base, timeout=PAGE_TIMEOUT_MS)
                yield page
            finally:
                browser.close()
    finally:
        _kill_group(server, timeout=15)
        log.close()
        shutil.copy2(home / "voila.log", tmp_path_factory.getbasetemp() / "voila.log")


def test_projector_mode_shows_the_explorer_and_a_slider_redraws_it(voila_page):
    page = voila_page
    main = ".som-explorer:not(.som-explorer-panel)"
    mosaic = page.locator(f"{main} .som-explorer-mosaic img").first
    mosaic.wait_for(state="visible")
    page.wait_for_function(
        f"() => {{ const img = document.querySelector('{main} .som-explorer-mosaic img');"
        "         return img && img.complete && img.naturalWidth > 0; }")
    # No code is shown, and the static fallback stays hidden under the live widget.
    body = page.locator("body").inner_text()  # what is rendered, not hidden text
    assert "build_explorer(COVERS_DIR)" not in body and "The explorer, as a picture" not in body
    assert page.locator(".som-explorer-static").first.is_hidden()
    explorer = page.locator(main).first
    explorer.evaluate("e => e.scrollIntoView({block: 'start'})")
    before = mosaic.evaluate("img => img.src")
    readout = explorer.locator(".som-explorer-sigma .widget-readout")
    start = float(readout.text_content())
    explorer.locator(".som-explorer-sigma .noUi-handle").focus()
    page.keyboard.press("ArrowLeft")
    page.wait_for_function(
        "old => { const img = document.querySelector("
        "  '.som-explorer:not(.som-explorer-panel) .som-explorer-mosaic img');"
        "  return img && img.src !== old && img.complete && img.naturalWidth > 0; }",
        arg=before, timeout=120_000)
    assert float(readout.text_content()) == start - 0.5
    status = explorer.locator(".som-explorer-status").text_content()
    assert f"sigma {start - 0.5:g}" in status
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / "voila_projector.png")
