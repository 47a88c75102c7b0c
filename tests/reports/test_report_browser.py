"""The report of a real scripted run in headless Chromium from a file:// URL: steps and diffs in the DOM, no
console errors, a screenshot that is not blank."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from browser import chromium_or_skip, load, screenshot
from report_support import make_run

from optotrace.reports import write_report

pytestmark = pytest.mark.xdist_group("chromium")  # one worker installs (if needed) and drives Chromium


@pytest.fixture(scope="module")
def chromium() -> str:
    return chromium_or_skip()


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("browser") / "run"
    make_run(run_dir, steps=5)
    return write_report(run_dir)


def test_report_loads_with_steps_and_diffs_and_no_console_errors(chromium: str, report: Path) -> None:
    page = load(chromium, report.resolve().as_uri())
    assert "</html>" in page.dom, page.stderr[-2000:]
    assert len(re.findall(r'<details class="step" id="step-\d+"', page.dom)) == 5
    assert "<ins>" in page.dom and "<del>" in page.dom and 'class="add"' in page.dom
    assert 'class="chart"' in page.dom and 'id="summary-line"' in page.dom
    assert page.console == [], page.console


def test_a_step_link_opens_that_step(chromium: str, report: Path) -> None:
    page = load(chromium, report.resolve().as_uri() + "#step-3")
    assert re.search(r'<details class="step" id="step-3" open="">', page.dom), page.dom[:500]
    assert not re.search(r'<details class="step" id="step-2" open', page.dom)
    assert page.console == []


def test_console_errors_are_seen(chromium: str, tmp_path: Path) -> None:
    """The check above would catch a broken script: a page with one produces console lines."""
    broken = tmp_path / "broken.html"
    broken.write_text("<html><body><script>notDefinedAnywhere();</script></body></html>")
    page = load(chromium, broken.as_uri())
    assert any("notDefinedAnywhere" in line for line in page.console), page.stderr[-2000:]


def test_screenshot_is_not_blank(chromium: str, report: Path, tmp_path: Path) -> None:
    from PIL import Image, ImageStat

    shot = tmp_path / "report.png"
    screenshot(chromium, report.resolve().as_uri(), shot)
    assert shot.exists() and shot.stat().st_size > 10_000
    image = Image.open(shot).convert("L")
    stat = ImageStat.Stat(image)
    assert stat.stddev[0] > 10, stat.stddev  # a blank page has no variance
    assert len(image.getcolors(maxcolors=1 << 16) or range(1 << 16)) > 20
