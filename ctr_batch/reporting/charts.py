"""Vega-Lite chart specifications of the report, one builder per chart, data inline.

Each builder takes the rows of one curated query and returns a JSON-ready spec. Dates are
ISO text read as UTC days, so a browser in any time zone shows the days of the tables.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import polars as pl

if TYPE_CHECKING:
    from ctr_batch.reporting.figures import Figures

Spec = dict[str, Any]

_HEIGHT = 220
_DAY = {"field": "date", "type": "temporal", "timeUnit": "utcyearmonthdate", "title": None}
_DAY_TIP = {"field": "date", "type": "temporal", "timeUnit": "utcyearmonthdate", "title": "day"}
_ZOOM = {"name": "zoom", "select": {"type": "interval", "encodings": ["x"]}, "bind": "scales"}


def values(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """The rows of `frame` as JSON records (dates as ``YYYY-MM-DD``, times as ISO text)."""
    records: list[dict[str, Any]] = json.loads(frame.write_json())
    return records


def _chart(frame: pl.DataFrame, title: str, **spec: Any) -> Spec:
    return {
        "title": title,
        "width": "container",
        "height": _HEIGHT,
        "autosize": {"type": "fit-x", "contains": "padding"},
        "data": {"values": values(frame)},
        **spec,
    }


def _tip(field: str, title: str, fmt: str = "") -> dict[str, str]:
    tip = {"field": field, "title": title, "type": "quantitative"}
    return tip | {"format": fmt} if fmt else tip


def daily_ctr(daily: pl.DataFrame) -> Spec:
    """Daily CTR as a line over its 95 % Wilson band; drag to pan, wheel to zoom the days."""
    y = {"field": "ctr_low", "type": "quantitative", "title": "CTR", "axis": {"format": ".0%"}}
    tooltip = [
        _DAY_TIP,
        _tip("ctr", "CTR", ".2%"),
        _tip("ctr_low", "95 % low", ".2%"),
        _tip("ctr_high", "95 % high", ".2%"),
        _tip("searches", "searches", ","),
    ]
    band = {
        "mark": {"type": "area", "opacity": 0.25, "color": "#4c78a8"},
        "encoding": {
            "x": _DAY,
            "y": y | {"scale": {"zero": False}},
            "y2": {"field": "ctr_high"},
            "tooltip": tooltip,
        },
    }
    line = {
        "mark": {"type": "line", "point": {"size": 60}, "color": "#4c78a8"},
        "encoding": {"x": _DAY, "y": {"field": "ctr", "type": "quantitative"}, "tooltip": tooltip},
        "params": [_ZOOM],
    }
    title = "Daily CTR with its 95 % Wilson interval"
    return _chart(daily, title, layer=[band, line])


def daily_searches(daily: pl.DataFrame) -> Spec:
    """Searches per day as bars; drag to pan, wheel to zoom the days."""
    return _chart(
        daily,
        "Searches per day",
        mark={"type": "bar", "color": "#72b7b2"},
        params=[_ZOOM],
        encoding={
            "x": _DAY,
            "y": {"field": "searches", "type": "quantitative", "title": "searches"},
            "tooltip": [_DAY_TIP, _tip("searches", "searches", ","), _tip("ctr", "CTR", ".2%")],
        },
    )


def _bars(frame: pl.DataFrame, title: str, x: Spec, y: Spec, tooltip: list[Any]) -> Spec:
    return _chart(
        frame,
        title,
        mark={"type": "bar", "tooltip": True, "color": "#4c78a8"},
        encoding={"x": x, "y": y, "tooltip": tooltip},
    )


def _ordinal(field: str, title: str, sort: str | None = None) -> Spec:
    axis = {"labelAngle": 0}
    x: Spec = {"field": field, "type": "ordinal", "title": title, "axis": axis}
    return x | {"sort": {"field": sort}} if sort else x


def _share(field: str = "share", title: str = "share") -> Spec:
    return {"field": field, "type": "quantitative", "title": title, "axis": {"format": ".0%"}}


def ctr_by_position(frame: pl.DataFrame) -> Spec:
    """First-click CTR at each result position."""
    return _bars(
        frame,
        "First-click CTR by result position",
        _ordinal("position", "position"),
        _share("ctr", "first-click CTR"),
        [_tip("position", "position"), _tip("ctr", "CTR", ".2%"), _tip("shown_searches", "shown")],
    )


def first_click_position(frame: pl.DataFrame) -> Spec:
    """Where the first click landed: share of clicked searches per position."""
    labelled = frame.with_columns(
        pl.col("first_click_position").cast(pl.String).fill_null("not listed").alias("position")
    )
    return _bars(
        labelled.with_row_index("order"),
        "First-click position",
        _ordinal("position", "position", sort="order"),
        _share(),
        [
            {"field": "position", "title": "position"},
            _tip("clicked_searches", "clicked searches", ","),
            _tip("share", "share", ".1%"),
            _tip("cumulative_share", "cumulative", ".1%"),
        ],
    )


def bucket_bars(frame: pl.DataFrame, title: str, count: str, order: str, unit: str) -> Spec:
    """A distribution over labelled buckets: `count` per ``bucket``, ordered by `order`."""
    return _bars(
        frame,
        title,
        _ordinal("bucket", unit, sort=order),
        {"field": count, "type": "quantitative", "title": count.replace("_", " ")},
        [
            {"field": "bucket", "title": unit},
            _tip(count, count.replace("_", " "), ","),
            _tip("share", "share", ".1%"),
            _tip("cumulative_share", "cumulative", ".1%"),
        ],
    )


def quarantine(frame: pl.DataFrame) -> Spec:
    """Quarantined rows per day, stacked by reason."""
    return _chart(
        frame.with_columns(pl.col("date").cast(pl.String).fill_null("no time")),
        "Quarantined rows per day, by reason",
        mark={"type": "bar", "tooltip": True},
        encoding={
            "x": {"field": "date", "type": "ordinal", "title": None},
            "y": {"field": "rows", "type": "quantitative", "title": "rows", "stack": True},
            "color": {"field": "reason", "type": "nominal", "title": "reason"},
            "tooltip": [{"field": "date"}, {"field": "reason"}, _tip("rows", "rows", ",")],
        },
    )


def past_midnight(frame: pl.DataFrame) -> Spec:
    """Sessions per start day that continue past midnight (a backfill carries them over)."""
    return _chart(
        frame,
        "Sessions continuing past midnight, by start day",
        mark={"type": "bar", "color": "#b279a2"},
        encoding={
            "x": _DAY,
            "y": {"field": "past_midnight", "type": "quantitative", "title": "sessions"},
            "tooltip": [
                _DAY_TIP,
                _tip("past_midnight", "past midnight", ","),
                _tip("past_midnight_share", "share of the day's sessions", ".2%"),
                _tip("longest_s", "longest (s)", ",.0f"),
            ],
        },
    )


_NIGHTS = {  # backfill_days column -> what the chart calls it
    "continued_sessions": "sessions from the day before",
    "late_rows": "late rows",
    "capped_sessions": "opened by --max-session",
    "long_sessions": "longer than the lookback",
}


def backfill_days(frame: pl.DataFrame) -> Spec:
    """A backfill's per-day figures from its manifest, one bar per figure (none: no chart)."""
    if frame.is_empty():
        return _chart(frame, "")
    long = frame.unpivot(list(_NIGHTS), index="date", variable_name="figure", value_name="count")
    return _chart(
        long.with_columns(
            pl.col("date").cast(pl.String), pl.col("figure").replace_strict(_NIGHTS)
        ),
        "Backfill per day: sessions carried across midnight, late rows, capped and long sessions",
        mark={"type": "bar", "tooltip": True},
        encoding={
            "x": {"field": "date", "type": "ordinal", "title": None},
            "xOffset": {"field": "figure"},
            "y": {"field": "count", "type": "quantitative", "title": "count"},
            "color": {
                "field": "figure",
                "type": "nominal",
                "title": None,
                "sort": list(_NIGHTS.values()),
            },
            "tooltip": [{"field": "date"}, {"field": "figure"}, _tip("count", "count", ",")],
        },
    )


