"""The Bytewax search-session tutorial dataflow (0.20+ API), reading and writing Parquet.

It is the dataflow of the Bytewax blog tutorial ("Streaming Data for Data Scientists, part 2"):
every event becomes a one-element list, keyed by user; ``reduce_window`` with a
``SessionWindower(gap)`` and an ``EventClock(wait)`` concatenates each session's lists; each
session is split at every search, segments without a search are dropped, and each search gets
``ctr`` 1.0 when its segment holds a click, else 0.0. Three changes, none affecting the numbers:

- the clock's system time is fixed (``now_getter=lambda: FIXED_NOW``), so a run is reproducible:
  the watermark is only driven by event times, never by how fast the machine is;
- each session is joined with its window metadata, so every search record carries
  ``session_start`` (the window's ``open_time``) and sessions are written too;
- late events (the ``late`` stream, which the tutorial drops) are written as well.

Events are read and validated as ``ctr-batch`` does (bad rows never reach the stream) and fed in
file order, or in the order of ``--arrival-column`` (ties in file order), one item per batch
(``TestingSource``'s default, as in the tutorial). Output: ``OUT/searches``, ``OUT/sessions`` and
``OUT/late``, each a folder holding ``part-0.parquet``.

Usage::

    python examples/bytewax_search_ctr.py EVENTS OUT --gap 30m --wait 0s [--arrival-column COL]
"""

from __future__ import annotations

import argparse
import operator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import bytewax.operators as op
import bytewax.operators.windowing as win
import polars as pl
from bytewax.dataflow import Dataflow
from bytewax.operators.windowing import EventClock, SessionWindower, WindowMetadata
from bytewax.outputs import DynamicSink, StatelessSinkPartition
from bytewax.testing import TestingSource, run_main

from ctr_batch.core.config import parse_duration
from ctr_batch.core.schema import EVENTS_SCHEMA, SEQ, TIME_DTYPE
from ctr_batch.stages.flag import flag_rows, split_valid
from ctr_batch.streaming.run import stream_input

FIXED_NOW = datetime(2000, 1, 1, tzinfo=UTC)  # the clock's "system time", never advancing

SEARCHES_SCHEMA = {
    "user_id": pl.String,
    "session_start": TIME_DTYPE,
    "search_time": TIME_DTYPE,
    "query": pl.String,
    "n_clicks": pl.UInt32,
    "ctr": pl.Float64,
}
SESSIONS_SCHEMA = {
    "user_id": pl.String,
    "session_start": TIME_DTYPE,
    "session_end": TIME_DTYPE,
    "n_events": pl.UInt32,
    "n_searches": pl.UInt32,
    "n_clicks": pl.UInt32,
}
LATE_SCHEMA = {**EVENTS_SCHEMA, "input_row": pl.Int64}


@dataclass(frozen=True)
class Event:
    """One input row: the fields the dataflow uses, plus the whole row for the late output."""

    user: str
    dt: datetime
    kind: str
    query: str | None
    row: dict[str, Any]


def is_search(event: Event) -> bool:
    """Whether the event is a search."""
    return event.kind == "search"


def is_click(event: Event) -> bool:
    """Whether the event is a click on a result."""
    return event.kind == "click"


def has_search(search_session: list[Event]) -> bool:
    """Whether a segment holds a search (only the one before the first search does not)."""
    return any(is_search(event) for event in search_session)


def split_into_searches(user_session: list[Event]) -> list[list[Event]]:
    """Split a session's events, in the order the window holds them, at every search."""
    search_sessions: list[list[Event]] = []
    search_session: list[Event] = []
    for event in user_session:
        if is_search(event):
            search_sessions.append(search_session)
            search_session = []
        search_session.append(event)
    search_sessions.append(search_session)
    return search_sessions


def calc_ctr(search_session: list[Event]) -> float:
    """The tutorial's per-search CTR: 1.0 when the segment holds a click, else 0.0."""
    return 1.0 if any(is_click(event) for event in search_session) else 0.0


def search_records(joined: tuple[str, tuple[list[Event], WindowMetadata]]) -> list[dict[str, Any]]:
    """One record per search of a closed session (the tutorial's per-search CTR)."""
    _, (session, meta) = joined
    return [
        {
            "user_id": segment[0].user,
            "session_start": meta.open_time,
            "search_time": segment[0].dt,
            "query": segment[0].query,
            "n_clicks": sum(map(is_click, segment)),
            "ctr": calc_ctr(segment),
        }
        for segment in split_into_searches(session)
        if has_search(segment)
    ]


