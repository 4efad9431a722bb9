"""The main job with a progress display, for ``run`` and ``demo``; engine options checked."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from ctr_batch.batch import run as batch_run
from ctr_batch.batch.strategies import ENGINES
from ctr_batch.cli import log
from ctr_batch.cli.common import err_console
from ctr_batch.core.errors import ConfigError
from ctr_batch.io.layout import output_folder
from ctr_batch.spark.run import run_spark

if TYPE_CHECKING:
    from pathlib import Path

    from ctr_batch.core.config import RunConfig
    from ctr_batch.core.summary import RunSummary


def run_with_progress(
    events: list[str],
    out: Path,
    config: RunConfig,
    engine: str,
    quiet: bool,
    memory_limit: int | None = None,
    buckets: int | None = None,
    spark_master: str | None = None,
) -> RunSummary:
    """Run the main job with a spinner on a terminal (log lines instead with -v)."""
    _check_engine(engine, spark_master, memory_limit)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    hidden = quiet or not err_console.is_terminal or log.logging_lines()
    with Progress(*columns, console=err_console, transient=True, disable=hidden) as progress:
        task = progress.add_task("starting")

        def step(text: str) -> None:
            log.log.debug("run: %s", text)
            progress.update(task, description=text)

        if engine == "spark":
            summary = run_spark(
                events,
                output_folder(out),
                config,
                master=spark_master,
                buckets=buckets,
                inputs=list(events),
                progress=step,
            )
        else:
            summary = batch_run.run(
                events,
                out,
                config,
                engine=next(known for known in ENGINES if known == engine),  # checked above
                memory_limit=memory_limit,
                buckets=buckets,
                progress=step,
            )
    log.log.info(
        "run out=%s rows_read=%d quarantined=%d sessions=%d searches=%d seconds=%.2f",
        out, summary.rows_read, summary.rows_quarantined, summary.sessions, summary.searches,
        summary.seconds,
    )  # fmt: skip
    return summary


def _check_engine(engine: str, spark_master: str | None, memory_limit: int | None) -> None:
    """ConfigError for an unknown engine or an option the engine does not take."""
    if engine not in (*ENGINES, "spark"):
        msg = f"--engine {engine!r}: expected one of {', '.join((*ENGINES, 'spark'))}"
        raise ConfigError(msg)
    if spark_master is not None and engine != "spark":
        msg = "--spark-master needs --engine spark"
        raise ConfigError(msg)
    if engine == "spark" and memory_limit is not None:
        msg = "--memory-limit does not apply to --engine spark: set --buckets"
        raise ConfigError(msg)
