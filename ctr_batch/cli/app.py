"""Command line: parse arguments, call the library, print. Nothing else."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from ctr_batch.batch.run import check_buckets
from ctr_batch.cli import days as cli_days
from ctr_batch.cli import describe as cli_describe
from ctr_batch.cli import render as report
from ctr_batch.cli import report as cli_report
from ctr_batch.cli import settings
from ctr_batch.cli import sql as cli_sql
from ctr_batch.cli import stream as cli_stream
from ctr_batch.cli.common import (
    ColumnOption,
    EngineOption,
    GapOption,
    GapRuleOption,
    JsonOption,
    MaxSessionOption,
    OutOption,
    QuietOption,
    SparkMasterOption,
    TimezoneOption,
    after_commit,
    date_option,
    one_line_errors,
    out_console,
    print_json,
    run_config,
    run_in_one_line,
    settings_json,
)
from ctr_batch.cli.running import run_with_progress
from ctr_batch.core.config import RunConfig, parse_size
from ctr_batch.core.errors import ConfigError
from ctr_batch.core.schema import (
    CLICKS_PER_SEARCH,
    CTR,
    CTR_BY_QUERY_TABLE,
    CTR_DAILY_TABLE,
    DURATION,
    FIRST_CLICK_POSITION,
    N_CLICKS,
    N_EVENTS,
    N_RESULTS,
    N_SEARCHES,
    QUERY,
    SEARCH_TIME,
    SEARCHES_TABLE,
    SESSION_START,
    SESSIONS_TABLE,
    TABLE_SCHEMAS,
    TIME_TO_FIRST_CLICK,
    USER_ID,
)
from ctr_batch.io.read import scan_table
from ctr_batch.io.write import write_events
from ctr_batch.samples.bundled import SAMPLES, sample
from ctr_batch.samples.generate import generate_events

DEMO_COLUMNS = {
    CTR_DAILY_TABLE: list(TABLE_SCHEMAS[CTR_DAILY_TABLE]),
    CTR_BY_QUERY_TABLE: list(TABLE_SCHEMAS[CTR_BY_QUERY_TABLE]),
    SESSIONS_TABLE: [
        USER_ID,
        SESSION_START,
        DURATION,
        N_EVENTS,
        N_SEARCHES,
        N_CLICKS,
        CLICKS_PER_SEARCH,
    ],
    SEARCHES_TABLE: [
        USER_ID,
        SEARCH_TIME,
        QUERY,
        N_RESULTS,
        N_CLICKS,
        CTR,
        TIME_TO_FIRST_CLICK,
        FIRST_CLICK_POSITION,
    ],
}
DEMO_ORDER = {SESSIONS_TABLE: [USER_ID, SESSION_START], SEARCHES_TABLE: [USER_ID, SEARCH_TIME]}

app = typer.Typer(
    name="ctr-batch",
    help="Search sessions and click-through rate, in batch, from Parquet event logs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


app.callback()(settings.root_options)


@app.command()
@one_line_errors
def run(
    events: Annotated[
        list[str], typer.Argument(help="Parquet file(s), directories (recursive) or globs.")
    ],
    out: OutOption,
    gap: GapOption = "30m",
    gap_rule: GapRuleOption = "inclusive",
    timezone: TimezoneOption = "UTC",
    column: ColumnOption = None,
    max_session: MaxSessionOption = None,
    engine: EngineOption = "auto",
    memory_limit: Annotated[
        str | None,
        typer.Option(
            "--memory-limit",
            envvar="CTR_BATCH_MEMORY_LIMIT",
            help="Peak memory of the whole process, e.g. 8GiB, 8G or 512M: logs that need more "
            "are processed in user buckets (same tables); default: a quarter of the machine's "
            "or the container's memory. With --engine duckdb, DuckDB's limit.",
        ),
    ] = None,
    buckets: Annotated[
        int | None,
        typer.Option(
            "--buckets",
            envvar="CTR_BATCH_BUCKETS",
            help="Force this many user buckets (1: one in-memory pass).",
        ),
    ] = None,
    spark_master: SparkMasterOption = None,
    quiet: QuietOption = False,
    as_json: JsonOption = False,
) -> None:
    """Compute sessions, searches, CTR tables and quarantine from EVENTS into OUT."""
    config = run_config(gap, gap_rule, timezone, column, max_session)
    check_buckets(buckets, "--buckets")
    limit = parse_size(memory_limit) if memory_limit else None
    summary = run_with_progress(events, out, config, engine, quiet, limit, buckets, spark_master)
    with after_commit(out):
        if as_json:
            settings = settings_json(config) | {"engine": engine}
            document = {"command": "run", "out": str(out), "settings": settings}
            print_json(document | summary.to_json())
        else:
            out_console.print(report.summary_table(summary, title=f"ctr-batch run → {out}"))


@app.command()
@one_line_errors
def demo(
    name: Annotated[
        str, typer.Option("--sample", help=f"Bundled sample: {', '.join(SAMPLES)}.")
    ] = "sample",
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Keep the tables here (default: temporary).")
    ] = None,
    rows: Annotated[int, typer.Option("--rows", help="Rows to show per table.")] = 10,
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write the HTML report of the sample here.")
    ] = None,
) -> None:
    """Run the main job on a sample bundled with the package and print the tables."""
    chosen = sample(name)
    out_console.print(
        Text.assemble((chosen.name, "bold"), f": {chosen.description} ({chosen.path})")
    )
    config = RunConfig(gap=chosen.gap)
    with tempfile.TemporaryDirectory(prefix="ctr-batch-demo-") as scratch:
        target = out or Path(scratch)
        summary = run_with_progress([str(chosen.path)], target, config, "auto", quiet=False)
        out_console.print(report.summary_table(summary, title="run summary"))
        for table, columns in DEMO_COLUMNS.items():
            frame = scan_table(target / table).select(columns).collect()
            frame = frame.sort(DEMO_ORDER[table]) if table in DEMO_ORDER else frame
            out_console.print(report.frame_table(frame, table, limit=rows))
        if html is not None:
            from ctr_batch.reporting.build import report as build_report

            written = build_report(target, html, title=f"ctr-batch demo: {chosen.name}")
            out_console.print(f"wrote the report {written.path}", markup=False)
    out_console.print(_next_steps(out), markup=False, highlight=False)


def _next_steps(out: Path | None) -> str:
    """Where to go after the demo: keep the tables, chart them, query them."""
    where = str(out) if out is not None else "DIR"
    steps: list[tuple[str, str]] = []
    if out is None:
        steps.append(("ctr-batch demo --out DIR", "keep the tables in DIR"))
    steps += [
        (f"ctr-batch report {where} --html report.html", "charts in one offline page"),
        (f"ctr-batch query daily_ctr {where}", "curated SQL (list: ctr-batch query --list)"),
    ]
    width = max(len(command) for command, _ in steps)
    return "next:\n" + "\n".join(f"  {command:<{width}}  {why}" for command, why in steps)


@app.command()
@one_line_errors
def generate(
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", help="A .parquet file, or a directory for date=YYYY-MM-DD partitions."
        ),
    ],
    events: Annotated[int, typer.Option("--events", help="About how many events.")] = 100_000,
    users: Annotated[int, typer.Option("--users", help="Number of users.")] = 1_000,
    days: Annotated[int, typer.Option("--days", help="Number of days.")] = 7,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same log).")] = 0,
    start: Annotated[
        str, typer.Option("--start", help="First day, YYYY-MM-DD (UTC).")
    ] = "2026-11-01",
    bad_rows: Annotated[
        float, typer.Option("--bad-rows", help="Share of bad rows to inject (0 to 1).")
    ] = 0.0,
) -> None:
    """Write a realistic, seeded search event log for trying and benchmarking the tool."""
    if events < 1 or users < 1 or days < 1 or not 0 <= bad_rows < 1:
        msg = "--events, --users and --days must be positive and --bad-rows in [0, 1)"
        raise ConfigError(msg)
    first_day = date_option("--start", start)
    frame = generate_events(
        events=events, users=users, days=days, seed=seed, start=first_day, bad_row_rate=bad_rows
    )
    paths = write_events(frame, out)
    out_console.print(
        f"wrote {frame.height:,} events to {len(paths)} file(s) under {out}", markup=False
    )


app.command()(cli_days.backfill)
app.command()(cli_sql.sql)
app.command()(cli_sql.query)
app.command()(cli_sql.check)
app.command(name="export-duckdb")(cli_sql.export_duckdb)
app.command(name="report")(cli_report.report)
app.command(name="describe")(cli_describe.describe)
app.command(name="simulate-stream")(cli_stream.simulate_stream)
app.command()(cli_stream.validate)


def main() -> None:
    """Entry point of the ``ctr-batch`` script."""
    run_in_one_line(app)
