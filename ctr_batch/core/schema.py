"""Column names, event types and the schema of every table, defined once."""

from __future__ import annotations

import polars as pl

# --- input events (CONTRACT §1) ---------------------------------------------------------------
USER_ID = "user_id"
EVENT_TIME = "event_time"
EVENT_TYPE = "event_type"
QUERY = "query"
ITEMS = "items"
ITEM = "item"
EVENT_ID = "event_id"

REQUIRED_COLUMNS = (USER_ID, EVENT_TIME, EVENT_TYPE)
OPTIONAL_COLUMNS = (QUERY, ITEMS, ITEM, EVENT_ID)
EVENT_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS

APP_OPEN = "app_open"
SEARCH = "search"
RESULTS = "results"
CLICK = "click"
APP_CLOSE = "app_close"
EVENT_TYPES = (APP_OPEN, SEARCH, RESULTS, CLICK, APP_CLOSE)
EventType = pl.Enum(EVENT_TYPES)

TIME_DTYPE = pl.Datetime("us", "UTC")

# --- bookkeeping columns added at read time -----------------------------------------------------
SEQ = "_seq"  # global input order: files in sorted path order, rows in file order
FILE_INDEX = "_file"  # position of the source file in the sorted file list
SOURCE_FILE = "source_file"
SOURCE_ROW = "source_row"
REASON = "reason"

# --- working columns of the stages (never written) -----------------------------------------------
# Rows are in (user key, time, input) order from sessionize on; `_row` numbers them, and the other
# `_*_row` columns point at rows of that order, so stages pick values with `gather` (no joins).
USER_KEY = "_user_key"  # integer stand-in for user_id used to sort and group
ROW = "_row"  # position in (user key, time, input) order
INPUT_ROW = "_input_row"  # position before that sort; query, item and items stay in that order
OPENS_SESSION = "_opens_session"
SESSION_FIRST_ROW = "_session_first_row"  # row of the session's first event
SESSION_LAST_ROW = "_session_last_row"  # row of the session's last event
SEGMENT_LAST_ROW = "_segment_last_row"  # row of the search segment's last event
NEXT_CLICK_ROW = "_next_click_row"  # first `click` row at or after this one
NEXT_RESULTS_ROW = "_next_results_row"  # first `results` row at or after this one
CLICKS_SO_FAR = "_clicks_so_far"  # clicks up to and including this row

# --- quarantine reasons -------------------------------------------------------------------------
NULL_USER_ID = "null_user_id"
NULL_EVENT_TIME = "null_event_time"
UNKNOWN_EVENT_TYPE = "unknown_event_type"
DUPLICATE_EVENT_ID = "duplicate_event_id"
REASONS = (NULL_USER_ID, NULL_EVENT_TIME, UNKNOWN_EVENT_TYPE, DUPLICATE_EVENT_ID)
OUTSIDE_PARTITION = "outside_partition"  # backfill only: event time far from its date= folder

# --- columns derived by the stages --------------------------------------------------------------
SESSION_ID = "session_id"
SESSION_START = "session_start"
SESSION_END = "session_end"
SEARCH_INDEX = "search_index"
SEARCH_TIME = "search_time"
N_RESULTS = "n_results"
N_CLICKS = "n_clicks"
CLICKED = "clicked"
CTR = "ctr"
TIME_TO_FIRST_CLICK = "time_to_first_click"
TIME_TO_FIRST_CLICK_S = "time_to_first_click_s"  # the same in seconds, for SQL (DuckDB: DOUBLE)
FIRST_CLICK_POSITION = "first_click_position"
N_EVENTS = "n_events"
N_SEARCHES = "n_searches"
CLICKS_PER_SEARCH = "clicks_per_search"
DURATION = "duration"
DURATION_S = "duration_s"
DATE = "date"
SEARCHES = "searches"
CLICKED_SEARCHES = "clicked_searches"
CLICKS = "clicks"
SESSIONS = "sessions"
SESSIONS_WITH_SEARCH = "sessions_with_search"
SESSION_SEARCHES = "session_searches"
MEAN_FIRST_CLICK_POSITION = "mean_first_click_position"

#: The tables' columns, as a number: raised whenever a table gains or changes a column, so that
#: a backfill never mixes day partitions of two layouts in one table (1: before ``_s`` columns).
TABLE_LAYOUT = 2

# --- table names (CONTRACT §5) ------------------------------------------------------------------
SEARCHES_TABLE = "searches"
SESSIONS_TABLE = "sessions"
CTR_DAILY_TABLE = "ctr_daily"
CTR_BY_QUERY_TABLE = "ctr_by_query"
CTR_BY_QUERY_DAILY_TABLE = "ctr_by_query_daily"
QUARANTINE_TABLE = "quarantine"
RUN_SUMMARY_TABLE = "run_summary"
DAY_SUMMARY_TABLE = "day_summary"  # a backfill's figures per day, from its manifest
LATE_TABLE = "late"  # simulate-stream's events dropped as late

