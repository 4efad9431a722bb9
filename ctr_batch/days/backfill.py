"""Nightly backfill: compute day partitions; any order, any number of times, same tables.

A day ``D`` (a calendar date in the run's time zone) owns the sessions that start on ``D``,
the searches made on ``D``, ``ctr_daily`` and ``ctr_by_query_daily`` for ``D``, and the bad
rows whose home day is ``D`` (their ``date=`` input partition, else their event date). Days
whose inputs or settings did not change are skipped; the others are computed in runs of
consecutive days, one pass each (``compute.py``), and committed with their manifest entries
in batches (``publish.py``).
"""

from __future__ import annotations

import dataclasses
import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ctr_batch.core.config import format_duration, to_date
from ctr_batch.core.errors import ConfigError, SettingsConflictError
from ctr_batch.days.compute import compute_days
from ctr_batch.days.config import BackfillConfig
from ctr_batch.days.manifest import DayRecord, fingerprint, read_manifest
from ctr_batch.days.partitions import partition_date
from ctr_batch.days.plan import (
    DayPlan,
    DayReport,
    plan_day,
    plan_days,
    reach_files,
    runs_of_days,
)
from ctr_batch.days.publish import DayCommits
from ctr_batch.days.summaries import write_summaries
from ctr_batch.days.window import days_between
from ctr_batch.io.commit import writing
from ctr_batch.io.find import locate_event_files
from ctr_batch.io.layout import (
    check_output_folder,
    output_folder,
    refuse_other_output,
    remove_stale_temporaries,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from ctr_batch.days.window_tables import WindowEngine


def backfill(
    events: str | Path | Sequence[str | Path],
    out: str | Path,
    start: date | str,
    end: date | str,
    config: BackfillConfig | None = None,
    *,
    on_day: Callable[[DayReport], None] | None = None,
    windows: WindowEngine | None = None,
) -> list[DayReport]:
    """Compute the day partitions from `start` to `end` under `out`; skip unchanged days.

    `events` are Parquet paths (an events root with ``date=`` folders, files or globs);
    `start` and `end` (included) are dates or ``YYYY-MM-DD`` text; `config` defaults to
    ``BackfillConfig()``; `windows` computes each window's tables (default: in this process;
    ``ctr_batch.backfill(..., engine="spark")`` passes Spark's).

    Examples
    --------
    >>> import tempfile
    >>> from datetime import datetime
    >>> import polars as pl
    >>> events = pl.DataFrame({"user_id": ["a", "a", "a"],
    ...     "event_time": [datetime(2024, 1, 1, 23, 59, s) for s in (0, 1, 2)],
    ...     "event_type": ["search", "results", "click"]})
    >>> with tempfile.TemporaryDirectory() as root:
    ...     events.write_parquet(f"{root}/events.parquet")
    ...     [r.record.searches for r in backfill(root, f"{root}/out", "2024-01-01", "2024-01-02")]
    [1, 0]
    """
    out, config = output_folder(out), config or BackfillConfig()
    if not isinstance(config, BackfillConfig):
        msg = f"config: expected a BackfillConfig; got {type(config).__name__}"
        raise ConfigError(msg)
    days = days_between(to_date(start, "start"), to_date(end, "end"))
    located = locate_event_files(events, outside=out)
    key = config.partition_key
    partitions = {path: partition_date(path, root, key) for path, root in located.items()}
    if key is not None and not any(partitions.values()):
        msg = f"--partition-key {key}: no folder {key}=... below the events given; every file "
        msg += "would be read for every day (leave it out, or name the key of the day folders)"
        raise ConfigError(msg)
    check_output_folder(out)
    with writing(out, "backfill"):
        refuse_other_output(out, "backfill")
        remove_stale_temporaries(out)
        manifest = read_manifest(out)
        days = _with_days_to_rebuild(out, days, manifest, config)
        inputs = [events] if isinstance(events, str | Path) else events
        commits = DayCommits(out, manifest, partial(write_summaries, config=config, events=inputs))
        plans = plan_days(days, partitions, config, manifest)
        reports = {plan.day: plan.skipped() for plan in plans if plan.skip}
        for report in reports.values():
            if on_day:
                on_day(report)
        try:
            reports |= _compute_all(plans, partitions, config, commits, on_day, windows)
            commits.finish()
        except BaseException:
            commits.discard()
            raise
    return [reports[day] for day in sorted(reports)]


def _compute_all(
    plans: list[DayPlan],
    partitions: dict[Path, date | None],
    config: BackfillConfig,
    commits: DayCommits,
    on_day: Callable[[DayReport], None] | None,
    windows: WindowEngine | None,
) -> dict[date, DayReport]:
    """Compute the days of `plans` not skipped, and the earlier days of OUT they change.

    A session that began on a day of ``OUT`` before a run of days and goes on into it may
    have more events now: its day is computed again if its own inputs changed (and so on,
    back to where it began). A day whose fingerprint is unchanged has every file that can
    change it as it was (its own folder, and the files with rows within a gap of its
    sessions or of the day: ``plan.reach_files``): its tables stand.
    """
    reports: dict[date, DayReport] = {}
    earlier: set[date] = set()

    def one_run(run: list[DayPlan]) -> None:
        run_reports, owners = _compute_run(run, partitions, config, commits, windows)
        earlier.update(owners)
        for report in run_reports:
            reports[report.day] = report
            if on_day:
                on_day(report)

    todo = [plan for plan in plans if not plan.skip]
    while todo:
        with ThreadPoolExecutor(max_workers=config.jobs) as pool:
            list(pool.map(one_run, runs_of_days(todo)))
        recorded = commits.records()
        again = sorted(day for day in earlier - reports.keys() if day.isoformat() in recorded)
        plans_again = [
            plan_day(day, partitions, config, recorded[day.isoformat()]) for day in again
        ]
        todo = [plan for plan in plans_again if not plan.skip]
        earlier.clear()
    return reports


def _compute_run(
    run: list[DayPlan],
    partitions: dict[Path, date | None],
    config: BackfillConfig,
    commits: DayCommits,
    windows: WindowEngine | None,
) -> tuple[list[DayReport], set[date]]:
    """Compute consecutive days in one pass, commit each, and report them.

    Also returns the days before the run that own sessions going on into it.
    """
    started = time.perf_counter()
    computed, owners = compute_days([plan.day for plan in run], partitions, config, windows)
    seconds = round((time.perf_counter() - started) / len(run), 3)
    reports = []
    for plan in run:
        tables, record = computed[plan.day]
        problem = config.problem(record.rows_home, record.rows_quarantined)
        warning = config.warning(record.rows_home, _rows_before(plan.day, commits.records()))
        files = reach_files(plan.day, record, partitions, config)
        record = dataclasses.replace(
            record,
            fingerprint=fingerprint(files, config.settings()),
            files=len(plan.files),
            seconds=seconds,
            computed_at=datetime.now(UTC).isoformat(timespec="seconds"),
            settings=config.settings(),
        )
        if problem is None:
            commits.add(plan.day, tables, record)
        reports.append(DayReport(plan.day, True, record, problem=problem, warning=warning))
    return reports, owners


def _rows_before(day: date, records: dict[str, DayRecord]) -> list[int]:
    """Input rows of the recorded days before `day`, oldest first."""
    earlier = sorted(key for key in records if key < day.isoformat())
    return [records[key].rows_home for key in earlier]


def _with_days_to_rebuild(
    out: Path, days: list[date], manifest: dict[str, DayRecord], config: BackfillConfig
) -> list[date]:
    """`days`, plus every day of `out` computed with other settings when forced to rebuild.

    Raises
    ------
    SettingsConflictError
        If days of `out` were computed with other settings and `force` is off: mixing days of
        two gaps or time zones would give tables no single run could.
    """
    wanted = _comparable(config.settings())
    other = sorted(
        d for d, r in manifest.items() if r.settings and _comparable(r.settings) != wanted
    )
    if not other:
        return days
    if not config.force:
        msg = f"{out}: {len(other)} day(s) ({other[0]} to {other[-1]}) were computed with other "
        msg += f"settings ({_describe(manifest[other[0]].settings, wanted)}); use those, or "
        msg += "--force to "
        msg += "rebuild every day with these"
        raise SettingsConflictError(msg)
    return sorted({*days, *(date.fromisoformat(day) for day in other)})


def _comparable(settings: dict[str, Any]) -> dict[str, Any]:
    """Settings as stored in the manifest (JSON), without the tool version.

    Days stored before the table layout was recorded have layout 1; the lookback they stored
    did not change their tables (``BackfillConfig.settings``).
    """
    stored: dict[str, Any] = json.loads(json.dumps(settings))
    stored.pop("tool_version", None)
    stored.pop("lookback_us", None)
    stored.setdefault("table_layout", 1)
    return stored


def _describe(settings: dict[str, Any], wanted: dict[str, Any]) -> str:
    """The settings that differ, as ``name then -> now`` (durations as text)."""
    then = _comparable(settings)
    keys = sorted(key for key in {*then, *wanted} if then.get(key) != wanted.get(key))
    return ", ".join(
        f"{_name(key)} {_shown(key, then.get(key))} -> now {_shown(key, wanted.get(key))}"
        for key in keys
    )


def _name(key: str) -> str:
    return key.removesuffix("_us").replace("_", "-")


def _shown(key: str, value: Any) -> str:
    if value is None or value == []:
        return "none"
    if key.endswith("_us") and isinstance(value, int):
        return format_duration(timedelta(microseconds=value))
    return str(value)
