"""The backfill command: day partitions, with progress and the exit codes of its guardrails."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from ctr_batch.cli import log
from ctr_batch.cli import render as report
from ctr_batch.cli.common import (
    EXIT_NIGHT_FAILED,
    ColumnOption,
    GapOption,
    GapRuleOption,
    JsonOption,
    MaxSessionOption,
    OutOption,
    QuietOption,
    SparkMasterOption,
    TimezoneOption,
    date_option,
    err_console,
    one_line_errors,
    out_console,
    print_json,
    run_config,
    settings_json,
)
from ctr_batch.core.config import format_duration, to_duration
from ctr_batch.days.backfill import backfill as run_backfill
from ctr_batch.days.config import BackfillConfig
from ctr_batch.days.plan import DayReport
from ctr_batch.days.window import days_between
from ctr_batch.io.layout import output_folder
from ctr_batch.spark.days import backfill_windows


@one_line_errors
def backfill(
    events: Annotated[
        list[str], typer.Argument(help="Events root (date=YYYY-MM-DD folders), files or globs.")
    ],
    out: OutOption,
    start: Annotated[str, typer.Option("--start", help="First day, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option("--end", help="Last day, YYYY-MM-DD (included).")],
    gap: GapOption = "30m",
    gap_rule: GapRuleOption = "inclusive",
    timezone: TimezoneOption = "UTC",
    lookback: Annotated[
        str,
        typer.Option(
            "--lookback",
            envvar="CTR_BATCH_LOOKBACK",
            help="How far around each day to read first (a session reaching past it widens "
            "the window: every session is read whole).",
        ),
    ] = "1d",
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Recompute days whose inputs did not change, and rebuild every day of OUT "
            "computed with other settings.",
        ),
    ] = False,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs", "-j", envvar="CTR_BATCH_JOBS", help="Runs of days computed in parallel."
        ),
    ] = 1,
    allow_empty: Annotated[
        bool,
        typer.Option(
            "--allow-empty",
            envvar="CTR_BATCH_ALLOW_EMPTY",
            help="Publish days without any input row.",
        ),
    ] = False,
    max_quarantine: Annotated[
        float,
        typer.Option(
            "--max-quarantine",
            envvar="CTR_BATCH_MAX_QUARANTINE",
            help="Largest share of a day's rows that may be quarantined; a day above it fails "
            "and publishes nothing (1 disables).",
        ),
    ] = 0.05,
    min_rows_ratio: Annotated[
        float | None,
        typer.Option(
            "--min-rows-ratio",
            envvar="CTR_BATCH_MIN_ROWS_RATIO",
            help="Warn about a day whose input rows fall below this fraction of the median of "
            "the days before it (published anyway; off by default).",
        ),
    ] = None,
    partition_key: Annotated[
        str | None,
        typer.Option(
            "--partition-key",
            envvar="CTR_BATCH_PARTITION_KEY",
            help="Hive key of the day folders, e.g. event_day for event_day=2026-11-01/ "
            "(default: date, dt, ds or year/month/day).",
        ),
    ] = None,
    column: ColumnOption = None,
    max_session: MaxSessionOption = None,
    engine: Annotated[
        str,
        typer.Option(
            "--engine",
            envvar="CTR_BATCH_ENGINE",
            help="auto (Polars, in this process) or spark (each window of days in user "
            "buckets on Apache Spark, pip install 'ctr-batch\\[spark]'); the same days.",
        ),
    ] = "auto",
    buckets: Annotated[
        int | None,
        typer.Option(
            "--buckets",
            envvar="CTR_BATCH_BUCKETS",
            help="With --engine spark: user buckets per window (default: from its rows).",
        ),
    ] = None,
    spark_master: SparkMasterOption = None,
    quiet: QuietOption = False,
    as_json: JsonOption = False,
) -> None:  # long: one line per Typer option
    """Compute day partitions from START to END; rerun safely, any order, any number of times.

    Exit status 4 when a day failed a guardrail (no input rows, too many quarantined): the
    other days are published, that one is not. Exit status 5 when OUT holds days computed with
    other settings (use them, or --force to rebuild every day).
    """
    config = BackfillConfig(
        run=run_config(gap, gap_rule, timezone, column, max_session),
        lookback=to_duration(lookback, "--lookback"),
        force=force,
        jobs=jobs,
        allow_empty=allow_empty,
        max_quarantine=max_quarantine,
        min_rows_ratio=min_rows_ratio,
        partition_key=partition_key,
    )
    first, last = date_option("--start", start), date_option("--end", end)
    windows = backfill_windows(engine, output_folder(out), spark_master, buckets)
    total = len(days_between(first, last))
    columns = (
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"), TimeElapsedColumn(),
    )  # fmt: skip
    with Progress(
        *columns,
        console=err_console,
        disable=quiet or not err_console.is_terminal or log.logging_lines(),
    ) as bar:
        task = bar.add_task("backfill", total=total, rate="")
        rows = 0
        started = time.perf_counter()

        def advance(report: DayReport) -> None:
            nonlocal rows
            rows += report.record.rows_home if report.computed else 0
            rate = f"{rows / (time.perf_counter() - started):,.0f} rows/s"
            bar.update(task, advance=1, description=f"{report.day}", rate=rate)
            _log_day(report)

        reports = run_backfill(events, out, first, last, config, on_day=advance, windows=windows)
    _print_reports(reports, out, config, as_json)


def _print_reports(
    reports: list[DayReport], out: Path, config: BackfillConfig, as_json: bool
) -> None:
    """The days' table (or JSON) on stdout, each failed day on stderr; exit 4 if any."""
    if as_json:
        days = [_day_json(r) for r in reports]
        settings = settings_json(config.run) | {"lookback": format_duration(config.lookback)}
        print_json({"command": "backfill", "out": str(out), "settings": settings, "days": days})
    else:
        out_console.print(report.backfill_table(reports, title=f"ctr-batch backfill → {out}"))
    for warned in (r for r in reports if r.warning and log.warnings_shown()):
        err_console.print(
            f"warning: {warned.day}: {warned.warning}",
            style="yellow",
            markup=False,
            soft_wrap=True,
        )
    failed = [r for r in reports if r.problem]
    for failure in failed:
        err_console.print(
            f"error: {failure.day}: {failure.problem}", style="red", markup=False, soft_wrap=True
        )
    if failed:
        raise typer.Exit(EXIT_NIGHT_FAILED)


def _log_day(day: DayReport) -> None:
    """One log line for a day of the backfill."""
    record = day.record
    if not day.computed:
        log.log.info("backfill day=%s unchanged (skipped)", day.day)
        return
    log.log.info(
        "backfill day=%s %s rows=%d quarantined=%d sessions=%d searches=%d seconds=%.2f",
        day.day, "failed" if day.problem else "published", record.rows_home,
        record.rows_quarantined, record.sessions, record.searches, record.seconds,
    )  # fmt: skip


def _day_json(day: DayReport) -> dict[str, object]:
    """A day's report as plain values, for ``--json``."""
    return {
        "day": day.day,
        "computed": day.computed,
        "published": day.problem is None,
        "problem": day.problem,
        "warning": day.warning,
        **dataclasses.asdict(day.record),
    }
