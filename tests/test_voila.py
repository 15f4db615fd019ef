"""The projector page, served by Voilà as TEACHING.md says, in Chromium.

TEACHING.md's command, ``voila notebooks/projector/explorer.ipynb
--preheat_kernel=True``, serves a page that holds only the explorer
(tutorial_kit/projector.py). The test starts that command on 127.0.0.1
(random port, no browser, its own Jupyter folders), waits until Voilà has
run the page ahead (its processes use no CPU for a second), then opens it as
a student's 1366x768 laptop and a 1920x1080 projector would, and checks:

- timing: the first mosaic is drawn within 5 s of opening the page;
- size: the whole page fits the window (no scrolling); the mosaic fills at
  least 60% of the window's height at 1920x1080; every line of text is at
  least 2% of the window's height (22 px at 1080: readable from the back);
- content: no code, no prose of notebook 07, no exercise output, no
  solutions; every link and every request of the page answers (no 403);
- it works: an arrow key on the sigma slider draws a new mosaic;
- accessibility: axe-core finds no critical or serious problem on the page, as
  shown and with the picture dimmed, and the dimmed quality figures keep a
  contrast of 4.5:1 or more.

Screenshots go to tests/artifacts/. It skips with the reason when Voilà,
Chromium or playwright is missing (unless REQUIRE_BROWSER=1, as in CI).
"""
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_browser import (ARTIFACTS, CHROMIUM_ARGS, REPO, _contrast,  # noqa: E402
                          _free_port, _kill_group, _require_browser, _unavailable,
                          _wait_until_answering, axe_violations)

pytestmark = pytest.mark.slow
PROJECTOR = REPO / "notebooks" / "projector" / "explorer.ipynb"
COMMAND = "voila notebooks/projector/explorer.ipynb --preheat_kernel=True"  # as in TEACHING.md
FIRST_PICTURE_S = 5.0
MOSAIC_SHARE = 0.60  # of the window's height, at 1920x1080
TEXT_SHARE = 0.02  # smallest text, as a share of the window's height
SIZES = [(1366, 768), (1920, 1080)]
EXPLORER = ".som-explorer"
MOSAIC = f"{EXPLORER} .som-explorer-mosaic img"


def _voila():
    try:
        import voila  # noqa: F401
    except ImportError:
        return None
    return [sys.executable, "-m", "voila"]


