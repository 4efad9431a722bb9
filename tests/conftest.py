"""Shared helpers: build small event frames and Parquet files."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import polars as pl
import pytest

from ctr_batch.core.schema import EVENTS_SCHEMA

if TYPE_CHECKING:
    from pathlib import Path

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def at(seconds: float) -> datetime:
    """``T0`` plus `seconds`."""
    return T0 + timedelta(seconds=seconds)


def events(*rows: tuple[Any, ...], **columns: list[Any]) -> pl.DataFrame:
    """Events from ``(user_id, seconds after T0, event_type[, query, items, item])`` tuples.

    Extra keyword columns (e.g. ``event_id=[...]``) are added as given.
    """
    padded = [tuple(row) + (None,) * (6 - len(row)) for row in rows]
    data: dict[str, list[Any]] = {
        "user_id": [r[0] for r in padded],
        "event_time": [None if r[1] is None else at(r[1]) for r in padded],
        "event_type": [r[2] for r in padded],
        "query": [r[3] for r in padded],
        "items": [r[4] for r in padded],
        "item": [r[5] for r in padded],
        "event_id": columns.pop("event_id", [None] * len(padded)),
    }
    return pl.DataFrame(data, schema=EVENTS_SCHEMA).with_columns(
        **{name: pl.Series(values) for name, values in columns.items()}
    )


@pytest.fixture
def write(tmp_path: Path) -> Any:
    """Write a frame as Parquet under tmp_path and return the path."""

    def _write(frame: pl.DataFrame, name: str = "events.parquet") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.write_parquet(path)
        return path

    return _write


# fixtures of the stream and reconciliation tests (the real Bytewax dataflow, logs)
from tests.stream_helpers import batch_out, dataflow, disordered_file  # noqa: E402, F401
