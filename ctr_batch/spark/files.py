"""Read the input files with Spark, numbered in the local input order.

The files are found and their footers checked by the local code (``io.read``: the same
files, order, one-line errors and row counts); Spark then reads them. A row's ``_seq`` is its
file's first row in input order plus its row in the file (Spark's ``_metadata.row_index``),
so ties in time break exactly as in a local run, however Spark splits the files.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

from ctr_batch.core.schema import FILE_INDEX, SEQ
from ctr_batch.spark.prepare import contract_frame

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pyspark.sql import DataFrame, SparkSession

    from ctr_batch.io.read import ScannedEvents

_PATH = "_path"
_ROW = "_row"
_OFFSET = "_offset"
_GLOB = re.compile(r"([\[\]{}*?\\])")  # Hadoop glob characters, escaped in file names


def read_events(
    spark: SparkSession, scanned: ScannedEvents, mapping: Mapping[str, str]
) -> DataFrame:
    """The contract columns of the scanned files, read by Spark, with ``_seq`` and ``_file``."""
    from pyspark.sql import functions as sf

    names = [_GLOB.sub(r"\\\1", str(path.resolve())) for path in scanned.paths]
    raw = spark.read.option("mergeSchema", "true").parquet(*names)
    located = raw.withColumns(
        {_PATH: sf.col("_metadata.file_path"), _ROW: sf.col("_metadata.row_index")}
    )
    contract = contract_frame(located, mapping, "the events", keep=(_PATH, _ROW))
    files = spark.createDataFrame(
        _file_rows(scanned, _spark_paths(located)),
        f"{_PATH} string, {FILE_INDEX} int, {_OFFSET} long",
    )
    joined = contract.join(sf.broadcast(files), _PATH)
    return joined.withColumn(SEQ, sf.col(_OFFSET) + sf.col(_ROW)).drop(_PATH, _ROW, _OFFSET)


def _spark_paths(located: DataFrame) -> list[str]:
    """The file paths as Spark spells them (one small job reading no column)."""
    return [row[0] for row in located.select(_PATH).distinct().collect()]


def _file_rows(scanned: ScannedEvents, spark_paths: list[str]) -> list[tuple[str, int, int]]:
    """``(Spark's path, file index, first _seq)`` of each file Spark read."""
    index = {file.path.resolve(): (i, file.offset) for i, file in enumerate(scanned.files)}
    rows = []
    for spelled in spark_paths:
        local = Path(unquote(urlparse(spelled).path)).resolve()
        position, offset = index[local]
        rows.append((spelled, position, offset))
    return rows
