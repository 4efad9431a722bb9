"""The shape of generated sessions: how many searches, results and clicks, event by event.

Drawn level by level (sessions, their searches, their clicks) from one random generator, then
laid out as one row per event in session order; ``generate.py`` gives them users and times.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from ctr_batch.core.schema import APP_CLOSE, APP_OPEN, CLICK, EVENT_TYPES, RESULTS, SEARCH
from ctr_batch.samples.vocabulary import N_ITEMS, N_QUERIES

if TYPE_CHECKING:
    import numpy.typing as npt

    _Ints = npt.NDArray[np.int64]

UNKNOWN_TYPE = "purchase"  # event type of the injected rows with an unknown type
TYPES = (*EVENT_TYPES, UNKNOWN_TYPE)
CODE = {name: code for code, name in enumerate(TYPES)}  # type -> small integer code
_RANK_CDF = np.cumsum(1.0 / np.arange(1, N_ITEMS + 1) ** 1.3)  # position bias of clicks
_QUERY_CDF = np.cumsum(1.0 / np.arange(3, N_QUERIES + 3) ** 1.05)  # Zipf-like popularity


class Plan(NamedTuple):
    """Session structure, drawn level by level: sessions, their searches, their clicks."""

    searches: _Ints  # per session: number of searches
    pre: _Ints  # 1 where a click (from a notification, say) precedes the first search
    close: _Ints  # 1 where the session ends with app_close
    pre_query: _Ints  # query and rank of that early click
    pre_rank: _Ints
    query: _Ints  # per search: query (popularity rank, 0-based)
    n_results: _Ints  # result-list length
    clicks: _Ints  # number of clicks
    rank: _Ints  # per click: 1-based clicked rank

    def sizes(self) -> _Ints:
        """Events per session."""
        owner = np.repeat(np.arange(len(self.searches)), self.searches)
        clicks = np.bincount(owner, weights=self.clicks, minlength=len(self.searches))
        return 1 + self.pre + self.close + 2 * self.searches + clicks.astype(np.int64)

    def head(self, n: int) -> Plan:
        """The first `n` sessions."""
        n_searches = int(self.searches[:n].sum())
        cut = (n,) * 5 + (n_searches,) * 3 + (int(self.clicks[:n_searches].sum()),)
        return Plan._make(a[:k] for a, k in zip(self, cut, strict=True))


class Layout(NamedTuple):
    """Per event, in session order: session, type code, query, list length or clicked rank."""

    session: _Ints
    etype: _Ints
    query: _Ints  # -1 on app_open and app_close
    n: _Ints  # list length on results, clicked rank on click, else 0
    first: _Ints  # per session: position of its app_open and of its last event
    last: _Ints


def _pick(rng: np.random.Generator, cdf: npt.NDArray[np.float64], limit: _Ints) -> _Ints:
    """Draw 1-based ranks with weights ``diff(cdf)``, truncated to ``1..limit``."""
    u = rng.random(len(limit)) * cdf[limit - 1]
    return np.minimum(np.searchsorted(cdf, u, side="right") + 1, limit)


def draw_plan(rng: np.random.Generator, target: int) -> Plan:
    """Draw sessions holding about `target` events, trimmed to the closest total."""
    n = target // 6 + 20  # a session holds ~7.3 events: enough, with a margin
    searches = np.where(rng.random(n) < 0.12, 0, np.minimum(rng.geometric(0.45, n), 15))
    pre = (rng.random(n) < 0.01).astype(np.int64)
    close = (rng.random(n) < 0.9).astype(np.int64)
    pre_query = _pick(rng, _QUERY_CDF, np.full(n, N_QUERIES)) - 1
    pre_rank = _pick(rng, _RANK_CDF, np.full(n, N_ITEMS))
    m = int(searches.sum())
    query = _pick(rng, _QUERY_CDF, np.full(m, N_QUERIES)) - 1
    u = rng.random(m)
    n_results = np.where(u < 0.04, 0, np.where(u < 0.14, rng.integers(1, N_ITEMS, m), N_ITEMS))
    clicked = (rng.random(m) < 0.47) & (n_results > 0)
    clicks = np.where(clicked, np.minimum(rng.geometric(0.6, m), 8), 0)
    rank = _pick(rng, _RANK_CDF, np.repeat(n_results, clicks))
    plan = Plan(searches, pre, close, pre_query, pre_rank, query, n_results, clicks, rank)
    total = np.r_[0, np.cumsum(plan.sizes())]  # events in the first k sessions
    k = min(int(np.searchsorted(total, target)), len(total) - 1)  # first total >= target
    return plan.head(k - 1 if k and target - total[k - 1] < total[k] - target else k)


def _exclusive_cumsum(a: _Ints) -> _Ints:
    total: _Ints = np.cumsum(a)
    return total - a


def layout_events(plan: Plan) -> Layout:
    """Place every event: open, [early click], (search, results, click*)*, [close]."""
    size = plan.sizes()
    first, early = _exclusive_cumsum(size), plan.pre == 1
    owner = np.repeat(np.arange(len(size)), plan.searches)
    block = _exclusive_cumsum(2 + plan.clicks)  # start of a search's events ...
    block -= block[_exclusive_cumsum(plan.searches)[owner]]  # ... counted within its session
    search = first[owner] + 1 + plan.pre[owner] + block
    of_click = np.repeat(np.arange(len(plan.query)), plan.clicks)
    click = (
        search[of_click] + 2 + np.arange(len(of_click)) - _exclusive_cumsum(plan.clicks)[of_click]
    )
    etype = np.full(int(size.sum()), CODE[APP_OPEN])
    query, n = np.full_like(etype, -1), np.zeros_like(etype)
    etype[(first + size - 1)[plan.close == 1]] = CODE[APP_CLOSE]
    etype[search], etype[search + 1] = CODE[SEARCH], CODE[RESULTS]
    etype[click], etype[first[early] + 1] = CODE[CLICK], CODE[CLICK]
    query[search], query[search + 1], query[click] = plan.query, plan.query, plan.query[of_click]
    query[first[early] + 1], n[first[early] + 1] = plan.pre_query[early], plan.pre_rank[early]
    n[search + 1], n[click] = plan.n_results, plan.rank
    session = np.repeat(np.arange(len(size)), size)
    return Layout(session, etype, query, n, first, first + size - 1)
