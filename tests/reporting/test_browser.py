"""The report in a real headless Chromium: it loads offline, draws every chart, shows the figures.

Needs the ``chromium`` browser (Debian package ``chromium``; ``.ci/run`` installs it) and the
``playwright`` package (the ``test`` extra), driven with the system browser: no
``playwright install``. Without either, these tests are skipped and say why.
"""

from __future__ import annotations

import base64
import shutil
from typing import TYPE_CHECKING, Any

import polars as pl
import pytest

import ctr_batch

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
MARKS = "svg .mark-rect path, svg .mark-line path, svg .mark-area path, svg .mark-symbol path"
VIEWPORT = {"width": 1366, "height": 900}  # a laptop screen

# Decodes a PNG in the page and counts its distinct colours and non-background pixels.
COUNT_COLOURS = """async (source) => {
  const image = new Image();
  image.src = source;
  await image.decode();
  const canvas = document.createElement("canvas");
  canvas.width = image.width;
  canvas.height = image.height;
  const context = canvas.getContext("2d");
  context.drawImage(image, 0, 0);
  const pixels = context.getImageData(0, 0, image.width, image.height).data;
  const colours = new Set();
  let inked = 0;
  for (let i = 0; i < pixels.length; i += 4) {
    const rgb = (pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2];
    colours.add(rgb);
    if (rgb !== ((pixels[0] << 16) | (pixels[1] << 8) | pixels[2])) inked += 1;
  }
  return [colours.size, inked / (pixels.length / 4)];
}"""


def _browser_path() -> str | None:
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for every test of the session."""
    executable = _browser_path()
    if executable is None:
        pytest.skip(f"no browser found on PATH ({', '.join(BROWSERS)}): apt-get install chromium")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed: pip install -e '.[test]'"
    )
    with sync_api.sync_playwright() as driver:
        launched = driver.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield launched
        launched.close()


class Visit:
    """A report opened in a fresh page, with what the page logged and requested."""

    def __init__(self, browser: Any, html: Path) -> None:
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page = browser.new_page(viewport=VIEWPORT)
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.url = html.resolve().as_uri()
        self.page.goto(self.url)

    def _console(self, message: Any) -> None:
        if message.type in ("error", "warning"):
            self.errors.append(f"{message.type}: {message.text}")

    def wait_for_charts(self, count: int) -> None:
        self.page.wait_for_function(
            f"document.querySelectorAll('.plot svg.marks').length >= {count}", timeout=20_000
        )


@pytest.fixture(scope="module")
def backfill_visit(browser: Any, generated_backfill: Path, tmp_path_factory: Any) -> Iterator[Any]:
    html = tmp_path_factory.mktemp("browser") / "report.html"
    result = ctr_batch.report(generated_backfill, html, start="2026-11-05")
    visit = Visit(browser, html)
    visit.wait_for_charts(len(result.charts))
    yield visit, result
    visit.page.close()


def test_loads_offline_without_errors(backfill_visit: Any) -> None:
    visit, _ = backfill_visit
    assert visit.errors == []
    assert visit.requests == [visit.url]  # the file itself and nothing else


def test_every_chart_draws_marks(backfill_visit: Any) -> None:
    visit, result = backfill_visit
    counts = visit.page.evaluate(
        f"""[...document.querySelectorAll('.plot[id]')].map(
            chart => [chart.id, chart.querySelectorAll('{MARKS}').length])"""
    )
    assert [name for name, _ in counts] == list(result.charts)
    assert len(counts) == 11  # a backfill's output: its per-day chart too
    assert "backfill-days" in dict(counts)
    assert all(marks > 0 for _, marks in counts), counts


def test_screenshot_is_not_blank(backfill_visit: Any) -> None:
    visit, _ = backfill_visit
    png = visit.page.screenshot(full_page=True)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    source = "data:image/png;base64," + base64.b64encode(png).decode()
    colours, inked = visit.page.evaluate(COUNT_COLOURS, source)
    assert colours > 50  # text, several chart colours, anti-aliasing
    assert inked > 0.05


def test_headline_in_the_dom_equals_ctr_daily(
    backfill_visit: Any, generated_backfill: Path
) -> None:
    visit, result = backfill_visit
    cards = visit.page.evaluate(
        """Object.fromEntries([...document.querySelectorAll('#headline [data-metric]')]
            .map(card => [card.dataset.metric, card.dataset.value]))"""
    )
    daily = pl.read_parquet(generated_backfill / "ctr_daily" / "**" / "*.parquet")
    period = daily.filter(pl.col("date").is_between(result.period.start, result.period.end))
    assert int(cards["searches"]) == period["searches"].sum()
    assert int(cards["sessions"]) == period["sessions"].sum()
    ctr = period["clicked_searches"].sum() / period["searches"].sum()
    assert float(cards["ctr"]) == pytest.approx(ctr)
    shown = visit.page.inner_text('#headline [data-metric="ctr"] .value')
    assert shown == f"{ctr * 100:.1f} %"


def test_tooltip_on_hover(backfill_visit: Any) -> None:
    visit, _ = backfill_visit
    bar = visit.page.locator("#daily-searches svg .mark-rect path").first
    bar.hover()
    tooltip = visit.page.locator("#vg-tooltip-element")
    tooltip.wait_for(state="visible", timeout=5_000)
    assert "searches" in tooltip.inner_text()


def test_wheel_zooms_the_days(backfill_visit: Any) -> None:
    visit, _ = backfill_visit
    labels = """(selector) => JSON.stringify(
        [...document.querySelectorAll(selector)].map(label => label.textContent))"""
    ticks = "#daily-ctr svg .role-axis-label text"
    before = visit.page.evaluate(labels, ticks)
    visit.page.locator("#daily-ctr svg").hover()
    visit.page.mouse.wheel(0, -600)
    changed = f"([selector, before]) => ({labels})(selector) !== before"
    visit.page.wait_for_function(changed, arg=[ticks, before], timeout=5_000)


def test_query_text_shows_as_text(browser: Any, tmp_path: Path) -> None:
    from tests.reporting.test_build import HOSTILE, hostile_output

    html = tmp_path / "r.html"
    ctr_batch.report(hostile_output(tmp_path), html)
    visit = Visit(browser, html)
    visit.wait_for_charts(1)
    assert visit.page.inner_text("#top-queries td") == HOSTILE
    assert visit.page.locator("img").count() == 0
    assert visit.errors == []
    visit.page.close()


def test_validation_page_draws(browser: Any, validation_html: Path) -> None:
    visit = Visit(browser, validation_html)
    visit.wait_for_charts(2)
    counts = visit.page.evaluate(
        f"""[...document.querySelectorAll('.plot[id]')].map(
            chart => [chart.id, chart.querySelectorAll('{MARKS}').length])"""
    )
    assert dict(counts).keys() == {"batch-vs-stream", "differences"}
    assert all(marks > 0 for _, marks in counts), counts
    assert visit.page.locator("#first tbody tr").count() > 0
    assert visit.errors == []
    assert visit.requests == [visit.url]
    visit.page.close()
