"""``ctr_batch.run`` and ``ctr_batch.backfill`` on every engine: local ones and Spark.

The Spark engine sits above the batch and days layers (it runs their units of work), so the
entry points that offer both live here, at the top level.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Literal

from ctr_batch.batch import run as batch_run
from ctr_batch.batch.strategies import ENGINES
from ctr_batch.core.errors import ConfigError
from ctr_batch.days import backfill as days_backfill
from ctr_batch.io.layout import output_folder

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from datetime import date
    from pathlib import Path

    from ctr_batch.batch.run import Events, Progress
    from ctr_batch.batch.strategies import Engine
    from ctr_batch.core.config import ColumnMap, Duration, GapRule, RunConfig
    from ctr_batch.core.summary import RunSummary
    from ctr_batch.days.config import BackfillConfig
    from ctr_batch.days.plan import DayReport

SPARK: Literal["spark"] = "spark"
ALL_ENGINES: tuple[str, ...] = (*ENGINES, SPARK)


def run(
    events: Events,
    out: str | Path,
    config: RunConfig | None = None,
    *,
    gap: Duration | None = None,
    gap_rule: GapRule | None = None,
    timezone: str | None = None,
    columns: ColumnMap | None = None,
    engine: Engine | Literal["spark"] = "auto",
    memory_limit: int | str | None = None,
    buckets: int | None = None,
    spark_master: str | None = None,
    progress: Progress | None = None,
) -> RunSummary:
    """Compute every table from events and write them under `out`.

    As ``batch.run.run``, plus ``engine="spark"``: Spark reads the Parquet `events` and
    computes the user buckets (`buckets` of them, default from the input size) on
    `spark_master` (default: the active session's master, else ``local[*]``); see
    ``spark.run``. The tables equal those of every other engine.

    Examples
    --------
    >>> import tempfile
    >>> from datetime import datetime
    >>> import polars as pl
    >>> events = pl.DataFrame({"user_id": ["a", "a", "b"],
    ...     "event_time": [datetime(2024, 1, 1, 0, 0, s) for s in (0, 1, 2)],
    ...     "event_type": ["search", "click", "search"]})
    >>> with tempfile.TemporaryDirectory() as out:
    ...     run(events, out, engine="in-memory").searches
    2
    """
    if engine != SPARK:
        if spark_master is not None:
            msg = "spark_master (--spark-master) needs engine spark"
            raise ConfigError(msg)
        return batch_run.run(
            events,
            out,
            config,
            gap=gap,
            gap_rule=gap_rule,
            timezone=timezone,
            columns=columns,
            engine=engine,
            memory_limit=memory_limit,
            buckets=buckets,
            progress=progress,
        )
    return _run_on_spark(
        events,
        out,
        config,
        buckets,
        spark_master,
        progress,
        memory_limit,
        columns=columns,
        gap=gap,
        gap_rule=gap_rule,
        timezone=timezone,
    )


def _run_on_spark(
    events: Events,
    out: str | Path,
    config: RunConfig | None,
    buckets: int | None,
    master: str | None,
    progress: Progress | None,
    memory_limit: int | str | None,
    **settings: Any,
) -> RunSummary:
    """``run`` with ``engine="spark"``: settings checked here, the run in ``spark.run``."""
    from ctr_batch.spark.run import run_spark  # PySpark loads only for this engine

    started = time.perf_counter()
    batch_run.check_buckets(buckets)
    if memory_limit is not None:
        msg = "memory_limit (--memory-limit) does not apply to engine spark: set buckets"
        raise ConfigError(msg)
    return run_spark(
        events,
        output_folder(out),
        batch_run.settings_of(config, **settings),
        master=master,
        buckets=buckets,
        inputs=batch_run.described(events),
        progress=progress,
        started=started,
    )


def backfill(
    events: str | Path | Sequence[str | Path],
    out: str | Path,
    start: date | str,
    end: date | str,
    config: BackfillConfig | None = None,
    *,
    on_day: Callable[[DayReport], None] | None = None,
    engine: Literal["auto", "spark"] = "auto",
    spark_master: str | None = None,
    buckets: int | None = None,
) -> list[DayReport]:
    """Compute the day partitions from `start` to `end` under `out`; skip unchanged days.

    As ``days.backfill.backfill``, plus ``engine="spark"``: each window of days is computed
    by Spark in `buckets` user buckets (default from its rows) on `spark_master` (default:
    the active session's master, else ``local[*]``); see ``spark.days``. The days are the
    same on both engines.
    """
    from ctr_batch.spark.days import backfill_windows  # PySpark loads only for engine spark

    windows = backfill_windows(engine, output_folder(out), spark_master, buckets)
    return days_backfill.backfill(events, out, start, end, config, on_day=on_day, windows=windows)
