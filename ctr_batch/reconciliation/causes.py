"""Explain batch/stream differences: walk from the batch truth to the stream, one change at a time.

The rungs, each computed from the events, and the cause a change between two rungs gets:

0. the batch tables as written;
1. a batch run on the events with the batch's settings (a difference here means the tables do
   not come from these events: ``unexplained``);
2. a batch run with the stream's gap and gap rule (``gap_rule``);
3. the same without the events the stream drops as late (``late_drop``);
4. the simulated stream: same sessions as rung 3, but searches cut in list order, which is
   arrival order (``arrival_order``) or, where an out-of-order event made sessions merge, the
   earlier session's events then the absorbed one's (``merge_bridge``);
5. the stream's output (any change here: the stream does not do what its simulation predicts,
   ``unexplained``).

A difference between rung 0 and rung 5 gets the causes of every step that changes the same record
and column (a record appearing or vanishing counts for all its columns), e.g.
``late_drop+arrival_order``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from ctr_batch.batch.pipeline import compute_tables
from ctr_batch.core.config import RunConfig, StreamConfig, format_duration
from ctr_batch.core.rules import local_date
from ctr_batch.core.schema import (
    CTR,
    DATE,
    LATE_TABLE,
    N_CLICKS,
    SEARCH_TIME,
    SEARCHES_TABLE,
    SEQ,
    SESSIONS_TABLE,
)
from ctr_batch.reconciliation.diff import COLUMN, OCCURRENCE, differences, with_occurrence
from ctr_batch.reconciliation.records import KEYS, batch_searches, records_of
from ctr_batch.streaming.records import MERGED
from ctr_batch.streaming.simulate import LATE_INPUT_ROW, simulate

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ctr_batch.reconciliation.load import StreamKind

UNEXPLAINED = "unexplained"
BATCH_DIFFERS = "batch_differs"  # a label only: shown as `unexplained`, with its own detail
GAP_RULE = "gap_rule"
LATE_DROP = "late_drop"
ARRIVAL_ORDER = "arrival_order"
MERGE_BRIDGE = "merge_bridge"
CAUSES = (GAP_RULE, LATE_DROP, ARRIVAL_ORDER, MERGE_BRIDGE, UNEXPLAINED)
_LABEL_ORDER = (BATCH_DIFFERS, *CAUSES)
CAUSE, DETAIL, SIMULATED_VALUE = "cause", "detail", "simulated_value"
_ROW, _LABEL = "_row", "_label"


@dataclass(frozen=True, slots=True)
class Rungs:
    """Per-search and per-session tables of rungs 1-4 (see the module docstring)."""

    batch_rerun: tuple[pl.DataFrame, pl.DataFrame]
    stream_rule: tuple[pl.DataFrame, pl.DataFrame]
    on_time: tuple[pl.DataFrame, pl.DataFrame]
    simulated: tuple[pl.DataFrame, pl.DataFrame]


def build_rungs(events: pl.LazyFrame, batch: RunConfig, stream: StreamConfig) -> Rungs:
    """Compute rungs 1-4 from normalized events (with ``_seq`` and the arrival column)."""
    streamed = RunConfig(gap=stream.gap, gap_rule=stream.gap_rule, timezone=batch.timezone)
    simulation = simulate(events, stream)
    late_rows = simulation.tables[LATE_TABLE].select(pl.col(LATE_INPUT_ROW).alias(SEQ))
    return Rungs(
        batch_rerun=_batch_pair(compute_tables(events, batch, normalized=True)),
        stream_rule=_batch_pair(compute_tables(events, streamed, normalized=True)),
        on_time=_batch_pair(
            compute_tables(events, streamed, normalized=True, dropped=late_rows.lazy())
        ),
        simulated=(simulation.tables[SEARCHES_TABLE], simulation.tables[SESSIONS_TABLE]),
    )


def _batch_pair(tables: dict[str, pl.DataFrame]) -> tuple[pl.DataFrame, pl.DataFrame]:
    sessions = tables[SESSIONS_TABLE]
    return batch_searches(tables[SEARCHES_TABLE], sessions), sessions


def explain(
    mismatches: pl.DataFrame,
    *,
    kind: StreamKind,
    keys: Sequence[str],
    values: Sequence[str],
    ladder: Sequence[pl.DataFrame],
    rungs: Rungs,
    details: dict[str, str],
    tolerance: float,
    timezone: str,
) -> pl.DataFrame:
    """Add ``cause``, ``detail`` and ``simulated_value`` to rung-0-vs-5 `mismatches`.

    `ladder` holds the six rungs as records of `kind` (only `keys` and `values` are used).
    """
    labels = [BATCH_DIFFERS, GAP_RULE, LATE_DROP, None, UNEXPLAINED]
    steps = []
    for step, label in enumerate(labels):
        changed = differences(
            ladder[step], ladder[step + 1], keys=keys, values=values, tolerance=tolerance
        )
        if label is None:
            changed = _order_labels(changed, kind, keys, values, rungs, timezone)
        else:
            changed = changed.with_columns(pl.lit(label).alias(_LABEL))
        steps.append(changed.select(*keys, OCCURRENCE, COLUMN, _LABEL))
    numbered = mismatches.with_row_index(_ROW)
    causes = _touching_labels(numbered, pl.concat(steps), keys)
    explained = numbered.join(causes, on=_ROW, how="left")
    with_detail = explained.with_columns(
        pl.col(CAUSE).fill_null(UNEXPLAINED),
        pl.col(_LABEL)
        .list.eval(pl.element().replace_strict(details, default=""))
        .list.join("; ")
        .fill_null("no single step explains it (changes within the tolerance added up)")
        .alias(DETAIL),
    )
    simulated = _long_values(ladder[4], keys, values, SIMULATED_VALUE)
    return with_detail.join(
        simulated, on=[*keys, OCCURRENCE, COLUMN], how="left", nulls_equal=True
    ).drop(_ROW, _LABEL)


def _touching_labels(
    numbered: pl.DataFrame, steps: pl.DataFrame, keys: Sequence[str]
) -> pl.DataFrame:
    """``_row`` -> ``cause`` and the step labels changing that record and column."""
    on = [*keys, OCCURRENCE]
    pairs = numbered.select(_ROW, *on, COLUMN).join(
        steps, on=on, how="inner", suffix="_step", nulls_equal=True
    )
    same_column = (
        pl.col(COLUMN).is_null()
        | pl.col(f"{COLUMN}_step").is_null()
        | (pl.col(COLUMN) == pl.col(f"{COLUMN}_step"))
    )
    order = {label: rank for rank, label in enumerate(_LABEL_ORDER)}
    unexplained = pl.col(_LABEL).list.contains(UNEXPLAINED) | pl.col(_LABEL).list.contains(
        BATCH_DIFFERS
    )
    touched = pairs.filter(same_column).select(_ROW, _LABEL).unique()
    return (
        touched.sort(_ROW, pl.col(_LABEL).replace_strict(order, return_dtype=pl.Int32))
        .group_by(_ROW, maintain_order=True)
        .agg(pl.col(_LABEL))
        .select(
            _ROW,
            _LABEL,
            pl.when(unexplained)
            .then(pl.lit(UNEXPLAINED))
            .otherwise(pl.col(_LABEL).list.join("+"))
            .alias(CAUSE),
        )
    )


def _order_labels(
    changed: pl.DataFrame,
    kind: StreamKind,
    keys: Sequence[str],
    values: Sequence[str],
    rungs: Rungs,
    timezone: str,
) -> pl.DataFrame:
    """Label rung-3-to-4 changes ``merge_bridge`` (merged stream session) or ``arrival_order``."""
    searches, sessions = rungs.simulated
    if kind == "daily":
        on_time_searches = records_of("searches", *rungs.on_time)
        simulated_searches = records_of("searches", *rungs.simulated)
        search_keys, search_values = KEYS["searches"], (N_CLICKS, CTR)
        per_search = differences(
            on_time_searches, simulated_searches, keys=search_keys, values=search_values
        )
        flags = _merged_flags(searches, search_keys, search_values)
        merged = per_search.join(
            flags, on=[*search_keys, OCCURRENCE], how="left", nulls_equal=True
        )
        by_day = merged.group_by(local_date(SEARCH_TIME, timezone)).agg(
            pl.col(MERGED).fill_null(False).any()
        )
        labelled = changed.join(by_day, on=DATE, how="left")
    else:
        source = searches if kind == "searches" else sessions
        flags = _merged_flags(
            records_of(kind, searches, sessions).hstack([source[MERGED]]), keys, values
        )
        labelled = changed.join(flags, on=[*keys, OCCURRENCE], how="left", nulls_equal=True)
    return labelled.with_columns(
        pl.when(pl.col(MERGED).fill_null(False))
        .then(pl.lit(MERGE_BRIDGE))
        .otherwise(pl.lit(ARRIVAL_ORDER))
        .alias(_LABEL)
    )


def _merged_flags(
    records: pl.DataFrame, keys: Sequence[str], values: Sequence[str]
) -> pl.DataFrame:
    numbered = with_occurrence(records, keys, values)
    return numbered.select(*keys, OCCURRENCE, MERGED)


def _long_values(
    records: pl.DataFrame, keys: Sequence[str], values: Sequence[str], name: str
) -> pl.DataFrame:
    """(keys, occurrence, column) -> value as text."""
    numbered = with_occurrence(records.select(*keys, *values), keys, values)
    as_text = numbered.with_columns(pl.col(values).cast(pl.String))
    return as_text.unpivot(
        on=list(values), index=[*keys, OCCURRENCE], variable_name=COLUMN, value_name=name
    )


def cause_details(batch: RunConfig, stream: StreamConfig) -> dict[str, str]:
    """A sentence per cause, with the settings that produce it."""
    longest = batch.max_session
    capped = "" if longest is None else f", batch --max-session {format_duration(longest)}"
    return {
        GAP_RULE: f"batch gap {format_duration(batch.gap)} {batch.gap_rule}{capped}, stream gap "
        f"{format_duration(stream.gap)} {stream.gap_rule}: sessions split differently",
        LATE_DROP: f"an event arrived more than {format_duration(stream.wait)} behind its user's "
        "latest event time and was dropped as late",
        ARRIVAL_ORDER: "the session's events arrived out of time order and the stream cut "
        "its searches in arrival order",
        MERGE_BRIDGE: "an out-of-order event bridged or extended sessions, which merged "
        "(the earlier session's events first, then the absorbed one's)",
        UNEXPLAINED: "the stream's output differs from its simulation on the events",
        BATCH_DIFFERS: "the batch tables differ from a batch run on the events given",
    }