# --- schemas ------------------------------------------------------------------------------------
EVENTS_SCHEMA = pl.Schema(
    {
        USER_ID: pl.String(),
        EVENT_TIME: TIME_DTYPE,
        EVENT_TYPE: pl.String(),
        QUERY: pl.String(),
        ITEMS: pl.List(pl.String),
        ITEM: pl.String(),
        EVENT_ID: pl.String(),
    }
)

SEARCHES_SCHEMA = pl.Schema(
    {
        USER_ID: pl.String(),
        SESSION_ID: pl.String(),
        SEARCH_INDEX: pl.UInt32(),
        SEARCH_TIME: TIME_DTYPE,
        QUERY: pl.String(),
        N_RESULTS: pl.UInt32(),
        N_CLICKS: pl.UInt32(),
        CLICKED: pl.Boolean(),
        CTR: pl.Float64(),
        TIME_TO_FIRST_CLICK: pl.Duration("us"),
        TIME_TO_FIRST_CLICK_S: pl.Float64(),
        FIRST_CLICK_POSITION: pl.UInt32(),
        DATE: pl.Date(),
    }
)

SESSIONS_SCHEMA = pl.Schema(
    {
        USER_ID: pl.String(),
        SESSION_ID: pl.String(),
        SESSION_START: TIME_DTYPE,
        SESSION_END: TIME_DTYPE,
        DURATION: pl.Duration("us"),
        DURATION_S: pl.Float64(),
        N_EVENTS: pl.UInt32(),
        N_SEARCHES: pl.UInt32(),
        N_CLICKS: pl.UInt32(),
        CLICKS_PER_SEARCH: pl.Float64(),
        DATE: pl.Date(),
    }
)

CTR_DAILY_SCHEMA = pl.Schema(
    {
        DATE: pl.Date(),
        SEARCHES: pl.Int64(),
        CLICKED_SEARCHES: pl.Int64(),
        CTR: pl.Float64(),
        CLICKS: pl.Int64(),
        CLICKS_PER_SEARCH: pl.Float64(),
        SESSIONS: pl.Int64(),
        SESSIONS_WITH_SEARCH: pl.Int64(),
    }
)

CTR_BY_QUERY_SCHEMA = pl.Schema(
    {
        QUERY: pl.String(),
        SEARCHES: pl.Int64(),
        CLICKED_SEARCHES: pl.Int64(),
        CTR: pl.Float64(),
        CLICKS: pl.Int64(),
        MEAN_FIRST_CLICK_POSITION: pl.Float64(),
    }
)

QUARANTINE_SCHEMA = pl.Schema(
    {
        **EVENTS_SCHEMA,
        REASON: pl.String(),
        SOURCE_FILE: pl.String(),
        SOURCE_ROW: pl.Int64(),
    }
)

TABLE_SCHEMAS: dict[str, pl.Schema] = {
    SEARCHES_TABLE: SEARCHES_SCHEMA,
    SESSIONS_TABLE: SESSIONS_SCHEMA,
    CTR_DAILY_TABLE: CTR_DAILY_SCHEMA,
    CTR_BY_QUERY_TABLE: CTR_BY_QUERY_SCHEMA,
    QUARANTINE_TABLE: QUARANTINE_SCHEMA,
}

