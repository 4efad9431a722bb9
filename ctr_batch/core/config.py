"""Run settings: one frozen object, checked once, passed everywhere."""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
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


_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|tb|kib|mib|gib|tib|k|m|g|t)?")
_SIZE_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12, "kib": 2**10,
               "mib": 2**20, "gib": 2**30, "tib": 2**40, "k": 2**10, "m": 2**20, "g": 2**30,
               "t": 2**40}  # fmt: skip
LARGEST_SIZE = 2**60  # 1 EiB: beyond any machine, and beyond what DuckDB's settings parse


def parse_size(text: str) -> int:
    """Parse a memory size such as ``8GiB``, ``8G`` (= GiB), ``500MB`` or ``1073741824`` (bytes).

    Examples
    --------
    >>> parse_size("1.5GiB")
    1610612736
    """
    match = _SIZE.fullmatch(text.strip().lower())
    if not match:
        msg = f"size {text!r}: expected a positive number and unit, e.g. 8GiB, 500MB"
        raise ConfigError(msg)
    bytes_ = Decimal(match.group(1)) * _SIZE_UNITS[match.group(2) or "b"]  # exact
    if not 1 <= bytes_ <= LARGEST_SIZE:
        msg = f"size {text!r} is " + ("less than one byte" if bytes_ < 1 else "over 1 EiB")
        raise ConfigError(msg)
    return int(bytes_)


def to_date(value: date | str, what: str) -> date:
    """`value` as a date: given as one, or as ``YYYY-MM-DD`` text.

    Examples
    --------
    >>> to_date("2026-11-01", "--start")
    datetime.date(2026, 11, 1)
    """
    if isinstance(value, date):  # a datetime, a moment, gives its calendar date
        return value.date() if isinstance(value, datetime) else value
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        msg = f"{what} {value!r}: expected a date YYYY-MM-DD"
        raise ConfigError(msg) from None


def known_zone(name: str) -> bool:
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
    if value < timedelta(0):
        return "-" + format_duration(-value)
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


Duration = timedelta | str  # a timedelta, or text that ``parse_duration`` reads
ColumnMap = Mapping[str, str] | Iterable[tuple[str, str]]  # contract name -> input name
DEFAULT_GAP = timedelta(minutes=30)
LONGEST = timedelta(days=36_525)  # any setting longer than a century is a typo


def to_duration(value: Duration, what: str) -> timedelta:
    """`value` as a timedelta: given as one, or as text such as ``30m`` (up to a century).

    >>> to_duration("90s", "gap")
    datetime.timedelta(seconds=90)
    """
    if isinstance(value, str):
        try:
            value = parse_duration(value)
        except ConfigError as exc:
            msg = f"{what}: {exc}"
            raise ConfigError(msg) from None
    if not isinstance(value, timedelta):
        msg = f"{what}: expected a duration such as '30m' or a timedelta; got {value!r}"
        raise ConfigError(msg)
    if abs(value) > LONGEST:
        msg = f"{what}: {format_duration(value)} is longer than {LONGEST.days:,} days (a century)"
        raise ConfigError(msg)
    return value


def _column_pairs(columns: ColumnMap) -> tuple[tuple[str, str], ...]:
    """``(contract_name, source_name)`` pairs from a mapping or pairs; ConfigError otherwise."""
    items = columns.items() if isinstance(columns, Mapping) else columns
    try:
        pairs = tuple((name, source) for name, source in items)
    except (TypeError, ValueError):
        pairs = ((columns, columns),)  # not pairs: refused below
    if not all(isinstance(x, str) for pair in pairs for x in pair):
        msg = f"columns: expected a mapping of contract name to input name; got {columns!r}"
        raise ConfigError(msg)
    return pairs


