"""The ``describe`` command: what each output table and column means (parse, call, print)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from ctr_batch.cli import render
from ctr_batch.cli.common import JsonOption, one_line_errors, out_console, print_json
from ctr_batch.core.errors import ConfigError
from ctr_batch.core.schema import TABLE_SCHEMAS, describe_tables


@one_line_errors
def describe(
    table: Annotated[
        str | None, typer.Argument(help=f"One table: {', '.join(TABLE_SCHEMAS)} (default: all).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Print each output table's columns: type, unit and meaning."""
    if table is not None and table not in TABLE_SCHEMAS:
        msg = f"unknown table {table!r}; available: {', '.join(TABLE_SCHEMAS)}"
        raise ConfigError(msg)
    tables = describe_tables(table)
    if as_json:
        print_json({"command": "describe", "tables": tables})
        return
    for name, doc in tables.items():
        grid = Table(title=render.plain(f"{name}: {doc['description']}"), title_justify="left")
        for heading in ("column", "type", "unit", "meaning"):
            grid.add_column(heading)
        columns: list[dict[str, str]] = doc["columns"]  # type: ignore[assignment]
        for column in columns:
            cells = (column["name"], column["type"], column["unit"], column["description"])
            grid.add_row(*map(render.plain, cells))
        out_console.print(grid)
