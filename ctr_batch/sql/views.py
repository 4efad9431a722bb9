"""Each table folder of a run's output as a DuckDB view of the same name."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from ctr_batch.core.errors import ConfigError, InputError, first_line
from ctr_batch.core.schema import (
    CTR_BY_QUERY_DAILY_TABLE,
    DAY_SUMMARY_TABLE,
    RUN_SUMMARY_TABLE,
    TABLE_SCHEMAS,
)
from ctr_batch.io.commit import CURRENT, sync_path
from ctr_batch.io.find import parquet_files
from ctr_batch.sql.queryfile import list_queries

if TYPE_CHECKING:
    from collections.abc import Mapping


def table_paths(out: str | Path, *, pinned: bool = False) -> dict[str, Path]:
    """Every table folder under `out` that holds Parquet files, by name.

    Folders whose name starts with ``.`` or ``_`` (snapshots, bookkeeping) are skipped. With
    `pinned`, the folders are those of the output committed at this instant (its snapshot),
    so that queries over several tables read one run's tables even while another commits.

    Raises
    ------
    InputError
        If `out` holds no such folder.
    """
    out = Path(out)
    current = out / CURRENT
    base = current.resolve() if pinned and current.is_symlink() else out
    folders = sorted(base.iterdir()) if base.is_dir() else []
    tables = {
        folder.name: folder
        for folder in folders
        if folder.is_dir() and not folder.name.startswith((".", "_")) and parquet_files(folder)
    }
    if not tables:
        msg = f"{out}: no tables found (expected folders {out}/<table>/ holding Parquet files, "
        msg += "as `ctr-batch run --out OUT` writes)"
        raise InputError(msg)
    return tables


def sql_identifier(name: str) -> str:
    """`name` as a quoted SQL identifier.

    Examples
    --------
    >>> sql_identifier('odd"name')
    '"odd""name"'
    """
    return '"' + name.replace('"', '""') + '"'


def sql_string(text: str) -> str:
    """`text` as an SQL string literal.

    Examples
    --------
    >>> sql_string("/data/o'brien/**/*.parquet")
    "'/data/o''brien/**/*.parquet'"
    """
    return "'" + text.replace("'", "''") + "'"


def _view_ddl(name: str, folder: Path) -> str:
    """``CREATE VIEW`` reading every Parquet file under `folder`, by absolute path.

    DuckDB takes no parameters in DDL, so the statement is built as text. That is safe here:
    the view name goes in as a quoted identifier and the path as a string literal, each with
    its quote character doubled, which is the whole of SQL's escaping for them (DuckDB
    gives backslashes no meaning in standard strings). No other text is interpolated.
    A folder whose own path holds a glob character (``*?[]{}``) is read as the list of its
    current files instead of a pattern, which DuckDB would expand.
    """
    base = Path(os.path.abspath(folder))  # noqa: PTH100  (links kept: later runs show through)
    if set(base.as_posix()) & set("*?[]{}"):
        source = "[" + ", ".join(sql_string(p.as_posix()) for p in parquet_files(base)) + "]"
    else:
        source = sql_string(f"{base.as_posix()}/**/*.parquet")
    return (
        f"CREATE OR REPLACE VIEW {sql_identifier(name)} AS SELECT * FROM "
        f"read_parquet({source}, hive_partitioning = true)"
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


def export_duckdb(out: str | Path, db: str | Path) -> list[str]:
    """Write a DuckDB database file `db` with one view per table of `out`; return their names.

    The file also holds each curated report as a table macro taking its parameters, and a
    comment on each table and column (``sql/catalog.py``).

    The views read the Parquet files by absolute path, so the file opens from any directory
    (e.g. ``duckdb analytics.duckdb``); they read the files at query time, so a later run into
    the same `out` shows through, and moving `out` breaks them. The file is written under a
    temporary name next to `db`, then renamed over it. Note that the session time zone is not
    stored: a DuckDB client shows timestamps in its own zone (``SET TimeZone = 'UTC'``).

    Raises
    ------
    InputError
        If `out` has no tables or a table cannot be read.
    """
    tables, db = table_paths(out), Path(db)
    if db.exists() and not _is_duckdb_file(db):
        msg = f"{db} exists and is not a DuckDB database; not replacing it"
        raise ConfigError(msg)
    if db.exists() and (foreign := _foreign_objects(db)):
        msg = f"{db} holds objects ctr-batch export-duckdb did not write ({', '.join(foreign)}); "
        msg += "not replacing it (export to a new file)"
        raise ConfigError(msg)
    db.parent.mkdir(parents=True, exist_ok=True)
    staging = db.with_name(f".{db.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        with duckdb.connect(str(staging)) as con:
            create_views(con, tables)
            from ctr_batch.sql import catalog  # late: catalog builds on this module

            catalog.comment_tables(con, tables)
            catalog.create_macros(con, tables)
        sync_path(staging)  # closed: flushed to disk before it takes the name
        staging.replace(db)
        sync_path(db.parent)
    except (duckdb.IOException, duckdb.TransactionException) as exc:  # a full disk: either
        msg = f"{db}: cannot be written ({first_line(exc)})"
        raise ConfigError(msg) from None
    finally:
        staging.unlink(missing_ok=True)
        staging.with_name(f"{staging.name}.wal").unlink(missing_ok=True)
    return list(tables)


def _foreign_objects(db: Path) -> list[str]:
    """Tables, views and macros in `db` that no export writes (the user's own work)."""
    tables = (*TABLE_SCHEMAS, CTR_BY_QUERY_DAILY_TABLE, RUN_SUMMARY_TABLE, DAY_SUMMARY_TABLE)
    ours = {*tables, *(query.name for query in list_queries("report"))}
    try:
        with duckdb.connect(str(db), read_only=True) as con:
            rows = con.sql(
                "SELECT table_name, table_type = 'VIEW' FROM information_schema.tables "
                "UNION ALL SELECT DISTINCT function_name, true FROM duckdb_functions() "
                "WHERE NOT internal AND function_type IN ('macro', 'table_macro')"
            ).fetchall()
    except duckdb.Error as exc:
        msg = f"{db}: cannot be read to check what it holds ({first_line(exc)})"
        raise ConfigError(msg) from None
    return sorted(name for name, ours_kind in rows if not (ours_kind and name in ours))


def _is_duckdb_file(path: Path) -> bool:
    """True for a DuckDB database file (magic bytes ``DUCK`` after the 8-byte checksum)."""
    with path.open("rb") as handle:
        return handle.read(12)[8:12] == b"DUCK"
