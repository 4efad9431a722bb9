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

import pyarrow as pa
import pyarrow.parquet as pq

from ctr_batch.core.errors import InputError
from ctr_batch.core.schema import EVENT_TIME, FILE_INDEX, SEQ
from ctr_batch.spark.prepare import contract_frame

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pyspark.sql import DataFrame, SparkSession

    from ctr_batch.io.read import ScannedEvents

_PATH = "_path"
_ROW = "_row"
_OFFSET = "_offset"
_FILE_SCHEME = "^file:/+"
_GLOB = re.compile(r"([\[\]{}*?\\])")  # Hadoop glob characters, escaped in file names


def read_events(
    spark: SparkSession, scanned: ScannedEvents, mapping: Mapping[str, str]
) -> DataFrame:
    """The contract columns of the scanned files, read by Spark, with ``_seq`` and ``_file``."""
    from pyspark.sql import functions as sf

    _refuse_nanoseconds(scanned, mapping.get(EVENT_TIME, EVENT_TIME))
    names = [_GLOB.sub(r"\\\1", str(path.resolve())) for path in scanned.paths]
    try:
        raw = spark.read.option("mergeSchema", "true").parquet(*names)
    except Exception as exc:  # Spark's own reasons: types that differ between files, ...
        msg = f"{_described(scanned)}: {_reason(exc)}"
        raise InputError(msg) from None
    located = raw.withColumns(
        {
            _PATH: sf.regexp_replace(sf.col("_metadata.file_path"), _FILE_SCHEME, "/"),
            _ROW: sf.col("_metadata.row_index"),
        }
    )
    contract = contract_frame(located, mapping, "the events", keep=(_PATH, _ROW))
    files = spark.createDataFrame(
        _file_rows(scanned, raw.inputFiles()), f"{_PATH} string, {FILE_INDEX} int, {_OFFSET} long"
    )
    joined = contract.join(sf.broadcast(files), _PATH)
    return joined.withColumn(SEQ, sf.col(_OFFSET) + sf.col(_ROW)).drop(_PATH, _ROW, _OFFSET)


def _refuse_nanoseconds(scanned: ScannedEvents, column: str) -> None:
    """InputError naming the first file whose times are in nanoseconds (Spark cannot read it).

    Spark fails on them only once its tasks run, after logging a Java stack trace; the
    footers tell at once.
    """
    for file in scanned.files:
        schema = pq.read_schema(file.path)
        kind = schema.field(column).type if column in schema.names else None
        if kind is not None and pa.types.is_timestamp(kind) and kind.unit == "ns":
            msg = f"{file.path}: column {column!r} holds nanosecond timestamps, which Spark "
            msg += "cannot read (--engine auto reads them; or write them in microseconds)"
            raise InputError(msg)


def _described(scanned: ScannedEvents) -> str:
    first = scanned.paths[0]
    return str(first) if len(scanned.paths) == 1 else f"{first} and {len(scanned.paths) - 1} more"


def _reason(exc: Exception) -> str:
    """The start of Spark's message (a line ending in ':' with the next), and what to do."""
    java = getattr(exc, "java_exception", None)  # py4j's own message names only the call
    lines = [line.strip() for line in str(java if java is not None else exc).splitlines()]
    lines = [line for line in lines if line] or [type(exc).__name__]
    said = " ".join(lines[:2]) if lines[0].endswith(":") else lines[0]
    said = said if len(said) <= 300 else f"{said[:297]}..."
    return f"Spark cannot read them as one table: {said} (--engine auto reads them)"


def _file_rows(scanned: ScannedEvents, spark_paths: list[str]) -> list[tuple[str, int, int]]:
    """``(Spark's path, file index, first _seq)`` of each file Spark reads.

    Spark spells a local file ``file:///a%20b`` in ``inputFiles`` and ``file:/a%20b`` in
    ``_metadata.file_path`` (URI-encoded both): both become ``/a%20b`` (``_FILE_SCHEME``).
    """
    index = {file.path.resolve(): (i, file.offset) for i, file in enumerate(scanned.files)}
    rows = []
    for spelled in spark_paths:
        local = Path(unquote(urlparse(spelled).path)).resolve()
        position, offset = index[local]
        rows.append((re.sub(_FILE_SCHEME, "/", spelled), position, offset))
    return rows
