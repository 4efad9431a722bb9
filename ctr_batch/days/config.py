"""Settings of a backfill: the run settings plus how far to look around each day."""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ctr_batch._version import __version__
from ctr_batch.core.config import Duration, RunConfig, format_duration, to_duration
from ctr_batch.core.errors import ConfigError
from ctr_batch.core.schema import EVENT_TIME, TABLE_LAYOUT

TRAILING_DAYS = 7  # days before a day whose median its rows are compared with
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


@dataclass(frozen=True, slots=True, init=False)
class BackfillConfig:
    """Settings of a backfill: the run settings plus how far to look around each day.

    Parameters
    ----------
    run
        Gap, gap rule, time zone and column map (default ``RunConfig()``).
    lookback
        How far around each day to read, at least the gap (``"1d"`` or a timedelta).
    force
        Recompute days whose inputs and settings did not change.
    jobs
        Runs of days computed at once.
    allow_empty
        Publish a day without any input row (by default such a day fails: its data is late).
    max_quarantine
        Largest share of a day's rows that may be quarantined (0 to 1; 1 disables the check);
        a day above it fails and nothing is published for it.
    partition_key
        The hive key whose folders partition the events by day (``event_date`` for
        ``event_date=2026-11-01/``); None: ``date``, ``dt``, ``ds`` or ``year/month/day``.
    min_rows_ratio
        Warn about a day whose input rows fall below this fraction of the median of the (up
        to seven, at least three) days recorded before it (None: no check); the day is
        published.

    Examples
    --------
    >>> BackfillConfig(lookback="2h").lookback
    datetime.timedelta(seconds=7200)
    """

    run: RunConfig
    lookback: timedelta
    force: bool
    jobs: int
    allow_empty: bool
    max_quarantine: float
    min_rows_ratio: float | None
    partition_key: str | None

    def __init__(
        self,
        *,
        run: RunConfig | None = None,
        lookback: Duration = timedelta(days=1),
        force: bool = False,
        jobs: int = 1,
        allow_empty: bool = False,
        max_quarantine: float = 0.05,
        min_rows_ratio: float | None = None,
        partition_key: str | None = None,
    ) -> None:
        object.__setattr__(self, "run", RunConfig() if run is None else run)
        object.__setattr__(self, "lookback", to_duration(lookback, "lookback"))
        object.__setattr__(self, "force", force)
        object.__setattr__(self, "jobs", jobs)
        object.__setattr__(self, "allow_empty", allow_empty)
        object.__setattr__(self, "max_quarantine", max_quarantine)
        object.__setattr__(self, "min_rows_ratio", min_rows_ratio)
        object.__setattr__(self, "partition_key", partition_key)
        self._check()

    def _check(self) -> None:
        if not isinstance(self.run, RunConfig):
            msg = f"run: expected a RunConfig; got {type(self.run).__name__}"
            raise ConfigError(msg)
        if self.lookback < self.run.gap:
            msg = f"lookback ({format_duration(self.lookback)}) must be at least the gap"
            raise ConfigError(msg)
        if not isinstance(self.jobs, int) or isinstance(self.jobs, bool) or self.jobs < 1:
            msg = f"jobs must be a whole number of at least 1; got {self.jobs!r}"
            raise ConfigError(msg)
        for name in ("force", "allow_empty"):
            if not isinstance(getattr(self, name), bool):
                msg = f"{name}: expected True or False; got {getattr(self, name)!r}"
                raise ConfigError(msg)
        share = self.max_quarantine
        if not isinstance(share, int | float) or isinstance(share, bool) or not 0 <= share <= 1:
            msg = f"max quarantine share: expected a number from 0 to 1; got {share!r}"
            raise ConfigError(msg)
        key = self.partition_key
        if key is not None and (not isinstance(key, str) or not _KEY.fullmatch(key)):
            msg = f"partition key {key!r}: expected a hive key name such as date or event_day"
            raise ConfigError(msg)
        ratio = self.min_rows_ratio
        if ratio is not None and (
            not isinstance(ratio, int | float) or isinstance(ratio, bool) or not 0 < ratio <= 1
        ):
            msg = f"min rows ratio: expected a number above 0 and at most 1; got {ratio!r}"
            raise ConfigError(msg)

    def warning(self, rows: int, earlier: list[int]) -> str | None:
        """Why a day of `rows` input rows looks short, given the rows of the days before it."""
        recent = sorted(earlier[-TRAILING_DAYS:])
        if self.min_rows_ratio is None or len(recent) < 3:
            return None
        median = statistics.median(recent)
        if rows >= self.min_rows_ratio * median:
            return None
        return (
            f"{rows:,} input rows, below --min-rows-ratio {self.min_rows_ratio:g} of the median "
            f"{median:,.0f} of the {len(recent)} days before it (data missing or late?)"
        )

    @property
    def time_column(self) -> str:
        """The input column that holds the event time (``--column`` may map it)."""
        return dict(self.run.column_map).get(EVENT_TIME, EVENT_TIME)

    def settings(self) -> dict[str, Any]:
        """What a day's result depends on besides its input files.

        ``max_session_us`` appears only when set, so days computed before it existed keep
        their settings. ``table_layout`` (``schema.TABLE_LAYOUT``) makes days written with
        other table columns differ in settings: rebuilt with ``--force``, never mixed. The
        lookback is not among them: it is where reading starts, and every session is read
        whole whatever it is, so days of two lookbacks mix (each day's counts its own
        ``long_sessions``).
        """
        settings = {
            "gap_us": self.run.gap // timedelta(microseconds=1),
            "gap_rule": self.run.gap_rule,
            "timezone": self.run.timezone,
            "column_map": sorted(self.run.column_map),
            "table_layout": TABLE_LAYOUT,
            "tool_version": __version__,
        }
        if self.run.max_session is not None:
            settings["max_session_us"] = self.run.max_session // timedelta(microseconds=1)
        return settings

    def problem(self, rows: int, quarantined: int) -> str | None:
        """Why a day of `rows` input rows, `quarantined` of them set aside, must not publish."""
        if rows == 0 and not self.allow_empty:
            return "no input rows (late data?); --allow-empty publishes such a day"
        if rows and quarantined / rows > self.max_quarantine:
            return (
                f"{quarantined / rows:.1%} of its rows quarantined, above --max-quarantine "
                f"{self.max_quarantine:g}"
            )
        return None
