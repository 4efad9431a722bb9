"""The memory plan: one pass, rescanned or spilled buckets, from footers and a limit (issue 6)."""

from __future__ import annotations

import pytest

from ctr_batch.memory_plan import (
    MEMORY_PER_LEAN_BYTE,
    MEMORY_PER_LIST_BYTE,
    RESCAN_LIMIT,
    InputSize,
    bucket_count,
)
from ctr_batch.read import scan_events
from ctr_batch.samples import sample


@pytest.mark.parametrize(("limit", "expected"), [(None, 1), (10**12, 1), (1, None)])
def test_bucket_count_follows_the_memory_limit(limit: int | None, expected: int | None) -> None:
    scanned = scan_events([sample("sample").path])
    count = bucket_count(scanned, limit)
    assert count == expected if expected is not None else count > 100


@pytest.mark.parametrize(
    ("lists", "per_bucket", "expected"),
    [
        (0, 1.0, 1),  # everything fits in one rescan
        (100, 1.0, 1),
        (100, 0.5, 2),  # the shared lists take their room first, the rest is split
        (100, 0.34, 3),
        (100, 1 / RESCAN_LIMIT, RESCAN_LIMIT),
        (100, 1 / (RESCAN_LIMIT + 1), None),  # too many rescans: spill instead
        (10**6, 1.0, None),  # the lists alone fill the limit
    ],
)
def test_rescan_buckets_leave_room_for_the_shared_lists(
    lists: int, per_bucket: float, expected: int | None
) -> None:
    rest = 1000
    limit = int(100 * MEMORY_PER_LIST_BYTE + rest * MEMORY_PER_LEAN_BYTE * per_bucket)
    assert InputSize(lists, rest).rescan_buckets(limit) == expected
