"""Run the curated SQL of ``queries/`` with DuckDB over the Parquet tables of a run.

This is the edge where SQL runs. Each table folder under the output directory ``OUT`` (what
``ctr-batch run --out OUT`` writes) becomes a view of the same name, so a query names tables
bare (``FROM searches``). Values reach the SQL only as DuckDB ``$name`` parameters.

Every ``.sql`` file opens with a header of ``--`` comment lines that this module parses::

    -- purpose: Daily CTR with clicks per search.
    -- grain: day
    -- reads: searches, sessions
    -- params: $start DATE (first day, inclusive; default none = no lower bound),
    --   $end DATE (last day, inclusive; default none = no upper bound)

A line indented by two or more spaces after ``--`` continues the field above it; any other
comment line ends the header fields (free notes may follow). ``params: none`` declares no
parameters. Parameter values are strings (as typed on a command line) and each query casts
them itself (``$start::DATE``). A parameter whose description says ``default <value>`` is
optional: left out, it gets that value, ``default none`` meaning SQL ``NULL``. Every other
parameter is required. Reports live in ``queries/*.sql``; checks in ``queries/checks/*.sql``
return the offending rows, so zero rows means pass.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

import duckdb

from ctr_batch.core.errors import ConfigError, first_line
from ctr_batch.sql.queryfile import (
    QueryFile,
    QueryKind,
    bind_params,
    find_query,
    list_queries,
    noun,
)
from ctr_batch.sql.views import open_views, table_paths

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    import polars as pl


_MISSING_TABLE = re.compile(r"Table with name (.+?) does not exist")


def connect(out: str | Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with one view per table of `out`; close it after use.

    The session time zone is UTC, so timestamps come back as UTC whatever the machine's zone.

    Raises
    ------
    InputError
        If `out` has no tables, or a table's files cannot be read.
    """
    return open_views(table_paths(out, pinned=True))


def run_sql(out: str | Path, sql: str, params: Mapping[str, object] | None = None) -> pl.DataFrame:
    """Run one SQL statement over the tables of `out` and return its rows.

    Parameters
    ----------
    out
        Output directory of a run.
    sql
        DuckDB SQL naming tables bare (``SELECT * FROM sessions``).
    params
        Values of the statement's ``$name`` parameters.

    Raises
    ------
    ConfigError
        For an unknown table (the message lists those under `out`) or any other SQL error
        (``SQL error: <DuckDB's first line>``).
    InputError
        If `out` has no tables.

    Examples
    --------
    >>> import tempfile
    >>> from datetime import datetime
    >>> import polars as pl
    >>> from ctr_batch.batch.run import run
    >>> events = pl.DataFrame({"user_id": ["a", "a", "b"],
    ...     "event_time": [datetime(2024, 1, 1, 0, 0, s) for s in (0, 1, 2)],
    ...     "event_type": ["search", "click", "search"]})
    >>> with tempfile.TemporaryDirectory() as out:
    ...     _ = run(events, out)
    ...     rows = run_sql(out, "SELECT count(*) AS n FROM searches WHERE clicked")
    >>> rows["n"].item()
    1
    """
    if not isinstance(sql, str) or not sql.strip():
        msg = f"sql: expected an SQL statement; got {sql!r}"
        raise ConfigError(msg)
    if params is not None and not isinstance(params, Mapping):
        msg = f"params: expected a mapping of name to value; got {type(params).__name__}"
        raise ConfigError(msg)
    tables = table_paths(out, pinned=True)
    with open_views(tables) as con:
        return _execute(con, sql, params, tables)


def run_query(
    name: str,
    out: str | Path,
    params: Mapping[str, str | None] | None = None,
    *,
    kind: QueryKind = "report",
    folder: str | Path | None = None,
) -> pl.DataFrame:
    """Run the report (or check) `name` over the tables of `out`.

    Parameters
    ----------
    name
        File name in ``queries/`` (or ``queries/checks/``) without ``.sql``.
    out
        Output directory of a run.
    params
        Parameter values as strings, e.g. ``{"start": "2026-11-01"}``; the query casts them.
        Optional parameters left out take their header default.
    kind
        ``report`` or ``check``.
    folder
        A folder of ``.sql`` files in the header format to look `name` up in instead of
        ``queries/``; a `name` that is a path to an ``.sql`` file runs that file.

    Raises
    ------
    ConfigError
        Unknown query, unknown or missing parameter, a table the query reads missing under
        `out`, or an SQL error (e.g. a value that does not cast); all one line.
    InputError
        If `out` has no tables.

    Examples
    --------
    >>> import tempfile
    >>> from datetime import datetime
    >>> import polars as pl
    >>> from ctr_batch.batch.run import run
    >>> events = pl.DataFrame({"user_id": ["a", "a", "b"],
    ...     "event_time": [datetime(2024, 1, 1, 0, 0, s) for s in (0, 1, 2)],
    ...     "event_type": ["search", "click", "search"]})
    >>> with tempfile.TemporaryDirectory() as out:
    ...     _ = run(events, out)
    ...     daily = run_query("daily_ctr", out)
    >>> daily["searches"].to_list()
    [2]
    """
    query = find_query(name, kind, folder)
    values = bind_params(query, params or {}, kind)
    tables = table_paths(out, pinned=True)
    _require_tables([query], tables, out, kind)
    with open_views(tables) as con:
        return _execute_file(con, query, values, tables)


