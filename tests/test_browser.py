"""The strategy explorer in a real browser: JupyterLab serves a copy of
``notebooks/explore.ipynb`` pointed at a tiny Leduc run (two checkpoints), headless Chromium
runs all its cells, moves the checkpoint slider with the keyboard, and the label, status,
table and heatmap must follow. Screenshots go to ``test-artifacts/``."""

from __future__ import annotations

import io
import json
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
from browser_support import CHROMIUM, CHROMIUM_ARGS, ensure_chromium, jupyter_lab

from holdem_lab import MCCFRConfig
from holdem_lab.chunks import ChunkStatus, run_chunk
from holdem_lab.config import GameSpec
from holdem_lab.lab.explore import Explorer

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "explore.ipynb"
ARTIFACTS = REPO / "test-artifacts"
CONFIG = MCCFRConfig(num_iterations=2000, enable_chunked_training=True,
                     chunk_size_iterations=1000)

# Bounds on the waits in the browser (milliseconds).
PAGE_TIMEOUT = 60_000  # loading JupyterLab and starting the kernel
RUN_TIMEOUT = 90_000  # running every cell (imports numba, renders the first checkpoint)
UPDATE_TIMEOUT = 30_000  # a slider move: the kernel re-renders one checkpoint
START_WAIT = 10.0  # seconds for the first cell to start after Run All Cells
RUN_ATTEMPTS = 3

# The install step for Chromium can take minutes on a fresh machine; the test proper is bounded
# by the waits above.
pytestmark = [pytest.mark.browser, pytest.mark.timeout(1200)]


