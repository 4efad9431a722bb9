"""A tiny, obviously-correct reference implementation of CONTRACT.md, used as a test oracle.

Plain loops over lists of dicts, no Polars: it must stay independent of the engine. Input rows
are dicts with the keys ``user_id``, ``event_time`` (tz-aware datetime or None), ``event_type``,
``query``, ``items``, ``item`` and ``event_id``, given in input order.

The event types and quarantine reasons are spelled out here from the contract on purpose
(``test_reference.py`` checks that they agree with ``ctr_batch.core.schema``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

EVENT_TYPES = ("app_open", "search", "results", "click", "app_close")
GAP_RULES = ("inclusive", "exclusive")


# --- quarantine (CONTRACT §1) -------------------------------------------------------------------
def quarantine_reason(row: dict, kept_ids: set[str]) -> str | None:
    """First matching reason why ``row`` is rejected, or None when it is valid."""
    if row["user_id"] is None:
        return "null_user_id"
    if row["event_time"] is None:
        return "null_event_time"
    if row["event_type"] not in EVENT_TYPES:
        return "unknown_event_type"
    if row["event_id"] is not None and row["event_id"] in kept_ids:
        return "duplicate_event_id"
    return None


def split_valid(rows: list[dict]) -> tuple[list[tuple[int, dict]], list[dict]]:
    """Return ``(valid, quarantine)``: valid rows with their input position, rejected rows."""
    valid: list[tuple[int, dict]] = []
    quarantine: list[dict] = []
    kept_ids: set[str] = set()
    for position, row in enumerate(rows):
        reason = quarantine_reason(row, kept_ids)
        if reason is None:
            valid.append((position, row))
            if row["event_id"] is not None:
                kept_ids.add(row["event_id"])
        else:
            quarantine.append({**row, "reason": reason})
    return valid, quarantine


# --- sessions (CONTRACT §2, §3) -----------------------------------------------------------------
def opens_new_session(delta: timedelta, gap: timedelta, gap_rule: str) -> bool:
    """Whether an event ``delta`` after the previous one of its user opens a new session."""
    if gap_rule == "inclusive":
        return delta > gap
    if gap_rule == "exclusive":
        return delta >= gap
    msg = f"unknown gap rule {gap_rule!r}"
    raise ValueError(msg)


def sessionize(
    valid: list[tuple[int, dict]],
    gap: timedelta,
    gap_rule: str,
    max_session: timedelta | None = None,
) -> list[list[dict]]:
    """Group valid rows into sessions: lists of rows ordered by (event_time, input position).

    With `max_session`, an event more than that after its session's first event opens a new
    session.
    """
    by_user: dict[str, list[tuple[int, dict]]] = {}
    for position, row in valid:
        by_user.setdefault(row["user_id"], []).append((position, row))
    sessions: list[list[dict]] = []
    for user_rows in by_user.values():
        user_rows.sort(key=lambda pos_row: (pos_row[1]["event_time"], pos_row[0]))
        current: list[dict] = []
        for _, row in user_rows:
            too_long = (
                max_session is not None
                and bool(current)
                and row["event_time"] - current[0]["event_time"] > max_session
            )
            if current and (
                too_long
                or opens_new_session(row["event_time"] - current[-1]["event_time"], gap, gap_rule)
            ):
                sessions.append(current)
                current = []
            current.append(row)
        sessions.append(current)
    return sessions


def make_session_id(user_id: str, session_start: datetime) -> str:
    """Deterministic session id: user id and UTC session start."""
    return f"{user_id}/{session_start.astimezone(UTC):%Y-%m-%dT%H:%M:%S.%fZ}"


def local_date(moment: datetime, tz: str) -> date:
    """Calendar date of ``moment`` in the time zone ``tz``."""
    return moment.astimezone(ZoneInfo(tz)).date()


def ratio(numerator: float, denominator: float) -> float | None:
    """``numerator / denominator``, None when the denominator is 0."""
    return numerator / denominator if denominator else None


def count_type(events: list[dict], event_type: str) -> int:
    """Number of events of the given type."""
    return sum(1 for event in events if event["event_type"] == event_type)


def session_row(events: list[dict], tz: str) -> dict:
    """The ``sessions`` row of one session."""
    start, end = events[0]["event_time"], events[-1]["event_time"]
    n_searches = count_type(events, "search")
    n_clicks = count_type(events, "click")
    return {
        "user_id": events[0]["user_id"],
        "session_id": make_session_id(events[0]["user_id"], start),
        "session_start": start,
        "session_end": end,
        "duration": end - start,
        "duration_s": (end - start).total_seconds(),
        "n_events": len(events),
        "n_searches": n_searches,
        "n_clicks": n_clicks,
        "clicks_per_search": ratio(n_clicks, n_searches),
        "date": local_date(start, tz),
    }


# --- search segments (CONTRACT §4) --------------------------------------------------------------
def search_segments(events: list[dict]) -> list[list[dict]]:
    """Segments 1..k of a session: each search plus the events up to the next search."""
    segments: list[list[dict]] = []
    for event in events:
        if event["event_type"] == "search":
            segments.append([event])
        elif segments:  # events before the first search (segment 0) are dropped
            segments[-1].append(event)
    return segments


def search_row(segment: list[dict], search_index: int, session_id: str, tz: str) -> dict:
    """The ``searches`` row of one segment."""
    search = segment[0]
    clicks = [event for event in segment if event["event_type"] == "click"]
    results = [event for event in segment if event["event_type"] == "results"]
    items = results[0]["items"] if results else None
    first_click = clicks[0] if clicks else None
    clicked_item = None if first_click is None else first_click["item"]
    position = None
    if items is not None and clicked_item is not None and clicked_item in items:
        position = items.index(clicked_item) + 1  # the first occurrence
    time_to_first_click = None
    if first_click is not None:
        time_to_first_click = first_click["event_time"] - search["event_time"]
    return {
        "user_id": search["user_id"],
        "session_id": session_id,
        "search_index": search_index,
        "search_time": search["event_time"],
        "query": search["query"],
        "n_results": None if items is None else len(items),
        "n_clicks": len(clicks),
        "clicked": len(clicks) > 0,
        "ctr": 1.0 if clicks else 0.0,
        "time_to_first_click": time_to_first_click,
        "time_to_first_click_s": None
        if time_to_first_click is None
        else time_to_first_click.total_seconds(),
        "first_click_position": position,
        "date": local_date(search["event_time"], tz),
    }


# --- aggregates ---------------------------------------------------------------------------------
def ctr_daily(searches: list[dict], sessions: list[dict]) -> list[dict]:
    """One row per date with at least one search or one session starting on it."""
    rows = []
    for day in sorted({s["date"] for s in searches} | {s["date"] for s in sessions}):
        day_searches = [s for s in searches if s["date"] == day]
        day_sessions = [s for s in sessions if s["date"] == day]
        with_search = [s for s in day_sessions if s["n_searches"] > 0]
        clicked = sum(1 for s in day_searches if s["clicked"])
        clicks = sum(s["n_clicks"] for s in with_search)
        rows.append(
            {
                "date": day,
                "searches": len(day_searches),
                "clicked_searches": clicked,
                "ctr": ratio(clicked, len(day_searches)),
                "clicks": clicks,
                "clicks_per_search": ratio(clicks, sum(s["n_searches"] for s in with_search)),
                "sessions": len(day_sessions),
                "sessions_with_search": len(with_search),
            }
        )
    return rows


def ctr_by_query(searches: list[dict]) -> list[dict]:
    """One row per query (a null query is a group of its own)."""
    groups: dict[str | None, list[dict]] = {}
    for search in searches:
        groups.setdefault(search["query"], []).append(search)
    rows = []
    for query, group in groups.items():
        clicked = sum(1 for s in group if s["clicked"])
        positions = [s["first_click_position"] for s in group]
        positions = [p for p in positions if p is not None]
        rows.append(
            {
                "query": query,
                "searches": len(group),
                "clicked_searches": clicked,
                "ctr": ratio(clicked, len(group)),
                "clicks": sum(s["n_clicks"] for s in group),
                "mean_first_click_position": ratio(sum(positions), len(positions)),
            }
        )
    return rows


# --- everything ---------------------------------------------------------------------------------
def reference_tables(
    rows: list[dict],
    gap: timedelta,
    gap_rule: str = "inclusive",
    tz: str = "UTC",
    max_session: timedelta | None = None,
) -> dict[str, list[dict]]:
    """All tables of CONTRACT §5 for ``rows`` (in input order), as lists of dicts."""
    valid, quarantine = split_valid(rows)
    sessions, searches = [], []
    for events in sessionize(valid, gap, gap_rule, max_session):
        session = session_row(events, tz)
        sessions.append(session)
        for index, segment in enumerate(search_segments(events), start=1):
            searches.append(search_row(segment, index, session["session_id"], tz))
    return {
        "sessions": sessions,
        "searches": searches,
        "quarantine": quarantine,
        "ctr_daily": ctr_daily(searches, sessions),
        "ctr_by_query": ctr_by_query(searches),
    }
