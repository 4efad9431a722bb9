"""Run settings: one frozen object, checked once, passed everywhere."""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

import polars as pl

from ctr_batch.core.errors import ConfigError
from ctr_batch.core.schema import EVENT_COLUMNS

GapRule = Literal["inclusive", "exclusive"]
GAP_RULES: tuple[GapRule, ...] = ("inclusive", "exclusive")

_UNITS = {"ms": "milliseconds", "s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")


def parse_duration(text: str) -> timedelta:
    """Parse a duration such as ``5s``, ``10m``, ``1h30m`` or ``250ms``.

    Examples
    --------
    >>> parse_duration("1h30m")
    datetime.timedelta(seconds=5400)
    """
    spec = text.strip().lower()
    parts = _PART.findall(spec)
    if not spec or "".join(n + u for n, u in parts) != spec:
        msg = f"duration {text!r}: expected number+unit, e.g. 5s, 10m, 1h30m (units ms s m h d)"
        raise ConfigError(msg)
    try:
        return sum((timedelta(**{_UNITS[unit]: float(n)}) for n, unit in parts), timedelta())
    except OverflowError:
        msg = f"duration {text!r} is too long (at most 999999999 days)"
        raise ConfigError(msg) from None


_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|tb|kib|mib|gib|tib)?")
_SIZE_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
               "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}  # fmt: skip


def parse_size(text: str) -> int:
    """Parse a memory size such as ``8GiB``, ``500MB`` or ``1073741824`` (bytes).

    Examples
    --------
    >>> parse_size("1.5GiB")
    1610612736
    """
    match = _SIZE.fullmatch(text.strip().lower())
    if not match or float(match.group(1)) <= 0:
        msg = f"size {text!r}: expected a positive number and unit, e.g. 8GiB, 500MB"
        raise ConfigError(msg)
    return int(float(match.group(1)) * _SIZE_UNITS[match.group(2) or "b"])


def _known_zone(name: str) -> bool:
    """True for a time zone that both Python (backfill's day bounds) and Polars know."""
    try:
        zoneinfo.ZoneInfo(name)
        pl.Series([0], dtype=pl.Datetime("us", "UTC")).dt.convert_time_zone(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, pl.exceptions.ComputeError):
        return False
    return True


def format_duration(value: timedelta) -> str:
    """Format a duration the way ``parse_duration`` reads it.

    Examples
    --------
    >>> format_duration(timedelta(minutes=90))
    '1h30m'
    """
    micros = value // timedelta(microseconds=1)
    out = ""
    for unit, size in (
        ("d", 86_400_000_000),
        ("h", 3_600_000_000),
        ("m", 60_000_000),
        ("s", 1_000_000),
        ("ms", 1_000),
    ):
        count, micros = divmod(micros, size)
        out += f"{count}{unit}" if count else ""
    return out or "0s"


@dataclass(frozen=True, slots=True, kw_only=True)
class RunConfig:
    """Settings of one run.

    Parameters
    ----------
    gap
        Inactivity that ends a session; must be positive.
    gap_rule
        ``inclusive``: an event exactly `gap` after the previous one stays in the session
        (Bytewax >= 0.20, Spark, Flink). ``exclusive``: it opens a new one (Bytewax 0.19, Beam).
    timezone
        IANA time zone whose calendar dates define a day.
    column_map
        Input column names for contract columns, as ``(contract_name, source_name)`` pairs.
    """

    gap: timedelta = timedelta(minutes=30)
    gap_rule: GapRule = "inclusive"
    timezone: str = "UTC"
    column_map: tuple[tuple[str, str], ...] = field(default=())

    def __post_init__(self) -> None:
        if self.gap <= timedelta(0):
            msg = f"gap must be positive; got {format_duration(self.gap)}"
            raise ConfigError(msg)
        if self.gap_rule not in GAP_RULES:
            msg = f"gap rule must be one of {list(GAP_RULES)}; got {self.gap_rule!r}"
            raise ConfigError(msg)
        if not _known_zone(self.timezone):
            msg = f"time zone {self.timezone!r} is unknown; use an IANA name such as Europe/Paris"
            raise ConfigError(msg)
        unknown = sorted({name for name, _ in self.column_map} - set(EVENT_COLUMNS))
        if unknown:
            msg = f"--column maps unknown columns {unknown}; known: {list(EVENT_COLUMNS)}"
            raise ConfigError(msg)
