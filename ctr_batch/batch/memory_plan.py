"""How many user buckets a run needs, from the input's Parquet footers and a memory limit.

Peak memory is modelled per strategy (see ``buckets.py``) with factors measured on generated
logs by ``benchmarks/bench.py``: bytes of peak RSS per uncompressed Parquet byte.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ctr_batch.core.errors import ConfigError

if TYPE_CHECKING:
    from ctr_batch.io.read import ScannedEvents

# Peak RSS per uncompressed Parquet byte, measured on generated logs (benchmarks/bench.py):
MEMORY_PER_PARQUET_BYTE = 6  # one in-memory pass over every column
MEMORY_PER_SPILLED_BYTE = 8.5  # a spilled bucket (8.0 at 50M in 9 buckets, 8.1 at 1B in 58)
MEMORY_PER_LEAN_BYTE = 10  # a rescanned bucket, per byte of its columns other than the lists
MEMORY_PER_LIST_BYTE = 1.4  # the result lists, read once and held by every rescanned bucket
RESCAN_LIMIT = 8  # up to this many buckets, rereading the input beats writing it to disk


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

    def spilled_buckets(self, memory_limit: int) -> int:
        """Spilled buckets needed so that computing one fits in `memory_limit` bytes."""
        return max(1, math.ceil(self.total * MEMORY_PER_SPILLED_BYTE / memory_limit))

    def rescan_buckets(self, memory_limit: int) -> int | None:
        """Rescanned buckets that fit in `memory_limit` beside the shared lists (None: none)."""
        room = memory_limit - self.lists * MEMORY_PER_LIST_BYTE
        count = math.ceil(self.rest * MEMORY_PER_LEAN_BYTE / room) if room > 0 else 0
        return max(count, 1) if 0 < count <= RESCAN_LIMIT else None


DEFAULT_SHARE = 0.25  # of the machine's (or container's) memory, when no limit is given
_CGROUP_LIMITS = ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")


def default_memory_limit() -> int | None:
    """The budget of a run given no ``--memory-limit``: a share of the memory it may use.

    That memory is the container's cgroup limit when there is one, else the machine's
    physical memory; None when neither can be read (then no budget is assumed).

    Examples
    --------
    >>> limit = default_memory_limit()
    >>> limit is None or limit > 0
    True
    """
    memory = _cgroup_limit() or _physical_memory()
    return int(memory * DEFAULT_SHARE) if memory else None


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


def fits_in_memory(scanned: ScannedEvents, memory_limit: int | None) -> bool:
    """True when one in-memory pass over the events needs at most `memory_limit` bytes."""
    return memory_limit is None or InputSize.of(scanned).one_pass() <= memory_limit


def bucket_count(scanned: ScannedEvents, memory_limit: int | None) -> int:
    """Spilled buckets needed so that one fits in `memory_limit` bytes (1: no bucketing)."""
    if memory_limit is None:
        return 1
    return InputSize.of(scanned).spilled_buckets(memory_limit)


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
