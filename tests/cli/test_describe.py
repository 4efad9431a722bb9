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


def _docs_in(path: Path) -> tuple[dict[bytes, bytes], dict[str, str]]:
    """A file's key-value metadata and its columns' described meanings."""
    import pyarrow.parquet as pq

    fields = {f.name: (f.metadata or {}).get(b"description", b"") for f in pq.read_schema(path)}
    meta = pq.read_metadata(path).metadata or {}
    return meta, {name: text.decode() for name, text in fields.items()}


@pytest.mark.parametrize("buckets", [1, 3, 12])  # one pass, rescanned buckets, spilled buckets
def test_written_files_hold_their_docs(tmp_path: Path, buckets: int) -> None:
    run([sample("sample").path], tmp_path / "out", RunConfig(), buckets=buckets)
    for table in TABLE_SCHEMAS:
        for path in (tmp_path / "out" / table).rglob("*.parquet"):
            meta, described = _docs_in(path)
            assert meta[b"ctr_batch.table"] == table.encode(), path
            assert meta[b"description"] == TABLE_DOCS[table].encode(), path
            assert described == {c: m for c, (_, m) in COLUMN_DOCS[table].items()}, path


def test_backfill_partitions_hold_their_docs(tmp_path: Path) -> None:
    from ctr_batch.days.backfill import backfill
    from ctr_batch.days.config import BackfillConfig

    config = BackfillConfig(allow_empty=True, max_quarantine=1.0)
    backfill(sample("sample").path, tmp_path / "out", "2026-11-01", "2026-11-07", config)
    for table in ("searches", "sessions", "ctr_daily", "quarantine"):
        paths = list((tmp_path / "out" / table).rglob("*.parquet"))
        assert paths, table
        for path in paths:
            meta, described = _docs_in(path)
            assert meta[b"ctr_batch.table"] == table.encode(), path
            assert described == {
                c: m for c, (_, m) in COLUMN_DOCS[table].items() if c in described
            }
            assert all(described.values()), path
