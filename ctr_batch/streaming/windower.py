"""A line-by-line port of Bytewax 0.21's ``SessionWindower`` under ``reduce_window``.

Used for sessions whose events arrive out of time order (see ``stream.simulate_stream``): the
order of such a session's event list depends on the windows built by earlier arrivals. The port
follows ``bytewax/operators/windowing.py``:

- ``open_for``: the first open window, in creation order, that holds the event or lies within
  `gap` of it takes it (extending its open or close time); otherwise a new window opens. After an
  extension, windows sorted by open time (stable) merge while ``open - previous close <= gap``;
  the earlier-opening window absorbs the later one.
- ``reduce_window`` (``ordered=False``, one item per batch): the event is appended to the list of
  the window ``open_for`` returned, then the merges run: ``target = target + absorbed``.

Closing is left out: windows stay more than `gap` apart, so every window of a session holds only
events of that (time-ordered) session, and a closed window can take no later on-time event. Fed
the arrivals of one session, the port therefore ends with that session's list. Times are
integers (microseconds); late events must be removed before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence


@dataclass(slots=True)
class Span:
    """A session window's metadata: open and close time (inclusive)."""

    open: int
    close: int


@dataclass(slots=True)
class StreamSession:
    """A closed session: its events (indices into the user's arrivals) in list order."""

    events: list[int]
    merged: bool = False


@dataclass(slots=True)
class _UserWindows:
    gap: int
    inclusive: bool
    spans: dict[int, Span] = field(default_factory=dict)
    lists: dict[int, StreamSession] = field(default_factory=dict)
    next_id: int = 0

    def within(self, delta: int) -> bool:
        return delta <= self.gap if self.inclusive else delta < self.gap

    def open_for(self, time: int) -> tuple[int, list[tuple[int, int]]]:
        """Window id taking an event at `time`, and the merges (absorbed, target) it caused."""
        for window_id, span in self.spans.items():
            until_open, since_close = span.open - time, time - span.close
            if until_open <= 0 and since_close <= 0:
                return window_id, []
            if until_open > 0 and self.within(until_open):
                span.open = time
                return window_id, self.find_merges()
            if since_close > 0 and self.within(since_close):
                span.close = time
                return window_id, self.find_merges()
        window_id, self.next_id = self.next_id, self.next_id + 1
        self.spans[window_id] = Span(time, time)
        return window_id, []

    def find_merges(self) -> list[tuple[int, int]]:
        """Merge sessions that now lie within `gap` of each other (Bytewax's order and rule)."""
        ordered = sorted(self.spans.items(), key=lambda item: item[1].open)
        merges = []
        last_id, last = ordered[0]
        for this_id, this in ordered[1:]:
            if self.within(this.open - last.close):
                last.close = max(last.close, this.close)
                merges.append((this_id, last_id))
                del self.spans[this_id]
            else:
                last_id, last = this_id, this
        return merges

    def insert(self, position: int, time: int) -> None:
        """Process one (not late) arrival: place it, then apply the merges it caused."""
        window_id, merges = self.open_for(time)
        self.lists.setdefault(window_id, StreamSession([])).events.append(position)
        for absorbed_id, target_id in merges:
            absorbed, target = self.lists.pop(absorbed_id), self.lists[target_id]
            target.events.extend(absorbed.events)
            target.merged = True


def stream_sessions(
    times: Sequence[int], *, gap: int, inclusive: bool = True
) -> list[StreamSession]:
    """Windows that on-time arrivals at `times` (in arrival order) form, with their event lists.

    Examples
    --------
    An event bridging two windows joins the first one created; the later-opening window's list
    is appended to the earlier-opening one's:

    >>> [s.events for s in stream_sessions([0, 20, 10, 21], gap=10)]
    [[0, 2, 1, 3]]
    >>> [s.events for s in stream_sessions([20, 0, 10], gap=10)]
    [[1, 0, 2]]
    """
    windows = _UserWindows(gap, inclusive)
    for position, time in enumerate(times):
        windows.insert(position, time)
    return list(windows.lists.values())
