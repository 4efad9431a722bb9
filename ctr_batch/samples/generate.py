"""Seeded, vectorized generator of realistic search event logs (CONTRACT §1).

All randomness comes from one ``np.random.Generator``, drawn in a fixed order, and strings are
gathered by Polars from small vocabularies, so the same arguments give the same frame, byte for
byte, and ten million events take seconds. No loop runs over events, sessions or users; plain
Python only builds the fixed query vocabulary (3,000 entries).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from ctr_batch.core.errors import ConfigError
from ctr_batch.core.schema import (
    CLICK,
    EVENT_COLUMNS,
    EVENT_ID,
    EVENT_TIME,
    EVENT_TYPE,
    ITEM,
    ITEMS,
    QUERY,
    RESULTS,
    SEARCH,
    TIME_DTYPE,
    USER_ID,
)
from ctr_batch.samples.plan import CODE, TYPES, UNKNOWN_TYPE, Layout, draw_plan, layout_events
from ctr_batch.samples.vocabulary import N_ITEMS, vocabulary

if TYPE_CHECKING:
    import numpy.typing as npt

    _Ints = npt.NDArray[np.int64]
    _Rows = tuple[_Ints, _Ints, _Ints]

__all__ = ["UNKNOWN_TYPE", "generate_events"]

_US = 1_000_000
_DAY_US = 86_400 * _US
_US_TD = timedelta(microseconds=1)
_MEAN_WAIT_S = np.array([0.0, 15.0, 0.8, 12.0, 30.0])  # before an event, by type code
_HOURLY = 1.3 + np.cos((np.arange(24) - 15) * np.pi / 12)  # UTC hours: busy at 15h, quiet at 3h


def _offsets(rng: np.random.Generator, layout: Layout, gap_us: int) -> _Ints:
    """Microseconds from session start to each event: exponential waits, some exact ties."""
    etype, session = layout.etype, layout.session
    wait = rng.exponential(1.0, len(etype)) * _MEAN_WAIT_S[etype] * _US
    wait[(etype == CODE[RESULTS]) & (rng.random(len(etype)) < 0.25)] = 0  # logged with search
    wait = np.minimum(wait, gap_us // 2).astype(np.int64)  # never a session break inside
    wait[layout.first] = 0
    total = np.cumsum(wait)
    offset: _Ints = total - total[layout.first][session]
    whole_seconds = rng.random(len(layout.first)) < 0.1  # clients logging whole seconds: ties
    return np.where(whole_seconds[session], offset // _US * _US, offset)


def _sessions_per_user(rng: np.random.Generator, n: int, users: int, cap: float) -> _Ints:
    """Zipf-like sessions per user (by activity rank), capped so heavy users fit in the days."""
    weights = 1.0 / np.arange(1, users + 1) ** 1.1
    cap = max(cap, 2.0 * n / users)
    lo, hi = 0.0, n / weights[-1]
    for _ in range(60):  # bisection for the scale c with sum(min(c * w, cap)) = n
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if np.minimum(mid * weights, cap).sum() < n else (lo, mid)
    expected = np.minimum(hi * weights, cap)
    cum = np.cumsum(expected) * (n / max(expected.sum(), 1.0))
    bounds = np.floor(cum + rng.random()).astype(np.int64)  # systematic rounding
    bounds[-1] = n
    counts: _Ints = np.diff(bounds, prepend=0)
    return counts


def _session_starts(
    rng: np.random.Generator, user: _Ints, duration: _Ints, days: int, gap_us: int
) -> _Ints:
    """Session starts (user-major): diurnal draws, pushed apart so sessions never overlap.

    Between sessions of a user, ``start[k] - end[k-1]`` is at least ``1.1 * gap``, except for
    ~3% forced to 0.9-1.1 ``gap`` and ~1% forced to exactly ``gap``.
    """
    n = len(user)
    hour = rng.choice(24, size=n, p=_HOURLY / _HOURLY.sum())
    drawn = rng.integers(0, days, n) * _DAY_US + hour * 3600 * _US + rng.integers(0, 3600 * _US, n)
    drawn = drawn[np.lexsort((drawn, user))]
    is_first = np.diff(user, prepend=-1) != 0
    u, near = rng.random(n), rng.uniform(0.9, 1.1, n) * gap_us
    idle = np.where(u < 0.01, gap_us, np.where(u < 0.04, near, 1.1 * gap_us + _US))
    total = np.cumsum(np.where(is_first, 0, np.roll(duration, 1) + idle.astype(np.int64)))
    pushed = total - total[np.maximum.accumulate(np.where(is_first, np.arange(n), 0))]
    # start[k] = max(drawn[k], end[k-1] + idle[k]) = pushed[k] + max_{j<=k} (drawn[j] - pushed[j])
    # within a user; a forced gap leaves drawn[k] out of the running max.
    free = np.where((u < 0.04) & ~is_first, np.iinfo(np.int64).min // 2, drawn - pushed)
    latest = pl.DataFrame({"u": user, "v": free}).select(pl.col("v").cum_max().over("u"))
    start: _Ints = pushed + latest.to_series().to_numpy()
    return start


def _file_order(rng: np.random.Generator, key: _Ints, n_bad: int) -> _Rows:
    """File rows as (event copied, bad-row kind 0-3, event id number), in file order.

    Kinds 1-3 (null user_id, null event_time, unknown type) are copies of random events with a
    new id, right after their source; duplicates (kind 0, same id) land 1-999 rows later.
    """
    n = len(key)
    edges = np.linspace(0, n_bad if n else 0, 5).round().astype(np.int64)
    share = edges[1:] - edges[:-1]  # per kind: null user, null time, unknown type, duplicate
    copied, copy_kind = (
        rng.integers(0, max(n, 1), share[:3].sum()),
        np.repeat([1, 2, 3], share[:3]),
    )
    # Stable sort: equal keys keep generation order, so each user's ties keep their logical
    # order, and copies (indices from n on) follow their source.
    by_key = pl.DataFrame({"k": np.r_[key, key[copied]]}).with_row_index("i")
    order = by_key.sort("k", maintain_order=True)["i"].to_numpy().astype(np.int64)
    copy = np.flatnonzero(order >= n)
    base, kind = order.copy(), np.zeros_like(order)
    base[copy], kind[copy] = copied[order[copy] - n], copy_kind[order[copy] - n]
    good = np.flatnonzero(order < n)
    dup = good[rng.integers(0, len(good), share[3])]
    after = np.minimum(dup + rng.integers(1, 1000, share[3]), len(base) - 1)
    rows = np.insert(np.arange(len(base)), after + 1, dup)
    return base[rows], kind[rows], rows


def _lookup(values: pl.Series, index: str | pl.Expr, where: pl.Expr, name: str) -> pl.Expr:
    return pl.lit(values).gather(pl.when(where).then(index)).alias(name)


def _frame(
    layout: Layout, user: _Ints, micros: _Ints, rows: _Rows, user_names: pl.Series
) -> pl.DataFrame:
    """Materialize the file rows in the events schema."""
    base, kind, number = rows
    # One random gather of the small fields packed in an int64 beats one gather per field.
    packed = layout.etype | (layout.n << 3) | ((layout.query + 1) << 8) | (user << 20)
    packed, micros = packed[base], micros[base]
    etype, shown = packed & 7, np.where(kind == 3, CODE[UNKNOWN_TYPE], packed & 7)
    numbers = {"u": packed >> 20, "t": micros, "e": etype, "shown": shown, "k": kind}
    numbers |= {"q": ((packed >> 8) & 4095) - 1, "n": (packed >> 3) & 31, "id": number + 1}
    queries, items, lists = vocabulary()
    q, n, k = pl.col("q"), pl.col("n"), pl.col("k")
    digits = max(8, len(str(len(number))))
    return (
        pl.DataFrame(numbers)
        .select(
            _lookup(user_names, "u", k != 1, USER_ID),
            pl.when(k != 2).then("t").cast(TIME_DTYPE).alias(EVENT_TIME),
            _lookup(pl.Series(TYPES), "shown", pl.lit(value=True), EVENT_TYPE),
            _lookup(queries, q, pl.col("e") == CODE[SEARCH], QUERY),
            _lookup(lists, q * (N_ITEMS + 1) + n, pl.col("e") == CODE[RESULTS], ITEMS),
            _lookup(items, q * N_ITEMS + n - 1, pl.col("e") == CODE[CLICK], ITEM),
            pl.format("e{}", pl.col("id").cast(pl.String).str.zfill(digits)).alias(EVENT_ID),
        )
        .select(EVENT_COLUMNS)
    )


def generate_events(
    *,
    events: int,
    users: int,
    days: int,
    seed: int,
    start: date = date(2026, 11, 1),
    gap: timedelta = timedelta(minutes=30),
    bad_row_rate: float = 0.0,
) -> pl.DataFrame:
    """Generate about `events` rows of search sessions, in the events schema (CONTRACT §1).

    Zipf-like active users over `days` UTC days from `start`; the same arguments give the same
    frame. Rows come roughly in time order (~3% of sessions written up to a minute late), each
    user's in time order. ``round(events * bad_row_rate)`` rows are bad, in four equal shares:
    null user_id, null event_time, unknown event_type (``purchase``), duplicate event_id; the
    other rows form complete sessions. A user fits about ``days * 24 h / (1.1 * gap)`` sessions:
    with too few users or days for `events`, the heaviest users' sessions run past the last day.

    Raises
    ------
    ConfigError
        If `events` < 0, `users` < 1, `days` < 1, `gap` <= 0 or `bad_row_rate` not in [0, 1).

    Examples
    --------
    >>> frame = generate_events(events=1_000, users=20, days=2, seed=1)
    >>> frame.height, frame.columns
    (1007, ['user_id', 'event_time', 'event_type', 'query', 'items', 'item', 'event_id'])
    """
    if events < 0 or users < 1 or days < 1 or gap <= timedelta(0) or not 0 <= bad_row_rate < 1:
        msg = "generate_events: expected events >= 0, users >= 1, days >= 1, gap > 0, 0 <= "
        msg += f"bad_row_rate < 1; got {events=}, {users=}, {days=}, {gap=}, {bad_row_rate=}"
        raise ConfigError(msg)
    rng, n_bad, gap_us = np.random.default_rng(seed), round(events * bad_row_rate), gap // _US_TD
    layout = layout_events(draw_plan(rng, events - n_bad))
    offset, n_sessions = _offsets(rng, layout, gap_us), len(layout.first)
    cap = days * _DAY_US / (4 * gap_us + 2400 * _US)  # heavy users: ~9 sessions a day (30m gap)
    session_user = np.repeat(np.arange(users), _sessions_per_user(rng, n_sessions, users, cap))
    begin = _session_starts(rng, session_user, offset[layout.last], days, gap_us)
    # Late writes: whole sessions move later in the file by less than 0.4 * gap; two sessions
    # of a user lie at least 0.9 * gap apart, so each user's rows keep their time order.
    late = min(60 * _US, int(0.4 * gap_us))
    shift = np.where(
        rng.random(n_sessions) < 0.03, rng.integers(late // 30, late + 1, n_sessions), 0
    )
    micros = begin[layout.session] + offset
    rows = _file_order(rng, micros + shift[layout.session], n_bad)
    names = pl.Series(np.arange(1, users + 1)[rng.permutation(users)]).cast(pl.String)
    names = "u" + names.str.zfill(max(6, len(str(users))))  # u000001...; heavy users anywhere
    epoch = (datetime.combine(start, time(), UTC) - datetime(1970, 1, 1, tzinfo=UTC)) // _US_TD
    return _frame(layout, session_user[layout.session], micros + epoch, rows, names)
