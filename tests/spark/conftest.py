"""One local Spark session for every Spark test (starting one takes seconds).

``local[2,2]``: two cores, and a failed task is retried once (the retry test injects one
failure through ``CTR_BATCH_SPARK_FAIL_ONCE``, which the workers inherit from this process).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import pytest

from ctr_batch.spark.work import FAIL_ONCE

if TYPE_CHECKING:
    from collections.abc import Iterator

    from pyspark.sql import SparkSession

ARMED = Path(tempfile.gettempdir()) / f"ctr-batch-spark-fail-once-{os.getpid()}"


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ[FAIL_ONCE] = str(ARMED)  # before the JVM starts: its workers inherit it
    session = (
        SparkSession.builder.master("local[2,2]")
        .appName("ctr-batch-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.execution.arrow.useLargeVarTypes", "true")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
    os.environ.pop(FAIL_ONCE, None)
    ARMED.unlink(missing_ok=True)


def sorted_table(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` in a total row order (row order is not part of the contract)."""
    keys = [name for name, dtype in frame.schema.items() if not isinstance(dtype, pl.List)]
    return frame.sort(keys, nulls_last=True)


def assert_same_table(got: pl.DataFrame, expected: pl.DataFrame, name: str) -> None:
    """Equal rows, in any order, and equal types."""
    assert got.schema == expected.schema, name
    assert sorted_table(got).equals(sorted_table(expected)), name
