"""The one place that orders the stages and collects them: normalized events in, tables out.

flag rows → set bad rows aside → group users → sessionize → segment → sessions and searches
→ ``ctr_daily`` and ``ctr_by_query``. Run strategies (``run.py`` in one pass, ``buckets.py``
per user bucket) and the backfill call ``compute_tables`` and ``compute_ctr``; no other module
puts stages in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, NamedTuple

import polars as pl

from ctr_batch.core.config import RunConfig
from ctr_batch.core.errors import ConfigError
from ctr_batch.core.schema import (
    CTR_BY_QUERY_TABLE,
    CTR_DAILY_TABLE,
    EVENT_ID,
    EVENT_TIME,
    INPUT_ROW,
    ITEM,
    ITEMS,
    QUARANTINE_TABLE,
    QUERY,
    REASON,
    SEARCHES_TABLE,
    SEQ,
    SESSION_FIRST_ROW,
    SESSIONS_TABLE,
    USER_KEY,
)
from ctr_batch.io.normalize import normalize_events
from ctr_batch.stages import aggregate
from ctr_batch.stages.flag import (
    ids_distinct,
    mark_known_duplicates,
    mark_repeated,
    quarantine_rows,
    row_problem,
    slim,
    split_valid,
)
from ctr_batch.stages.segment import segment
from ctr_batch.stages.sessionize import (
    USER_KEYS,
    cap_sessions,
    group_users,
    out_of_order,
    session_rows,
    sessionize,
    users_interleaved,
)

if TYPE_CHECKING:
    from datetime import timedelta

PolarsEngine = Literal["auto", "in-memory", "streaming"]


@dataclass(frozen=True, slots=True)
class HeldColumns:
    """Columns held once for every rescanned user bucket, which leave them out; found by ``_seq``.

    Attributes
    ----------
    lists
        ``items`` of every input row, row ``i`` for ``_seq`` ``i``: read once for all buckets,
        as decoding them is most of the cost of a rescan.
    event_ids
        ``_seq`` and ``event_id`` of every input row (a scan), read only for quarantined rows:
        the processable rows need no id once the ids are known to be distinct.
    """

    lists: pl.Series
    event_ids: pl.LazyFrame

    def restore(self, rows: pl.LazyFrame) -> pl.LazyFrame:
        """`rows` (with ``_seq``) with their ``items`` and ``event_id`` put back."""
        seqs = rows.select(SEQ).collect(engine="in-memory").to_series()
        ids = pl.LazyFrame(schema={SEQ: pl.Int64, EVENT_ID: pl.String})
        if len(seqs):
            found = self.event_ids.filter(pl.col(SEQ).is_in(seqs.implode()))
            ids = found.collect(engine="streaming").lazy()
        with_lists = rows.with_columns(pl.lit(self.lists).gather(pl.col(SEQ)).alias(ITEMS))
        return with_lists.join(ids, on=SEQ, how="left", maintain_order="left")


class _Split(NamedTuple):
    """Flagged events split into what each later stage reads."""

    quarantine: pl.DataFrame  # rejected rows, as the quarantine table
    in_input_order: pl.DataFrame  # query and item of the kept rows, in input order
    to_sort: pl.DataFrame  # the kept rows' columns that go through the sort by user
    lists: pl.Series  # result lists
    list_row: str  # the column whose value is an event's row in `lists`


def compute_tables(
    events: pl.LazyFrame | pl.DataFrame,
    config: RunConfig,
    *,
    normalized: bool = False,
    dedupe: bool = True,
    file_table: pl.LazyFrame | None = None,
    duplicates: pl.LazyFrame | None = None,
    held: HeldColumns | None = None,
    dropped: pl.LazyFrame | None = None,
    engine: PolarsEngine = "auto",
    ctr: bool = True,
) -> dict[str, pl.DataFrame]:
    """Compute every output table from events.

    Parameters
    ----------
    events
        Contract-shaped events, in input order; other columns are ignored.
    config
        Gap, gap rule and time zone.
    normalized
        `events` come from ``io.read`` or ``io.normalize`` already (with ``_seq``, the input
        order, and maybe ``_file``), so they are used as they are.
    dedupe
        Set repeated ``event_id`` values aside (when the input has that column).
    file_table
        ``_file`` → ``source_file`` and first ``_seq`` of each file, for the quarantine table.
    duplicates
        ``_seq`` of rows known to repeat an earlier ``event_id`` (replaces `dedupe`).
    held
        Columns left out of `events`, found by ``_seq`` (see ``HeldColumns``).
    dropped
        ``_seq`` of processable rows to leave out (say, the events a stream drops as late).
    engine
        Polars engine of the first, order-free stages; results are the same on every engine.
    ctr
        Also compute ``ctr_daily`` and ``ctr_by_query`` (a bucketed run aggregates them from
        every bucket's searches and sessions instead).

    Examples
    --------
    >>> from datetime import datetime
    >>> from ctr_batch.core.config import RunConfig
    >>> events = pl.LazyFrame({"user_id": ["a", "a", "a"],
    ...     "event_time": [datetime(2024, 1, 1, 0, 0, s) for s in (0, 1, 2)],
    ...     "event_type": ["search", "results", "click"]})
    >>> compute_tables(events, RunConfig())["searches"]["n_clicks"].to_list()
    [1]
    """
    if not isinstance(config, RunConfig):
        msg = f"config: expected a RunConfig; got {type(config).__name__}"
        raise ConfigError(msg)
    events = events.lazy() if normalized else normalize_events(events.lazy())
    split = _split_rows(events, dedupe, file_table, duplicates, held, dropped, engine)
    # From the sort on, every stage depends on row order: the in-memory engine runs them.
    searches, sessions = _search_tables(split, config)
    tables = {SEARCHES_TABLE: searches, SESSIONS_TABLE: sessions}
    if ctr:
        tables |= compute_ctr(searches.lazy(), sessions.lazy())
    return tables | {QUARANTINE_TABLE: split.quarantine}


def compute_ctr(
    searches: pl.LazyFrame, sessions: pl.LazyFrame, *, engine: PolarsEngine = "in-memory"
) -> dict[str, pl.DataFrame]:
    """``ctr_daily`` and ``ctr_by_query`` from the searches and sessions tables."""
    daily, by_query = pl.collect_all(
        [aggregate.ctr_daily(searches, sessions), aggregate.ctr_by_query(searches)],
        engine=engine,
    )
    return {CTR_DAILY_TABLE: daily, CTR_BY_QUERY_TABLE: by_query}


def query_roll_up(searches: pl.LazyFrame) -> pl.DataFrame:
    """``ctr_by_query`` over searches read from partitions (streaming: they may be many)."""
    return aggregate.ctr_by_query(searches).collect(engine="streaming")


def _search_tables(split: _Split, config: RunConfig) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The searches and sessions tables, from the kept rows."""
    segmented = _sessionize_and_segment(split.to_sort, config)
    sessions = aggregate.sessions(segmented.lazy(), timezone=config.timezone).collect(
        engine="in-memory"
    )
    rows = aggregate.search_rows(
        segmented.lazy(), split.in_input_order.lazy(), lists=split.lists, list_row=split.list_row
    ).collect(engine="in-memory")
    del segmented
    searches = aggregate.searches(
        rows.lazy(), sessions.lazy(), lists=split.lists, timezone=config.timezone
    ).collect(engine="in-memory")
    return searches, sessions.drop(SESSION_FIRST_ROW)


def _split_rows(
    events: pl.LazyFrame,
    dedupe: bool,
    file_table: pl.LazyFrame | None,
    duplicates: pl.LazyFrame | None,
    held: HeldColumns | None,
    dropped: pl.LazyFrame | None,
    engine: PolarsEngine,
) -> _Split:
    """Flag rows, set the bad ones aside, and split the kept ones by what reads them."""
    flagged = _flag_rows(events, dedupe, duplicates, engine)
    any_rejected = flagged.get_column(REASON).null_count() < flagged.height
    valid, rejected = split_valid(flagged.lazy(), any_rejected=any_rejected)
    if dropped is not None:
        valid = valid.join(dropped.select(SEQ), on=SEQ, how="anti", maintain_order="left")
    if held is not None:  # quarantine rows keep every input column
        rejected = held.restore(rejected)
    wanted = [
        quarantine_rows(rejected, file_table),
        valid.select(QUERY, ITEM),  # stays in input order
        slim(valid).drop(QUERY, ITEM, ITEMS, strict=False),  # goes through the sort
    ]
    if held is None:
        wanted.append(valid.select(ITEMS))
    quarantine, in_input_order, to_sort, *own_lists = pl.collect_all(wanted, engine="in-memory")
    del flagged, valid, rejected, wanted
    # One chunk each (faster gathers); the input's chunks are released here.
    in_input_order, to_sort = in_input_order.rechunk(), to_sort.rechunk()
    if held is None:
        lists = own_lists.pop().to_series().rechunk()
        return _Split(quarantine, in_input_order, to_sort, lists, INPUT_ROW)
    return _Split(quarantine, in_input_order, to_sort, held.lists, SEQ)


def _sessionize_and_segment(to_sort: pl.DataFrame, config: RunConfig) -> pl.DataFrame:
    """Sessionized and segmented events.

    Only the columns that order and split sessions go through the sort; the others stay in
    input order (``_input_row`` points there). Events are first grouped by user with the
    cheapest key of ``USER_KEYS``. Logs arrive roughly in time order, so this usually leaves
    each user's events in (time, input) order already; a check confirms it, and the full sort
    runs only when it fails. Should two users share a key, the next kind of key is tried; the
    last, ``user_id`` itself, never fails.
    """
    for kind in USER_KEYS:
        by_user = group_users(to_sort.lazy(), kind=kind, rows=to_sort.height).collect(
            engine="in-memory"
        )
        checks = by_user.select(
            users_interleaved().alias("mixed"), out_of_order(USER_KEY).alias("late")
        )
        interleaved, disordered = checks.row(0)
        if interleaved:
            continue
        sessions = sessionize(
            by_user.lazy(), gap=config.gap, gap_rule=config.gap_rule, presorted=not disordered
        )
        if config.max_session is not None:
            sessions = _capped(sessions.collect(engine="in-memory"), config.max_session).lazy()
        return segment(sessions).collect(engine="in-memory")
    msg = "unreachable: user_id as the key never interleaves users"
    raise AssertionError(msg)


def _capped(sessions: pl.DataFrame, max_session: timedelta) -> pl.DataFrame:
    """`sessions` with no session longer than `max_session` (``cap_sessions`` until stable).

    A round opens one more session in each session still too long: as many rounds as the
    longest session has pieces, none when no session is too long.
    """
    while True:
        long = (
            pl.col(EVENT_TIME).max().over(SESSION_FIRST_ROW)
            - pl.col(EVENT_TIME).min().over(SESSION_FIRST_ROW)
            > max_session
        )
        if not sessions.select(long.any()).item():
            return sessions
        rounded = cap_sessions(sessions.lazy(), max_session).with_columns(session_rows())
        sessions = rounded.collect(engine="in-memory")


def _flag_rows(
    events: pl.LazyFrame,
    dedupe: bool,
    duplicates: pl.LazyFrame | None,
    engine: PolarsEngine,
) -> pl.DataFrame:
    """Events with ``reason``; duplicate detection runs only if some ids may repeat."""
    checked = events.with_columns(row_problem()).collect(engine=engine)
    if duplicates is not None:
        return mark_known_duplicates(checked.lazy(), duplicates).collect(engine=engine)
    if dedupe and not checked.select(ids_distinct()).item():
        return mark_repeated(checked.lazy()).collect(engine=engine)
    return checked
