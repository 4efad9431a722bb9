"""Explain differences from the events, reading only what the differences need.

Nothing differs: the events are not read. Otherwise only the users of the differences are
simulated (all events for per-day records, which have no user), with both gap rules when the
stream's is not given.

Sessions never span users and the simulated stream keeps a clock per user, so the causes of a
user's differences depend on that user's events alone, with one exception handled here: a
duplicate ``event_id`` is judged across all users, so the rows of other users that share an id
with the differing users' rows are kept too. The simulated daily figures are then the simulated
records of the differing users plus the (equal) batch records of everyone else.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from ctr_batch.core.schema import EVENT_ID, USER_ID
from ctr_batch.io.read import decoding
from ctr_batch.reconciliation.causes import (
    CAUSE,
    DETAIL,
    SIMULATED_VALUE,
    UNEXPLAINED,
    Rungs,
    build_rungs,
    cause_details,
    explain,
)
from ctr_batch.streaming.run import stream_input

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from ctr_batch.core.config import GapRule, RunConfig, StreamConfig
    from ctr_batch.reconciliation.records import Compared


def _differing_users(found: pl.DataFrame, keys: tuple[str, ...]) -> pl.Series | None:
    """The users of the differences `found`; None when records have no user (daily)."""
    if USER_ID not in keys:
        return None
    return found.get_column(USER_ID).unique()


def _only_users(events: pl.LazyFrame, users: pl.Series, has_event_id: bool) -> pl.LazyFrame:
    """The rows of `users`, and the rows of others that share an ``event_id`` with them."""
    theirs = pl.col(USER_ID).is_in(users.implode())
    if not has_event_id:
        return events.filter(theirs)
    ids = events.filter(theirs).select(EVENT_ID).drop_nulls().unique().collect()
    return events.filter(theirs | pl.col(EVENT_ID).is_in(ids.get_column(EVENT_ID).implode()))


def _only_rows_of(frame: pl.DataFrame, users: pl.Series) -> pl.DataFrame:
    """The rows of `frame` whose user is one of `users`."""
    return frame.filter(pl.col(USER_ID).is_in(users.implode()))


def _completed(
    simulated: tuple[pl.DataFrame, pl.DataFrame],
    batch: tuple[pl.DataFrame, pl.DataFrame],
    users: pl.Series,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Simulated (searches, sessions) of `users`, with the batch's records of everyone else."""
    theirs = pl.col(USER_ID).is_in(users.implode())
    return (
        pl.concat([simulated[0].filter(theirs), batch[0].filter(~theirs)], how="diagonal_relaxed"),
        pl.concat([simulated[1].filter(theirs), batch[1].filter(~theirs)], how="diagonal_relaxed"),
    )


_NOT_ANALYSED = "no events given: causes not analysed"


def _not_analysed(found: pl.DataFrame) -> pl.DataFrame:
    """`found` with every difference unexplained, for want of events."""
    return found.with_columns(
        pl.lit(UNEXPLAINED).alias(CAUSE),
        pl.lit(_NOT_ANALYSED).alias(DETAIL),
        pl.lit(None, dtype=pl.String).alias(SIMULATED_VALUE),
    )


def causes(
    found: pl.DataFrame,
    events: str | Path | Sequence[str | Path] | None,
    batch: tuple[pl.DataFrame, pl.DataFrame],
    column_map: Mapping[str, str] | None,
    configs: tuple[RunConfig, StreamConfig, GapRule | None],
    comparison: tuple[Compared, pl.DataFrame, pl.DataFrame, float],
) -> tuple[pl.DataFrame, StreamConfig | None, tuple[pl.DataFrame, pl.DataFrame] | None]:
    """`found` with a cause each, the stream settings used, and the simulated records.

    Without events nothing is analysed. With them, their files are checked (footers only);
    when nothing differs, nothing needs explaining and no row is read. Otherwise only the
    users of the differences are simulated.
    """
    if events is None:
        return _not_analysed(found), None, None
    inputs = [events] if isinstance(events, str | Path) else events
    frame, scanned = stream_input(inputs, arrival=configs[1].arrival, column_map=column_map)
    if found.is_empty():
        return _not_analysed(found), configs[1], None
    fields, batch_view, stream_view, tolerance = comparison
    users = _differing_users(found, fields.keys)
    if users is not None:
        batch_view, stream_view = (
            _only_rows_of(batch_view, users),
            _only_rows_of(stream_view, users),
        )
    with decoding(scanned.paths):
        if users is not None:
            frame = _only_users(frame, users, scanned.has_event_id)
        explained, settings, rungs = _explain_best(
            found, frame, *configs, (fields, batch_view, stream_view, tolerance)
        )
    simulated = rungs.simulated if users is None else _completed(rungs.simulated, batch, users)
    return explained, settings, simulated


def _explain_best(
    found: pl.DataFrame,
    events: pl.LazyFrame,
    batch_config: RunConfig,
    settings: StreamConfig,
    forced_rule: GapRule | None,
    comparison: tuple[Compared, pl.DataFrame, pl.DataFrame, float],
) -> tuple[pl.DataFrame, StreamConfig, Rungs]:
    """Explain `found` with the stream's gap rule, trying both when it is not given."""
    fields, batch_view, stream_view, tolerance = comparison
    rules: tuple[GapRule, ...] = (forced_rule,) if forced_rule else ("inclusive", "exclusive")
    best: tuple[int, pl.DataFrame, StreamConfig, Rungs] | None = None
    for rule in rules:
        tried = dataclasses.replace(settings, gap_rule=rule)
        rungs = build_rungs(events, batch_config, tried)
        middle = [rungs.batch_rerun, rungs.stream_rule, rungs.on_time, rungs.simulated]
        explained = explain(
            found,
            kind=fields.kind,
            keys=fields.keys,
            values=fields.values,
            ladder=[batch_view, *(fields.shape(*pair) for pair in middle), stream_view],
            rungs=rungs,
            details=cause_details(batch_config, tried),
            tolerance=tolerance,
            timezone=fields.timezone,
        )
        unexplained = int((explained[CAUSE] == UNEXPLAINED).sum())
        if best is None or unexplained < best[0]:
            best = (unexplained, explained, tried, rungs)
        if unexplained == 0:
            break
    assert best is not None  # at least one rule was tried
    return best[1], best[2], best[3]
