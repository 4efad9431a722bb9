"""The HTML page of ``ctr-batch validate --html``: batch against stream, differences by cause.

Its figures are those of the reconciliation (``ReconcileResult``), the same the terminal
shows: per-day CTR of both jobs with the stream's 95 % Wilson interval, differences per day
stacked by cause, and the first differing records of each cause.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from ctr_batch.core.schema import CTR, DATE, QUERY, SEARCH_TIME, SESSION_START, USER_ID
from ctr_batch.io.write import write_text
from ctr_batch.reconciliation.causes import CAUSE, DETAIL
from ctr_batch.reconciliation.daily import METRIC
from ctr_batch.reconciliation.diff import CI_HIGH, CI_LOW, COLUMN, LEFT_VALUE, RIGHT_VALUE
from ctr_batch.reconciliation.result import RECORD, summary_rows
from ctr_batch.reporting.build import chart_library
from ctr_batch.reporting.charts import values
from ctr_batch.reporting.page import chart_slot, document, script_json, table_data

if TYPE_CHECKING:
    from ctr_batch.reconciliation.result import ReconcileResult
    from ctr_batch.reporting.charts import Spec

#: Differing records shown per cause.
FIRST_PER_CAUSE = 5
_SERIES, _VALUE = "series", "value"
_DAY = {"field": DATE, "type": "temporal", "timeUnit": "utcyearmonthdate", "title": None}
_ZOOM = {"name": "zoom", "select": {"type": "interval", "encodings": ["x"]}, "bind": "scales"}
_SHOWN = (
    (CAUSE, "cause", "text"), (RECORD, "record", "text"), (USER_ID, "user", "text"),
    (SEARCH_TIME, "search time", "text"), (QUERY, "query", "text"), (COLUMN, "column", "text"),
    (LEFT_VALUE, "batch", "text"), (RIGHT_VALUE, "stream", "text"), (DETAIL, "detail", "text"),
)  # fmt: skip


def _base(title: str, frame: pl.DataFrame, **spec: Any) -> Spec:
    return {"title": title, "width": "container", "height": 240,
            "autosize": {"type": "fit-x", "contains": "padding"},
            "data": {"values": values(frame)}, **spec}  # fmt: skip


def batch_vs_stream(daily: pl.DataFrame) -> Spec:
    """Daily CTR of the batch and of the stream, over the stream's 95 % Wilson band."""
    ctr = daily.filter(pl.col(METRIC) == CTR)
    long = ctr.unpivot([LEFT_VALUE, RIGHT_VALUE], index=[DATE], variable_name=_SERIES)
    long = long.with_columns(pl.col(_SERIES).replace({LEFT_VALUE: "batch", RIGHT_VALUE: "stream"}))
    y = {"field": _VALUE, "type": "quantitative", "title": "CTR", "axis": {"format": ".1%"}}
    band = {
        "data": {"values": values(ctr)},
        "mark": {"type": "area", "opacity": 0.2, "color": "#f58518"},
        "encoding": {"x": _DAY, "y": {"field": CI_LOW, "type": "quantitative"},
                     "y2": {"field": CI_HIGH}},
    }  # fmt: skip
    lines = {
        "mark": {"type": "line", "point": {"size": 50}, "tooltip": True},
        "encoding": {"x": _DAY, "y": y | {"scale": {"zero": False}},
                     "color": {"field": _SERIES, "type": "nominal", "title": None}},
        "params": [_ZOOM],
    }  # fmt: skip
    title = "CTR per day: batch and stream (band: the stream's 95 % Wilson interval)"
    return _base(title, long, layer=[band, lines])


def difference_day() -> pl.Expr:
    """A difference's day: its ``date``, else the UTC date of its search or session start."""
    times = (pl.col(SEARCH_TIME), pl.col(SESSION_START))
    return pl.coalesce(pl.col(DATE), *(time.dt.date() for time in times)).alias(DATE)


def differences_by_cause(mismatches: pl.DataFrame) -> Spec:
    """Differences per day, stacked by cause."""
    dated = mismatches.with_columns(difference_day())
    counts = dated.group_by(DATE, CAUSE).len("differences").sort(DATE, CAUSE)
    counts = counts.with_columns(pl.col(DATE).cast(pl.String).fill_null("no day"))
    return _base(
        "Differences per day, by cause",
        counts,
        mark={"type": "bar", "tooltip": True},
        encoding={
            "x": {"field": DATE, "type": "ordinal", "title": None},
            "y": {"field": "differences", "type": "quantitative", "stack": True},
            "color": {"field": CAUSE, "type": "nominal", "title": "cause"},
        },
    )


def first_per_cause(mismatches: pl.DataFrame, n: int = FIRST_PER_CAUSE) -> pl.DataFrame:
    """The first `n` differences of each cause, in date and time order, values as text."""
    ordered = mismatches.sort([CAUSE, DATE, SEARCH_TIME, USER_ID], nulls_last=True)
    first = ordered.group_by(CAUSE, maintain_order=True).head(n)
    return first.select([name for name, _, _ in _SHOWN]).cast(pl.String)


def validation_page(result: ReconcileResult, *, title: str, bundle: str) -> str:
    """The whole page for `result`; `bundle` is the chart library's JavaScript."""
    specs: dict[str, Spec] = {}
    if result.daily.filter(pl.col(METRIC) == CTR).height:
        specs["batch-vs-stream"] = batch_vs_stream(result.daily)
    if result.mismatches.height:
        specs["differences"] = differences_by_cause(result.mismatches)
    cards = "".join(
        f'<div class="card"><div class="label">{html.escape(label)}</div>'
        f'<div class="value" style="font-size:18px">{html.escape(value)}</div></div>'
        for label, value in summary_rows(result)
    )
    body = (
        f'<h2>Summary</h2><div class="cards" id="summary">{cards}</div><h2>Per day</h2>'
        f'<div class="grid">{chart_slot("batch-vs-stream", specs, "No daily CTR to compare.")}'
        f"{chart_slot('differences', specs, 'No difference: the stream equals the batch.')}</div>"
        '<h2>First differing records per cause</h2><div class="tablebox"><div id="first">'
        "</div></div>"
    )
    tables = {"first": table_data(first_per_cause(result.mismatches), _SHOWN)}
    subtitle = f"{result.kind} records; {'PASSED' if result.passed else 'FAILED'}"
    data = script_json({"charts": specs, "tables": tables})
    return document(title, subtitle, body, data, bundle)


def write_validation(result: ReconcileResult, path: str | Path, title: str) -> Path:
    """Write the validation page of `result` to `path` atomically.

    Raises
    ------
    ConfigError
        If vl-convert-python is not installed (see ``build.chart_library``).
    """
    page = validation_page(result, title=title, bundle=chart_library())
    return write_text(page, Path(path))
