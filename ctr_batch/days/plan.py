"""Which days a backfill computes: each day's files and fingerprint, and runs of days.

A day is skipped when its fingerprint (its window's files and the settings) is the one it was
computed with; days already in ``OUT`` next to the days asked for are computed again when
their inputs changed; the days to compute are grouped in runs of consecutive days computed in
one pass each.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from ctr_batch.days.manifest import DayRecord, fingerprint
from ctr_batch.days.window import (
    SLACK,
    files_between,
    files_for_day,
    own_times,
    run_bounds,
    window_bounds,
)
from ctr_batch.io.read import file_rows

if TYPE_CHECKING:
    from pathlib import Path

    from ctr_batch.days.config import BackfillConfig

_ONE_DAY = timedelta(days=1)
_MICROSECOND = timedelta(microseconds=1)
RUN_ROWS = 30_000_000  # input rows computed in one pass, at most (about 4 GiB at peak)


@dataclass(frozen=True, slots=True)
class DayReport:
    """What happened to one day."""

    day: date
    computed: bool
    record: DayRecord
    problem: str | None = None  # why the day failed; then nothing was published for it
    warning: str | None = None  # why the day looks wrong, though it was published


@dataclass(frozen=True, slots=True)
class DayPlan:
    """What a day reads, its fingerprint, and whether it is skipped (inputs unchanged)."""

    day: date
    files: list[Path]
    digest: str
    old: DayRecord | None
    skip: bool

    def skipped(self) -> DayReport:
        """The report of a day skipped."""
        assert self.old is not None  # only a recorded day is skipped
        return DayReport(self.day, computed=False, record=self.old)


def plan_days(
    days: list[date],
    partitions: dict[Path, date | None],
    config: BackfillConfig,
    manifest: dict[str, DayRecord],
) -> list[DayPlan]:
    """Plans of `days`, and of the stale neighbours they bring, in date order."""
    plans = [plan_day(day, partitions, config, manifest.get(day.isoformat())) for day in days]
    plans.extend(_stale_neighbours(days, partitions, config, manifest))
    return sorted(plans, key=lambda plan: plan.day)


def plan_day(
    day: date, partitions: dict[Path, date | None], config: BackfillConfig, old: DayRecord | None
) -> DayPlan:
    """What `day` reads and its fingerprint; skipped when `old` was computed from the same.

    A recorded day's fingerprint covers the files that can change it (``reach_files`` of its
    recorded reach window); a new day's, those its lookback window reads.
    """
    files = files_for_day(day, partitions, config)
    covered = files if old is None or not old.window else reach_files(day, old, partitions, config)
    digest = fingerprint(covered, config.settings())
    skip = not config.force and old is not None and old.fingerprint == digest
    return DayPlan(day, files, digest, old, skip)


def reach_files(
    day: date, record: DayRecord, partitions: dict[Path, date | None], config: BackfillConfig
) -> list[Path]:
    """The input files that can change `day` as `record` has it: its fingerprint's files.

    They are the day's own folder (its rows, placed or quarantined, whatever their times),
    every file outside ``date=`` folders, and the other folders' files whose footers show
    times within the day's reach window (``compute.reach_window``) or within the times of the
    day's own folder (a resent copy of one of its rows, late or not, decides which copy is
    the duplicate), or no times at all.
    """
    bounds = _reach(day, record, partitions, config)
    chosen = files_between(bounds, partitions, config, own=(day, day))
    return sorted(chosen, key=lambda path: path.as_posix())


def _reach(
    day: date, record: DayRecord, partitions: dict[Path, date | None], config: BackfillConfig
) -> tuple[datetime, datetime]:
    """The recorded reach window of `day`, stretched over the times of its own folder's rows."""
    low, high = _bounds(record.window)
    own = own_times((day, day), partitions, config)
    if own is None:
        return low, high
    return min(low, own[0]), max(high, own[1] + _MICROSECOND)


def _stale_neighbours(
    days: list[date],
    partitions: dict[Path, date | None],
    config: BackfillConfig,
    manifest: dict[str, DayRecord],
) -> list[DayPlan]:
    """Recorded days outside `days` whose window reaches them and whose inputs changed.

    A day's reach (``_reach``) meets them when it overlaps their days, or the times that
    their ``date=`` folders and the folders next to them may hold (a day of slack on each
    side): a late file may land in the folder of the day before the one asked for, and in a
    time zone far from UTC a row of it may be timed on a local day two days earlier still.

    The night after ``D``, day ``D``'s sessions that went on past midnight have more events:
    ``D`` read the new day's folder in its window, so its fingerprint changed, and it is
    computed again with the new day. Days further away are left alone (old partitions removed
    by a retention policy, say, do not make a nightly run recompute them).
    """
    asked = set(days)
    start, end = run_bounds((min(days), max(days)), config.run.timezone)
    # the asked days' folders and the next ones may hold rows up to a day (SLACK) away
    start = min(start, datetime.combine(min(days) - _ONE_DAY, time(), UTC) - SLACK)
    end = max(end, datetime.combine(max(days) + 2 * _ONE_DAY, time(), UTC) + SLACK)
    stale = []
    for key, old in manifest.items():
        day = date.fromisoformat(key)
        window = (
            _reach(day, old, partitions, config)
            if old.window
            else window_bounds((day, day), partitions, config)
        )
        if day in asked or not (window[0] < end and window[1] > start):
            continue
        plan = plan_day(day, partitions, config, old)
        if plan.digest != old.fingerprint:
            stale.append(dataclasses.replace(plan, skip=False))
    return stale


def _bounds(window: list[str]) -> tuple[datetime, datetime]:
    """A recorded window's start and end."""
    return datetime.fromisoformat(window[0]), datetime.fromisoformat(window[1])


def runs_of_days(plans: list[DayPlan]) -> list[list[DayPlan]]:
    """Consecutive days to compute in one pass each, of at most ``RUN_ROWS`` input rows.

    Only the footers of the files these days read are opened, and only to group two or more.
    """
    if len(plans) < 2:
        return [plans] if plans else []
    rows = {path: file_rows(path) for plan in plans for path in plan.files}
    runs: list[list[DayPlan]] = []
    files: set[Path] = set()
    total = 0
    for plan in plans:
        added = set(plan.files) - files
        grown = total + sum(rows[path] for path in added)
        if runs and (plan.day - runs[-1][-1].day).days == 1 and grown <= RUN_ROWS:
            runs[-1].append(plan)
            files, total = files | added, grown
        else:
            runs.append([plan])
            files, total = set(plan.files), sum(rows[path] for path in plan.files)
    return runs
