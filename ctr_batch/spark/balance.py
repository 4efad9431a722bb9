"""User buckets of even size: users hashed into many small buckets, packed into a few.

A bucket is one task's unit of work, and its memory is that of its rows. Hashing users
straight into N buckets leaves a bucket as large as the heavy users that happen to share it.
Hashing them into ``FINE_PER_BUCKET`` times N fine buckets, counting the rows of each (one small
job that reads only ``user_id``), and packing the fine buckets into N buckets heaviest first
(each into the lightest bucket so far) splits such a bucket: heavy users land apart, and no
bucket is heavier than its share of the rows, or than its heaviest fine bucket (at the least
one user's rows, which cannot be split: a session needs them all). Every user is still in
exactly one bucket, so the tables are the same for any packing.
"""

from __future__ import annotations

import heapq
import json
from typing import TYPE_CHECKING

from ctr_batch.core.schema import USER_ID
from ctr_batch.spark.prepare import bucket_of

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pyspark.sql import Column, DataFrame

FINE_PER_BUCKET = 16  # fine buckets per bucket
MAX_FINE = 1 << 16  # fine buckets at most (one literal array in the plan)


def pack(rows: Sequence[int], buckets: int) -> list[int]:
    """The bucket of each fine bucket, given its `rows`: heaviest first into the lightest.

    Ties go to the lower fine bucket and the lower bucket, so a plan is the same on every
    run. The heaviest bucket holds at most its share plus one fine bucket (``max(rows)``).

    Examples
    --------
    >>> pack([5, 1, 1, 5, 0, 0], 2)  # the two heavy fine buckets land apart
    [0, 0, 1, 1, 0, 0]
    """
    lightest = [(0, bucket) for bucket in range(buckets)]
    placed = [0] * len(rows)
    for fine in sorted(range(len(rows)), key=lambda fine: (-rows[fine], fine)):
        load, bucket = heapq.heappop(lightest)
        placed[fine] = bucket
        heapq.heappush(lightest, (load + rows[fine], bucket))
    return placed


def fine_count(buckets: int) -> int:
    """Fine buckets for `buckets` buckets: ``FINE_PER_BUCKET`` each, at most ``MAX_FINE``."""
    return max(buckets, min(buckets * FINE_PER_BUCKET, MAX_FINE))


def user_bucket(events: DataFrame, buckets: int) -> Column:
    """The packed bucket (0 to `buckets` - 1) of each row of `events`, by its user.

    Counts the rows of every fine bucket first (one job on ``user_id`` alone). With one
    bucket there is nothing to balance, and no job.
    """
    from pyspark.sql import functions as sf

    if buckets == 1:
        return sf.lit(0)
    fine = fine_count(buckets)
    counted = events.groupBy(bucket_of(USER_ID, fine).alias("fine")).count().collect()
    rows = [0] * fine
    for bucket, count in counted:
        rows[int(bucket)] = int(count)
    # one literal, folded into an array once: not one py4j call per fine bucket
    plan = sf.from_json(sf.lit(json.dumps(pack(rows, buckets))), "array<int>")
    return sf.element_at(plan, bucket_of(USER_ID, fine).cast("int") + 1)