@pytest.fixture(scope="module")
def chromium() -> str:
    pytest.importorskip("playwright.sync_api",
                        reason="the playwright package is not installed (pip install -e '.[dev]')")
    problem = ensure_chromium()
    if problem is not None:
        pytest.skip(f"no Chromium for the browser test: {problem}")
    return str(CHROMIUM)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Leduc run with two checkpoints (iterations 1,000 and 2,000)."""
    run = tmp_path_factory.mktemp("runs") / "leduc"
    for _ in range(2):
        result = run_chunk(run, GameSpec(game="leduc"), CONFIG, progress=False,
                           tensorboard=False, out=io.StringIO())
    assert result.status is ChunkStatus.COMPLETE
    return run


def _notebook_for(run: Path, directory: Path) -> Path:
    """A copy of the explore notebook whose parameters cell opens ``run``."""
    notebook = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    (cell,) = [c for c in notebook["cells"]
               if "parameters" in c.get("metadata", {}).get("tags", [])]
    cell["source"] = f"run_dir = {str(run)!r}\nruns_root = {str(run.parent)!r}\n"
    path = directory / NOTEBOOK.name
    path.write_text(json.dumps(notebook, indent=1), encoding="utf-8")
    return path


def _expected_numbers(run: Path, position: int) -> list[str]:
    """The numbers the explorer's table shows for checkpoint ``position`` (first view and
    choice, as the notebook opens), computed in this process."""
    explorer = Explorer(run, runs_root=run.parent, images=False)
    explorer.checkpoint.value = position
    return [f"{v:.3f}" for panel in explorer.panels for v in panel.values.flat
            if not np.isnan(v)]


def _numbers(text: str | None) -> list[str]:
    return re.findall(r"-?\d+\.\d{3}", text or "")


def _kernel_idle(page: Page) -> Locator:
    """The status bar's kernel status once it reads Idle: the notebook's session has a
    connected kernel with nothing to run (the toolbar's indicator reads idle before the kernel
    has connected too)."""
    return page.locator(".jp-StatusBar-TextItem[title^='Change kernel']",
                        has_text=re.compile(r"\|\s*Idle\s*$"))


def _run_all_cells(page: Page) -> None:
    """Run > Run All Cells from the menu bar, and wait until every code cell has run. Tried
    again if no cell started: cells run while the session has no kernel yet are skipped."""
    prompts = page.locator(".jp-CodeCell .jp-InputPrompt")
    deadline = time.monotonic() + RUN_TIMEOUT / 1000
    for attempt in range(RUN_ATTEMPTS):
        _kernel_idle(page).wait_for(timeout=PAGE_TIMEOUT)
        page.locator(".jp-Notebook .jp-Cell").first.click()  # the notebook is the current widget
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        started = time.monotonic()
        while True:
            texts = prompts.all_inner_texts()
            if texts and all(re.fullmatch(r"\s*\[\d+\]:\s*", t) for t in texts):
                _kernel_idle(page).wait_for(timeout=RUN_TIMEOUT)
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"cells did not finish running: prompts {texts}")
            if (attempt + 1 < RUN_ATTEMPTS and time.monotonic() - started > START_WAIT
                    and all(re.fullmatch(r"\s*\[\s*\]:\s*", t) for t in texts)):
                break  # nothing started: run them again
            page.wait_for_timeout(250)
    raise AssertionError("no cell started running")


def _slider(page: Page, description: str) -> Locator:
    """The ipywidgets IntSlider labelled ``description`` (a page-level locator, usable as a
    ``has=`` condition)."""
    label = page.locator("label.widget-label",
                         has_text=re.compile(rf"^\s*{re.escape(description)}\s*$"))
    return page.locator(".widget-slider", has=label)


@pytest.fixture
def page(chromium: str) -> Iterator[Page]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS,
                                             timeout=PAGE_TIMEOUT)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1200})
            yield context.new_page()
        finally:
            browser.close()


def test_checkpoint_slider_changes_the_view(tiny_run: Path, page: Page,
                                            tmp_path: Path) -> None:
    from playwright.sync_api import expect

    newest, oldest = _expected_numbers(tiny_run, 1), _expected_numbers(tiny_run, 0)
    assert newest and newest != oldest
    root = tmp_path / "lab"
    root.mkdir()
    notebook = _notebook_for(tiny_run, root)
    state = tmp_path / "jupyter"
    state.mkdir()
    ARTIFACTS.mkdir(exist_ok=True)
    for stale in ARTIFACTS.glob("explore*.png"):
        stale.unlink()

    with jupyter_lab(root, state) as server:
        try:
            page.goto(server.notebook_url(notebook.name), timeout=PAGE_TIMEOUT)
            page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=PAGE_TIMEOUT)
            _run_all_cells(page)

            output = page.locator(".jp-OutputArea-output", has=page.locator(".widget-slider"))
            # The checkpoint slider and the label next to it, in one HBox.
            row = output.locator(".widget-hbox", has=_slider(page, "checkpoint"))
            handle = row.locator(".widget-slider [role='slider']")
            label = row.locator(":scope > div.widget-label")
            status = output.locator(".widget-html-content",
                                    has_text=re.compile(r"^\s*leduc: "))
            table = output.locator(".widget-html-content", has=page.locator("table"))
            heatmap = output.locator("img.widget-image")
            # The cell printing what the kernel's explorer shows (explorer.current()).
            state_cell = page.locator(".jp-CodeCell", has_text="explorer.current()")
            printed = state_cell.locator(".jp-OutputArea-output")

            # The newest checkpoint is shown first.
            expect(printed).to_have_text(re.compile(r"infosets of a node, iteration 2000"))
            expect(handle).to_have_attribute("aria-valuenow", re.compile(r"^1(\.0)?$"),
                                             timeout=UPDATE_TIMEOUT)
            expect(label).to_have_text("iteration 2,000 (chunk 1), 2 of 2")
            expect(status).to_have_text(re.compile(r"^leduc: iteration 2,000 \(chunk 1\)"))
            assert _numbers(table.text_content()) == newest
            expect(heatmap).to_have_attribute("src", re.compile(r"^(blob|data):"))
            image_before = heatmap.get_attribute("src")
            output.scroll_into_view_if_needed()
            page.screenshot(path=ARTIFACTS / "explore_before.png")

            # Move the slider one step left with the keyboard: the kernel renders the oldest
            # checkpoint and the browser shows it.
            handle.focus()
            handle.press("ArrowLeft")
            expect(handle).to_have_attribute("aria-valuenow", re.compile(r"^0(\.0)?$"))
            expect(label).to_have_text("iteration 1,000 (chunk 0), 1 of 2",
                                       timeout=UPDATE_TIMEOUT)
            expect(status).to_have_text(re.compile(r"^leduc: iteration 1,000 \(chunk 0\)"),
                                        timeout=UPDATE_TIMEOUT)
            expect(heatmap).not_to_have_attribute("src", image_before or "",
                                                  timeout=UPDATE_TIMEOUT)
            expect(table).to_have_text(re.compile(".*".join(map(re.escape, oldest))),
                                       timeout=UPDATE_TIMEOUT)
            assert _numbers(table.text_content()) == oldest

            # The kernel's explorer saw the move: run the cell that prints its state again.
            state_cell.locator(".jp-InputPrompt").click()
            page.keyboard.press("Control+Enter")
            expect(printed).to_have_text(re.compile(r"infosets of a node, iteration 1000"),
                                         timeout=UPDATE_TIMEOUT)
            output.scroll_into_view_if_needed()
            page.screenshot(path=ARTIFACTS / "explore_after.png")
            shutil.copyfile(ARTIFACTS / "explore_after.png", ARTIFACTS / "explore.png")
        except Exception as exc:
            with suppress(Exception):
                page.screenshot(path=ARTIFACTS / "explore_failure.png")
            raise AssertionError(f"{exc}\n--- JupyterLab log ---\n{server.log_tail()}") from exc
