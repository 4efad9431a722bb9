"""Run the pipeline on events: in one pass or in user buckets, then write the tables.

``compute`` and ``run`` take events as Parquet paths (files, folders, globs) or as frames
(``pl.DataFrame``, ``pl.LazyFrame``, ``pyarrow.Table``), normalized alike, and settings as a
``RunConfig`` and/or keywords.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, TypeAlias

import polars as pl
import pyarrow as pa

from ctr_batch.batch.accounting import summarize
from ctr_batch.batch.memory_plan import (
    MAX_BUCKETS,
    check_memory_limit,
    default_memory_limit,
    fits_in_memory,
    require_one_pass,
)
from ctr_batch.batch.strategies import ENGINES, Engine, OutputRun, compute_scanned
from ctr_batch.core.config import LARGEST_SIZE, RunConfig, parse_size
from ctr_batch.core.errors import ConfigError
from ctr_batch.io.commit import writing
from ctr_batch.io.layout import (
    check_output_folder,
    output_folder,
    refuse_other_output,
)
from ctr_batch.io.normalize import frame_of
from ctr_batch.io.read import (
    ScannedEvents,
    decoding,
    scan_events,
    scan_frame,
)

if TYPE_CHECKING:
    from ctr_batch.core.config import ColumnMap, Duration, GapRule
    from ctr_batch.core.summary import RunSummary

Progress = Callable[[str], None]
Events: TypeAlias = str | Path | Sequence[str | Path] | pl.LazyFrame | pl.DataFrame | pa.Table


class Computed(NamedTuple):
    """The tables of a run, by name, and its summary."""

    tables: dict[str, pl.DataFrame]
    summary: RunSummary


def check_buckets(buckets: object, what: str = "buckets") -> None:
    """ConfigError unless `buckets` is None or a whole number from 1 to ``MAX_BUCKETS``."""
    if buckets is None:
        return
    if (
        isinstance(buckets, bool)
        or not isinstance(buckets, int)
        or not 1 <= buckets <= MAX_BUCKETS
    ):
        msg = f"{what} must be from 1 to {MAX_BUCKETS:,} (a whole number); got {buckets!r}"
        raise ConfigError(msg)


def settings_of(
    config: RunConfig | None,
    *,
    gap: Duration | None = None,
    gap_rule: GapRule | None = None,
    timezone: str | None = None,
    columns: ColumnMap | None = None,
) -> RunConfig:
    """`config` (default settings when None) with the settings given as keywords replaced."""
    base = config if config is not None else RunConfig()
    if not isinstance(base, RunConfig):
        msg = f"config: expected a RunConfig; got {type(base).__name__}"
        raise ConfigError(msg)
    return base.but(gap=gap, gap_rule=gap_rule, timezone=timezone, column_map=columns)


def scan(events: Events, config: RunConfig, *, outside: Path | None = None) -> ScannedEvents:
    """Normalized events from paths or frames (paths under `outside` are left out)."""
    column_map = dict(config.column_map)
    if (frame := frame_of(events)) is not None:
        return scan_frame(frame, column_map)
    if isinstance(events, str | Path):
        events = [events]
    if not isinstance(events, Sequence) or not all(isinstance(e, str | Path) for e in events):
        msg = "events: expected a path, a list of paths or globs, or a Polars or Arrow frame; "
        msg += f"got {type(events).__name__}"
        raise ConfigError(msg)
    return scan_events(events, column_map=column_map, outside=outside)


def compute(
    events: Events,
    config: RunConfig | None = None,
    *,
    gap: Duration | None = None,
    gap_rule: GapRule | None = None,
    timezone: str | None = None,
    columns: ColumnMap | None = None,
    engine: Engine = "auto",
    progress: Progress | None = None,
) -> Computed:
    """Compute every table from events, without writing anything.

    Parameters
    ----------
    events
        A Parquet file, folder or glob (``str`` or ``Path``), a list of them, or a
        ``pl.DataFrame``, ``pl.LazyFrame`` or ``pyarrow.Table`` of events. Optional columns may
        be absent, user ids may be integers, times of any unit and zone; row order is input
        order.
    config
        Settings; the keywords below replace single ones (default: ``RunConfig()``).
    gap, gap_rule, timezone, columns
        As in ``RunConfig``; durations as text (``"30m"``) or timedeltas, `columns` as
        ``{contract_name: input_name}``.
    engine
        ``auto``, ``in-memory``, ``streaming`` (Polars) or ``duckdb`` (the SQL twin).

    Examples
    --------
    >>> from datetime import datetime
    >>> events = pl.DataFrame({"user_id": [1, 1, 1],
    ...     "event_time": [datetime(2024, 1, 1, 0, 0, s) for s in (0, 1, 2)],
    ...     "event_type": ["search", "results", "click"]})
    >>> tables, summary = compute(events, gap="5m")
    >>> tables["ctr_daily"]["ctr"].to_list(), summary.rows_read
    ([1.0], 3)
    """
    settings = settings_of(config, gap=gap, gap_rule=gap_rule, timezone=timezone, columns=columns)
    _check_engine(engine)
    step = progress or (lambda _: None)
    step("checking input files")
    scanned = scan(events, settings)
    step(f"computing tables from {scanned.rows:,} rows in {len(scanned.frames)} file(s)")
    with decoding(scanned.paths):
        tables = compute_scanned(scanned, settings, engine)
    return Computed(tables, summarize(tables, scanned.rows))


def run(
    events: Events,
    out: str | Path,
    config: RunConfig | None = None,
    *,
    gap: Duration | None = None,
    gap_rule: GapRule | None = None,
    timezone: str | None = None,
    columns: ColumnMap | None = None,
    engine: Engine = "auto",
    memory_limit: int | str | None = None,
    buckets: int | None = None,
    progress: Progress | None = None,
) -> RunSummary:
    """Compute every table from events and write them under `out`.

    `events`, `config`, the settings and `engine` are as for ``compute``. With `buckets` > 1,
    or when the events would not fit in `memory_limit` (bytes, or text such as ``8GiB``;
    default: a quarter of the machine's or the container's memory), users are hashed into
    buckets and computed bucket by bucket (``buckets.py``): the same
    tables, in bounded memory (the duckdb engine runs in one pass, or refuses). Nothing is
    written unless every input file passes the schema checks and every table is computed.

    Examples
    --------
    >>> import tempfile
    >>> from datetime import datetime
    >>> events = pl.DataFrame({"user_id": ["a", "a", "b"],
    ...     "event_time": [datetime(2024, 1, 1, 0, 0, s) for s in (0, 1, 2)],
    ...     "event_type": ["search", "click", "search"]})
    >>> with tempfile.TemporaryDirectory() as out:
    ...     run(events, out).searches
    2
    """
    started = time.perf_counter()
    settings = settings_of(config, gap=gap, gap_rule=gap_rule, timezone=timezone, columns=columns)
    _check_engine(engine)
    out, given = output_folder(out), _memory_limit(memory_limit)
    limit = given
    if limit is None and engine != "duckdb":  # DuckDB sets its own default
        limit = default_memory_limit()
    check_buckets(buckets)
    step = progress or (lambda _: None)
    step("checking input files")
    scanned = scan(events, settings, outside=out)
    check_output_folder(out)
    job = OutputRun(scanned, out, settings, step, started, described(events))
    with writing(out, "run"), decoding(scanned.paths):
        refuse_other_output(out, "run")
        if engine == "duckdb":
            require_one_pass(scanned, limit, buckets)
        elif buckets != 1 and ((buckets or 1) > 1 or not fits_in_memory(scanned, limit)):
            count = buckets if buckets and buckets > 1 else None
            if count is None and given is not None:  # a default never refuses
                check_memory_limit(scanned, given)
            return job.bucketed(count=count, memory_limit=limit)
        return job.one_pass(engine, limit)


def _check_engine(engine: str) -> None:
    if engine not in ENGINES:
        msg = f"engine {engine!r}: expected one of {', '.join(ENGINES)}"
        raise ConfigError(msg)


def _memory_limit(value: int | str | None) -> int | None:
    if value is None or (
        isinstance(value, int) and not isinstance(value, bool) and 0 < value <= LARGEST_SIZE
    ):
        return value
    if isinstance(value, str):
        return parse_size(value)
    msg = "memory limit: expected bytes (a positive number up to 2**60) or a size such as 8GiB; "
    msg += f"got {value!r}"
    raise ConfigError(msg)


def described(events: Events) -> list[str]:
    """The inputs as the run summary records them: paths as given, a frame by its type."""
    if isinstance(events, str | Path):
        return [str(events)]
    if isinstance(events, pl.DataFrame | pl.LazyFrame | pa.Table):
        return [f"<{type(events).__module__.split('.')[0]}.{type(events).__name__}>"]
    return [str(spec) for spec in events]