def _cpu_seconds(root_pid):
    """CPU seconds used so far by ``root_pid`` and all its descendants (Linux /proc)."""
    parents, used = {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile
        pid = int(stat.parent.name)
        parents[pid] = int(fields[1])
        used[pid] = int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks
    family, grew = {root_pid}, True
    while grew:
        children = {pid for pid, parent in parents.items() if parent in family} - family
        family |= children
        grew = bool(children)
    return sum(used.get(pid, 0) for pid in family) / os.sysconf("SC_CLK_TCK")


def _wait_idle(server, seconds=180):
    """Wait until Voilà and its kernels use no CPU for a second: the page is run ahead."""
    deadline = time.monotonic() + seconds
    before = _cpu_seconds(server.pid)
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = _cpu_seconds(server.pid)
        if now - before < 0.05:
            return
        before = now
    raise RuntimeError(f"Voilà was still busy after {seconds} s")


@pytest.fixture(scope="module")
def projector(tmp_path_factory):
    """TEACHING.md's command, running; yields (base URL, server process, browser)."""
    command = _voila()
    if command is None:
        _unavailable("Voilà is not installed (pip install voila): the projector page not tested")
    if not (REPO / "TEACHING.md").read_text(encoding="utf-8").count(COMMAND):
        pytest.fail(f"TEACHING.md no longer gives the command this test runs: {COMMAND}")
    chromium, sync_playwright = _require_browser()
    home = tmp_path_factory.mktemp("voila_home")
    port = _free_port()
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(home / "config"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"), IPYTHONDIR=str(home / "ipython"),
               PYTHONDONTWRITEBYTECODE="1")
    env.pop("COVERS_DIR", None)
    log = open(home / "voila.log", "wb")
    arguments = COMMAND.split()[1:]
    server = subprocess.Popen(
        [*command, *arguments, "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
         "--ServerApp.port_retries=0"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
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
                yield base, server, browser
            finally:
                browser.close()
    finally:
        _kill_group(server, timeout=15)
        log.close()
        shutil.copy2(home / "voila.log", tmp_path_factory.getbasetemp() / "voila.log")


def _open(projector, width, height):
    """Open the page once Voilà has run it ahead; returns (page, seconds to the first
    mosaic, the responses that failed)."""
    base, server, browser = projector
    _wait_idle(server)
    page = browser.new_page(viewport={"width": width, "height": height})
    page.set_default_timeout(60_000)
    failed = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    started = time.monotonic()
    page.goto(base)
    page.wait_for_function(f"() => {{ const img = document.querySelector('{MOSAIC}');"
                           "  return img && img.complete && img.naturalWidth > 0; }")
    return page, time.monotonic() - started, failed


@pytest.mark.parametrize("width, height", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_the_projector_page_is_quick_fills_the_screen_and_holds_only_the_explorer(
        projector, width, height):
    page, seconds, failed = _open(projector, width, height)
    try:
        page.wait_for_timeout(500)  # the layout settles around the picture
        page.screenshot(path=ARTIFACTS / f"projector_{width}x{height}.png")
        assert seconds <= FIRST_PICTURE_S, f"first mosaic after {seconds:.1f} s"
        print(f"{width}x{height}: first mosaic after {seconds:.2f} s")

        # Size: all of it in the window, the mosaic big, the text readable.
        size = page.evaluate("() => [document.documentElement.scrollWidth,"
                             " document.documentElement.scrollHeight]")
        assert size[0] <= width and size[1] <= height, f"the page is {size}, the window {width}x{height}"
        box = page.locator(MOSAIC).bounding_box()
        assert box["y"] + box["height"] <= height and box["x"] + box["width"] <= width
        share = box["height"] / height
        print(f"{width}x{height}: mosaic {box['width']:.0f}x{box['height']:.0f} px, "
              f"{share:.0%} of the height")
        if height >= 1080:
            assert share >= MOSAIC_SHARE, f"the mosaic fills {share:.0%} of the height"
        smallest = page.evaluate(
            f"() => Math.min(...[...document.querySelectorAll('{EXPLORER} *')]"
            "  .filter(e => e.offsetParent !== null && [...e.childNodes].some("
            "    n => n.nodeType === 3 && n.textContent.trim()))"
            "  .map(e => parseFloat(getComputedStyle(e).fontSize)))")
        assert smallest >= TEXT_SHARE * height, f"text of {smallest} px on a {height} px window"

        # Content: only the explorer.
        text = page.locator("body").inner_text()
        for absent in ("import ", "build_explorer", "Aims", "Run All", "Correct", "Solution",
                       "Exercise", "Quiz", "Stop 1", "Libraries are recent enough"):
            assert absent not in text, f"the page shows {absent!r}"
        assert page.locator(EXPLORER).count() == 1
        assert page.locator(".jp-InputArea, .jp-MarkdownCell").filter(visible=True).count() == 0
        assert page.locator(".som-explorer-static").first.is_hidden()
        for link in page.locator("a[href]").all():
            href = link.evaluate("a => a.href")
            status = page.request.get(href).status
            assert status < 400, f"link {href} answers {status}"
        assert not failed, f"requests that failed: {failed}"
    finally:
        page.close()


def test_an_arrow_key_on_the_projector_redraws_the_mosaic(projector):
    page, _, _ = _open(projector, 1920, 1080)
    try:
        mosaic = page.locator(MOSAIC)
        before = mosaic.evaluate("img => img.src")
        readout = page.locator(f"{EXPLORER} .som-explorer-sigma .widget-readout")
        start = float(readout.text_content())
        page.locator(f"{EXPLORER} .som-explorer-sigma .noUi-handle").focus()
        page.keyboard.press("ArrowLeft")
        page.wait_for_function(
            f"old => {{ const img = document.querySelector('{MOSAIC}');"
            "  return img && img.src !== old && img.complete && img.naturalWidth > 0; }",
            arg=before, timeout=120_000)
        assert float(readout.text_content()) == start - 0.5
        status = page.locator(f"{EXPLORER} .som-explorer-status").text_content()
        assert f"sigma {start - 0.5:g}" in status
        page.screenshot(path=ARTIFACTS / "projector_after_sigma.png")
    finally:
        page.close()


def test_axe_finds_no_serious_problem_on_the_projector_page(projector):
    """The whole page, as shown and with the picture dimmed by a refused grid."""
    page, _, _ = _open(projector, 1366, 768)
    try:
        found = axe_violations(page, "body")
        assert not found, "\n".join(found)
        page.locator(f"{EXPLORER} .som-explorer-rows .noUi-handle").focus()
        page.keyboard.press("Home")  # 1 row: refused, the picture dimmed
        page.wait_for_function(f"() => /do not fit/.test(document.querySelector("
                               f"'{EXPLORER} .som-explorer-status').textContent)")
        page.wait_for_timeout(400)  # the dimming's transition
        page.screenshot(path=ARTIFACTS / "projector_dimmed.png")
        found = axe_violations(page, "body")
        assert not found, "\n".join(found)
        # The dimmed quality figures stay readable: their colour, faded by every
        # opacity above it, against the white page (measured here too, so that the
        # check does not hang on how axe-core treats faded text).
        for colour, opacity in page.locator(f"{EXPLORER} .som-explorer-metrics td").evaluate_all(
                "cells => cells.map(e => { let o = 1;"
                "  for (let a = e; a; a = a.parentElement) o *= Number(getComputedStyle(a).opacity);"
                "  return [getComputedStyle(e).color, o]; })"):
            rgb = [float(v) for v in re.findall(r"[\d.]+", colour)[:3]]
            seen = [opacity * c + (1 - opacity) * 255 for c in rgb]
            assert _contrast(seen, (255, 255, 255)) >= 4.5, (colour, opacity)
    finally:
        page.close()