@dataclass(frozen=True, slots=True, init=False)
class RunConfig:
    """Settings of one run; durations given as text (``"30m"``) or as timedeltas.

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
        Input column names for contract columns: a mapping ``{contract_name: source_name}``
        or ``(contract_name, source_name)`` pairs.
    max_session
        Longest a session may last (None: no limit). An event more than this after its
        session's first event opens a new session, so a session never lasts longer.

    Examples
    --------
    >>> RunConfig(gap="5m").gap
    datetime.timedelta(seconds=300)
    """

    gap: timedelta
    gap_rule: GapRule
    timezone: str
    column_map: tuple[tuple[str, str], ...]
    max_session: timedelta | None

    def __init__(
        self,
        *,
        gap: Duration = DEFAULT_GAP,
        gap_rule: GapRule = "inclusive",
        timezone: str = "UTC",
        column_map: ColumnMap = (),
        max_session: Duration | None = None,
    ) -> None:
        object.__setattr__(self, "gap", to_duration(gap, "gap"))
        object.__setattr__(self, "gap_rule", gap_rule)
        object.__setattr__(self, "timezone", timezone)
        object.__setattr__(self, "column_map", _column_pairs(column_map))
        longest = None if max_session is None else to_duration(max_session, "max session")
        object.__setattr__(self, "max_session", longest)
        self._check()

    def _check(self) -> None:
        if self.gap <= timedelta(0):
            msg = f"gap must be positive; got {format_duration(self.gap)}"
            raise ConfigError(msg)
        if self.max_session is not None and self.max_session <= timedelta(0):
            msg = f"max session must be positive; got {format_duration(self.max_session)}"
            raise ConfigError(msg)
        if self.gap_rule not in GAP_RULES:
            msg = f"gap rule must be one of {list(GAP_RULES)}; got {self.gap_rule!r}"
            raise ConfigError(msg)
        if not isinstance(self.timezone, str) or not known_zone(self.timezone):
            msg = f"time zone {self.timezone!r} is unknown; use an IANA name such as Europe/Paris"
            raise ConfigError(msg)
        unknown = sorted({name for name, _ in self.column_map} - set(EVENT_COLUMNS))
        if unknown:
            msg = f"--column maps unknown columns {unknown}; known: {list(EVENT_COLUMNS)}"
            raise ConfigError(msg)

    def but(
        self,
        *,
        gap: Duration | None = None,
        gap_rule: GapRule | None = None,
        timezone: str | None = None,
        column_map: ColumnMap | None = None,
        max_session: Duration | None = None,
    ) -> RunConfig:
        """These settings with those given (not None) replaced, checked again.

        Examples
        --------
        >>> RunConfig(gap="5m").but(timezone="Europe/Paris").gap
        datetime.timedelta(seconds=300)
        """
        return RunConfig(
            gap=self.gap if gap is None else gap,
            gap_rule=self.gap_rule if gap_rule is None else gap_rule,
            timezone=self.timezone if timezone is None else timezone,
            column_map=self.column_map if column_map is None else column_map,
            max_session=self.max_session if max_session is None else max_session,
        )


@dataclass(frozen=True, slots=True, init=False)
class StreamConfig:
    """How a streaming job ran: ``SessionWindower(gap)``, ``EventClock(wait)``, arrival order.

    Parameters
    ----------
    gap
        The session windower's gap; must be positive.
    wait
        ``wait_for_system_duration``: how far behind a user's newest event an event may arrive
        before it is late; at least zero.
    gap_rule
        As for ``RunConfig``: Bytewax >= 0.20 is ``inclusive``.
    arrival
        Column giving the arrival order (ties and nulls last: input order); None: input order.

    Examples
    --------
    >>> StreamConfig(gap="10s", wait="2s").wait
    datetime.timedelta(seconds=2)
    """

    gap: timedelta
    wait: timedelta
    gap_rule: GapRule
    arrival: str | None

    def __init__(
        self,
        *,
        gap: Duration = DEFAULT_GAP,
        wait: Duration = timedelta(0),
        gap_rule: GapRule = "inclusive",
        arrival: str | None = None,
    ) -> None:
        object.__setattr__(self, "gap", to_duration(gap, "gap"))
        object.__setattr__(self, "wait", to_duration(wait, "wait"))
        object.__setattr__(self, "gap_rule", gap_rule)
        object.__setattr__(self, "arrival", arrival)
        RunConfig(gap=self.gap, gap_rule=gap_rule)  # the same checks of gap and rule
        if self.wait < timedelta(0):
            msg = f"wait must be at least 0; got -{format_duration(-self.wait)}"
            raise ConfigError(msg)
        if arrival is not None and not isinstance(arrival, str):
            msg = f"arrival: expected a column name; got {arrival!r}"
            raise ConfigError(msg)
