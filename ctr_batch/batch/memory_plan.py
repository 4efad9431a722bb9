"""How many user buckets a run needs, from the input's Parquet footers and a memory limit.

Peak memory is modelled per strategy (see ``buckets.py``) with factors measured on generated
logs by ``benchmarks/bench.py``: bytes of peak RSS per uncompressed Parquet byte.
"""

from __future__ import annotations

import math
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ctr_batch.core.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from ctr_batch.io.read import ScannedEvents

# Peak RSS per uncompressed Parquet byte, measured on generated logs (benchmarks/bench.py and
# benchmarks/memory_cap.py), on top of what the process holds when the run starts:
MEMORY_PER_PARQUET_BYTE = 6  # one in-memory pass over every column
MEMORY_PER_SPILLED_BYTE = 8.5  # a spilled bucket (8.0 at 50M in 9 buckets, 8.1 at 1B in 58)
MEMORY_PER_LEAN_BYTE = 12  # a rescanned bucket, per byte of its columns other than the lists
MEMORY_PER_LIST_BYTE = 1.4  # the result lists, read once and held by every rescanned bucket
MEMORY_PER_PASS_BYTE = 2  # a streaming pass writing spilled buckets, per byte of its rows
MEMORY_FLOOR = 160 * 2**20  # what a bucketed run holds whatever its bucket count (buffers, slack)
SMALLEST_ROOM = 64 * 2**20  # the least room for buckets that a run is allowed to work in
RESCAN_LIMIT = 8  # up to this many buckets, rereading the input beats writing it to disk
MAX_BUCKETS = 65_536  # user buckets of one run, at most (a folder of parts each)
SPILL_PASS_ROWS = 10_000_000  # rows per streaming pass that writes spilled buckets, at most
SMALLEST_PASS_ROWS = 1_000_000  # fewer rows save little memory and make many spill files


@dataclass(frozen=True, slots=True)
class InputSize:
    """Uncompressed Parquet bytes of the input, from the files' footers (see ``read.py``)."""

    lists: int  # nested columns: the result lists
    rest: int

    @classmethod
    def of(cls, scanned: ScannedEvents) -> InputSize:
        """Sum the sizes every file's footer gave when it was scanned."""
        lists = sum(file.list_bytes for file in scanned.files)
        return cls(lists, sum(file.other_bytes for file in scanned.files))

    @property
    def total(self) -> int:
        """Uncompressed bytes of every column."""
        return self.lists + self.rest

    def one_pass(self) -> float:
        """Bytes one in-memory pass over the events needs."""
        return self.total * MEMORY_PER_PARQUET_BYTE

    def spilled_buckets(self, room: int) -> int:
        """Spilled buckets needed so that computing one fits in `room` bytes."""
        return max(1, math.ceil(self.total * MEMORY_PER_SPILLED_BYTE / max(room, 1)))

    def rescan_buckets(self, room: int) -> int | None:
        """Rescanned buckets that fit in `room` bytes beside the shared lists (None: none)."""
        room -= int(self.lists * MEMORY_PER_LIST_BYTE)
        count = math.ceil(self.rest * MEMORY_PER_LEAN_BYTE / room) if room > 0 else 0
        return max(count, 1) if 0 < count <= RESCAN_LIMIT else None

    def pass_rows(self, rows: int, room: int | None) -> int:
        """Rows per streaming pass that writes spilled buckets, so that a pass fits in `room`.

        Without a room (no memory limit), the most a pass takes.
        """
        if room is None:
            return SPILL_PASS_ROWS
        per_row = self.total / max(rows, 1) * MEMORY_PER_PASS_BYTE
        fitting = int(room / per_row) if per_row else SPILL_PASS_ROWS
        return min(SPILL_PASS_ROWS, max(SMALLEST_PASS_ROWS, fitting))

    def smallest_room(self) -> int:
        """The least room for buckets that works: the buckets may not exceed ``MAX_BUCKETS``."""
        return max(SMALLEST_ROOM, math.ceil(self.total * MEMORY_PER_SPILLED_BYTE / MAX_BUCKETS))


DEFAULT_SHARE = 0.25  # of the machine's (or container's) memory, when no limit is given
_CGROUP_LIMITS = ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")


def default_memory_limit() -> int | None:
    """The budget of a run given no ``--memory-limit``: a share of the memory it may use.

    That memory is the container's cgroup limit when there is one, else the machine's
    physical memory; None when neither can be read (then no budget is assumed). The share
    comes on top of what the process holds already: a notebook holding frames still gets it.

    Examples
    --------
    >>> limit = default_memory_limit()
    >>> limit is None or limit > 0
    True
    """
    memory = _cgroup_limit() or _physical_memory()
    return memory_in_use() + int(memory * DEFAULT_SHARE) if memory else None


def _cgroup_limit() -> int | None:
    for path in _CGROUP_LIMITS:
        try:
            text = Path(path).read_text(encoding="utf-8").strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 2**60:  # "max" or a huge number: no limit
            return int(text)
    return None


