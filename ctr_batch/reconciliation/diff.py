"""Record-by-record differences between two versions of a table, and Wilson intervals."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from collections.abc import Sequence

OCCURRENCE = "occurrence"  # 0-based rank among records sharing the same key
COLUMN = "column"
LEFT_VALUE = "batch_value"
RIGHT_VALUE = "stream_value"
CI_LOW, CI_HIGH = "ci_low", "ci_high"  # a Wilson interval's bounds
DIFFERENCE = "difference"
MISSING = "missing_in_stream"  # in the left (batch) table only
EXTRA = "extra_in_stream"  # in the right (stream) table only
VALUE_MISMATCH = "value_mismatch"
Z_95 = 1.959963984540054

_IN_LEFT, _IN_RIGHT, _RIGHT = "_in_left", "_in_right", "_right"


def with_occurrence(
    frame: pl.DataFrame, keys: Sequence[str], values: Sequence[str]
) -> pl.DataFrame:
    """Add ``occurrence``: rank among rows with equal `keys`, ordered by `values`.

    Records sharing a key (say two searches of one user at the same instant) are then paired by
    their values, so equal multisets of records compare equal.
    """
    rank = pl.int_range(pl.len(), dtype=pl.UInt32).over(keys, order_by=list(values))
    return frame.with_columns(rank.alias(OCCURRENCE))


def differences(
    left: pl.DataFrame,
    right: pl.DataFrame,
    *,
    keys: Sequence[str],
    values: Sequence[str],
    tolerance: float = 0.0,
) -> pl.DataFrame:
    """One row per difference between `left` and `right`, matched on `keys` + ``occurrence``.

    A record only in `left` gives a ``missing_in_stream`` row, only in `right` an
    ``extra_in_stream`` row (``column`` null); a record in both gives one ``value_mismatch`` row
    per value column that differs (numbers: by more than `tolerance`; nulls differ from values).
    Values are rendered as text in ``batch_value`` / ``stream_value``.

    Examples
    --------
    >>> a = pl.DataFrame({"k": [1, 2, 3], "v": [1.0, 0.0, 1.0]})
    >>> b = pl.DataFrame({"k": [1, 2, 4], "v": [1.0, 1.0, 0.0]})
    >>> differences(a, b, keys=["k"], values=["v"]).select("k", "column", "difference").rows()
    [(2, 'v', 'value_mismatch'), (3, None, 'missing_in_stream'), (4, None, 'extra_in_stream')]
    """
    on = [*keys, OCCURRENCE]
    marked_left = with_occurrence(left.select(*keys, *values), keys, values)
    marked_right = with_occurrence(right.select(*keys, *values), keys, values)
    joined = marked_left.with_columns(pl.lit(True).alias(_IN_LEFT)).join(
        marked_right.with_columns(pl.lit(True).alias(_IN_RIGHT)),
        on=on,
        how="full",
        coalesce=True,
        suffix=_RIGHT,
        nulls_equal=True,
    )
    left_only = pl.col(_IN_RIGHT).is_null()
    right_only = pl.col(_IN_LEFT).is_null()
    presence = joined.filter(left_only | right_only).select(
        *on,
        pl.lit(None, dtype=pl.String).alias(COLUMN),
        pl.lit(None, dtype=pl.String).alias(LEFT_VALUE),
        pl.lit(None, dtype=pl.String).alias(RIGHT_VALUE),
        pl.when(left_only).then(pl.lit(MISSING)).otherwise(pl.lit(EXTRA)).alias(DIFFERENCE),
    )
    both = joined.filter(~left_only & ~right_only)
    mismatches = [
        both.filter(_differs(pl.col(v), pl.col(v + _RIGHT), left.schema[v], tolerance)).select(
            *on,
            pl.lit(v).alias(COLUMN),
            pl.col(v).cast(pl.String).alias(LEFT_VALUE),
            pl.col(v + _RIGHT).cast(pl.String).alias(RIGHT_VALUE),
            pl.lit(VALUE_MISMATCH).alias(DIFFERENCE),
        )
        for v in values
    ]
    return pl.concat([presence, *mismatches], how="vertical").sort([*on, COLUMN])


def _differs(a: pl.Expr, b: pl.Expr, dtype: pl.DataType, tolerance: float) -> pl.Expr:
    if dtype.is_numeric():
        apart = (a.cast(pl.Float64) - b.cast(pl.Float64)).abs() > tolerance
        return apart.fill_null(a.is_null() != b.is_null())
    return a.ne_missing(b)


def wilson_interval(
    successes: pl.Expr, trials: pl.Expr, z: float = Z_95
) -> tuple[pl.Expr, pl.Expr]:
    """Wilson score interval of a binomial proportion (null where `trials` is 0 or null).

    Examples
    --------
    >>> df = pl.DataFrame({"k": [8], "n": [10]})
    >>> low, high = wilson_interval(pl.col("k"), pl.col("n"))
    >>> [round(x, 4) for x in df.select(low, high).row(0)]
    [0.4902, 0.9433]
    """
    n = pl.when(trials > 0).then(trials.cast(pl.Float64))
    p = successes.cast(pl.Float64) / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * (p * (1 - p) / n + z**2 / (4 * n**2)).sqrt()
    return (centre - half).alias(CI_LOW), (centre + half).alias(CI_HIGH)