def session_record(joined: tuple[str, tuple[list[Event], WindowMetadata]]) -> dict[str, Any]:
    """One record per closed session: its window times and event, search and click counts."""
    _, (session, meta) = joined
    return {
        "user_id": session[0].user,
        "session_start": meta.open_time,
        "session_end": meta.close_time,
        "n_events": len(session),
        "n_searches": sum(map(is_search, session)),
        "n_clicks": sum(map(is_click, session)),
    }


class _ParquetPartition(StatelessSinkPartition[dict[str, Any]]):
    def __init__(self, path: Path, schema: dict[str, Any]) -> None:
        self._path, self._schema, self._rows = path, schema, []

    def write_batch(self, items: list[dict[str, Any]]) -> None:
        self._rows.extend(items)

    def close(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        pl.DataFrame(self._rows, schema=self._schema, orient="row").write_parquet(self._path)


class ParquetSink(DynamicSink[dict[str, Any]]):
    """Write every record to ``folder/part-<worker>.parquet`` when the dataflow ends."""

    def __init__(self, folder: Path, schema: dict[str, Any]) -> None:
        self._folder, self._schema = folder, schema

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _ParquetPartition:
        """One partition per worker, each writing its own file."""
        return _ParquetPartition(self._folder / f"part-{worker_index}.parquet", self._schema)


def build_flow(events: list[Event], out: Path, *, gap: timedelta, wait: timedelta) -> Dataflow:
    """The tutorial's dataflow over `events` (in arrival order), writing under `out`."""
    flow = Dataflow("search_session")
    stream = op.input("inp", flow, TestingSource(events))
    initial_session_stream = op.map("initial_session", stream, lambda e: [e])
    keyed_stream = op.key_on("add_key", initial_session_stream, lambda e: e[0].user)
    clock = EventClock(
        lambda x: x[-1].dt, wait_for_system_duration=wait, now_getter=lambda: FIXED_NOW
    )
    windows = win.reduce_window(
        "sessionizer", keyed_stream, clock, SessionWindower(gap=gap), operator.add
    )
    # Sub-keyed by window id: join each closed session with its metadata (open/close time).
    by_window = op.map(
        "session_by_window", windows.down, lambda kv: (f"{kv[0]}/{kv[1][0]}", kv[1][1])
    )
    meta_by_window = op.map(
        "meta_by_window", windows.meta, lambda kv: (f"{kv[0]}/{kv[1][0]}", kv[1][1])
    )
    sessions = op.join("with_meta", by_window, meta_by_window)
    searches = op.flat_map("split_into_searches", sessions, search_records)
    op.output("searches_out", searches, ParquetSink(out / "searches", SEARCHES_SCHEMA))
    op.output(
        "sessions_out",
        op.map("session", sessions, session_record),
        ParquetSink(out / "sessions", SESSIONS_SCHEMA),
    )
    late = op.map("late_row", windows.late, lambda kv: kv[1][1][0].row)
    op.output("late_out", late, ParquetSink(out / "late", LATE_SCHEMA))
    return flow


def read_events(source: Path, arrival_column: str | None = None) -> list[Event]:
    """Valid events of `source` in arrival order, as the dataflow's input items."""
    frame, _ = stream_input([source], arrival=arrival_column)
    valid, _ = split_valid(flag_rows(frame, dedupe=True))
    keys = [SEQ] if arrival_column is None else [arrival_column, SEQ]
    rows = (
        valid.sort(keys, nulls_last=True)
        .with_columns(pl.col("event_type").cast(pl.String), pl.col(SEQ).alias("input_row"))
        .select(LATE_SCHEMA.keys())
        .collect()
    )
    return [
        Event(
            row["user_id"], row["event_time"].astimezone(UTC), row["event_type"], row["query"], row
        )
        for row in rows.iter_rows(named=True)
    ]


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, read the events and run the dataflow."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("events", type=Path, help="Parquet file, directory or glob of events")
    parser.add_argument("out", type=Path, help="output folder")
    parser.add_argument(
        "--gap", type=parse_duration, default=timedelta(minutes=30), help="SessionWindower gap"
    )
    parser.add_argument(
        "--wait", type=parse_duration, default=timedelta(0), help="EventClock waiting duration"
    )
    parser.add_argument(
        "--arrival-column", default=None, help="column giving the arrival order (default: file)"
    )
    args = parser.parse_args(argv)
    events = read_events(args.events, args.arrival_column)
    run_main(build_flow(events, args.out, gap=args.gap, wait=args.wait))


if __name__ == "__main__":
    main()
