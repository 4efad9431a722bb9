"""What ``export-duckdb`` adds to the views: the curated reports as table macros, and comments.

Each report of ``queries/`` becomes a DuckDB table macro of the same name whose arguments
are the report's ``$params`` (optional ones default to their header default), so that in
the database file ``SELECT * FROM daily_ctr(start := '2026-11-01')`` runs the same SQL as
``ctr-batch query daily_ctr OUT --param start=2026-11-01``. Each table view and its columns
get a ``COMMENT ON`` with the meaning and unit from ``schema.py``, shown by
``duckdb_views()`` and ``duckdb_columns()``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import duckdb

from ctr_batch.core.schema import COLUMN_DOCS, TABLE_DOCS
from ctr_batch.sql.queryfile import QueryFile, list_queries
from ctr_batch.sql.views import sql_identifier, sql_string

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable

_PARAM = re.compile(r"\$(\w+)")


def macro_ddl(query: QueryFile) -> str:
    r"""``CREATE MACRO name(args) AS TABLE <the report's SQL>``, ``$name`` made an argument.

    DuckDB takes no parameters in DDL, so the statement is text: names go in as quoted
    identifiers and defaults as string literals (the SQL casts them, as it casts
    ``$params``), each with its quote character doubled. Each ``$name`` becomes
    ``(SELECT "name")``, a scalar subquery, which DuckDB accepts also where a bare argument
    would not bind (in ``HAVING``). Only declared parameters are replaced; the SQL of the
    curated reports holds no ``$`` in a string literal.

    Examples
    --------
    >>> from pathlib import Path
    >>> from ctr_batch.core.resources import queries_dir
    >>> ddl = macro_ddl(QueryFile.parse(queries_dir() / "ctr_by_query.sql"))
    >>> ddl.split(" AS TABLE")[0]
    'CREATE OR REPLACE MACRO "ctr_by_query"("min_searches" := \'10\', "start" := NULL, "end" := NULL)'
    """  # noqa: E501
    required = [sql_identifier(name) for name in query.required]
    optional = [
        f"{sql_identifier(name)} := {_literal(query.defaults[name])}"
        for name in query.params
        if name in query.defaults
    ]
    body = query.path.read_text(encoding="utf-8").strip().rstrip(";")
    body = _PARAM.sub(lambda m: _argument(m[1]) if m[1] in query.params else m[0], body)
    arguments = ", ".join([*required, *optional])
    return f"CREATE OR REPLACE MACRO {sql_identifier(query.name)}({arguments}) AS TABLE\n{body}"


def _argument(name: str) -> str:
    return f"(SELECT {sql_identifier(name)})"


def _literal(value: str | None) -> str:
    return "NULL" if value is None else sql_string(value)


def create_macros(con: duckdb.DuckDBPyConnection, tables: Collection[str]) -> list[str]:
    """Create a table macro per curated report, commented with its purpose; return the names.

    A report that reads a table the output lacks (``backfill_days`` of a run's output, which
    has no ``day_summary``), or columns its tables lack (a stream's ``searches`` has no
    ``clicked``), gets none.
    """
    made = []
    for query in (q for q in list_queries("report") if set(q.reads) <= set(tables)):
        try:
            con.execute(macro_ddl(query))
        except (duckdb.BinderException, duckdb.CatalogException):
            continue
        con.execute(
            f"COMMENT ON MACRO TABLE {sql_identifier(query.name)} IS "
            f"{sql_string(f'{query.purpose} Grain: {query.grain}. Params: {query.params_doc}')}"
        )
        made.append(query.name)
    return made


def comment_tables(con: duckdb.DuckDBPyConnection, views: Iterable[str]) -> None:
    """``COMMENT ON`` each documented view and each of its documented columns."""
    for view in views:
        if view not in TABLE_DOCS:
            continue
        con.execute(f"COMMENT ON VIEW {sql_identifier(view)} IS {sql_string(TABLE_DOCS[view])}")
        present = {row[0] for row in con.sql(f"DESCRIBE {sql_identifier(view)}").fetchall()}
        for column, (unit, meaning) in COLUMN_DOCS[view].items():
            if column in present:
                text = f"{meaning} ({unit})" if unit else meaning
                target = f"{sql_identifier(view)}.{sql_identifier(column)}"
                con.execute(f"COMMENT ON COLUMN {target} IS {sql_string(text)}")