def chart_specs(figures: Figures) -> dict[str, Spec]:
    """Every chart of the report by element id; a chart without rows is left out."""
    lengths = figures["session_length"]
    by_measure = lengths.partition_by("measure", as_dict=True)
    empty = lengths.clear()
    specs = {
        "daily-ctr": daily_ctr(figures["daily"]),
        "daily-searches": daily_searches(figures["daily"]),
        "ctr-by-position": ctr_by_position(figures["ctr_by_position"]),
        "first-click-position": first_click_position(figures["click_position"]),
        "time-to-first-click": bucket_bars(
            figures["time_to_first_click"],
            "Time to first click",
            "clicked_searches",
            "bucket_order",
            "time",
        ),
        "session-duration": bucket_bars(
            by_measure.get(("duration",), empty),
            "Session duration",
            "sessions",
            "bucket_order",
            "duration",
        ),
        "session-events": bucket_bars(
            by_measure.get(("n_events",), empty), "Events per session", "sessions", "bucket_order",
            "events",
        ),
        "searches-per-session": bucket_bars(
            figures["searches_per_session"], "Searches per session", "sessions", "n_searches",
            "searches",
        ),
        "quarantine": quarantine(figures["quarantine"]),
        "past-midnight": past_midnight(figures["past_midnight"]),
        "backfill-days": backfill_days(figures.tables.get("backfill_days", pl.DataFrame())),
    }  # fmt: skip
    return {name: spec for name, spec in specs.items() if _has_rows(spec)}


def _has_rows(spec: Spec) -> bool:
    rows: list[Any] = spec["data"]["values"]
    return bool(rows)
