"""Golden cases: hand-written events (``events.ndjson``) and their expected tables (CSV)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from ctr_batch.batch.run import compute
from ctr_batch.core.config import RunConfig
from ctr_batch.core.resources import data_dir
from ctr_batch.samples.bundled import sample

GOLDEN_DIR = Path(__file__).parent
CASES = {"blog": "blog", "tutorial_0_19": "tutorial-0.19"}  # golden case -> bundled sample
COMPARED_TABLES = ("searches", "sessions", "ctr_daily", "ctr_by_query")


def load_events(case: str) -> pl.DataFrame:
    """Events of a golden case with the contract dtypes (integer user ids, as in the source)."""
    raw = pl.read_ndjson(
        GOLDEN_DIR / case / "events.ndjson",
        schema={
            "user_id": pl.Int64,
            "event_time": pl.String,
            "event_type": pl.String,
            "query": pl.String,
            "items": pl.List(pl.String),
            "item": pl.String,
        },
    )
    return raw.with_columns(pl.col("event_time").str.to_datetime(time_zone="UTC"))


ROW_ORDER = {  # output row order is not part of the contract: golden files use this one
    "searches": ["user_id", "search_time", "search_index"],
    "sessions": ["user_id", "session_start"],
}


def compute_case(case: str) -> dict[str, pl.DataFrame]:
    """Tables of a golden case, from its bundled Parquet sample, in a documented row order."""
    bundled = sample(CASES[case])
    tables, _ = compute([bundled.path], RunConfig(gap=bundled.gap))
    return {name: frame.sort(ROW_ORDER.get(name, [])) if name in ROW_ORDER else frame
            for name, frame in tables.items()}  # fmt: skip


def expected_path(case: str, table: str) -> Path:
    """Location of a golden CSV."""
    return GOLDEN_DIR / case / f"{table}.csv"


def as_csv_text(frame: pl.DataFrame) -> str:
    """CSV text of a table; durations are written as microseconds."""
    durations = [name for name, dtype in frame.schema.items() if isinstance(dtype, pl.Duration)]
    return frame.with_columns(pl.col(durations).dt.total_microseconds()).write_csv()


def update() -> None:
    """Rewrite the bundled tutorial Parquet files and every expected CSV."""
    for case, name in CASES.items():
        target = data_dir() / sample(name).relative_path
        load_events(case).write_parquet(target)
        for table, frame in compute_case(case).items():
            if table in COMPARED_TABLES:
                expected_path(case, table).write_text(as_csv_text(frame), encoding="utf-8")