def _physical_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def memory_in_use() -> int:
    """Bytes this process holds in memory now (resident set); 0 where that cannot be read."""
    try:
        pages = int(Path("/proc/self/statm").read_text(encoding="ascii").split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return 0


def room_for_buckets(memory_limit: int) -> int:
    """Bytes the buckets of a run may take within `memory_limit`, at least ``SMALLEST_ROOM``.

    That is the limit less what the process holds already and what any bucketed run holds
    (``MEMORY_FLOOR``). A limit the user gives is checked first (``check_memory_limit``).
    """
    return max(memory_limit - memory_in_use() - MEMORY_FLOOR, SMALLEST_ROOM)


def check_memory_limit(scanned: ScannedEvents, memory_limit: int) -> None:
    """Raise a ``ConfigError`` naming the smallest limit that works, if `memory_limit` is less.

    The limit is for the whole process: what it holds already counts against it.
    """
    held = memory_in_use()
    need = held + MEMORY_FLOOR + InputSize.of(scanned).smallest_room()
    if memory_limit < need:  # named with 16 MiB to spare: what the process holds varies a bit
        smallest = math.ceil((need + _SPARE) / _SPARE) * _SPARE
        msg = f"--memory-limit {_size(memory_limit)} is too small for this run; the smallest "
        msg += f"that works is {_size(smallest)} (this process holds {_size(held)} already)"
        raise ConfigError(msg)


_SPARE = 16 * 2**20


def _size(size: int) -> str:
    """`size` bytes in MiB, rounded up (in bytes below one MiB)."""
    return f"{size:,} bytes" if size < 2**20 else f"{math.ceil(size / 2**20):,}MiB"


_PREFETCH = "POLARS_ROW_GROUP_PREFETCH_SIZE"  # row groups Polars decodes ahead (undocumented)


class _LeanReads:
    """Who is inside ``lean_reads`` now, across threads.

    The first in sets the variable (unless the user did); the last out removes what was set.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.inside = 0
        self.ours = False

    def enter(self) -> None:
        with self.lock:
            if self.inside == 0 and _PREFETCH not in os.environ:
                os.environ[_PREFETCH], self.ours = "1", True
            self.inside += 1

    def leave(self) -> None:
        with self.lock:
            self.inside -= 1
            if self.inside == 0 and self.ours:
                os.environ.pop(_PREFETCH, None)
                self.ours = False


_LEAN = _LeanReads()


@contextmanager
def lean_reads() -> Iterator[None]:
    """Polars reads Parquet one row group ahead, not many, within this block.

    For the passes that spill buckets: on a 10M-event log this takes a partitioned sink from
    700 MB to 400 MB peak RSS at the same speed (``benchmarks/memory_cap.py``); rescans, on
    the contrary, run 13 % slower with it and hold no less. A value the user set is kept.
    Polars reads the setting from the environment, which is the process's: runs in several
    threads share it, and it stays set until the last of them leaves.
    """
    _LEAN.enter()
    try:
        yield
    finally:
        _LEAN.leave()


def fits_in_memory(scanned: ScannedEvents, memory_limit: int | None) -> bool:
    """True when one in-memory pass over the events fits in `memory_limit` bytes.

    Beside the pass: what the process holds already, and ``MEMORY_FLOOR`` (the pipeline's
    own buffers, which dominate on small logs).
    """
    if memory_limit is None:
        return True
    room = memory_limit - memory_in_use() - MEMORY_FLOOR
    return InputSize.of(scanned).one_pass() <= room


def bucket_count(scanned: ScannedEvents, memory_limit: int | None) -> int:
    """Spilled buckets needed so that one fits in `memory_limit` bytes (1: no bucketing)."""
    if memory_limit is None:
        return 1
    count = InputSize.of(scanned).spilled_buckets(room_for_buckets(memory_limit))
    return min(count, MAX_BUCKETS)


def require_one_pass(
    scanned: ScannedEvents, memory_limit: int | None, buckets: int | None
) -> None:
    """Raise a ``ConfigError`` unless the engine that runs in one pass (DuckDB) can take the input.

    That engine holds the whole input as Arrow (about its uncompressed Parquet size) beside
    what its operators hold, which they can spill to disk; it makes no buckets.
    """
    if buckets is not None and buckets > 1:
        msg = "--buckets: the duckdb engine computes in one pass; "
        msg += "use --engine auto to split users into buckets"
        raise ConfigError(msg)
    size = InputSize.of(scanned).total
    if memory_limit is not None and size > memory_limit:
        msg = f"--memory-limit {memory_limit / 2**30:.1f} GiB: the duckdb engine holds the whole "
        msg += f"input in memory ({size / 2**30:.1f} GiB uncompressed); "
        msg += "use --engine auto, which splits users into buckets"
        raise ConfigError(msg)