# --- what each table and column means (`ctr-batch describe`, DuckDB COMMENT ON) ------------
_US = "microseconds (Polars Duration; BIGINT in DuckDB: use the _s column there)"
_SECONDS = "seconds (DOUBLE)"
_UTC = "UTC timestamp, microseconds"
_EVENT_DOCS = {
    USER_ID: ("", "who: the user id of the input (integers read as their decimal text)"),
    EVENT_TIME: (_UTC, "when the event happened"),
    EVENT_TYPE: ("", "app_open, search, results, click or app_close (as read)"),
    QUERY: ("", "the search text (on search events)"),
    ITEMS: ("", "the result list in rank order, rank 1 first (on results events)"),
    ITEM: ("", "the clicked result (on click events)"),
    EVENT_ID: ("", "the input's event id; a repeated id is a duplicate"),
}
_DAY = ("date", "day of search_time (searches) or session_start (sessions) in --timezone")
TABLE_DOCS: dict[str, str] = {
    SEARCHES_TABLE: "one row per search segment: a search and the events up to the next one",
    SESSIONS_TABLE: "one row per session: a user's events with no gap longer than --gap",
    CTR_DAILY_TABLE: "one row per day: searches by search day, sessions by start day",
    CTR_BY_QUERY_TABLE: "one row per query text, over every search of the output",
    QUARANTINE_TABLE: "one row per rejected input row, with why and where it came from",
}
COLUMN_DOCS: dict[str, dict[str, tuple[str, str]]] = {
    SEARCHES_TABLE: {
        USER_ID: _EVENT_DOCS[USER_ID],
        SESSION_ID: ("", "<user_id>/<session_start as ISO-8601 UTC>Z, stable across runs"),
        SEARCH_INDEX: ("count", "1 for the session's first search, 2 for the next, ..."),
        SEARCH_TIME: (_UTC, "when the search happened"),
        QUERY: ("", "the search text (null for a search without text)"),
        N_RESULTS: ("items", "length of the segment's first results list; null if none"),
        N_CLICKS: ("count", "clicks in the segment"),
        CLICKED: ("", "n_clicks > 0"),
        CTR: ("ratio 0-1", "1.0 if clicked else 0.0 (per-search CTR)"),
        TIME_TO_FIRST_CLICK: (_US, "search to its first click; null without a click"),
        TIME_TO_FIRST_CLICK_S: (_SECONDS, "time_to_first_click in seconds, for SQL"),
        FIRST_CLICK_POSITION: ("rank", "1-based rank of the first clicked item in the list"),
        DATE: _DAY,
    },
    SESSIONS_TABLE: {
        USER_ID: _EVENT_DOCS[USER_ID],
        SESSION_ID: ("", "<user_id>/<session_start as ISO-8601 UTC>Z, stable across runs"),
        SESSION_START: (_UTC, "time of the session's first event"),
        SESSION_END: (_UTC, "time of the session's last event"),
        DURATION: (_US, "session_end - session_start"),
        DURATION_S: (_SECONDS, "duration in seconds, for SQL"),
        N_EVENTS: ("count", "events in the session"),
        N_SEARCHES: ("count", "searches in the session"),
        N_CLICKS: ("count", "clicks in the session, also those before its first search"),
        CLICKS_PER_SEARCH: ("ratio", "n_clicks / n_searches; null without a search"),
        DATE: _DAY,
    },
    CTR_DAILY_TABLE: {
        DATE: ("date", "the day, in --timezone"),
        SEARCHES: ("count", "searches made that day"),
        CLICKED_SEARCHES: ("count", "of those, searches with at least one click"),
        CTR: ("ratio 0-1", "clicked_searches / searches; null without searches"),
        CLICKS: ("count", "all clicks of the sessions with a search starting that day"),
        CLICKS_PER_SEARCH: ("ratio", "clicks / searches of those sessions"),
        SESSIONS: ("count", "sessions starting that day"),
        SESSIONS_WITH_SEARCH: ("count", "of those, sessions with at least one search"),
    },
    CTR_BY_QUERY_TABLE: {
        QUERY: ("", "the search text (one row for null)"),
        SEARCHES: ("count", "searches of the query"),
        CLICKED_SEARCHES: ("count", "of those, searches with at least one click"),
        CTR: ("ratio 0-1", "clicked_searches / searches"),
        CLICKS: ("count", "all clicks of the query's search segments"),
        MEAN_FIRST_CLICK_POSITION: ("rank", "mean first_click_position where known"),
    },
    QUARANTINE_TABLE: {
        **_EVENT_DOCS,
        REASON: ("", "why: null_user_id, null_event_time, unknown_event_type, ..."),
        SOURCE_FILE: ("", "the input file the row came from"),
        SOURCE_ROW: ("row", "0-based row number in that file"),
    },
}


def describe_tables(table: str | None = None) -> dict[str, dict[str, object]]:
    """Each table's meaning and its columns' types, units and meanings (`table`: only that one).

    Raises
    ------
    KeyError
        For a table that is not one of ``TABLE_SCHEMAS``.

    Examples
    --------
    >>> describe_tables("ctr_daily")["ctr_daily"]["columns"][3]
    {'name': 'ctr', 'type': 'Float64', 'unit': 'ratio 0-1', 'description': 'clicked_searches / searches; null without searches'}
    """  # noqa: E501
    names = list(TABLE_SCHEMAS) if table is None else [table]
    return {
        name: {
            "description": TABLE_DOCS[name],
            "columns": [
                {"name": column, "type": str(dtype), "unit": unit, "description": meaning}
                for (column, dtype), (unit, meaning) in zip(
                    TABLE_SCHEMAS[name].items(), COLUMN_DOCS[name].values(), strict=True
                )
            ],
        }
        for name in names
    }
