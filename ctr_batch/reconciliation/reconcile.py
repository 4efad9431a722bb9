"""Compare a streaming job's output with the batch tables, and explain every difference.

``reconcile`` matches the stream's records (per search, per session or per day; see
``stream_output.load_stream_output``) with the batch's, counts what matches, is missing, extra
or different, and lists one row per difference. Given the events, it simulates the stream and
names a cause for each difference (``reconcile_causes``). The batch's gap and gap rule come from
its ``run_summary``; the stream's rule is given, or else inclusive (Bytewax >= 0.20) unless the
exclusive rule (Bytewax 0.19, Beam) leaves fewer differences unexplained, so a gap-rule mismatch
is found in either direction. It also gives per-day deltas with a 95 % Wilson interval for the
**stream's** CTR: a batch CTR outside it differs from the stream by more than binomial noise on
the stream's sample would explain.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from ctr_batch.core.config import DEFAULT_GAP, RunConfig, StreamConfig
from ctr_batch.core.errors import ConfigError
from ctr_batch.io.layout import output_folder
from ctr_batch.reconciliation.analysis import causes
from ctr_batch.reconciliation.daily import daily_deltas
from ctr_batch.reconciliation.diff import (
    DIFFERENCE,
    EXTRA,
    MISSING,
    OCCURRENCE,
    VALUE_MISMATCH,
    differences,
)
from ctr_batch.reconciliation.load import load_batch, load_stream_output, normalize_stream
from ctr_batch.reconciliation.records import Compared, batch_searches
from ctr_batch.reconciliation.result import MISMATCH_SCHEMA, RECORD, ReconcileResult

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from ctr_batch.core.config import Duration, GapRule
    from ctr_batch.reconciliation.load import StreamKind


def reconcile(
    batch_out: str | Path,
    stream: pl.DataFrame | pl.LazyFrame | str | Path,
    kind: StreamKind | None = None,
    *,
    tolerance: float = 1e-9,
    events: str | Path | Sequence[str | Path] | None = None,
    gap: Duration | None = None,
    wait: Duration = timedelta(0),
    arrival: str | None = None,
    column_map: Mapping[str, str] | None = None,
    stream_gap_rule: GapRule | None = None,
) -> ReconcileResult:
    """Compare `stream` (from ``load_stream_output``) with the batch tables under `batch_out`.

    Parameters
    ----------
    batch_out
        Output folder of ``ctr-batch run`` (or ``backfill``).
    stream
        The streaming job's records, with our column names (see ``load_stream_output``).
    kind
        ``searches``, ``sessions`` or ``daily``; default: told from the columns of `stream`.
    tolerance
        Numbers closer than this are equal (CTRs read back from text, say).
    events
        The events both jobs read; when given, every difference gets a cause.
    gap, wait, arrival
        The stream's settings (``SessionWindower(gap)``, ``EventClock(wait)``, arrival-order
        column); `gap` defaults to the batch run's (its ``run_summary``), else 30 minutes.
    column_map
        Input column names of the events, as for ``ctr-batch run``.
    stream_gap_rule
        ``inclusive`` (Bytewax >= 0.20) or ``exclusive``; default: inclusive, unless exclusive
        leaves fewer differences unexplained (the rule used is in the result).

    Examples
    --------
    >>> import tempfile
    >>> from datetime import datetime
    >>> from ctr_batch.batch.run import run
    >>> t = [datetime(2024, 1, 1, 0, 0, s) for s in (0, 1, 2)]
    >>> events = pl.DataFrame({"user_id": ["a", "a", "b"], "event_time": t,
    ...                        "event_type": ["search", "click", "search"]})
    >>> stream = pl.DataFrame({"user_id": ["a", "b"], "search_time": [t[0], t[2]],
    ...     "ctr": [1.0, 1.0]}).with_columns(pl.col("search_time").dt.replace_time_zone("UTC"))
    >>> with tempfile.TemporaryDirectory() as out:
    ...     _ = run(events, out)
    ...     result = reconcile(out, stream)
    >>> result.matched, result.value_mismatch
    (1, 1)
    """
    if not isinstance(tolerance, int | float) or not tolerance >= 0:  # NaN: hides everything
        msg = f"tolerance {tolerance!r}: expected a number >= 0"
        raise ConfigError(msg)
    kind, stream = _stream_records(stream, kind)
    searches, sessions, recorded = load_batch(output_folder(batch_out))
    batch_config = recorded or RunConfig(gap=gap or DEFAULT_GAP)
    fields = Compared.of(kind, stream, batch_config.timezone)
    batch = (batch_searches(searches, sessions), sessions)
    batch_view = fields.shape(*batch)
    stream_view = stream.select(*fields.keys, *fields.values)
    found = differences(
        batch_view, stream_view, keys=fields.keys, values=fields.values, tolerance=tolerance
    )
    stream_config = StreamConfig(
        gap=gap or batch_config.gap,
        wait=wait,
        arrival=arrival,
        gap_rule=stream_gap_rule or "inclusive",
    )
    found, settings, simulated = causes(
        found,
        events,
        batch,
        column_map,
        (batch_config, stream_config, stream_gap_rule),
        (fields, batch_view, stream_view, tolerance),
    )
    daily = daily_deltas(
        kind, batch=batch, stream=stream, simulated=simulated, timezone=fields.timezone
    )
    return _result(fields, found, (batch_view.height, stream.height), daily, tolerance, settings)


def _stream_records(
    stream: pl.DataFrame | pl.LazyFrame | str | Path, kind: StreamKind | None
) -> tuple[StreamKind, pl.DataFrame]:
    """The stream's records, read from a file or folder or taken from a frame, normalized."""
    if isinstance(stream, str | Path):
        return load_stream_output(Path(stream), kind=kind)
    if isinstance(stream, pl.LazyFrame):
        stream = stream.collect()
    if not isinstance(stream, pl.DataFrame):
        msg = f"stream: expected a frame of records or a path; got {type(stream).__name__}"
        raise ConfigError(msg)
    return normalize_stream(stream, "the stream records", kind=kind)


def _result(
    fields: Compared,
    found: pl.DataFrame,
    sizes: tuple[int, int],
    daily: pl.DataFrame,
    tolerance: float,
    settings: StreamConfig | None,
) -> ReconcileResult:
    kinds = found[DIFFERENCE]
    differing = found.filter(kinds == VALUE_MISMATCH).select(*fields.keys, OCCURRENCE).unique()
    missing, extra = int((kinds == MISSING).sum()), int((kinds == EXTRA).sum())
    table = found.with_columns(pl.lit(fields.kind).alias(RECORD))
    absent = [name for name in MISMATCH_SCHEMA.names() if name not in table.columns]
    table = table.with_columns(pl.lit(None).alias(name) for name in absent)
    return ReconcileResult(
        kind=fields.kind,
        batch_records=sizes[0],
        stream_records=sizes[1],
        matched=sizes[0] - missing - differing.height,
        missing_in_stream=missing,
        extra_in_stream=extra,
        value_mismatch=differing.height,
        mismatches=table.select(MISMATCH_SCHEMA.names()).cast(MISMATCH_SCHEMA),
        daily=daily,
        tolerance=tolerance,
        analysed=settings is not None,
        stream_gap_rule=None if settings is None else settings.gap_rule,
    )
