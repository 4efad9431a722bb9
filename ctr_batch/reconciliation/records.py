"""Batch, simulated and streamed results reshaped to one comparable form per kind of record."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from ctr_batch.core.rules import local_date
from ctr_batch.core.schema import (
    CLICKED_SEARCHES,
    CLICKS,
    CLICKS_PER_SEARCH,
    CTR,
    DATE,
    N_CLICKS,
    N_EVENTS,
    N_SEARCHES,
    QUERY,
    SEARCH_TIME,
    SEARCHES,
    SESSION_END,
    SESSION_ID,
    SESSION_START,
    TIME_DTYPE,
    USER_ID,
)

if TYPE_CHECKING:
    from ctr_batch.reconciliation.load import StreamKind

KEYS: dict[StreamKind, tuple[str, ...]] = {
    "searches": (USER_ID, SEARCH_TIME, QUERY),
    "sessions": (USER_ID, SESSION_START),
    "daily": (DATE,),
}
VALUES: dict[StreamKind, tuple[str, ...]] = {
    "searches": (SESSION_START, N_CLICKS, CTR),
    "sessions": (SESSION_END, N_EVENTS, N_SEARCHES, N_CLICKS, CLICKS_PER_SEARCH),
    "daily": (SEARCHES, CLICKED_SEARCHES, CTR),
}
SEARCH_COLUMNS = pl.Schema(
    {
        USER_ID: pl.String(),
        SEARCH_TIME: TIME_DTYPE,
        QUERY: pl.String(),
        SESSION_START: TIME_DTYPE,
        N_CLICKS: pl.Int64(),
        CTR: pl.Float64(),
    }
)
SESSION_COLUMNS = pl.Schema(
    {
        USER_ID: pl.String(),
        SESSION_START: TIME_DTYPE,
        SESSION_END: TIME_DTYPE,
        N_EVENTS: pl.Int64(),
        N_SEARCHES: pl.Int64(),
        N_CLICKS: pl.Int64(),
    }
)


def batch_searches(searches: pl.DataFrame, sessions: pl.DataFrame) -> pl.DataFrame:
    """Batch ``searches`` with their session's ``session_start`` (``SEARCH_COLUMNS``)."""
    starts = sessions.select(SESSION_ID, SESSION_START)
    joined = searches.join(starts, on=SESSION_ID, how="left")
    return joined.select(SEARCH_COLUMNS.names()).cast(SEARCH_COLUMNS)


def records_of(
    kind: StreamKind, searches: pl.DataFrame, sessions: pl.DataFrame, *, timezone: str = "UTC"
) -> pl.DataFrame:
    """Records of `kind` from per-search (``SEARCH_COLUMNS``) and per-session records.

    ``daily`` counts searches by the date of ``search_time``; ``sessions`` gets
    ``clicks_per_search`` (null without a search).
    """
    if kind == "searches":
        return searches.select(SEARCH_COLUMNS.names()).cast(SEARCH_COLUMNS)
    if kind == "sessions":
        per_session = sessions.select(SESSION_COLUMNS.names()).cast(SESSION_COLUMNS)
        ratio = pl.col(N_CLICKS).cast(pl.Float64) / pl.col(N_SEARCHES)
        return per_session.with_columns(
            pl.when(pl.col(N_SEARCHES) > 0).then(ratio).alias(CLICKS_PER_SEARCH)
        )
    return daily_from_searches(searches, timezone=timezone)


def daily_from_searches(searches: pl.DataFrame, *, timezone: str = "UTC") -> pl.DataFrame:
    """``date``, ``searches``, ``clicked_searches`` and ``ctr`` from per-search records."""
    return (
        searches.lazy()
        .group_by(local_date(SEARCH_TIME, timezone))
        .agg(
            pl.len().cast(pl.Int64).alias(SEARCHES),
            (pl.col(CTR) > 0).sum().cast(pl.Int64).alias(CLICKED_SEARCHES),
            pl.col(CTR).mean().alias(CTR),
        )
        .sort(DATE)
        .collect()
    )


def daily_clicks_per_search(sessions: pl.DataFrame, *, timezone: str = "UTC") -> pl.DataFrame:
    """``date``, ``searches`` (of sessions starting that day), ``clicks`` and their ratio."""
    with_search = sessions.filter(pl.col(N_SEARCHES) > 0)
    return (
        with_search.lazy()
        .group_by(local_date(SESSION_START, timezone))
        .agg(pl.col(N_SEARCHES).sum().alias(SEARCHES), pl.col(N_CLICKS).sum().alias(CLICKS))
        .with_columns((pl.col(CLICKS) / pl.col(SEARCHES)).alias(CLICKS_PER_SEARCH))
        .sort(DATE)
        .collect()
    )


@dataclass(frozen=True, slots=True)
class Compared:
    """What is compared: the kind, its key and value columns present, and the rows in scope."""

    kind: StreamKind
    keys: tuple[str, ...]
    values: tuple[str, ...]
    scope: pl.Expr
    timezone: str

    @classmethod
    def of(cls, kind: StreamKind, stream: pl.DataFrame, timezone: str) -> Compared:
        """What `stream`'s records of `kind` let us compare."""
        present = set(stream.columns)
        keys = tuple(c for c in KEYS[kind] if c in present)
        values = tuple(c for c in VALUES[kind] if c in present)
        # A per-session stream without any search-less session only reports sessions with one.
        only_with_search = (
            kind == "sessions" and N_SEARCHES in present and stream.height > 0
        ) and bool((stream[N_SEARCHES] > 0).all())
        scope = pl.col(N_SEARCHES) > 0 if only_with_search else pl.lit(True)
        return cls(kind, keys, values, scope, timezone)

    def shape(self, searches: pl.DataFrame, sessions: pl.DataFrame) -> pl.DataFrame:
        """Records of this kind, in scope, with the compared columns only."""
        records = records_of(self.kind, searches, sessions, timezone=self.timezone)
        return records.filter(self.scope).select(*self.keys, *self.values)
