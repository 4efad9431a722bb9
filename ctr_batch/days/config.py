"""Settings of a backfill: the run settings plus how far to look around each day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ctr_batch._version import __version__
from ctr_batch.core.config import Duration, RunConfig, format_duration, to_duration
from ctr_batch.core.errors import ConfigError


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

    def __init__(
        self,
        *,
        run: RunConfig | None = None,
        lookback: Duration = timedelta(days=1),
        force: bool = False,
        jobs: int = 1,
        allow_empty: bool = False,
        max_quarantine: float = 0.05,
    ) -> None:
        object.__setattr__(self, "run", RunConfig() if run is None else run)
        object.__setattr__(self, "lookback", to_duration(lookback, "lookback"))
        object.__setattr__(self, "force", force)
        object.__setattr__(self, "jobs", jobs)
        object.__setattr__(self, "allow_empty", allow_empty)
        object.__setattr__(self, "max_quarantine", max_quarantine)
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

    def settings(self) -> dict[str, Any]:
        """What a day's result depends on besides its input files.

        ``max_session_us`` appears only when set, so days computed before it existed keep
        their settings.
        """
        settings = {
            "gap_us": self.run.gap // timedelta(microseconds=1),
            "gap_rule": self.run.gap_rule,
            "timezone": self.run.timezone,
            "lookback_us": self.lookback // timedelta(microseconds=1),
            "column_map": sorted(self.run.column_map),
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
