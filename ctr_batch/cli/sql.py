"""SQL commands: ``sql``, ``query``, ``check`` and ``export-duckdb`` (parse, call, print)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from ctr_batch.cli import render as report
from ctr_batch.cli.common import (
    JsonOption,
    err_console,
    key_values,
    one_line_errors,
    out_console,
    print_json,
)
from ctr_batch.core.errors import ConfigError
from ctr_batch.io.write import write_file, write_text

if TYPE_CHECKING:
    import polars as pl

FORMATS = ("table", "csv", "json", "ndjson", "parquet")
OutArgument = Annotated[Path, typer.Argument(help="Output directory of a run or backfill.")]
ParamOption = Annotated[
    list[str] | None, typer.Option("--param", "-p", help="Query parameter KEY=VALUE.")
]
FormatOption = Annotated[
    str,
    typer.Option(
        "--format",
        "-f",
        help="table (terminal), csv, json (one array), ndjson (one object per line) or parquet.",
    ),
]
OutputOption = Annotated[
    Path | None,
    typer.Option("--output", help="File for csv/json/ndjson/parquet (default: stdout)."),
]
RowsOption = Annotated[int, typer.Option("--rows", help="Rows to show in a terminal table.")]


def _emit(frame: pl.DataFrame, title: str, fmt: str, output: Path | None, rows: int) -> None:
    if fmt not in FORMATS:
        msg = f"--format {fmt!r}: expected one of {', '.join(FORMATS)}"
        raise ConfigError(msg)
    if fmt == "table":
        if output is not None:
            msg = "--output FILE needs --format csv, json, ndjson or parquet"
            raise ConfigError(msg)
        out_console.print(report.frame_table(frame, title, limit=rows))
    elif fmt == "parquet":
        if output is None:
            msg = "--format parquet needs --output FILE"
            raise ConfigError(msg)
        write_file(frame, output, durable=True)
        err_console.print(f"wrote {frame.height:,} rows to {output}", markup=False)
    else:
        text = _text(frame, fmt)
        if output is None:
            typer.echo(text, nl=False)
        else:
            write_text(text, output)
            err_console.print(f"wrote {frame.height:,} rows to {output}", markup=False)


def _text(frame: pl.DataFrame, fmt: str) -> str:
    """`frame` as csv, a JSON array (``json``) or one JSON object per line (``ndjson``)."""
    if fmt == "csv":
        nested = [name for name, kind in frame.schema.items() if kind.is_nested()]
        if nested:
            msg = f"--format csv cannot hold list columns ({', '.join(nested)}); use json, "
            msg += "ndjson or parquet, or select other columns"
            raise ConfigError(msg)
        return frame.write_csv()
    if fmt == "ndjson":
        return frame.write_ndjson()
    return frame.write_json() + "\n"


@one_line_errors
def sql(
    out: OutArgument,
    statement: Annotated[
        str | None, typer.Argument(help="SQL; every table of OUT is a view (or use --file).")
    ] = None,
    file: Annotated[
        str | None,
        typer.Option(
            "--file",
            help="Read the SQL from this file, or - for stdin; a file that opens with the "
            "curated header (-- purpose: ...) takes its parameter defaults from it.",
        ),
    ] = None,
    fmt: FormatOption = "table",
    output: OutputOption = None,
    param: ParamOption = None,
    rows: RowsOption = 50,
) -> None:
    """Run SQL over the tables of OUT (DuckDB; each table is a view of the same name)."""
    from ctr_batch.sql import query as sql_layer  # DuckDB loads only for SQL commands

    if (statement is None) == (file is None):
        msg = "give the SQL as STATEMENT or with --file FILE (- for stdin), not both"
        raise typer.BadParameter(msg, param_hint="STATEMENT / --file")
    given = key_values("--param", param)
    text, params = _sql_text(file, given) if file is not None else (statement or "", given)
    frame = sql_layer.run_sql(out, text, params or None)
    _emit(frame, "result", fmt, output, rows)


def _sql_text(file: str, given: dict[str, str]) -> tuple[str, dict[str, str | None]]:
    """The SQL of `file` (``-``: stdin) and its parameters, with header defaults if any."""
    from ctr_batch.sql.queryfile import QueryFile, bind_params, has_header

    source = Path("<stdin>" if file == "-" else file)
    if file == "-" and sys.stdin is None:
        msg = "--file -: standard input is closed; give the SQL on it, or a file"
        raise ConfigError(msg)
    try:
        if file == "-":  # read as bytes, so that stdin is held to UTF-8 as files are
            text = sys.stdin.buffer.read().decode("utf-8")
        else:
            text = source.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        msg = f"{source}: not UTF-8 text, so not SQL"
        raise ConfigError(msg) from None
    if not has_header(text):
        return text, dict(given)
    return text, bind_params(QueryFile.parse(source, text), given, "report")


@one_line_errors
def query(
    name: Annotated[
        str | None, typer.Argument(help="Query name (see --list), or a PATH.sql file.")
    ] = None,
    out: Annotated[Path | None, typer.Argument(help="Output directory of a run.")] = None,
    param: ParamOption = None,
    list_: Annotated[
        bool, typer.Option("--list", "-l", help="List the curated queries and exit.")
    ] = False,
    queries: Annotated[
        Path | None,
        typer.Option("--queries", help="A folder of .sql files in the header format to use."),
    ] = None,
    fmt: FormatOption = "table",
    output: OutputOption = None,
    rows: RowsOption = 50,
) -> None:
    """Run a curated query of queries/ (or of --queries DIR, or a PATH.sql) over OUT."""
    from ctr_batch.sql import query as sql_layer

    if list_:
        out_console.print(_query_list(queries))
        return
    if name is None or out is None:  # a usage error (exit 2), as for any missing argument
        msg = "give a query NAME and an OUT directory, or --list"
        raise typer.BadParameter(msg, param_hint="NAME OUT")
    frame = sql_layer.run_query(name, out, key_values("--param", param), folder=queries)
    _emit(frame, name, fmt, output, rows)


@one_line_errors
def check(
    out: OutArgument,
    param: ParamOption = None,
    examples: Annotated[int, typer.Option("--examples", help="Offending rows to show.")] = 5,
    as_json: JsonOption = False,
) -> None:
    """Run every invariant of queries/checks/; exit 1 when any returns rows."""
    from ctr_batch.sql import query as sql_layer

    results = sql_layer.run_checks(out, key_values("--param", param))
    failed = {name: rows for name, rows in results.items() if not rows.is_empty()}
    if as_json:
        counts = {name: rows.height for name, rows in results.items()}
        print_json(
            {"command": "check", "out": str(out), "passed": not failed, "offending": counts}
        )
        raise typer.Exit(1 if failed else 0)
    table = Table(title=report.plain(f"checks on {out}"), title_justify="left")
    table.add_column("check")
    table.add_column("offending rows", justify="right")
    table.add_column("result")
    for name, offending in results.items():
        verdict = "[green]pass[/green]" if offending.is_empty() else "[red]FAIL[/red]"
        table.add_row(name, f"{offending.height:,}", verdict)
    out_console.print(table)
    for name, offending in failed.items():
        out_console.print(report.frame_table(offending, f"{name}: examples", limit=examples))
    if failed:
        raise typer.Exit(1)


@one_line_errors
def export_duckdb(
    out: OutArgument,
    db: Annotated[Path, typer.Argument(help="DuckDB database file to create.")],
) -> None:
    """Write a DuckDB file: a view per table of OUT, a table macro per curated query, comments."""
    from ctr_batch.sql.views import export_duckdb as export

    views = export(out, db)
    out_console.print(f"wrote {db} with views: {', '.join(views)}", markup=False)
    out_console.print("and a table macro per curated query (ctr-batch query --list)", markup=False)
    out_console.print(
        f"try: duckdb {db} -c \"SELECT * FROM daily_ctr(start := '2026-11-01')\"", markup=False
    )


def _query_list(folder: Path | None) -> Table:
    from ctr_batch.sql.queryfile import list_queries

    where = "curated queries" if folder is None else f"queries of {folder}"
    table = Table(title=report.plain(f"{where} (ctr-batch query NAME OUT)"), title_justify="left")
    for column in ("name", "purpose", "grain", "params"):
        table.add_column(column)
    for item in list_queries(folder=folder):
        cells = (item.name, item.purpose, item.grain, item.params_doc or "none")
        table.add_row(*map(report.plain, cells))
    return table
