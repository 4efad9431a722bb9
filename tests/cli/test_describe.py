"""``ctr-batch describe``: each table's columns, types, units and meanings, from schema.py."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import polars as pl
import pytest
from typer.testing import CliRunner

from ctr_batch.batch.run import run
from ctr_batch.cli.app import app
from ctr_batch.core.config import RunConfig
from ctr_batch.core.schema import COLUMN_DOCS, TABLE_DOCS, TABLE_SCHEMAS
from ctr_batch.samples.bundled import sample

if TYPE_CHECKING:
    from pathlib import Path

runner = CliRunner()


def test_every_column_is_described() -> None:
    assert set(TABLE_DOCS) == set(COLUMN_DOCS) == set(TABLE_SCHEMAS)
    for table, schema in TABLE_SCHEMAS.items():
        assert list(COLUMN_DOCS[table]) == list(schema), table
        assert all(meaning for _, meaning in COLUMN_DOCS[table].values()), table


def test_json_lists_the_written_columns(tmp_path: Path) -> None:
    run([sample("sample").path], tmp_path / "out", RunConfig())
    result = runner.invoke(app, ["describe", "--json"])
    assert result.exit_code == 0, result.stderr
    tables = json.loads(result.stdout)["tables"]
    assert set(tables) == set(TABLE_SCHEMAS)
    for name, doc in tables.items():
        written = pl.read_parquet_schema(next((tmp_path / "out" / name).rglob("*.parquet")))
        assert [c["name"] for c in doc["columns"]] == list(written), name
        assert [c["type"] for c in doc["columns"]] == [str(t) for t in written.values()], name


def test_one_table_as_text() -> None:
    result = runner.invoke(app, ["describe", "sessions"])
    assert result.exit_code == 0
    assert "sessions: one row per session" in result.stdout
    assert "duration" in result.stdout
    assert "microseconds" in result.stdout
    assert "ctr_daily" not in result.stdout


@pytest.mark.parametrize("args", [["describe", "nope"], ["describe", "[red]x", "--json"]])
def test_unknown_table(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 3
    assert "unknown table" in result.stderr
    assert "available: searches, sessions" in result.stderr
    assert result.stderr.count("\n") == 1