def run_checks(
    out: str | Path, params: Mapping[str, str | None] | None = None
) -> dict[str, pl.DataFrame]:
    """Run every check of ``queries/checks/`` on `out`: name → offending rows (none = pass).

    `params` is shared by all checks; each check receives the parameters it declares, and
    the others take their header defaults (e.g. the gap of ``run_summary``).

    Raises
    ------
    ConfigError
        A parameter no check declares, a missing required one, a table a check reads missing
        under `out`, or an SQL error. Nothing runs unless every check can.
    InputError
        If `out` has no tables.

    Examples
    --------
    >>> import tempfile
    >>> from datetime import datetime
    >>> import polars as pl
    >>> from ctr_batch.batch.run import run
    >>> events = pl.DataFrame({"user_id": ["a", "a", "b"],
    ...     "event_time": [datetime(2024, 1, 1, 0, 0, s) for s in (0, 1, 2)],
    ...     "event_type": ["search", "click", "search"]})
    >>> with tempfile.TemporaryDirectory() as out:
    ...     _ = run(events, out)
    ...     failed = [name for name, rows in run_checks(out).items() if rows.height]
    >>> failed
    []
    """
    checks = list_queries("check")
    given = dict(params or {})
    declared = {name for check in checks for name in check.params}
    unknown = sorted(set(given) - declared)
    if unknown:
        msg = f"no check takes parameter(s) {unknown}; declared: {sorted(declared)}"
        raise ConfigError(msg)
    values = {
        check.name: bind_params(
            check, {k: v for k, v in given.items() if k in check.params}, "check"
        )
        for check in checks
    }
    tables = table_paths(out, pinned=True)
    _require_tables(checks, tables, out, "check")
    with open_views(tables) as con:
        return {
            check.name: _execute_file(con, check, values[check.name], tables) for check in checks
        }


def run_queries(
    out: str | Path, requests: Mapping[str, tuple[str, Mapping[str, str | None]]]
) -> dict[str, pl.DataFrame]:
    """Run several curated reports over one snapshot of `out`: label → rows.

    `requests` maps a label of the caller's choosing to a report name and its parameters, so
    one report may run twice (say, for two periods). Every request is checked before any runs,
    and all read the tables of `out` as committed at one instant, in one connection: the same
    files, parameters and code path as ``run_query``.

    Raises
    ------
    ConfigError
        As ``run_query``, for the first request that fails.
    InputError
        If `out` has no tables.
    """
    queries = {label: find_query(name) for label, (name, _) in requests.items()}
    values = {
        label: bind_params(queries[label], params, "report")
        for label, (_, params) in requests.items()
    }
    tables = table_paths(out, pinned=True)
    _require_tables(queries.values(), tables, out, "report")
    with open_views(tables) as con:
        return {
            label: _execute_file(con, query, values[label], tables)
            for label, query in queries.items()
        }


# --- running -------------------------------------------------------------------------------------


def _execute(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    params: Mapping[str, object] | None,
    tables: Mapping[str, Path],
    *,
    context: str = "",
) -> pl.DataFrame:
    """Run `sql` and fetch its rows, turning DuckDB errors into one-line ``ConfigError``s."""
    try:
        relation = con.sql(sql, params=dict(params) if params else None)
        frame: pl.DataFrame | None = None if relation is None else relation.pl()
    except duckdb.Error as exc:
        missing = _MISSING_TABLE.search(str(exc))
        if isinstance(exc, duckdb.CatalogException) and missing is not None:
            available = ", ".join(sorted(tables))
            msg = f"{context}unknown table {missing[1]!r}; available: {available}"
        else:
            msg = f"{context}SQL error: {first_line(exc)}"
        raise ConfigError(msg) from None
    if frame is None:  # comments or ``;`` alone: nothing ran that returns rows
        msg = f"{context}the SQL holds no statement that returns rows"
        raise ConfigError(msg)
    return frame


def _execute_file(
    con: duckdb.DuckDBPyConnection,
    query: QueryFile,
    values: Mapping[str, str | None],
    tables: Mapping[str, Path],
) -> pl.DataFrame:
    sql = query.path.read_text(encoding="utf-8")  # parsed already: UTF-8
    return _execute(con, sql, values, tables, context=f"{query.name}: ")


def _require_tables(
    queries: Iterable[QueryFile], tables: Mapping[str, Path], out: str | Path, kind: QueryKind
) -> None:
    for query in queries:
        missing = [name for name in query.reads if name not in tables]
        if missing:
            msg = f"{noun(kind)} {query.name!r} reads table(s) {missing}, not found under {out}"
            msg += f"; available: {', '.join(sorted(tables))}"
            raise ConfigError(msg)
