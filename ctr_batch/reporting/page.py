r"""The report as one HTML page: headline cards, chart slots, query tables, scripts inline.

Values reach the page escaped (``html.escape``) or as JSON inside a ``<script>`` element
with ``</`` written ``<\/``, so a query text cannot end the script or add markup; the
browser builds the query tables from that JSON with ``textContent``.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal

from ctr_batch.reporting.figures import MIN_SUPPORT, MIN_ZERO_CLICK

if TYPE_CHECKING:
    from collections.abc import Iterable

    import polars as pl

    from ctr_batch.reporting.charts import Spec
    from ctr_batch.reporting.figures import Figures

Kind = Literal["count", "rate", "ratio", "seconds"]


@dataclass(frozen=True, slots=True)
class Metric:
    """One headline figure: its column in ``headline.sql``, label and number kind."""

    key: str
    label: str
    kind: Kind
    note: str


HEADLINE = (
    Metric("searches", "Searches", "count", "searches made in the period"),
    Metric("sessions", "Sessions", "count", "sessions started in the period"),
    Metric("ctr", "CTR", "rate", "searches with a click / searches"),
    Metric("clicks_per_search", "Clicks per search", "ratio", "per session, summed"),
    Metric("session_abandonment", "Abandonment", "rate", "sessions with searches, no click"),
    Metric("zero_result_rate", "Zero-result rate", "rate", "searches with an empty list"),
    Metric(
        "median_time_to_first_click_s",
        "Median time to 1st click",
        "seconds",
        "of clicked searches",
    ),
    Metric("mrr", "MRR", "ratio", "mean reciprocal rank of the first click"),
)

#: Query tables: element id → (figure label, title, columns as (field, heading, format)).
TABLES: dict[str, tuple[str, str, tuple[tuple[str, str, str], ...]]] = {
    "top-queries": (
        "top_queries",
        "Top queries by volume",
        (("query", "query", "text"), ("searches", "searches", "count"), ("ctr", "CTR", "rate"),
         ("clicks", "clicks", "count"), ("users", "users", "count")),
    ),
    "lowest-ctr": (
        "lowest_ctr",
        f"Lowest-CTR queries (at least {MIN_SUPPORT} searches)",
        (("query", "query", "text"), ("ctr", "CTR", "rate"), ("searches", "searches", "count"),
         ("mean_first_click_position", "mean 1st-click position", "ratio")),
    ),
    "zero-result": (
        "zero_result",
        "Zero-result queries",
        (("query", "query", "text"), ("zero_result_searches", "zero-result searches", "count"),
         ("zero_result_share", "share of its searches", "rate"),
         ("searches", "searches", "count")),
    ),
    "zero-click": (
        "zero_click",
        f"Zero-click queries (at least {MIN_ZERO_CLICK} searches)",
        (("query", "query", "text"), ("searches", "searches", "count"),
         ("users", "users", "count"), ("zero_result_searches", "zero-result", "count")),
    ),
}  # fmt: skip

CHART_SECTIONS = (
    ("Daily", ("daily-ctr", "daily-searches")),
    ("Clicks", ("ctr-by-position", "first-click-position", "time-to-first-click")),
    ("Sessions", ("session-duration", "session-events", "searches-per-session")),
)


def fmt(value: Any, kind: Kind) -> str:
    """`value` as shown on a headline card.

    Examples
    --------
    >>> fmt(1234567, "count"), fmt(0.4567, "rate"), fmt(1.5, "ratio"), fmt(None, "rate")
    ('1,234,567', '45.7 %', '1.500', '-')
    """
    if value is None:
        return "-"
    if kind == "count":
        return f"{value:,}"
    if kind == "rate":
        return f"{value * 100:.1f} %"
    if kind == "seconds":
        return f"{value:.1f} s"
    return f"{value:.3f}"


def change(current: Any, previous: Any, kind: Kind) -> str:
    """The change from the previous period: points for rates, per cent for the others.

    Examples
    --------
    >>> change(0.45, 0.40, "rate"), change(0.02, 0.0, "rate"), change(110, 100, "count")
    ('+5.0 pp vs 40.0 %', '+2.0 pp vs 0.0 %', '+10.0 % vs 100')
    >>> change(5, 0, "count"), change(1.5, 0.0, "ratio"), change(1.5, None, "ratio")
    ('no previous data', 'vs 0.000', 'no previous data')
    """
    if current is None or previous is None or (kind == "count" and previous == 0):
        return "no previous data"
    if kind == "rate":
        return f"{(current - previous) * 100:+.1f} pp vs {fmt(previous, kind)}"
    if previous == 0:
        return f"vs {fmt(previous, kind)}"
    return f"{(current / previous - 1) * 100:+.1f} % vs {fmt(previous, kind)}"


def headline_cards(figures: Figures) -> str:
    """One card per headline figure: the period's value and its change on the previous one."""
    now = figures["headline"].row(0, named=True)
    before = figures["headline_previous"].row(0, named=True)
    cards = []
    for metric in HEADLINE:
        value, previous = now[metric.key], before[metric.key]
        cards.append(
            f'<div class="card" data-metric="{metric.key}" data-value="{_raw(value)}">'
            f'<div class="label">{html.escape(metric.label)}</div>'
            f'<div class="value">{fmt(value, metric.kind)}</div>'
            f'<div class="change">{change(value, previous, metric.kind)}</div>'
            f'<div class="note">{html.escape(metric.note)}</div></div>'
        )
    return '<div class="cards">' + "".join(cards) + "</div>"


