"""Which day an input file's hive partition folders name (``date=``, ``dt=``, ``ds=``, ...)."""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING

from ctr_batch.core.errors import InputError

if TYPE_CHECKING:
    from pathlib import Path

_PARTITION = re.compile(r"(date|dt|ds)=(.*)")  # a day in one folder
_PART = re.compile(r"(year|month|day)=(\d{1,4})")  # or in three: year=/month=/day=


def partition_date(path: Path, root: Path, key: str | None = None) -> date | None:
    """The day of the hive partition folders of `path`, below `root` only.

    A day is a folder ``date=``, ``dt=`` or ``ds=`` holding ``YYYY-MM-DD`` or ``YYYYMMDD``, or
    three folders ``year=/month=/day=``; with `key`, only ``<key>=`` folders name a day. Folders
    above the events root are not partitions: a root inside ``lake/date=2019-01-01/`` says
    nothing about the days of its files. A day folder whose value is not a date, or two day
    keys naming different days (pass `key`), is an ``InputError`` naming the file.

    Examples
    --------
    >>> from pathlib import Path
    >>> partition_date(Path("lake/date=2019-01-01/ev/dt=20240503/a.parquet"),
    ...                Path("lake/date=2019-01-01"))
    datetime.date(2024, 5, 3)
    >>> partition_date(Path("ev/year=2024/month=5/day=3/a.parquet"), Path("ev"))
    datetime.date(2024, 5, 3)
    >>> partition_date(Path("lake/date=2019-01-01/ev/a.parquet"), Path("lake/date=2019-01-01"))
    >>> partition_date(Path("ev/event_day=2024-05-03/a.parquet"), Path("ev"), "event_day")
    datetime.date(2024, 5, 3)
    """
    try:
        folders = path.parent.relative_to(root).parts
    except ValueError:  # not below the root (a file given by name, say)
        folders = path.parent.parts[-3:]
    try:
        days = _named_days(folders, key)
    except ValueError:
        msg = f"{path}: its partition folders do not name a day; expected date=YYYY-MM-DD, "
        msg += "dt=YYYYMMDD or year=/month=/day="
        raise InputError(msg) from None
    if len(set(days.values())) > 1:
        named = ", ".join(f"{name}={day}" for name, day in days.items())
        msg = f"{path}: its folders name different days ({named}); pass --partition-key to "
        msg += "say which one partitions the events"
        raise InputError(msg)
    return next(iter(days.values()), None)


def _named_days(folders: tuple[str, ...], key: str | None) -> dict[str, date]:
    """The day each day key of `folders` names (ValueError for a value that is no date)."""
    pattern = _PARTITION if key is None else re.compile(rf"({re.escape(key)})=(.*)")
    days = {}
    for folder in folders:
        if match := pattern.fullmatch(folder):
            value = match.group(2)
            days[match.group(1)] = date.fromisoformat(value if "-" in value else _dashed(value))
    parts = {m.group(1): int(m.group(2)) for f in folders if (m := _PART.fullmatch(f))}
    if key is None and len(parts) == 3:
        days["year/month/day"] = date(parts["year"], parts["month"], parts["day"])
    return days


def _dashed(value: str) -> str:
    """``YYYYMMDD`` as ``YYYY-MM-DD`` (anything else is left for ``fromisoformat`` to refuse)."""
    return f"{value[:4]}-{value[4:6]}-{value[6:]}" if len(value) == 8 else value
