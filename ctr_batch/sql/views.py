"""Each table folder of a run's output as a DuckDB view of the same name."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from ctr_batch.core.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Mapping


def table_paths(out: str | Path) -> dict[str, Path]:
    """Every table folder under `out` that holds Parquet files, by name.

    Folders whose name starts with ``.`` or ``_`` (staging, bookkeeping) are skipped.

    Raises
    ------
    InputError
        If `out` holds no such folder.
    """
    out = Path(out)
    folders = sorted(out.iterdir()) if out.is_dir() else []
    tables = {
        folder.name: folder
        for folder in folders
        if folder.is_dir()
        and not folder.name.startswith((".", "_"))
        and any(folder.rglob("*.parquet"))
    }
    if not tables:
        msg = f"{out}: no tables found (expected folders {out}/<table>/ holding Parquet files, "
        msg += "as `ctr-batch run --out OUT` writes)"
        raise InputError(msg)
    return tables


def _sql_identifier(name: str) -> str:
    """`name` as a quoted SQL identifier.

    Examples
    --------
    >>> _sql_identifier('odd"name')
    '"odd""name"'
    """
    return '"' + name.replace('"', '""') + '"'


def _sql_string(text: str) -> str:
    """`text` as an SQL string literal.

    Examples
    --------
    >>> _sql_string("/data/o'brien/**/*.parquet")
    "'/data/o''brien/**/*.parquet'"
    """
    return "'" + text.replace("'", "''") + "'"


def _view_ddl(name: str, folder: Path) -> str:
    """``CREATE VIEW`` reading every Parquet file under `folder`, by absolute path.

    DuckDB takes no parameters in DDL, so the statement is built as text. That is safe here:
    the view name goes in as a quoted identifier and the path as a string literal, each with
    its quote character doubled, which is the whole of SQL's escaping for them (DuckDB
    gives backslashes no meaning in standard strings). No other text is interpolated.
    """
    pattern = f"{folder.resolve().as_posix()}/**/*.parquet"
    return (
        f"CREATE OR REPLACE VIEW {_sql_identifier(name)} AS SELECT * FROM "
        f"read_parquet({_sql_string(pattern)}, hive_partitioning = true)"
    )


def open_views(tables: Mapping[str, Path]) -> duckdb.DuckDBPyConnection:
    """An in-memory connection (session time zone UTC) with a view per table of `tables`."""
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        create_views(con, tables)
    except BaseException:
        con.close()
        raise
    return con


def create_views(con: duckdb.DuckDBPyConnection, tables: Mapping[str, Path]) -> None:
    """One view per table folder, named after it; an unreadable table is an ``InputError``."""
    for name, folder in tables.items():
        try:
            con.execute(_view_ddl(name, folder))
        except duckdb.Error as exc:
            msg = f"{folder}: cannot read table {name!r} ({first_line(exc)})"
            raise InputError(msg) from None


def first_line(exc: BaseException) -> str:
    """The first line of an error's message (DuckDB's run over several)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
