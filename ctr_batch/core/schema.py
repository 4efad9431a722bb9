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
FIRST_CLICK_POSITION = "first_click_position"
N_EVENTS = "n_events"
N_SEARCHES = "n_searches"
CLICKS_PER_SEARCH = "clicks_per_search"
DURATION = "duration"
DATE = "date"
SEARCHES = "searches"
CLICKED_SEARCHES = "clicked_searches"
CLICKS = "clicks"
SESSIONS = "sessions"
SESSIONS_WITH_SEARCH = "sessions_with_search"
SESSION_SEARCHES = "session_searches"
MEAN_FIRST_CLICK_POSITION = "mean_first_click_position"

# --- table names (CONTRACT §5) ------------------------------------------------------------------
SEARCHES_TABLE = "searches"
SESSIONS_TABLE = "sessions"
CTR_DAILY_TABLE = "ctr_daily"
CTR_BY_QUERY_TABLE = "ctr_by_query"
CTR_BY_QUERY_DAILY_TABLE = "ctr_by_query_daily"
QUARANTINE_TABLE = "quarantine"
RUN_SUMMARY_TABLE = "run_summary"

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
