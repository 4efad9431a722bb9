"""Settings of a backfill: the run settings plus how far to look around each day."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from ctr_batch._version import __version__
from ctr_batch.core.config import RunConfig, format_duration
from ctr_batch.core.errors import ConfigError


@dataclass(frozen=True, slots=True, kw_only=True)
class BackfillConfig:
    """Settings of a backfill: the run settings plus how far to look around each day."""

    run: RunConfig = field(default_factory=RunConfig)
    lookback: timedelta = timedelta(days=1)
    force: bool = False
    jobs: int = 1

    def __post_init__(self) -> None:
        if self.lookback < self.run.gap:
            msg = f"lookback ({format_duration(self.lookback)}) must be at least the gap"
            raise ConfigError(msg)
        if self.jobs < 1:
            msg = f"jobs must be at least 1; got {self.jobs}"
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
