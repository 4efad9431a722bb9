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
        Days computed at once.

    Examples
    --------
    >>> BackfillConfig(lookback="2h").lookback
    datetime.timedelta(seconds=7200)
    """

    run: RunConfig
    lookback: timedelta
    force: bool
    jobs: int

    def __init__(
        self,
        *,
        run: RunConfig | None = None,
        lookback: Duration = timedelta(days=1),
        force: bool = False,
        jobs: int = 1,
    ) -> None:
        object.__setattr__(self, "run", RunConfig() if run is None else run)
        object.__setattr__(self, "lookback", to_duration(lookback, "lookback"))
        object.__setattr__(self, "force", force)
        object.__setattr__(self, "jobs", jobs)
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
        if not isinstance(self.force, bool):
            msg = f"force: expected True or False; got {self.force!r}"
            raise ConfigError(msg)

    def settings(self) -> dict[str, Any]:
        """What a day's result depends on besides its input files."""
        return {
            "gap_us": self.run.gap // timedelta(microseconds=1),
            "gap_rule": self.run.gap_rule,
            "timezone": self.run.timezone,
            "lookback_us": self.lookback // timedelta(microseconds=1),
            "column_map": sorted(self.run.column_map),
            "tool_version": __version__,
        }