def quality_cards(figures: Figures) -> str:
    """Rows read, processed and quarantined (whole output), and lookback cuts of a backfill."""
    row = figures["data_quality"].row(0, named=True) if figures["data_quality"].height else {}
    items: list[tuple[str, str, Kind]] = [
        ("rows_read", "Rows read", "count"),
        ("rows_processed", "Processed", "count"),
        ("rows_quarantined", "Quarantined", "count"),
        ("quarantine_share", "Quarantined share", "rate"),
        ("long_sessions", "Sessions longer than the lookback (read whole)", "count"),
    ]
    cards = [
        f'<div class="card" data-metric="{key}" data-value="{_raw(row.get(key))}">'
        f'<div class="label">{label}</div><div class="value">{fmt(row.get(key), kind)}</div></div>'
        for key, label, kind in items
        if key != "long_sessions" or row.get(key) is not None
    ]
    return '<div class="cards">' + "".join(cards) + "</div>"


def _raw(value: Any) -> str:
    return "" if value is None else html.escape(repr(value))


def payload(figures: Figures, specs: dict[str, Spec]) -> str:
    """Chart specs and query-table rows as JSON safe inside a ``<script>`` element."""
    tables = {
        element: table_data(figures[label], columns)
        for element, (label, _, columns) in TABLES.items()
    }
    return script_json({"charts": specs, "tables": tables})


def table_data(frame: pl.DataFrame, columns: Iterable[tuple[str, str, str]]) -> dict[str, Any]:
    """A table for ``report.js``: its columns (field, heading, format) and its rows."""
    return {
        "columns": [list(column) for column in columns],
        "rows": json.loads(frame.write_json()),
    }


def script_json(document: object) -> str:
    """`document` as JSON that cannot end its ``<script>`` element early."""
    return json.dumps(document, separators=(",", ":")).replace("</", "<\\/")


def asset(name: str) -> str:
    """A file shipped beside this module (the page's CSS and script)."""
    return (resources.files("ctr_batch.reporting") / name).read_text(encoding="utf-8")


def _backfill_slot(specs: dict[str, Spec]) -> str:
    """The backfill's per-day chart, for a backfill's output only (a run has no days)."""
    if "backfill-days" not in specs:
        return ""
    return f'<div class="grid" style="margin-top:14px">{chart_slot("backfill-days", specs)}</div>'


def chart_slot(element: str, specs: dict[str, Spec], empty: str = "") -> str:
    """The box of chart `element`, or of the note `empty` when `specs` lacks it."""
    if element in specs:
        return f'<div class="chart"><div class="plot" id="{element}"></div></div>'
    note = empty or f"No data for {element.replace('-', ' ')} in this period."
    return f'<div class="chart"><div class="empty">{html.escape(note)}</div></div>'


def _sections(specs: dict[str, Spec]) -> str:
    parts = []
    for heading, elements in CHART_SECTIONS:
        slots = "".join(chart_slot(element, specs) for element in elements)
        parts.append(f'<h2>{heading}</h2><div class="grid">{slots}</div>')
    boxes = "".join(
        f'<div class="tablebox"><h3>{html.escape(title)}</h3><div id="{element}"></div></div>'
        for element, (_, title, _) in TABLES.items()
    )
    parts.append(f'<h2>Queries</h2><div class="grid">{boxes}</div>')
    return "".join(parts)


def render(figures: Figures, specs: dict[str, Spec], *, title: str, bundle: str) -> str:
    """The whole report page: `bundle` is the chart library's JavaScript, inlined."""
    period = figures.period
    previous = period.previous
    subtitle = (
        f"{period.start} to {period.end} ({period.days} days), compared with "
        f"{previous.start} to {previous.end}. Drag a daily chart to pan, scroll to zoom; "
        "hover for values."
    )
    body = (
        f'<h2>Headline</h2><div id="headline">{headline_cards(figures)}</div>'
        f"{_sections(specs)}"
        f'<h2>Data quality</h2><div id="quality">{quality_cards(figures)}</div>'
        f'<div class="grid" style="margin-top:14px">{chart_slot("quarantine", specs)}'
        f"{chart_slot('past-midnight', specs)}</div>"
        f"{_backfill_slot(specs)}"
        "<footer>Every figure comes from the curated SQL of ctr_batch (queries/*.sql); "
        "run the same with <code>ctr-batch query NAME OUT --param start=... --param end=...</code>"
        "</footer>"
    )
    return document(title, subtitle, body, payload(figures, specs), bundle)


def document(title: str, subtitle: str, body: str, data: str, bundle: str) -> str:
    """A page: escaped `title` and `subtitle`, `body` markup, `data` for ``report.js``."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{asset('report.css')}</style></head>"
        f'<body><main><h1>{html.escape(title)}</h1><p class="sub">{html.escape(subtitle)}</p>'
        f"{body}</main>"
        f'<script type="application/json" id="report-data">{data}</script>'
        f'<script type="module">{_safe_script(bundle)}</script>'
        f'<script type="module">{asset("report.js")}</script></body></html>\n'
    )


def _safe_script(code: str) -> str:
    """`code` that cannot end its ``<script>`` element early."""
    return code.replace("</script", "<\\/script")
