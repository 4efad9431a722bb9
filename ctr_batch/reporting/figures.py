"""Gather the report's figures: each one a curated query of ``queries/`` over one snapshot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from ctr_batch.core.config import to_date
from ctr_batch.core.errors import ConfigError, InputError
from ctr_batch.core.schema import CTR, DAY_SUMMARY_TABLE, QUERY, SEARCHES
from ctr_batch.io.commit import current_snapshot
from ctr_batch.sql.query import run_queries

if TYPE_CHECKING:
    from collections.abc import Mapping

#: Rows shown in each query table of the report.
TABLE_ROWS = 20
#: Searches a query needs to be listed among the lowest-CTR queries.
MIN_SUPPORT = 20
#: Searches a query needs to be listed among the zero-click queries.
MIN_ZERO_CLICK = 5


@dataclass(frozen=True, slots=True)
class Period:
    """The days a report covers, and the previous period of the same length.

    Attributes
    ----------
    start, end
        First and last day of the period, both included.
    """

    start: date
    end: date

    @property
    def days(self) -> int:
        """Days in the period."""
        return (self.end - self.start).days + 1

    @property
    def previous(self) -> Period:
        """The period of equal length that ends the day before `start`.

        Examples
        --------
        >>> Period(date(2026, 11, 8), date(2026, 11, 14)).previous
        Period(start=datetime.date(2026, 11, 1), end=datetime.date(2026, 11, 7))
        """
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def params(self) -> dict[str, str | None]:
        """``$start`` and ``$end`` of the curated queries."""
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


@dataclass(frozen=True, slots=True)
class Figures:
    """Every figure of the report: the period, and each query's rows by label."""

    period: Period
    tables: Mapping[str, pl.DataFrame]

    def __getitem__(self, label: str) -> pl.DataFrame:
        return self.tables[label]


def pin(out: str | Path) -> Path:
    """The folder of the output committed now (its snapshot), or `out` itself if it has none.

    Reading every figure under it gives one run's tables even while another run commits.

    Raises
    ------
    InputError
        If `out` is not a directory.
    """
    out = Path(out)
    if not out.is_dir():
        msg = f"{out}: not a directory (expected the OUT of `ctr-batch run` or `backfill`)"
        raise InputError(msg)
    return current_snapshot(out) or out


def resolve_period(
    snapshot: Path,
    start: date | str | None = None,
    end: date | str | None = None,
    *,
    out: str | Path | None = None,
) -> Period:
    """The period to report: the days given, else the first and last day of ``ctr_daily``.

    `out` names the output in messages (default: `snapshot`).

    Raises
    ------
    ConfigError
        For a date that does not parse, `start` after `end`, or no day to report.
    """
    first = to_date(start, "--start") if start is not None else None
    last = to_date(end, "--end") if end is not None else None
    if first is None or last is None:
        data_range = run_queries(snapshot, {"range": ("date_range", {})})["range"].row(0)
        first = first or data_range[0]
        last = last or data_range[1]
    if first is None or last is None:
        msg = f"{out or snapshot}: ctr_daily has no day to report (no search nor session); "
        msg += "give --start and --end to report on the quarantine alone"
        raise ConfigError(msg)
    if first > last:
        bound = f"--end {last}" if end is not None else f"the last day of the output, {last}"
        msg = f"--start {first} is after {bound}"
        raise ConfigError(msg)
    return Period(first, last)


def figure_requests(
    period: Period, *, backfill: bool = False
) -> dict[str, tuple[str, dict[str, str | None]]]:
    """Label → (curated query, parameters) for every figure of the report.

    With `backfill` (the output is a backfill's, with ``day_summary``), its per-day figures too.

    The lowest-CTR table is not among them: it is ``top_queries`` (``ctr_by_query`` with
    ``min_searches`` 1) kept to ``MIN_SUPPORT`` searches, which is what ``ctr_by_query`` with
    ``min_searches`` ``MIN_SUPPORT`` returns, for one scan fewer.
    """
    days = period.params()
    requests = {
        "headline": ("headline", days),
        "headline_previous": ("headline", period.previous.params()),
        "daily": ("ctr_wilson_by_day", days),
        "ctr_by_position": ("ctr_by_position", days),
        "click_position": ("click_position", days),
        "time_to_first_click": ("time_to_first_click", days),
        "session_length": ("session_length", days),
        "searches_per_session": ("searches_per_session", days),
        "top_queries": ("ctr_by_query", {**days, "min_searches": "1"}),
        "zero_result": ("zero_result_queries", days),
        "zero_click": ("zero_click_queries", {**days, "min_searches": str(MIN_ZERO_CLICK)}),
        "quarantine": ("quarantine_by_reason", days),
        "past_midnight": ("sessions_past_midnight", days),
        "data_quality": ("data_quality", {}),
    }
    return requests | ({"backfill_days": ("backfill_days", days)} if backfill else {})


def lowest_ctr(by_query: pl.DataFrame) -> pl.DataFrame:
    """Rows of ``ctr_by_query`` with at least ``MIN_SUPPORT`` searches, lowest CTR first.

    Ties go to the query searched most, then to the query text.
    """
    supported = by_query.filter(pl.col(SEARCHES) >= MIN_SUPPORT)
    order = [CTR, SEARCHES, QUERY]
    return supported.sort(order, descending=[False, True, False], nulls_last=True)


def gather(
    out: str | Path, start: date | str | None = None, end: date | str | None = None
) -> Figures:
    """Run every figure's curated query over one snapshot of `out`.

    The query tables are cut to their first ``TABLE_ROWS`` rows; the lowest-CTR queries are
    those of ``ctr_by_query`` with at least ``MIN_SUPPORT`` searches, lowest CTR first.

    Raises
    ------
    ConfigError, InputError
        As ``run_queries``, and for a period that cannot be resolved.
    """
    snapshot = pin(out)
    period = resolve_period(snapshot, start, end, out=out)
    requests = figure_requests(period, backfill=(snapshot / DAY_SUMMARY_TABLE).is_dir())
    tables = run_queries(snapshot, requests)
    tables["lowest_ctr"] = lowest_ctr(tables["top_queries"])
    for label in ("top_queries", "lowest_ctr", "zero_result", "zero_click"):
        tables[label] = tables[label].head(TABLE_ROWS)
    return Figures(period, tables)
